// Command archive times the cache snapshot's archive steps, written with
// internal/snaparchive, against a copy of the same tree by tar:
//
//   - baseline: tar -cf - -C tree . | tar -xpf - -C dest, two processes;
//   - export: internal/snapstep's export of the tree, as a build's export
//     step runs it: its archive, digests, .sha256 and .info;
//   - seed: snapstep's seed of that archive into an empty directory;
//   - an auto export of the unchanged tree, which reads it and writes
//     nothing;
//   - and, for reference, what llbgen/snapshot.sh did before snapstep:
//     tar | tee file | sha256sum (export), tee <file | tar -x with
//     sha256sum (seed).
//
// Each is run -runs times, in turn, each time with a sync(2) after it, the
// page cache left as it is; what a case writes is removed (and synced)
// before it runs, untimed. The tree is -dir, or one made in -work, like a
// Go module cache: many small files and a few large ones, -files files of
// -mib MiB in all, of pseudo-random content. It prints a markdown table.
//
//	go run ./bench/archive -runs 5
//	go run ./bench/archive -dir ~/go/pkg/mod -work /var/tmp
//
// The goal: export and seed each at most 1.2 times the baseline.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/tomlfront/tomlfront/internal/snaparchive"
	"github.com/tomlfront/tomlfront/internal/snapstep"
)

func main() {
	dir := flag.String("dir", "", "the tree to archive (default: one made in -work)")
	files := flag.Int("files", 10001, "without -dir: the tree's files")
	mib := flag.Int("mib", 174, "without -dir: the tree's size, in MiB")
	runs := flag.Int("runs", 5, "the runs of each case")
	work := flag.String("work", "", "where archives and extracted trees go, in a directory of their own (default: a temporary directory next to the tree)")
	flag.Parse()
	log.SetFlags(0)

	parent := *work
	if parent == "" && *dir != "" {
		parent = filepath.Dir(*dir)
	}
	w, err := os.MkdirTemp(parent, "archive-bench-")
	if err != nil {
		log.Fatal(err)
	}
	err = run(*dir, *files, *mib, *runs, w)
	if rerr := os.RemoveAll(w); err == nil {
		err = rerr
	}
	if err != nil {
		log.Fatal(err)
	}
}

// A case is what is timed, with what it needs done before, untimed.
type benchCase struct {
	name    string
	prepare func() error
	run     func() error
}

func run(tree string, files, mib, runs int, work string) error {
	if tree == "" {
		tree = filepath.Join(work, "tree")
		log.Printf("making a tree of %d files, %d MiB, in %s", files, mib, tree)
		if err := makeTree(tree, files, int64(mib)<<20); err != nil {
			return err
		}
	}
	dest := filepath.Join(work, "dest")
	out := filepath.Join(work, "out")
	shellArchive := filepath.Join(work, "tar.tar")
	emptyDest := func() error {
		if err := os.RemoveAll(dest); err != nil {
			return err
		}
		return os.Mkdir(dest, 0o755)
	}
	remove := func(name string) func() error {
		return func() error { return os.RemoveAll(name) }
	}
	// The steps as a build runs them, on the tree (export) and into dest
	// (seed), with the snapshot the export wrote.
	step := snapstep.Step{Dir: "deps", Identity: "bench", Cache: tree, Snapshot: filepath.Join(work, "none"), Out: out,
		Pending: work, Progress: time.Hour, Log: io.Discard}
	seed := step
	seed.Cache, seed.Snapshot = dest, out
	auto := step
	auto.Auto, auto.Snapshot, auto.Out = true, out, filepath.Join(work, "unused")
	cases := []benchCase{
		{"baseline: `tar -c \\| tar -x`", emptyDest, func() error {
			return sh(`tar -cf - -C "$1" . | tar -xpf - -C "$2"`, tree, dest)
		}},
		{"export (snapstep: archive, digests)", remove(out), step.Export},
		{"seed (snapstep: extract, digest checked)", emptyDest, func() error {
			if err := seed.Seed(); err != nil {
				return err
			}
			if empty, err := os.ReadDir(dest); err != nil || len(empty) == 0 {
				return fmt.Errorf("the seed left the cache empty (%v)", err)
			}
			return nil
		}},
		{"auto export of an unchanged cache", func() error { return nil }, auto.Export},
		{"export before: `tar -c \\| tee \\| sha256sum`", remove(shellArchive), func() error {
			return sh(`tar -cf - -C "$1" . | tee "$2" | sha256sum >/dev/null`, tree, shellArchive)
		}},
		{"seed before: `tee \\| tar -x`, `sha256sum`", emptyDest, func() error {
			// As snapshot.sh's seed was: one read of the archive, through a fifo.
			return sh(`fifo=$3/fifo; rm -f "$fifo"; mkfifo "$fifo"
(tee "$fifo" <"$1" | sha256sum >/dev/null) & sum=$!
(tar -xpf - -C "$2" && cat >/dev/null) <"$fifo"
wait $sum`, shellArchive, dest, work)
		}},
	}
	times := make([][]float64, len(cases))
	for r := range runs {
		for i, c := range cases {
			if err := c.prepare(); err != nil {
				return err
			}
			syscall.Sync()
			start := time.Now()
			if err := c.run(); err != nil {
				return fmt.Errorf("%s: %w", c.name, err)
			}
			syscall.Sync()
			times[i] = append(times[i], time.Since(start).Seconds())
			log.Printf("run %d/%d: %s: %.2fs", r+1, runs, c.name, times[i][len(times[i])-1])
		}
	}

	fmt.Printf("Machine: %d CPUs, %s, %s memory; load %s; %s; %s\n\n",
		runtime.NumCPU(), firstField("/proc/cpuinfo", "model name"), memory(), loadavg(), runtime.Version(), tarVersion())
	written, err := snaparchive.Write(io.Discard, tree, nil)
	if err != nil {
		return err
	}
	fmt.Printf("Date: %s. Tree: %d files, %d directories, %d symlinks, %.1f MiB of content (archive %.1f MiB). %d runs, each ending with a sync.\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), written.Files+written.HardLinks, written.Dirs, written.Symlinks,
		float64(written.ContentBytes)/(1<<20), float64(written.ArchiveBytes)/(1<<20), runs)
	fmt.Println("| case | min s | median s | max s | median / baseline's |")
	fmt.Println("|---|---:|---:|---:|---:|")
	base := median(times[0])
	for i, c := range cases {
		t := slices.Sorted(slices.Values(times[i]))
		fmt.Printf("| %s | %.2f | %.2f | %.2f | %.2fx |\n", c.name, t[0], median(t), t[len(t)-1], median(t)/base)
	}
	verdict := func(i int) string {
		r := median(times[i]) / base
		if r <= 1.2 {
			return fmt.Sprintf("%.2fx, met", r)
		}
		return fmt.Sprintf("%.2fx, not met", r)
	}
	fmt.Printf("\nGoal, at most 1.2x the baseline: export %s; seed %s.\n", verdict(1), verdict(2))
	return nil
}

// sh runs a shell script with args as $1....
func sh(script string, args ...string) error {
	cmd := exec.Command("sh", append([]string{"-c", "set -e\n" + script, "sh"}, args...)...)
	cmd.Stderr = os.Stderr
	return cmd.Run()
}

// makeTree makes a tree like a Go module cache under root: for each module
// a zip, of the large files, and a directory of small files, size bytes in
// all, in n files, their content pseudo-random (it does not compress).
func makeTree(root string, n int, size int64) error {
	rng := rand.New(rand.NewPCG(1, 2))
	pool := make([]byte, 16<<20)
	chacha := rand.NewChaCha8([32]byte{3})
	for i := 0; i < len(pool); i += 8 {
		v := chacha.Uint64()
		for j := range 8 {
			pool[i+j] = byte(v >> (8 * j))
		}
	}
	// One large file for 50, with 40% of the bytes.
	large := max(1, n/50)
	small := n - large
	mods := large
	largeMean := size * 4 / 10 / int64(large)
	smallMean := size * 6 / 10 / int64(max(1, small))
	sizeAround := func(mean int64) int {
		s := int(float64(mean) * (0.2 + 1.6*rng.Float64()))
		return min(s, len(pool))
	}
	write := func(name string, size int) error {
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			return err
		}
		off := rng.IntN(len(pool) - size + 1)
		return os.WriteFile(name, pool[off:off+size], 0o644)
	}
	for m := range mods {
		mod := fmt.Sprintf("github.com/org%d/repo%d", m%37, m)
		version := fmt.Sprintf("v1.%d.%d", m%7, m%3)
		if err := write(filepath.Join(root, "cache/download", mod, "@v", version+".zip"), sizeAround(largeMean)); err != nil {
			return err
		}
		dir := filepath.Join(root, mod+"@"+version)
		for f := m; f < small; f += mods {
			// About eight files a package, every other one internal.
			pkg := f / mods / 8
			sub := fmt.Sprintf("pkg%d", pkg)
			if pkg%2 == 1 {
				sub = filepath.Join("internal", sub)
			}
			if err := write(filepath.Join(dir, sub, fmt.Sprintf("file%d.go", f)), sizeAround(smallMean)); err != nil {
				return err
			}
		}
	}
	return nil
}

func median(t []float64) float64 {
	s := slices.Sorted(slices.Values(t))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// firstField is the value of the first "key : value" line of file.
func firstField(file, key string) string {
	f, err := os.Open(file)
	if err != nil {
		return "?"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

func memory() string {
	var kib int64
	if _, err := fmt.Sscanf(firstField("/proc/meminfo", "MemTotal"), "%d kB", &kib); err != nil {
		return "?"
	}
	return fmt.Sprintf("%.1f GiB", float64(kib)/(1<<20))
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

func tarVersion() string {
	out, err := exec.Command("tar", "--version").Output()
	if err != nil {
		return "tar ?"
	}
	first, _, _ := strings.Cut(string(out), "\n")
	return first
}
