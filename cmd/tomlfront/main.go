// Command tomlfront is the tomlfront BuildKit frontend and its command line.
//
// Run by BuildKit with no arguments, it serves builds as a gateway frontend.
// With a subcommand it inspects specs locally:
//
//	tomlfront llb  [-f build.toml] [--target T] [--build-arg K=V]... [--platform P] [--build-context NAME=DIR]...
//	tomlfront lint [-f build.toml] [--build-arg K=V]... [--build-context NAME=DIR]...
//	tomlfront caches [-f build.toml] [--target T] [--build-arg K=V]... [--platform P] [--build-context NAME=DIR]...
//	tomlfront resolve [-f build.toml] [--build-context NAME=DIR]...
//	tomlfront convert [-f Dockerfile] [-o build.toml] [--build-arg K=V]... [--keep-going]
//	tomlfront schema
package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/moby/buildkit/frontend/gateway/grpcclient"
	"github.com/moby/buildkit/util/appcontext"
	"github.com/tomlfront/tomlfront/frontend"
	"github.com/tomlfront/tomlfront/internal/crash"
	"github.com/tomlfront/tomlfront/internal/seedprobe"
	"github.com/tomlfront/tomlfront/internal/snapstep"
)

const usage = `tomlfront: a BuildKit frontend for TOML build specs

Usage:
  tomlfront                 run as a BuildKit frontend (BuildKit starts it)
  tomlfront llb  [flags]    print the LLB definition of a spec, for buildctl
  tomlfront lint [flags]    check a spec; problems as FILE:LINE:COL: message
  tomlfront caches [flags]  list the cache mounts of a target, with their ids
  tomlfront resolve [flags] print the spec with its includes merged in, for review
  tomlfront convert [flags] convert a Dockerfile into a spec
  tomlfront schema          print the spec's JSON Schema, for editors
  tomlfront help [command]  show help

Run "tomlfront help COMMAND" for a command's flags.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the command line args and returns the exit code. A panic in
// a command is a bug of tomlfront's: it is reported as one, exit code 70.
func run(args []string, stdout, stderr io.Writer) (code int) {
	var err error
	defer func() {
		if err != nil {
			fmt.Fprintf(stderr, "tomlfront: %v\n", err)
			code = exitInternal
		}
	}()
	defer crash.Recover(&err)
	if testHook != nil {
		testHook(args)
	}
	if len(args) == 0 {
		if underBuildKit() {
			if err := grpcclient.RunFromEnvironment(appcontext.Context(), frontend.Build); err != nil {
				fmt.Fprintf(stderr, "tomlfront: %v\n", err)
				return 1
			}
			return 0
		}
		fmt.Fprint(stderr, usage)
		return 2
	}
	ctx := context.Background()
	switch args[0] {
	case "llb":
		return runLLB(ctx, args[1:], stdout, stderr)
	case "lint":
		return runLint(ctx, args[1:], stdout, stderr)
	case "caches":
		return runCaches(ctx, args[1:], stdout, stderr)
	case "resolve":
		return runResolve(ctx, args[1:], stdout, stderr)
	case "convert":
		return runConvert(ctx, args[1:], stdout, stderr)
	case "schema":
		return runSchema(args[1:], stdout, stderr)
	case seedprobe.Command: // not for people: steps of builds with persisted caches
		if err := seedprobe.Run(args[1:], stdout); err != nil {
			fmt.Fprintf(stderr, "tomlfront %s: %v\n", seedprobe.Command, err)
			return 1
		}
		return 0
	case snapstep.Command: // not for people: the seed and export of a cache snapshot
		if err := snapstep.Main(args[1:], stdout); err != nil {
			fmt.Fprintf(stderr, "tomlfront: %v\n", err)
			return 1
		}
		return 0
	case "help", "-h", "--help":
		if len(args) > 1 {
			return run([]string{args[1], "--help"}, stdout, stderr)
		}
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "tomlfront: unknown command %q; commands: llb, lint, caches, resolve, convert, schema, help\n", args[0])
	return 2
}

// testHook, when set by a test, runs before every command: it injects a
// panic to show what a user sees of a bug.
var testHook func(args []string)

// exitInternal is the exit code of a bug in tomlfront (sysexits' EX_SOFTWARE).
const exitInternal = 70

// underBuildKit tells whether BuildKit started this process as a frontend:
// it always passes the session and worker environment.
func underBuildKit() bool {
	for _, k := range []string{"BUILDKIT_SESSION_ID", "BUILDKIT_WORKERS", "BUILDKIT_EXPORTEDPRODUCT"} {
		if os.Getenv(k) != "" {
			return true
		}
	}
	return false
}
