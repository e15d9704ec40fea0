package frontend

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/gateway/client"
	"github.com/tomlfront/tomlfront/internal/seedprobe"
	"github.com/tomlfront/tomlfront/llbgen"
	"github.com/tomlfront/tomlfront/spec"
)

// seedBuilder stands for BuildKit in solveSeeding's tests: it tells the
// states solved apart by their steps' names, answers the probe's and the
// watcher's lists, and makes the build wait, as a guard does, until it is
// cancelled, while a cache the probe marked is not seeded.
type seedBuilder struct {
	mu       sync.Mutex
	marked   []string // the probe's list
	wants    []string // what a running step's guard asks for
	seeded   []string
	building bool     // a build was solved
	solved   []string // what was solved, in order, but the holder
	// holders are the contexts of the holders solved.
	holders []context.Context
}

func (b *seedBuilder) solve(ctx context.Context, st llb.State, _ bool) (client.Reference, error) {
	def, err := st.Marshal(ctx)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, m := range def.Metadata {
		names = append(names, m.Description["llb.customname"])
	}
	has := func(prefix string) string {
		for _, n := range names {
			if strings.HasPrefix(n, prefix) {
				return n
			}
		}
		return ""
	}
	b.mu.Lock()
	switch {
	case has(llbgen.HolderName) != "":
		b.holders = append(b.holders, ctx)
		b.mu.Unlock()
		<-ctx.Done()
		return nil, context.Cause(ctx)
	case has(llbgen.ProbeName) != "":
		b.solved = append(b.solved, "probe")
		b.mu.Unlock()
		// The probe ends once the holder holds the marks.
		for {
			b.mu.Lock()
			held := len(b.holders) > 0
			b.mu.Unlock()
			if held {
				return &listRef{list: strings.Join(b.marked, "\n")}, nil
			}
			time.Sleep(time.Millisecond)
		}
	case has(llbgen.WatcherName) != "":
		b.solved = append(b.solved, "watcher")
		b.mu.Unlock()
		// Steps ask once the build runs them.
		for {
			b.mu.Lock()
			var asked []string
			for _, w := range b.wants {
				if b.building && slices.Contains(b.marked, w) && !slices.Contains(b.seeded, w) {
					asked = append(asked, w)
				}
			}
			b.mu.Unlock()
			if len(asked) > 0 {
				return &listRef{list: strings.Join(asked, "\n")}, nil
			}
			select {
			case <-ctx.Done():
				return nil, context.Cause(ctx)
			case <-time.After(time.Millisecond):
			}
		}
	case has("[tomlfront] seed cache ") != "":
		dir := strings.TrimSuffix(strings.TrimPrefix(has("[tomlfront] seed cache "), "[tomlfront] seed cache "), " from the snapshot")
		b.solved = append(b.solved, "seed "+dir)
		b.seeded = append(b.seeded, dir)
		b.mu.Unlock()
		return &listRef{}, nil
	}
	b.solved = append(b.solved, "build")
	b.building = true
	b.mu.Unlock()
	// The guards wait until the caches they ask for are seeded, or the
	// build is cancelled.
	for b.waiting() {
		select {
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		case <-time.After(time.Millisecond):
		}
	}
	return &listRef{}, nil
}

func (b *seedBuilder) waiting() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.ContainsFunc(b.wants, func(w string) bool { return slices.Contains(b.marked, w) && !slices.Contains(b.seeded, w) })
}

type listRef struct {
	fakeRef
	list string
}

func (r *listRef) ReadFile(_ context.Context, req client.ReadRequest) ([]byte, error) {
	if req.Filename != seedprobe.List {
		return nil, errors.New("not found: " + req.Filename)
	}
	return []byte(r.list), nil
}

// TestSolveSeeding: a cache is seeded only when a running step asks for it;
// a shared one while the step waits, a locked one after the build is
// cancelled, and solved again.
func TestSolveSeeding(t *testing.T) {
	const src = `
[caches.deps]
target = "/deps"
persist = true
sharing = "locked"
[caches.go]
preset = "go"
persist = true
[stages.a]
from = "golang:1.26"
caches = ["deps", "go"]
[[stages.a.steps]]
run = "make"
`
	s, err := spec.Load("build.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	snapshot, helper := llb.Local("tomlfront-cache"), llb.Image("example.com/tomlfront:1")
	for _, c := range []struct {
		name          string
		snapshot      bool
		export        llbgen.CacheExport
		marked, wants []string
		want          []string
		current       bool // the snapshot is current: no cache was on the builder or used
	}{
		{"no snapshot", false, llbgen.NoCacheExport, nil, nil, []string{"build"}, false},
		{"every step cached", true, llbgen.NoCacheExport, []string{"deps", "go/mod", "go/build"}, nil, []string{"probe", "build", "watcher"}, true},
		{"every step cached, a cache on the builder", true, llbgen.NoCacheExport, []string{"deps", "go/mod"}, nil, []string{"probe", "build", "watcher"}, false},
		{"a shared cache, seeded while its step waits", true, llbgen.NoCacheExport, []string{"go/mod", "go/build"}, []string{"go/mod", "go/build"},
			[]string{"probe", "build", "watcher", "seed go/build", "seed go/mod", "watcher"}, false},
		{"a locked cache: cancelled, seeded, solved again", true, llbgen.NoCacheExport, []string{"deps", "go/mod", "go/build"}, []string{"deps"},
			[]string{"probe", "build", "watcher", "seed deps", "build", "watcher"}, false},
		{"an export of every cache seeds first", true, llbgen.ExportAll, []string{"deps"}, nil, []string{"probe", "seed deps", "build"}, false},
		{"an auto export of caches no step used", true, llbgen.ExportChanged, []string{"deps", "go/mod", "go/build"}, nil, []string{"probe", "build"}, true},
		{"an auto export of a cache a step used", true, llbgen.ExportChanged, []string{"go/mod", "go/build"}, []string{"go/mod"},
			[]string{"probe", "build", "watcher", "seed go/mod", "watcher"}, false},
		// An empty snapshot, as a first CI run restores: nothing is probed.
		{"a snapshot without the caches", true, llbgen.NoCacheExport, nil, nil, []string{"build"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			opt := llbgen.Options{RunID: "run", CacheExport: c.export, Helper: &helper}
			if c.snapshot {
				opt.CacheSnapshot = &snapshot
			}
			res, err := llbgen.Convert(context.Background(), s, opt)
			if err != nil {
				t.Fatal(err)
			}
			b := &seedBuilder{marked: c.marked, wants: c.wants}
			holds := func(dirs []string) ([]string, error) {
				if c.marked == nil {
					return nil, nil
				}
				return dirs, nil
			}
			_, current, err := solveSeeding(context.Background(), res, opt, holds, b.solve)
			if err != nil {
				t.Fatal(err)
			}
			if current != c.current {
				t.Errorf("the snapshot is current: %v, want %v", current, c.current)
			}
			// The build and its watcher start at once: their order is the
			// scheduler's. The last watcher, cancelled at the end and not
			// waited for, may not have started when solveSeeding returns.
			b.mu.Lock()
			got := slices.Clone(b.solved)
			b.mu.Unlock()
			for i := 0; i+1 < len(got); i++ {
				if got[i] == "watcher" && got[i+1] == "build" {
					got[i], got[i+1] = got[i+1], got[i]
				}
			}
			// Caches seeded together are seeded side by side, in any order.
			for i := 0; i < len(got); {
				j := i
				for j < len(got) && strings.HasPrefix(got[j], "seed ") {
					j++
				}
				if j > i {
					slices.Sort(got[i:j])
					i = j
				} else {
					i++
				}
			}
			lastWatcher := func(l []string) []string {
				if len(l) > 0 && l[len(l)-1] == "watcher" {
					return l[:len(l)-1]
				}
				return l
			}
			if !slices.Equal(lastWatcher(got), lastWatcher(c.want)) {
				t.Errorf("solved %q, want %q", got, c.want)
			}
			// A holder beside every probe, until the build is over.
			holders := 0
			if slices.Contains(got, "probe") {
				holders = 1
			}
			b.mu.Lock()
			defer b.mu.Unlock()
			if len(b.holders) != holders { // the probe waits for the holder
				t.Errorf("%d holders, want %d, for %q", len(b.holders), holders, got)
			}
			for _, ctx := range b.holders {
				if ctx.Err() == nil {
					t.Errorf("the holder is not cancelled once the build is over, for %q", got)
				}
			}
		})
	}
}
