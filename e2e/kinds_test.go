//go:build e2e

package e2e

// Builder kinds: the e2e tests run on buildkitd through buildx's remote
// driver (the bench's own, kind "buildkitd"), and their core runs again on
// Docker Engines through buildx's docker driver (scripts/bench/engine.sh,
// which sets TOMLFRONT_BUILDER_KIND and DOCKER_HOST), each test where its
// builder has what it needs (needs).

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/buildkit/client"
)

// builderKind says which kind of builder the tests run on: a name of
// scripts/bench/kinds, the one list of them.
type builderKind string

// kindBuildkitd is the bench's own buildkitd, the kind when none is set.
const kindBuildkitd builderKind = "buildkitd"

// kindInfo is what scripts/bench/kinds says of a kind: its Docker Engine
// version ("-" for none) and image store.
type kindInfo struct{ engine, store string }

// kinds are the kinds scripts/bench/kinds lists; TestMain reads them.
var kinds map[builderKind]kindInfo

// readKinds reads scripts/bench/kinds.
func readKinds() (map[builderKind]kindInfo, error) {
	dt, err := os.ReadFile(filepath.Join(root, "scripts", "bench", "kinds"))
	if err != nil {
		return nil, err
	}
	kinds := map[builderKind]kindInfo{}
	for line := range strings.Lines(string(dt)) {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if len(f) != 3 {
			return nil, fmt.Errorf("scripts/bench/kinds: %q: want KIND ENGINE IMAGE-STORE", strings.TrimSpace(line))
		}
		kinds[builderKind(f[0])] = kindInfo{engine: f[1], store: f[2]}
	}
	return kinds, nil
}

// engine reports whether the builder is a Docker Engine's own BuildKit.
func (k builderKind) engine() bool { return kinds[k].engine != "-" }

// graphdriver reports whether the builder is a Docker Engine whose images
// live in the graphdriver store, which can neither export OCI layouts nor
// merge layers.
func (k builderKind) graphdriver() bool { return kinds[k].store == "graphdriver" }

// A feature is something a test needs of its builder beyond building a
// spec. What each kind has is declared here, once (has), from what
// scripts/bench/kinds says of it; a test states what it needs (needs) and
// is skipped, saying why, on a kind that lacks it, as BuildKit's
// integration tests gate on worker features. (Which tests run on the
// Engines at all is the core, core_test.go.)
type feature int

const (
	// ownDaemons: the test starts buildkitds of its own (a fleet, a daemon
	// it kills) or tests the bench itself: it runs once, with the bench's
	// buildkitd as the builder, not again beside each Engine.
	ownDaemons feature = iota
	// dockerLoad: --load into the builder's Docker Engine, and docker run.
	dockerLoad
	// localBaseImages: a base image from the builder's image store unless
	// --pull is given (buildkitd resolves every tag from its registry).
	localBaseImages
	// cacheExport: cache backends other than inline (local, registry, gha)
	// to export to and import from.
	cacheExport
	// s3Azblob: the s3 and azblob cache backends.
	s3Azblob
	// attestations: provenance and SBOM attestations.
	attestations
	// ociExporter: -o type=oci and type=docker, and oci-layout:// contexts.
	ociExporter
	// mergeOp: BuildKit's MergeOp, which `link = true` copies are made of.
	mergeOp
	// gitSources: several git sources of one repository in a build. The
	// BuildKit of Docker Engine 29.8.0 (v0.33.0) can crash on them, taking
	// dockerd down: a resolution that fails leaves a typed nil in its
	// resolver cache, which the next one of the same repository
	// dereferences (source/git/source.go; fixed in v0.34).
	gitSources
	// twoBuilders: a fresh builder beside the one the test built on, both
	// kept. An Engine here has one builder: its fresh builder is itself,
	// emptied (freshBuilder).
	twoBuilders
)

// features says what each feature is, as a skipped test reports it.
var features = map[feature]string{
	ownDaemons:      "buildkitds of its own, the bench's, as the builder (a fleet of them, a daemon it kills)",
	dockerLoad:      "an image store to --load into: a Docker Engine's",
	localBaseImages: "base images from its image store unless --pull is given: a Docker Engine's (buildkitd resolves every tag from its registry)",
	cacheExport:     "cache export and import beyond inline (buildx's docker driver has only inline on the graphdriver store)",
	s3Azblob:        "the s3 and azblob cache backends (a Docker Engine's BuildKit is built without them)",
	attestations:    "attestations (the graphdriver store has none)",
	ociExporter:     "the OCI exporter and oci-layout contexts (the graphdriver store has neither)",
	mergeOp:         "MergeOp (the graphdriver store cannot merge layers)",
	gitSources:      "several git sources of one repository in a build (BuildKit v0.33.0, Docker Engine 29.8.0's, can crash on them)",
	twoBuilders:     "a fresh builder beside the one it built on (an Engine here has one builder, emptied to make it fresh)",
}

// has tells whether builders of kind k have f.
func (k builderKind) has(f feature) bool {
	switch f {
	case ownDaemons, twoBuilders:
		return k == kindBuildkitd
	case dockerLoad, localBaseImages:
		return k.engine()
	case s3Azblob:
		return !k.engine()
	case cacheExport, attestations, ociExporter, mergeOp:
		return !k.graphdriver()
	case gitSources:
		return kinds[k].engine != "29"
	}
	panic(fmt.Sprintf("feature %d has no entry in has", f))
}

// needs skips the test on a builder kind that lacks one of fs, saying which.
func needs(t *testing.T, fs ...feature) {
	t.Helper()
	for _, f := range fs {
		if !bench.kind.has(f) {
			t.Skipf("needs %s, which %s has not", features[f], bench.kind)
		}
	}
}

// buildkitClient connects to the builder for an in-process build: to
// buildkitd's socket, or to a Docker Engine's BuildKit the way buildx's
// docker driver does, through the engine API's /grpc and /session
// endpoints upgraded to raw connections.
func buildkitClient(ctx context.Context, host string) (*client.Client, error) {
	if host != "" || !bench.kind.engine() {
		if host == "" {
			host = bench.host
		}
		return client.New(ctx, host)
	}
	return client.New(ctx, "",
		client.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
			return dockerUpgrade(ctx, "/grpc", "h2c", nil)
		}),
		client.WithSessionDialer(func(ctx context.Context, proto string, meta map[string][]string) (net.Conn, error) {
			return dockerUpgrade(ctx, "/session", proto, meta)
		}))
}

// dockerUpgrade opens a connection to the engine at DOCKER_HOST (a unix
// socket), POSTs to path asking to upgrade to proto, and returns the
// connection once the engine switched protocols.
func dockerUpgrade(ctx context.Context, path, proto string, header http.Header) (net.Conn, error) {
	sock, ok := strings.CutPrefix(os.Getenv("DOCKER_HOST"), "unix://")
	if !ok {
		return nil, fmt.Errorf("DOCKER_HOST %q is not a unix socket", os.Getenv("DOCKER_HOST"))
	}
	conn, err := (&net.Dialer{}).DialContext(ctx, "unix", sock)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://docker"+path, nil)
	if err != nil {
		conn.Close()
		return nil, err
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", proto)
	if err := req.Write(conn); err != nil {
		conn.Close()
		return nil, err
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		conn.Close()
		return nil, err
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		conn.Close()
		return nil, fmt.Errorf("POST %s: %s", path, resp.Status)
	}
	return &bufferedConn{Conn: conn, r: br}, nil
}

// bufferedConn is a connection whose first bytes may already sit in r.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

var builderVersion struct {
	sync.Once
	minor int
	err   error
}

// buildkitMinor returns MINOR of the builder's BuildKit version v0.MINOR.x,
// as `docker buildx inspect` reports it (a Docker Engine reports the
// BuildKit it embeds).
func buildkitMinor(t *testing.T) int {
	t.Helper()
	builderVersion.Do(func() {
		out, err := docker(cmdOpt{timeout: time.Minute}, "", "buildx", "inspect", os.Getenv("BUILDX_BUILDER"))
		if err != nil {
			builderVersion.err = fmt.Errorf("docker buildx inspect: %v\n%s", err, out)
			return
		}
		m := regexp.MustCompile(`(?m)^BuildKit version:\s+v0\.(\d+)\.`).FindStringSubmatch(out)
		if m == nil {
			builderVersion.err = fmt.Errorf("no BuildKit version v0.N.x in docker buildx inspect:\n%s", out)
			return
		}
		builderVersion.minor, builderVersion.err = strconv.Atoi(m[1])
	})
	if builderVersion.err != nil {
		t.Fatal(builderVersion.err)
	}
	return builderVersion.minor
}

// buildxOutputs runs `docker buildx build ARGS --output O ...` with every
// output at once, or, on a BuildKit before v0.13, which takes one output
// per build, once per output (the later builds come from the cache). It
// returns the progress of every build.
func buildxOutputs(t *testing.T, o cmdOpt, dir string, args []string, outputs ...string) string {
	t.Helper()
	groups := [][]string{outputs}
	if buildkitMinor(t) < 13 {
		groups = nil
		for _, out := range outputs {
			groups = append(groups, []string{out})
		}
	}
	buildContext := cmp.Or(o.context, ".")
	var log strings.Builder
	for _, group := range groups {
		run := slices.Clone(args)
		for _, out := range group {
			run = append(run, "--output", out)
		}
		log.WriteString(mustBuildxWith(t, o, dir, append(run, buildContext)...))
	}
	return log.String()
}
