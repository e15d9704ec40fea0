package llbgen

import (
	"maps"
	"reflect"
	"slices"
	"testing"

	"github.com/tomlfront/tomlfront/spec"
)

// TestSBOMExtras: the stages scanned beside the target are those it needs
// that set sbom_scan or that BUILDKIT_SBOM_SCAN_STAGE names, and the build
// context joins them with BUILDKIT_SBOM_SCAN_CONTEXT, as in a Dockerfile.
func TestSBOMExtras(t *testing.T) {
	const src = `[stages.build]
from = "golang:1.26"
sbom_scan = true
[stages.tools]
from = "busybox:1.36"
[stages.unused]
from = "busybox:1.36"
sbom_scan = true
[stages.final]
from = "scratch"
[[stages.final.steps]]
copy = ["/app"]
from = "build"
[[stages.final.steps]]
copy = ["/tool"]
from = "tools"
`
	for _, c := range []struct {
		name string
		args map[string]string
		want []string
	}{
		{"sbom_scan", nil, []string{"build"}},
		{"named stages", map[string]string{spec.ArgSBOMScanStage: "tools,unused"}, []string{"build", "tools"}},
		{"every stage", map[string]string{spec.ArgSBOMScanStage: "true"}, []string{"build", "tools"}},
		{"and the context", map[string]string{spec.ArgSBOMScanContext: "true"}, []string{"build", "context"}},
		{"context for another target", map[string]string{spec.ArgSBOMScanContext: "build"}, []string{"build"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, _ := convert(t, src, Options{BuildArgs: c.args})
			if got := slices.Sorted(maps.Keys(res.SBOMExtras)); !reflect.DeepEqual(got, c.want) {
				t.Errorf("extras %v, want %v", got, c.want)
			}
		})
	}
}
