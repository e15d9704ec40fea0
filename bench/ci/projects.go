package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// project is a real project built both ways: its spec and a Dockerfile
// written as Docker's documentation recommends, with the changes a CI sees.
type project struct {
	name       string
	dir        string // in the repository, holding build.toml
	dockerfile string // in bench/ci/dockerfiles
	target     string // the stage both build
	base       string // the base image, pulled apart before each run
	// cacheTargets are the Dockerfile's cache mounts, which the cache
	// dance carries (their ids are their targets).
	cacheTargets []string
	// sourceChange edits one line of source in a work copy.
	sourceChange func(dir string) error
	// depChange bumps one dependency; nil when the project has none.
	depChange func(dir string) error
}

var goCaches = []string{"/go/pkg/mod", "/root/.cache/go-build"}

var projects = []project{
	{
		name: "go-app", dir: "examples/go-app", dockerfile: "go-app.Dockerfile", target: "runtime", base: "golang:1.26",
		cacheTargets: goCaches, sourceChange: appendLine("main.go", "// changed"),
	},
	{
		name: "go-service", dir: "e2e/testdata/projects/go-service", dockerfile: "go-service.Dockerfile", target: "runtime", base: "golang:1.26",
		cacheTargets: goCaches, sourceChange: appendLine("main.go", "// changed"),
		// cobra one patch release back: go.mod and go.sum change as a bump
		// does.
		depChange: goGet("github.com/spf13/cobra@v1.10.1"),
	},
}

func projectNamed(name string) (project, error) {
	var names []string
	for _, p := range projects {
		if p.name == name {
			return p, nil
		}
		names = append(names, p.name)
	}
	return project{}, fmt.Errorf("unknown project %q; projects: %v", name, names)
}

// appendLine appends a line to a file: a one-line source change.
func appendLine(file, line string) func(string) error {
	return func(dir string) error {
		f, err := os.OpenFile(filepath.Join(dir, file), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = fmt.Fprintln(f, line)
		return err
	}
}

// goGet changes a Go module's requirement, as a dependency bump does.
func goGet(module string) func(string) error {
	return func(dir string) error {
		cmd := exec.Command("go", "get", module)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go get %s: %v\n%s", module, err, out)
		}
		return nil
	}
}
