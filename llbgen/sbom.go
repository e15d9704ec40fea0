package llbgen

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/moby/buildkit/client/llb"
	"github.com/tomlfront/tomlfront/spec"
)

// enabledFor reads a scan arg as the Dockerfile frontend does: a boolean,
// or the comma-separated names of the stages it is on for.
func enabledFor(stage, value string) bool {
	if on, err := strconv.ParseBool(value); err == nil {
		return on
	}
	return slices.Contains(strings.Split(value, ","), stage)
}

// sbomExtras are the states scanned beside the target's, named as their
// SBOMs are (sbom-NAME): each stage the target needs that sets sbom_scan
// or that BUILDKIT_SBOM_SCAN_STAGE names, and, with
// BUILDKIT_SBOM_SCAN_CONTEXT for the target, the build context.
func (c *converter) sbomExtras(ctx context.Context, target *stageState) (map[string]llb.State, error) {
	extras := map[string]llb.State{}
	stageArg, stageSet := c.opt.BuildArgs[spec.ArgSBOMScanStage]
	for st, s := range c.stages {
		if s == target || !s.done {
			continue
		}
		if st.SBOMScan.Value || stageSet && enabledFor(st.Name, stageArg) {
			extras[st.Name] = s.state
		}
	}
	if v, ok := c.opt.BuildArgs[spec.ArgSBOMScanContext]; ok && enabledFor(target.spec.Name, v) {
		st, err := c.resolver.MainContext(ctx)
		if err != nil {
			return nil, err
		}
		extras["context"] = st
	}
	return extras, nil
}
