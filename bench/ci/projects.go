package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// project is a real project built both ways: its spec and a Dockerfile
// written as Docker's documentation recommends, with the changes a CI sees.
type project struct {
	name       string
	dir        string // in the repository, holding build.toml
	dockerfile string // in bench/ci/dockerfiles
	target     string // the stage both build
	base       string // the base image, pulled apart before each run
	// cacheMounts are the Dockerfile's cache mounts (target and sharing, as
	// in --mount=type=cache,...), which the cache dance carries: a mount of
	// another sharing would be another cache.
	cacheMounts []string
	// image tells a project whose result is a whole image: built to the
	// cache only, since the local exporter would write it file by file.
	image bool
	// sourceChange edits one line of source in a work copy.
	sourceChange func(dir string) error
	// depChange bumps one dependency, in the spec and the Dockerfile (the
	// work copy's dockerfileName); nil when the project has none.
	depChange func(dir string) error
}

// dockerfileName is the project's Dockerfile in its work copy.
const dockerfileName = "bench.Dockerfile"

var goCaches = []string{"target=/go/pkg/mod", "target=/root/.cache/go-build"}

var projects = []project{
	{
		name: "go-app", dir: "examples/go-app", dockerfile: "go-app.Dockerfile", target: "runtime", base: "golang:1.26",
		cacheMounts: goCaches, sourceChange: appendLine("main.go", "// changed"),
	},
	{
		name: "go-service", dir: "e2e/testdata/projects/go-service", dockerfile: "go-service.Dockerfile", target: "runtime", base: "golang:1.26",
		cacheMounts: goCaches, sourceChange: appendLine("main.go", "// changed"),
		// cobra one patch release back: go.mod and go.sum change as a bump
		// does.
		depChange: goGet("github.com/spf13/cobra@v1.10.1"),
	},
	{
		name: "node-app", dir: "e2e/testdata/projects/node-app", dockerfile: "node-app.Dockerfile", target: "runtime", base: "node:18",
		cacheMounts: []string{"target=/root/.npm"}, image: true, sourceChange: appendLine("src/server.js", "// changed"),
		// morgan one patch release back in the lock file.
		depChange: npmInstall("morgan@1.10.0"),
	},
	{
		name: "debian-image", dir: "e2e/testdata/projects/debian-image", dockerfile: "debian-image.Dockerfile", target: "image", base: "debian:bookworm",
		cacheMounts: []string{"target=/var/cache/apt,sharing=locked", "target=/var/lib/apt,sharing=locked"}, image: true, sourceChange: appendLine("motd.sh", "# changed"),
		// One more package in the list.
		depChange: replaceIn([]string{"build.toml", dockerfileName}, "xz-utils zip", "xz-utils zip tmux"),
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

// npmInstall changes a package's version in package.json and the lock file,
// as a dependency bump does, without installing it.
func npmInstall(pkg string) func(string) error {
	return func(dir string) error {
		cmd := exec.Command("npm", "install", "--package-lock-only", "--no-audit", "--no-fund", pkg)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("npm install %s: %v\n%s", pkg, err, out)
		}
		return nil
	}
}

// replaceIn replaces old with new in each file, which must hold it.
func replaceIn(files []string, old, new string) func(string) error {
	return func(dir string) error {
		for _, f := range files {
			path := filepath.Join(dir, f)
			dt, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if !strings.Contains(string(dt), old) {
				return fmt.Errorf("%s holds no %q", f, old)
			}
			if err := os.WriteFile(path, []byte(strings.Replace(string(dt), old, new, 1)), 0o644); err != nil {
				return err
			}
		}
		return nil
	}
}
