package snaparchive

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

var isRoot = os.Geteuid() == 0

// Long names, for the ustar prefix field and PAX headers.
var (
	longDir    = "long/" + strings.Repeat("d", 60) + "/" + strings.Repeat("e", 60)
	longBase   = "long/" + strings.Repeat("b", 120)
	longTarget = strings.Repeat("t/", 80)
)

// buildAll makes a tree with every kind of entry Write archives, and a
// fifo, which it leaves out; as root, with owners other than root's.
func buildAll(t *testing.T, root string) {
	t.Helper()
	dirs := []struct {
		name string
		mode fs.FileMode
	}{
		{"a", 0o755}, {"a/b", 0o755}, {"a/b/c", 0o750}, {"empty", 0o755},
		{"private", 0o700}, {"tmp", 0o777 | fs.ModeSticky}, {"shared", 0o775 | fs.ModeSetgid},
		{"readonly", 0o555}, {"long", 0o755}, {longDir[:len("long/")+60], 0o755}, {longDir, 0o755},
	}
	files := []struct {
		name string
		mode fs.FileMode
		size int
	}{
		{"a/file.txt", 0o644, 12},
		{"a/empty", 0o644, 0},
		{"a/b/c/deep", 0o600, 700},
		{"big", 0o644, 3<<19 + 123}, // 1.5 MiB and some
		{"suid", 0o755 | fs.ModeSetuid, 40},
		{"private/key", 0o600, 32},
		{"readonly/file", 0o444, 5},
		{"hard1", 0o640, 300},
		{longDir + "/f", 0o644, 10}, // a name of more than 100 bytes, of 155 at most before its last /
		{longBase, 0o644, 20},       // a last element of more than 100 bytes: a PAX header
	}
	for _, d := range dirs {
		must(t, os.Mkdir(filepath.Join(root, d.name), 0o755))
	}
	rng := rand.New(rand.NewChaCha8([32]byte{1}))
	for _, f := range files {
		content := make([]byte, f.size)
		for i := range content {
			content[i] = byte(rng.Uint32())
		}
		must(t, os.WriteFile(filepath.Join(root, f.name), content, 0o600))
	}
	must(t, os.Link(filepath.Join(root, "hard1"), filepath.Join(root, "a/hard2")))
	must(t, os.Symlink("a/file.txt", filepath.Join(root, "link-file")))
	must(t, os.Symlink("../b", filepath.Join(root, "a/b/c/link-dir")))
	must(t, os.Symlink("nowhere", filepath.Join(root, "dangling")))
	must(t, os.Symlink(longTarget, filepath.Join(root, "long/link")))
	must(t, syscall.Mkfifo(filepath.Join(root, "fifo"), 0o644))
	if isRoot {
		must(t, os.Lchown(filepath.Join(root, "suid"), 1234, 5678))
		must(t, os.Lchown(filepath.Join(root, "shared"), 1000, 1000))
		must(t, os.Lchown(filepath.Join(root, "link-file"), 1001, 1002))
		must(t, os.Lchown(filepath.Join(root, "a/b/c/deep"), 65534, 65534))
	}
	// Modes after owners: chown clears setuid.
	for _, f := range files {
		must(t, os.Chmod(filepath.Join(root, f.name), f.mode))
	}
	for _, d := range dirs {
		must(t, os.Chmod(filepath.Join(root, d.name), d.mode))
	}
	must(t, os.Chmod(root, 0o755))
	setTimes(t, root)
}

// setTimes gives each path under root, root included, an mtime of its own.
func setTimes(t *testing.T, root string) {
	t.Helper()
	base := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	i := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		i++
		mtime := base.Add(time.Duration(i) * time.Hour)
		if d.Type()&fs.ModeSymlink != 0 {
			return lchtimes(p, mtime)
		}
		return os.Chtimes(p, mtime, mtime)
	})
	must(t, err)
}

// all is what listing compares: everything.
var all = kept{dirTimes: true, symlinkAttrs: true}

// kept says what of the tree listing describes besides names, types,
// modes, content and symlink targets.
type kept struct {
	dirTimes     bool // directories' mtimes
	symlinkAttrs bool // symlinks' owners and mtimes
}

// listing describes the tree under root, one line a path, root included:
// type and mode, owner, size and content, symlink target, mtime, and for a
// second name of a file, its first. Fifos and devices are left out.
func listing(t *testing.T, root string, keep kept) []string {
	t.Helper()
	var lines []string
	first := map[uint64]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		line := fmt.Sprintf("%s %v", rel, fi.Mode())
		symlink := fi.Mode()&fs.ModeSymlink != 0
		if !symlink || keep.symlinkAttrs {
			line += fmt.Sprintf(" %d:%d", st.Uid, st.Gid)
		}
		if (!fi.IsDir() || keep.dirTimes) && (!symlink || keep.symlinkAttrs) {
			line += fmt.Sprintf(" mtime=%d", fi.ModTime().Unix())
		}
		switch fi.Mode().Type() {
		case 0:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			line += fmt.Sprintf(" size=%d sha256=%x", len(b), sha256.Sum256(b))
			if f, ok := first[st.Ino]; ok {
				line += " same as " + f
			} else {
				first[st.Ino] = rel
			}
		case fs.ModeSymlink:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			line += " -> " + target
		case fs.ModeDir:
		default:
			return nil
		}
		lines = append(lines, line)
		return nil
	})
	must(t, err)
	return lines
}

// without leaves out of a listing the lines of the paths skip leaves out.
func without(lines []string, skip func(string) bool) []string {
	if skip == nil {
		return lines
	}
	skipped := func(rel string) bool {
		for p := rel; p != "."; p = filepath.Dir(p) {
			if skip(p) {
				return true
			}
		}
		return false
	}
	var kept []string
	for _, line := range lines {
		rel, _, _ := strings.Cut(line, " ")
		if skipped(rel) {
			continue
		}
		// A file whose first name is left out is a file of its own.
		if before, first, ok := strings.Cut(line, " same as "); ok && skipped(first) {
			line = before
		}
		kept = append(kept, line)
	}
	return kept
}

func write(t *testing.T, root string, skip func(string) bool) ([]byte, Summary) {
	t.Helper()
	var buf bytes.Buffer
	sum, err := Write(&buf, root, skip)
	must(t, err)
	if want := digest(buf.Bytes()); sum.Digest != want {
		t.Fatalf("Write's digest %s, the bytes' %s", sum.Digest, want)
	}
	if sum.ArchiveBytes != int64(buf.Len()) {
		t.Fatalf("Write says %d bytes, wrote %d", sum.ArchiveBytes, buf.Len())
	}
	return buf.Bytes(), sum
}

func extract(t *testing.T, archive []byte) (string, Summary) {
	t.Helper()
	dst := tempDir(t)
	sum, err := Extract(bytes.NewReader(archive), dst)
	must(t, err)
	if want := digest(archive); sum.Digest != want {
		t.Fatalf("Extract's digest %s, the archive's %s", sum.Digest, want)
	}
	if sum.ArchiveBytes != int64(len(archive)) {
		t.Fatalf("Extract says %d bytes, the archive has %d", sum.ArchiveBytes, len(archive))
	}
	return dst, sum
}

func TestRoundTrip(t *testing.T) {
	trimmed := func(rel string) bool { return rel == "a/b" || rel == "big" || rel == "dangling" }
	allCounts := Summary{Files: 10, ContentBytes: 3<<19 + 123 + 12 + 700 + 40 + 32 + 5 + 300 + 10 + 20, Dirs: 12, Symlinks: 4, HardLinks: 1, Special: 1}
	tests := []struct {
		name  string
		build func(*testing.T, string)
		skip  func(string) bool
		want  Summary // counts
	}{
		{"every kind of entry", buildAll, nil, allCounts},
		{"trimmed", buildAll, trimmed, Summary{Files: 8, ContentBytes: 12 + 40 + 32 + 5 + 300 + 10 + 20, Dirs: 10, Symlinks: 2, HardLinks: 1, Special: 1}},
		{"empty", func(*testing.T, string) {}, nil, Summary{Dirs: 1}},
		{"skip nothing", buildAll, func(string) bool { return false }, allCounts},
		{"hard link whose first name is trimmed", buildAll, func(rel string) bool { return rel == "a" }, Summary{Files: 7, ContentBytes: 3<<19 + 123 + 40 + 32 + 5 + 300 + 10 + 20, Dirs: 9, Symlinks: 3, Special: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := tempDir(t)
			tt.build(t, src)
			archive, wsum := write(t, src, tt.skip)
			dst, xsum := extract(t, archive)
			counts := func(s Summary) Summary { s.Digest, s.ContentDigest, s.ArchiveBytes = "", "", 0; return s }
			if got := counts(wsum); got != tt.want {
				t.Errorf("Write's summary %+v, want %+v", got, tt.want)
			}
			want := tt.want
			want.Special = 0 // not in the archive
			if got := counts(xsum); got != want {
				t.Errorf("Extract's summary %+v, want %+v", got, want)
			}
			if got, want := listing(t, dst, all), without(listing(t, src, all), tt.skip); !slices.Equal(got, want) {
				t.Errorf("extracted tree:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			// The same tree gives the same bytes, and so does the tree
			// extracted: nothing Write keeps is lost.
			if again, _ := write(t, src, tt.skip); !bytes.Equal(again, archive) {
				t.Error("a second Write of the same tree differs")
			}
			if again, _ := write(t, dst, nil); !bytes.Equal(again, archive) {
				t.Error("the Write of the extracted tree differs from the archive")
			}
		})
	}
}

// TestNames checks that entries are named as tar -cf - -C root . names them.
// TestContentDigest: Write's ContentDigest leaves times out and nothing
// else: touching a file keeps it (and changes Digest), a change of content
// of the same size, of mode or of a link's target does not.
func TestContentDigest(t *testing.T) {
	tests := []struct {
		name   string
		change func(t *testing.T, root string)
		same   bool
	}{
		{"times", func(t *testing.T, root string) {
			must(t, os.Chtimes(filepath.Join(root, "f"), time.Unix(2e9, 0), time.Unix(2e9, 0)))
		}, true},
		{"content of the same size", func(t *testing.T, root string) {
			must(t, os.WriteFile(filepath.Join(root, "f"), []byte("two"), 0o644))
		}, false},
		{"mode", func(t *testing.T, root string) { must(t, os.Chmod(filepath.Join(root, "f"), 0o600)) }, false},
		{"link target", func(t *testing.T, root string) {
			must(t, os.Remove(filepath.Join(root, "l")))
			must(t, os.Symlink("g", filepath.Join(root, "l")))
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := tempDir(t)
			must(t, os.WriteFile(filepath.Join(root, "f"), []byte("one"), 0o644))
			must(t, os.Symlink("f", filepath.Join(root, "l")))
			must(t, os.Chtimes(filepath.Join(root, "f"), time.Unix(1e9, 0), time.Unix(1e9, 0)))
			_, before := write(t, root, nil)
			tt.change(t, root)
			_, after := write(t, root, nil)
			if same := before.ContentDigest == after.ContentDigest; same != tt.same {
				t.Errorf("content digest %s, then %s: same = %v, want %v", before.ContentDigest, after.ContentDigest, same, tt.same)
			}
			if before.Digest == after.Digest {
				t.Errorf("the archive's digest did not change: %s", before.Digest)
			}
		})
	}
}

func TestNames(t *testing.T) {
	src := tempDir(t)
	buildAll(t, src)
	archive, _ := write(t, src, nil)
	tr := tar.NewReader(bytes.NewReader(archive))
	var names []string
	for {
		hdr, err := tr.Next()
		if err != nil {
			break
		}
		names = append(names, hdr.Name+" "+string(hdr.Typeflag)+" "+hdr.Linkname+" "+hdr.Format.String())
	}
	// Names of more than 100 bytes are split in the ustar header's name
	// and prefix, or in a PAX header when they cannot be.
	u, pax := " USTAR", " PAX"
	want := []string{
		"./ 5 " + u, "./a/ 5 " + u, "./a/b/ 5 " + u, "./a/b/c/ 5 " + u, "./a/b/c/deep 0 " + u,
		"./a/b/c/link-dir 2 ../b" + u, "./a/empty 0 " + u, "./a/file.txt 0 " + u, "./a/hard2 0 " + u,
		"./big 0 " + u, "./dangling 2 nowhere" + u, "./empty/ 5 " + u, "./hard1 1 ./a/hard2" + u,
		"./link-file 2 a/file.txt" + u, "./long/ 5 " + u, "./" + longBase + " 0 " + pax,
		"./" + longDir[:len("long/")+60] + "/ 5 " + u, "./" + longDir + "/ 5 " + u, "./" + longDir + "/f 0 " + u,
		"./long/link 2 " + longTarget + pax, "./private/ 5 " + u, "./private/key 0 " + u,
		"./readonly/ 5 " + u, "./readonly/file 0 " + u, "./shared/ 5 " + u, "./suid 0 " + u, "./tmp/ 5 " + u,
	}
	if !slices.Equal(names, want) {
		t.Errorf("entries:\n%s\nwant:\n%s", strings.Join(names, "\n"), strings.Join(want, "\n"))
	}
}

type entry struct {
	hdr  tar.Header
	body string
}

func makeArchive(t *testing.T, entries []entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := e.hdr
		hdr.Size = int64(len(e.body))
		if hdr.Mode == 0 {
			hdr.Mode = 0o644
		}
		must(t, tw.WriteHeader(&hdr))
		_, err := tw.Write([]byte(e.body))
		must(t, err)
	}
	must(t, tw.Close())
	return buf.Bytes()
}

func TestHostileArchives(t *testing.T) {
	outside := tempDir(t)
	target := filepath.Join(outside, "target")
	file := func(name string) entry { return entry{tar.Header{Name: name, Typeflag: tar.TypeReg}, "pwned"} }
	dir := func(name string) entry { return entry{hdr: tar.Header{Name: name, Typeflag: tar.TypeDir}} }
	symlink := func(name, to string) entry {
		return entry{hdr: tar.Header{Name: name, Typeflag: tar.TypeSymlink, Linkname: to}}
	}
	hardLink := func(name, to string) entry {
		return entry{hdr: tar.Header{Name: name, Typeflag: tar.TypeLink, Linkname: to}}
	}
	tests := []struct {
		name    string
		entries []entry
		refused string // the entry the error names
	}{
		{"parent", []entry{file("../x")}, "../x"},
		{"parent, dotted", []entry{file("./../x")}, "./../x"},
		{"parent, further down", []entry{dir("./a/"), file("./a/../../x")}, "./a/../../x"},
		{"absolute", []entry{file(filepath.Join(outside, "x"))}, filepath.Join(outside, "x")},
		{"through a symlink to ..", []entry{symlink("./evil", ".."), file("./evil/x")}, "./evil/x"},
		{"through a symlink to an absolute dir", []entry{symlink("./evil", outside), file("./evil/x")}, "./evil/x"},
		{"through a symlink inside", []entry{dir("./d/"), symlink("./evil", "d"), file("./evil/x")}, "./evil/x"},
		{"a directory over a symlink", []entry{symlink("./evil", outside), dir("./evil/"), file("./evil/x")}, "./evil/"},
		{"a file over a symlink", []entry{symlink("./evil", target), file("./evil")}, "./evil"},
		{"a hard link over a symlink", []entry{file("./f"), symlink("./evil", target), hardLink("./evil", "./f")}, "./evil"},
		{"a symlink through a symlink", []entry{symlink("./evil", outside), symlink("./evil/x", "y")}, "./evil/x"},
		{"a hard link out", []entry{hardLink("./h", "../target")}, "./h"},
		{"an absolute hard link", []entry{hardLink("./h", target)}, "./h"},
		{"a hard link through a symlink", []entry{symlink("./evil", outside), hardLink("./h", "./evil/target")}, "./h"},
		{"a hard link through a symlink inside", []entry{dir("./d/"), file("./d/f"), symlink("./evil", "d"), hardLink("./h", "./evil/f")}, "./h"},
		{"the root as a file", []entry{file(".")}, "."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			must(t, os.WriteFile(target, []byte("original"), 0o644))
			root := filepath.Join(outside, "root")
			must(t, os.Mkdir(root, 0o755))
			defer os.RemoveAll(root)
			_, err := Extract(bytes.NewReader(makeArchive(t, tt.entries)), root)
			if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("entry %q", tt.refused)) {
				t.Errorf("Extract: %v, want an error naming entry %q", err, tt.refused)
			}
			des, err := os.ReadDir(outside)
			must(t, err)
			var names []string
			for _, de := range des {
				names = append(names, de.Name())
			}
			if !slices.Equal(names, []string{"root", "target"}) {
				t.Errorf("outside the root: %v", names)
			}
			if b, err := os.ReadFile(target); err != nil || string(b) != "original" {
				t.Errorf("the file outside the root: %q, %v", b, err)
			}
			if fi, err := os.Lstat(target); err != nil || fi.Mode() != 0o644 {
				t.Errorf("the file outside the root: %v, %v", fi.Mode(), err)
			}
		})
	}
}

func TestTruncated(t *testing.T) {
	src := tempDir(t)
	buildAll(t, src)
	archive, _ := write(t, src, nil)
	n := len(archive)
	tests := []struct {
		name string
		size int
	}{
		{"empty", 0},
		{"in the first header", 100},
		{"in a file's content", n / 2},
		{"at an entry's end, without the marker", n - 1024},
		{"with half the marker", n - 512},
		{"in the marker", n - 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Extract(bytes.NewReader(archive[:tt.size]), tempDir(t)); err == nil {
				t.Errorf("Extract of the first %d bytes of %d: no error", tt.size, n)
			}
		})
	}
	// Extract reads and hashes what follows the marker: tar's padding
	// to its 10 KiB records, or more.
	for _, padding := range []int{20*512 - n%(20*512), 3 << 20} {
		t.Run(fmt.Sprintf("%d bytes after the marker", padding), func(t *testing.T) {
			padded := append(slices.Clone(archive), make([]byte, padding)...)
			dst, sum := extract(t, padded) // checks the digest is the padded archive's
			if got, want := listing(t, dst, all), listing(t, src, all); !slices.Equal(got, want) {
				t.Errorf("extracted tree:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if sum.Files != 10 {
				t.Errorf("%d files, want 10", sum.Files)
			}
		})
	}
}

// TestSystemTar checks that archives of GNU tar and BusyBox tar (the
// snapshots of older releases) extract, and that they read Write's.
func TestSystemTar(t *testing.T) {
	tools := []struct {
		name string
		cmd  []string
		// What its extraction keeps: BusyBox's sets no directory's mtime
		// after its content, nor a symlink's owner or mtime.
		keeps kept
	}{
		{"GNU tar", []string{"tar"}, all},
		{"BusyBox tar", []string{"busybox", "tar"}, kept{}},
	}
	for _, tool := range tools {
		t.Run(tool.name, func(t *testing.T) {
			if _, err := exec.LookPath(tool.cmd[0]); err != nil {
				t.Skipf("no %s: %v", tool.cmd[0], err)
			}
			if err := exec.Command(tool.cmd[0], append(tool.cmd[1:], "--help")...).Run(); err != nil {
				t.Skipf("no %s: %v", tool.name, err)
			}
			src := tempDir(t)
			buildAll(t, src)
			run := func(stdin []byte, args ...string) []byte {
				t.Helper()
				cmd := exec.Command(tool.cmd[0], append(tool.cmd[1:], args...)...)
				cmd.Stdin = bytes.NewReader(stdin)
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				out, err := cmd.Output()
				if err != nil {
					t.Fatalf("%s %s: %v: %s", tool.name, strings.Join(args, " "), err, stderr.String())
				}
				return out
			}
			t.Run("its archive", func(t *testing.T) {
				archive := run(nil, "-cf", "-", "-C", src, ".")
				dst, sum := extract(t, archive)
				if got, want := listing(t, dst, all), listing(t, src, all); !slices.Equal(got, want) {
					t.Errorf("extracted tree:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
				}
				if sum.Files != 10 || sum.HardLinks != 1 || sum.Symlinks != 4 || sum.Dirs != 12 {
					t.Errorf("summary %+v", sum)
				}
			})
			t.Run("extracting Write's", func(t *testing.T) {
				if !isRoot && tool.name == "BusyBox tar" {
					t.Skip("BusyBox's tar, not run as root, cannot write in a read-only directory it made")
				}
				archive, _ := write(t, src, nil)
				dst := tempDir(t)
				run(archive, "-xpf", "-", "-C", dst)
				if got, want := listing(t, dst, tool.keeps), listing(t, src, tool.keeps); !slices.Equal(got, want) {
					t.Errorf("extracted tree:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
				}
			})
		})
	}
}

// BenchmarkRoundTrip writes and extracts a tree of many small files and a
// few large ones, for profiles (go test -bench . -cpuprofile).
func BenchmarkRoundTrip(b *testing.B) {
	src := b.TempDir()
	rng := rand.New(rand.NewChaCha8([32]byte{2}))
	content := make([]byte, 4<<20)
	for i := range content {
		content[i] = byte(rng.Uint32())
	}
	var total int64
	for i := range 2000 {
		dir := filepath.Join(src, fmt.Sprintf("m%02d/p%02d", i%20, i/20%10))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		size := rng.IntN(16 << 10)
		if i%200 == 0 {
			size = len(content)
		}
		total += int64(size)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%d", i)), content[:size], 0o644); err != nil {
			b.Fatal(err)
		}
	}
	archive := filepath.Join(b.TempDir(), "a.tar")
	b.SetBytes(total)
	b.ResetTimer()
	for i := range b.N {
		f, err := os.Create(archive)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Write(f, src, nil); err != nil {
			b.Fatal(err)
		}
		if _, err := f.Seek(0, 0); err != nil {
			b.Fatal(err)
		}
		dst := filepath.Join(b.TempDir(), fmt.Sprint(i))
		if err := os.Mkdir(dst, 0o755); err != nil {
			b.Fatal(err)
		}
		if _, err := Extract(f, dst); err != nil {
			b.Fatal(err)
		}
		f.Close()
		b.StopTimer()
		os.RemoveAll(dst)
		b.StartTimer()
	}
}

// tempDir is t.TempDir, which it can remove when not run as root, with
// read-only directories in it.
func tempDir(t *testing.T) string {
	dir := t.TempDir()
	t.Cleanup(func() {
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				os.Chmod(p, 0o755)
			}
			return nil
		})
	})
	return dir
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
