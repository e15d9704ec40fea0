// Package seedprobe holds the steps that let a build seed a persisted cache
// from its snapshot only when a step that mounts the cache runs. They run
// in the frontend's own image (one static binary: no base image is pulled
// for them), on each cache's pending mount, a small cache of its own:
//
//   - the probe, first in a build given a snapshot, marks each cache the
//     builder has no content for (Main);
//   - a step that mounts a marked cache asks for it (the file Wanted) and
//     waits, in the guard llbgen puts before its command;
//   - the watcher, beside the build, answers (Heard) and ends (Wait); the
//     frontend then cancels the build, seeds the cache (the seed clears the
//     mark) and solves again, the steps that ran being cached by then;
//   - the holder, beside the probe and the build until the build is over,
//     keeps every pending mount in use (Hold), so that every step finds
//     the one the probe marked. BuildKit gives a step that mounts a shared
//     cache the mount another running step holds; when none does, the one
//     it finds, unless that one is locked, and a disk-usage count (the
//     daemon's garbage collector, `buildx du`) locks a cache for a moment
//     to size it: the step then gets a new, empty mount, without the mark
//     (moby/buildkit's solver/llbsolver/mounts, getRefCacheDirNoCache).
//
// A build whose steps all come from the layer cache meets no guard: it
// seeds nothing and moves no archive.
//
// It runs inside a build container: it must not import BuildKit, nor any
// package of tomlfront's.
package seedprobe

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const (
	// Command is the probe's subcommand: tomlfront seed-probe DIR..., one
	// snapshot directory name (deps, go/mod) per cache, in mount order; the
	// watcher's is tomlfront seed-probe -wait DIR..., the holder's
	// tomlfront seed-probe -hold DIR...
	Command  = "seed-probe"
	WaitFlag = "-wait"
	HoldFlag = "-hold"
	// RunEnv, in each step's environment, names the build.
	RunEnv = "TOMLFRONT_RUN"
	// Root is where the probe's mounts are: cache i at Root/i/cache, its
	// pending mount at Root/i/pending.
	Root = "/.tomlfront/probe"
	// PendingDir is where the guard and the seed mount a cache's pending
	// mount; Mark is the file in it that asks for the cache to be seeded,
	// Wanted the one a waiting guard writes.
	PendingDir = "/.tomlfront/pending"
	Mark       = "seed"
	Wanted     = "wanted"
	// Heard is the watcher's answer to Wanted: without it, the guard takes
	// the mark for one a build that is over left, clears it and goes on.
	Heard = "heard"
	// Held, in a pending mount, names the build whose holder holds it.
	Held = "held"
	// Out is the probe's output; List, in it, names the caches marked, one
	// per line.
	Out  = "/.tomlfront/out"
	List = "pending"
)

// Run runs the step args name (Command's arguments): the probe, the
// watcher or the holder, in the build named by RunEnv.
func Run(args []string, stdout io.Writer) error {
	run := os.Getenv(RunEnv)
	if len(args) == 0 {
		return errors.New("no cache to probe")
	}
	switch args[0] {
	case WaitFlag:
		return Wait(args[1:], Root, Out, 100*time.Millisecond)
	case HoldFlag:
		if err := Hold(args[1:], Root, run); err != nil {
			return err
		}
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
		<-stop // the build is over: BuildKit stops the step
		return nil
	}
	return Main(args, Root, Out, run, 10*time.Second, stdout)
}

// Main runs the probe of the build run over the caches named by dirs,
// mounted under root (Root), and writes the list of those it marked into
// out (Out). It ends once the build's holder holds every cache it marked,
// or after holderWait.
func Main(dirs []string, root, out, run string, holderWait time.Duration, stdout io.Writer) error {
	var marked, markedAt []string // their names, their pending mounts
	for i, dir := range dirs {
		at := filepath.Join(root, strconv.Itoa(i))
		empty, err := isEmpty(filepath.Join(at, "cache"))
		if err != nil {
			return fmt.Errorf("cache %s: %w", dir, err)
		}
		mark := filepath.Join(at, "pending", Mark)
		if !empty {
			// A mark a build left when no step used the cache.
			if err := os.Remove(mark); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			fmt.Fprintf(stdout, "tomlfront: cache %s already has content on this builder; the snapshot is not used\n", dir)
			continue
		}
		for _, f := range []string{Wanted, Heard} { // of a build that is over
			if err := os.Remove(filepath.Join(at, "pending", f)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
		if err := os.WriteFile(mark, nil, 0o644); err != nil {
			return err
		}
		// A guard runs as its step's user, and asks for the cache here:
		// whatever mode the pending mount was made with (BuildKit releases
		// differ in whether a umask applies).
		if err := os.Chmod(filepath.Join(at, "pending"), 0o777); err != nil {
			return err
		}
		marked = append(marked, dir)
		markedAt = append(markedAt, filepath.Join(at, "pending"))
		fmt.Fprintf(stdout, "tomlfront: cache %s is empty on this builder: it is seeded from the snapshot if a step that mounts it runs\n", dir)
	}
	if len(markedAt) > 0 && !held(markedAt, run, holderWait) {
		// Without the holder, a step may miss the mark and run on the empty
		// cache: the build is right, only slower.
		fmt.Fprintf(stdout, "tomlfront: the holder of the caches' marks did not start in %s (does the builder run one step at a time?): a step may run without its seed\n", holderWait)
	}
	list := strings.Join(marked, "\n")
	if list != "" {
		list += "\n"
	}
	return os.WriteFile(filepath.Join(out, List), []byte(list), 0o644)
}

// held polls until the holder of the build run holds each of the pending
// mounts, at most for wait.
func held(pending []string, run string, wait time.Duration) bool {
	deadline := time.Now().Add(wait)
	for {
		if !slices.ContainsFunc(pending, func(p string) bool {
			holder, err := os.ReadFile(filepath.Join(p, Held))
			return err != nil || string(holder) != run
		}) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Hold tells, in the pending mount of each cache of dirs (under root, as
// Main's), that the holder of the build run holds it; the holder then runs
// until the frontend cancels it.
func Hold(dirs []string, root, run string) error {
	for i := range dirs {
		pending := filepath.Join(root, strconv.Itoa(i), "pending")
		// Written whole, then renamed: the probe never reads half of it.
		tmp := filepath.Join(pending, Held+".tmp")
		if err := os.WriteFile(tmp, []byte(run), 0o644); err != nil {
			return err
		}
		if err := os.Rename(tmp, filepath.Join(pending, Held)); err != nil {
			return err
		}
	}
	return nil
}

// Wait polls, every interval, the pending mounts of the caches dirs (under
// root, as Main's) until a guard asks for one, and writes the list of those
// asked for into out. The frontend cancels it when the build ends first.
func Wait(dirs []string, root, out string, interval time.Duration) error {
	for {
		var wanted []string
		for i, dir := range dirs {
			pending := filepath.Join(root, strconv.Itoa(i), "pending")
			if _, err := os.Stat(filepath.Join(pending, Wanted)); err != nil {
				continue
			}
			if _, err := os.Stat(filepath.Join(pending, Mark)); err != nil {
				// Asked for as the seed cleared the mark: the step goes on.
				if err := os.Remove(filepath.Join(pending, Wanted)); err != nil && !errors.Is(err, fs.ErrNotExist) {
					return err
				}
				continue
			}
			if err := os.WriteFile(filepath.Join(pending, Heard), nil, 0o644); err != nil {
				return err
			}
			wanted = append(wanted, dir)
		}
		if len(wanted) > 0 {
			return os.WriteFile(filepath.Join(out, List), []byte(strings.Join(wanted, "\n")+"\n"), 0o644)
		}
		time.Sleep(interval)
	}
}

// ReadList reads the list Main or Wait wrote.
func ReadList(data []byte) []string {
	return strings.Fields(string(data))
}

func isEmpty(dir string) (bool, error) {
	f, err := os.Open(dir)
	if err != nil {
		return false, err
	}
	defer f.Close()
	_, err = f.Readdirnames(1)
	if errors.Is(err, io.EOF) {
		return true, nil
	}
	return false, err
}
