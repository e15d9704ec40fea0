package seedprobe

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestMain marks the empty caches, clears the mark of a cache that has
// content, and lists the marked ones.
func TestMainMarks(t *testing.T) {
	root, out := t.TempDir(), t.TempDir()
	caches := []struct {
		dir        string
		files      []string
		markBefore bool
		marked     bool
	}{
		{"deps", nil, false, true},
		{"go/mod", []string{"cache/download/x"}, true, false}, // a mark left by an earlier build
		{"go/build", nil, true, true},
		{"apt/lists", []string{"lock"}, false, false},
	}
	for i, c := range caches {
		at := filepath.Join(root, string(rune('0'+i)))
		for _, d := range []string{"cache", "pending"} {
			if err := os.MkdirAll(filepath.Join(at, d), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		for _, f := range c.files {
			p := filepath.Join(at, "cache", f)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if c.markBefore {
			if err := os.WriteFile(filepath.Join(at, "pending", Mark), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	dirs := []string{"deps", "go/mod", "go/build", "apt/lists"}
	var log bytes.Buffer
	// The holder starts after the probe: the probe waits for it.
	go func() {
		time.Sleep(10 * time.Millisecond)
		if err := Hold(dirs, root, "run1"); err != nil {
			t.Error(err)
		}
	}()
	if err := Main(dirs, root, out, "run1", time.Minute, &log); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(log.String(), "holder") {
		t.Errorf("the probe did not see its holder:\n%s", log.String())
	}
	if fi, err := os.Stat(filepath.Join(root, "0", "pending")); err != nil || fi.Mode().Perm() != 0o777 {
		t.Errorf("a marked cache's pending mount is not writable by every user: %v", fi.Mode())
	}
	var want []string
	for i, c := range caches {
		_, err := os.Stat(filepath.Join(root, string(rune('0'+i)), "pending", Mark))
		if marked := err == nil; marked != c.marked {
			t.Errorf("cache %s: marked %v, want %v", c.dir, marked, c.marked)
		}
		if c.marked {
			want = append(want, c.dir)
		}
	}
	list, err := os.ReadFile(filepath.Join(out, List))
	if err != nil {
		t.Fatal(err)
	}
	if got := ReadList(list); !slices.Equal(got, want) {
		t.Errorf("list %q, want %q", got, want)
	}
	if !strings.Contains(log.String(), "tomlfront: cache go/mod already has content on this builder; the snapshot is not used") ||
		!strings.Contains(log.String(), "tomlfront: cache deps is empty on this builder: it is seeded from the snapshot if a step that mounts it runs") {
		t.Errorf("log:\n%s", log.String())
	}
	if err := Main([]string{"missing"}, t.TempDir(), out, "run1", time.Minute, &log); err == nil {
		t.Errorf("a cache that is not mounted: no error")
	}
}

// TestMainWithoutHolder: a probe whose holder does not come (only another
// build's holder left its word) says so and goes on.
func TestMainWithoutHolder(t *testing.T) {
	root, out := t.TempDir(), t.TempDir()
	for _, d := range []string{"cache", "pending"} {
		if err := os.MkdirAll(filepath.Join(root, "0", d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := Hold([]string{"deps"}, root, "earlier"); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	if err := Main([]string{"deps"}, root, out, "run1", 20*time.Millisecond, &log); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "tomlfront: the holder of the caches' marks did not start in 20ms") {
		t.Errorf("log:\n%s", log.String())
	}
	if list, err := os.ReadFile(filepath.Join(out, List)); err != nil || string(list) != "deps\n" {
		t.Errorf("list %q (%v)", list, err)
	}
}

// TestWaitAnswers: the watcher ends at the first ask of a marked cache,
// answers it, and lists the caches asked for; an ask whose mark is gone is
// dropped.
func TestWaitAnswers(t *testing.T) {
	root, out := t.TempDir(), t.TempDir()
	for i := range 3 {
		if err := os.MkdirAll(filepath.Join(root, string(rune('0'+i)), "pending"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// 0 and 2 are marked and asked for; 1 was asked for as its seed
	// cleared the mark.
	for _, f := range []string{"0/pending/" + Mark, "0/pending/" + Wanted, "1/pending/" + Wanted, "2/pending/" + Mark, "2/pending/" + Wanted} {
		if err := os.WriteFile(filepath.Join(root, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := Wait([]string{"deps", "go/mod", "go/build"}, root, out, time.Millisecond); err != nil {
		t.Fatal(err)
	}
	list, err := os.ReadFile(filepath.Join(out, List))
	if err != nil {
		t.Fatal(err)
	}
	if got := ReadList(list); !slices.Equal(got, []string{"deps", "go/build"}) {
		t.Errorf("list %q", got)
	}
	if _, err := os.Stat(filepath.Join(root, "1", "pending", Wanted)); err == nil {
		t.Errorf("the ask of a cache no longer marked is kept")
	}
	for i, want := range []bool{true, false, true} {
		_, err := os.Stat(filepath.Join(root, string(rune('0'+i)), "pending", Heard))
		if heard := err == nil; heard != want {
			t.Errorf("cache %d: answered %v, want %v", i, heard, want)
		}
	}
}
