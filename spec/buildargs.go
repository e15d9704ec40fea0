package spec

import (
	"slices"
	"strings"
)

// The build args tomlfront reads besides a spec's own [args]: its own
// knobs and the BuildKit ones it honours. Every package names them from
// here.
const (
	// ArgCacheExport exports the persisted caches (1, true or auto).
	ArgCacheExport = "TOMLFRONT_CACHE_EXPORT"
	// ArgCheck overrides a spec's [lint] for one build, in the form of the
	// Dockerfile's BUILDKIT_DOCKERFILE_CHECK: "skip=A,B;error=true".
	ArgCheck = "TOMLFRONT_CHECK"
	// ArgFetchTimeout bounds how long the context of an include may take to
	// answer (a Go duration): an unreachable server fails the build at the
	// include, not never.
	ArgFetchTimeout = "TOMLFRONT_FETCH_TIMEOUT"
	// ArgTestPanic is a test hook: the frontend panics where it says.
	ArgTestPanic = "TOMLFRONT_TEST_PANIC"
	// ArgDockerfileCheck is the Dockerfile frontend's check options; a spec
	// build applies them to the rules that correspond to the Dockerfile's.
	ArgDockerfileCheck = "BUILDKIT_DOCKERFILE_CHECK"
	// ArgCacheMountNS prefixes every cache id, as for a Dockerfile.
	ArgCacheMountNS = "BUILDKIT_CACHE_MOUNT_NS"
	// ArgSBOMScanStage and ArgSBOMScanContext add stages and the context
	// to an SBOM scan, as for a Dockerfile.
	ArgSBOMScanStage   = "BUILDKIT_SBOM_SCAN_STAGE"
	ArgSBOMScanContext = "BUILDKIT_SBOM_SCAN_CONTEXT"
	// ArgSourceDateEpoch is the reproducible-builds time.
	ArgSourceDateEpoch = "SOURCE_DATE_EPOCH"
)

// The proxy build args, which BuildKit passes to run steps without a
// declaration, matched in any case.
const (
	ArgHTTPProxy  = "HTTP_PROXY"
	ArgHTTPSProxy = "HTTPS_PROXY"
	ArgFTPProxy   = "FTP_PROXY"
	ArgNoProxy    = "NO_PROXY"
	ArgAllProxy   = "ALL_PROXY"
)

// ProxyArgs lists the proxy build args.
var ProxyArgs = []string{ArgHTTPProxy, ArgHTTPSProxy, ArgFTPProxy, ArgNoProxy, ArgAllProxy}

// BuiltinArg tells the build args that BuildKit, buildx and tomlfront
// define for every build, which a spec need not declare.
func BuiltinArg(name string) bool {
	return strings.HasPrefix(name, "BUILDKIT_") || strings.HasPrefix(name, "TOMLFRONT_") || name == ArgSourceDateEpoch ||
		slices.Contains(ProxyArgs, strings.ToUpper(name))
}
