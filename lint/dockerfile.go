package lint

import (
	"maps"
	"slices"

	"github.com/moby/buildkit/frontend/dockerfile/linter"
)

// DockerfileRules maps the Dockerfile frontend's lint rules to the rules
// that check the same thing in a spec. A Dockerfile rule not listed has no
// counterpart: most check the Dockerfile's own syntax, and an undeclared
// variable is always an error in a spec.
var DockerfileRules = map[string]string{
	"SecretsUsedInArgOrEnv": SecretsUsedInArgOrEnv.Name,
}

// DockerfileCheck is what a Dockerfile's check options (`# check=` or
// BUILDKIT_DOCKERFILE_CHECK) ask of the rules that correspond to the
// Dockerfile's: those to skip and those that fail the build, and the
// Dockerfile rules named that have no counterpart.
type DockerfileCheck struct {
	Skip, Error, Unmatched []string
}

// ParseDockerfileCheck reads a Dockerfile's check options, as BuildKit does.
func ParseDockerfileCheck(options string) (DockerfileCheck, error) {
	cfg, err := linter.ParseLintOptions(options)
	if err != nil {
		return DockerfileCheck{}, err
	}
	var c DockerfileCheck
	for _, dockerfile := range slices.Sorted(maps.Keys(DockerfileRules)) {
		ours := DockerfileRules[dockerfile]
		if cfg.SkipAll || slices.Contains(cfg.SkipRules, dockerfile) {
			c.Skip = append(c.Skip, ours)
		}
		if cfg.ReturnAsError {
			c.Error = append(c.Error, ours)
		}
	}
	for _, name := range cfg.SkipRules {
		if _, ok := DockerfileRules[name]; !ok {
			c.Unmatched = append(c.Unmatched, name)
		}
	}
	return c, nil
}
