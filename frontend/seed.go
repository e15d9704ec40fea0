package frontend

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/distribution/reference"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/gateway/client"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/tomlfront/tomlfront/internal/seedprobe"
	"github.com/tomlfront/tomlfront/internal/snapstep"
	"github.com/tomlfront/tomlfront/llbgen"
	"golang.org/x/sync/errgroup"
)

// helperImage is the frontend's own image, pinned by digest, for the steps
// of cache snapshots (llbgen.Options.Helper): BuildKit names the image it
// runs the frontend from in the "source" option (# syntax=, --opt
// source=). Nil when the frontend runs another way (in-process, or from a
// named context).
func helperImage(ctx context.Context, c client.Client, platform ocispecs.Platform) (*llb.State, error) {
	named, err := reference.ParseNormalizedNamed(c.BuildOpts().Opts["source"])
	if err != nil {
		return nil, nil
	}
	ref := reference.TagNameOnly(named).String()
	_, dgst, _, err := c.ResolveImageConfig(ctx, ref, sourceresolver.Opt{
		LogName:  "[internal] load metadata for the frontend image " + ref,
		ImageOpt: &sourceresolver.ResolveImageOpt{Platform: &platform},
	})
	if err != nil {
		return nil, fmt.Errorf("the frontend's own image, for the seed probe: %w", err)
	}
	if dgst != "" {
		if d, err := reference.WithDigest(reference.TrimNamed(named), dgst); err == nil {
			ref = d.String()
		}
	}
	st := llb.Image(ref, llb.Platform(platform), llb.WithCustomName("[internal] load the frontend image "+named.String()))
	return &st, nil
}

// solveFunc solves a state: evaluated, or left for the export to solve.
type solveFunc func(ctx context.Context, st llb.State, evaluate bool) (client.Reference, error)

// solveSeeding solves one platform's build, res, with solve. With persisted
// caches and a snapshot, a cache is seeded from the snapshot only when a
// step that mounts it runs: the probe marks the caches the builder has no
// content for, a step that mounts a marked cache asks for it and waits
// (llbgen's guard), the watcher beside the build answers, and solveSeeding
// seeds the cache, while the step waits if the cache is shared, else after
// it cancels the build, which it then solves again (the steps that ran are
// cached by then); the holder, from the probe to the end, keeps the marks
// where every step finds them. A build whose steps all come from the layer
// cache seeds nothing and reads no archive. Only the caches the snapshot
// holds (holds) are probed.
//
// current tells that the snapshot is still current for this build's
// persisted caches: the builder had none of them, and no step that mounts
// one ran, so an export would write nothing (SnapshotMetadata).
func solveSeeding(ctx context.Context, res *llbgen.Result, opt llbgen.Options, holds func(dirs []string) ([]string, error), solve solveFunc) (_ client.Reference, current bool, _ error) {
	// The build as it is, with no seed to wait for.
	solveBuild := func() (client.Reference, bool, error) {
		ref, err := solve(ctx, res.State, false)
		return ref, false, err
	}
	snap := res.Snapshot
	if snap == nil || opt.CacheSnapshot == nil {
		return solveBuild()
	}
	held, err := holds(snap.Dirs())
	if err != nil {
		return nil, false, err
	}
	if len(held) == 0 { // nothing to probe, nothing to seed
		return solveBuild()
	}
	// The holder keeps the marks where every step finds them (see
	// internal/seedprobe) until the build is over; the probe waits for it.
	// Cancelled at the end, not waited for: BuildKit stops its container
	// while it exports the result (a tenth of a second at each build's end).
	holdCtx, stopHolding := context.WithCancelCause(ctx)
	go func() { _, _ = solve(holdCtx, snap.Hold(), true) }() // ends when cancelled
	defer stopHolding(errors.New("the build is over"))
	ref, err := solve(ctx, snap.Probe(held), true)
	if err != nil {
		return nil, false, err
	}
	list, err := ref.ReadFile(ctx, client.ReadRequest{Filename: seedprobe.List})
	if err != nil {
		return nil, false, err
	}
	pending := seedprobe.ReadList(list) // marked, not seeded
	// Every cache still marked when the build is over: none was on the
	// builder, and no step that mounts one ran.
	unused := func() bool { return len(pending) == len(snap.Dirs()) }
	seeded := map[string]bool{}
	// The caches are seeded side by side: each seed is a step of its own.
	seedAll := func(dirs []string) error {
		g, gctx := errgroup.WithContext(ctx)
		for _, dir := range dirs {
			if seeded[dir] {
				continue
			}
			seeded[dir] = true
			st, _ := snap.Seed(dir)
			g.Go(func() error {
				_, err := solve(gctx, st, true)
				return err
			})
		}
		if err := g.Wait(); err != nil {
			return err
		}
		pending = slices.DeleteFunc(pending, func(d string) bool { return seeded[d] })
		return nil
	}
	// An export of every cache needs their content: each is seeded first.
	if opt.CacheExport == llbgen.ExportAll {
		if err := seedAll(slices.Clone(pending)); err != nil {
			return nil, false, err
		}
	}
	if len(pending) == 0 { // no guard will wait
		return solveBuild()
	}
	if opt.CacheExport == llbgen.ExportChanged && unused() {
		// Every cache is unchanged and left out: the export runs no step,
		// and needs no watcher.
		st, err := snap.Export(func(string) bool { return true })
		if err != nil {
			return nil, false, err
		}
		ref, err := solve(ctx, st, false)
		return ref, true, err
	}
	for attempt := 0; ; {
		state := res.State
		if opt.CacheExport == llbgen.ExportChanged && len(pending) > 0 {
			// A cache still marked was neither seeded nor used by a step:
			// unchanged since the snapshot, it is left out.
			var err error
			if state, err = snap.Export(func(dir string) bool { return slices.Contains(pending, dir) }); err != nil {
				return nil, false, err
			}
		}
		ref, wanted, err := solveWatched(ctx, state, solve, func() llb.State {
			attempt++
			return snap.Watch(attempt)
		}, func(wanted []string) (bool, error) {
			// A shared cache is seeded while its step waits: the step goes on
			// when the seed clears its mark. Another is seeded once the build
			// is cancelled, since the waiting step holds it.
			if !slices.ContainsFunc(wanted, func(d string) bool { return !snap.Shared(d) }) {
				return true, seedAll(wanted)
			}
			return false, nil
		})
		if err != nil || len(wanted) == 0 {
			return ref, err == nil && unused(), err
		}
		if err := seedAll(wanted); err != nil {
			return nil, false, err
		}
	}
}

// withoutEmptyExport returns no result in place of an auto export
// (llbgen.ExportChanged) whose every archive holds an empty cache
// (snapstep.HoldsNothing): the steps that fill the caches came from the
// layer cache, as when a snapshot was evicted while the layer cache stays,
// or snapshots are added to a workflow whose layer cache is warm. Saved,
// such a snapshot would seed nothing, and still hold the next build that
// runs one of those steps for a seed; without it, a later build whose steps
// fill the caches exports them. An export with a cache that holds
// something keeps its empty ones too: a cache its steps leave empty (the
// module cache of a Go module without dependencies) stays in the snapshot,
// which then stays current for it.
func withoutEmptyExport(ctx context.Context, c client.Client, ref client.Reference, dirs []string) (client.Reference, error) {
	if ref == nil {
		return nil, nil
	}
	if err := ref.Evaluate(ctx); err != nil {
		return nil, err
	}
	exported := 0
	for _, dir := range dirs {
		info, err := ref.ReadFile(ctx, client.ReadRequest{Filename: dir + ".tar.info"})
		if err != nil {
			continue // left out: unchanged since the snapshot
		}
		if !snapstep.HoldsNothing(info) {
			return ref, nil
		}
		exported++
	}
	if exported == 0 {
		return ref, nil
	}
	// A warning, where buildx shows it at the end: the export's steps each
	// say that their cache is empty, but not that nothing is exported.
	_ = c.Warn(ctx, "", "TOMLFRONT_CACHE_EXPORT=auto: every persisted cache is empty on this builder (the steps that fill them came from the layer cache): nothing is exported, since a snapshot of empty caches would seed nothing; a build whose steps fill them exports them", client.WarnOpts{})
	return nil, nil
}

// solveWatched solves state with a watcher beside it (watcher makes a new
// one each time). When a watcher ends first, steps wait for the caches it
// lists: if seedWaiting seeds them while they wait, a new watcher starts;
// else the solve is cancelled, and they are returned, to be seeded before
// the build is solved again.
func solveWatched(ctx context.Context, state llb.State, solve solveFunc, watcher func() llb.State,
	seedWaiting func(wanted []string) (bool, error)) (client.Reference, []string, error) {
	type solved struct {
		ref client.Reference
		err error
	}
	buildCtx, cancelBuild := context.WithCancelCause(ctx)
	defer cancelBuild(nil)
	built := make(chan solved, 1)
	go func() {
		ref, err := solve(buildCtx, state, true)
		built <- solved{ref, err}
	}()
	for {
		watchCtx, cancelWatch := context.WithCancelCause(ctx)
		watched := make(chan solved, 1)
		go func(w llb.State) {
			ref, err := solve(watchCtx, w, true)
			watched <- solved{ref, err}
		}(watcher())
		select {
		case b := <-built:
			// Not waited for, as the holder (solveSeeding).
			cancelWatch(errors.New("the build is over"))
			return b.ref, nil, b.err
		case w := <-watched:
			cancelWatch(nil)
			if w.err != nil { // the watcher failed: the build goes on without it
				b := <-built
				return b.ref, nil, b.err
			}
			list, err := w.ref.ReadFile(ctx, client.ReadRequest{Filename: seedprobe.List})
			if err != nil {
				return nil, nil, err
			}
			wanted := seedprobe.ReadList(list)
			if done, err := seedWaiting(wanted); err != nil || done {
				if err != nil {
					return nil, nil, err
				}
				continue
			}
			cancelBuild(errors.New("a step waits for a cache to be seeded"))
			<-built
			return nil, wanted, nil
		}
	}
}
