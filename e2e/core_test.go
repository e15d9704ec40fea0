//go:build e2e

package e2e

import (
	"flag"
	"os"
	"reflect"
	"runtime"
	"strings"
)

// coreTests are the end-to-end core: what must hold on every builder kind
// (docs/compatibility.md): every example, --load and docker run, --pull, link =
// true, cache mounts, the line that drops one, and their sharing modes, the inline, local and
// registry cache backends and the GitHub Actions cache, secrets, ssh, named contexts, --call, every door
// giving one answer, a failing step's TOML lines, cache snapshots and their seeding only
// for steps that run. The
// other tests run on the bench's buildkitd only. The set names the
// functions themselves: a renamed or removed test fails to compile here
// rather than silently leaving the set.
var coreTests = []any{
	TestFrontendImage, TestExamples, TestLoadAndRun, TestErrorsShowTOML,
	TestSourcesCopyLink,
	TestCacheMountPersists, TestCachesPruneFilter, TestCacheSharingLocked, TestCacheSharingShared, TestCacheSharingPrivate, TestCacheBackends, TestCacheBackendGHA,
	TestBuildxSecrets, TestBuildxSSH, TestBuildxBuildContexts, TestBuildxPull,
	TestSubrequests, TestEveryDoor,
	TestCacheSnapshots, TestSnapshotSeedsOnlyWhatRuns,
}

// coreOnly tells whether this run is of the core alone: on a Docker Engine,
// and where TOMLFRONT_E2E_CORE=1 asks for it (make compat).
func coreOnly() bool {
	return bench.kind.engine() || os.Getenv("TOMLFRONT_E2E_CORE") == "1"
}

// selectCore makes go test run the core alone, unless -run already picks
// the tests. It runs in TestMain, after the flags are parsed.
func selectCore() {
	if !coreOnly() || flag.Lookup("test.run").Value.String() != "" {
		return
	}
	names := make([]string, len(coreTests))
	for i, f := range coreTests {
		full := runtime.FuncForPC(reflect.ValueOf(f).Pointer()).Name() // .../e2e.TestName
		names[i] = full[strings.LastIndex(full, ".")+1:]
	}
	if err := flag.Set("test.run", "^("+strings.Join(names, "|")+")$"); err != nil {
		panic(err)
	}
}
