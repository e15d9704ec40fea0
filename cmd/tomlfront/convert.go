package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/tomlfront/tomlfront/convert"
)

const convertSynopsis = `Converts a Dockerfile into a spec that builds the same image (docs/convert.md),
written to stdout or to -o. With -o, the Dockerfile's own ignore file
(Dockerfile.dockerignore) is copied next to the spec as build.toml.dockerignore.
A construct a spec cannot express is an error at Dockerfile:LINE:COL; with
--keep-going the rest is written, with a # TODO comment at each such place.`

func runConvert(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs, sf := newFlags("convert", convertSynopsis, stderr)
	*sf.file = "Dockerfile"
	fs.Lookup("f").DefValue = "Dockerfile"
	fs.Lookup("f").Usage = "the `Dockerfile` to convert"
	out := fs.String("o", "", "write the spec to this `file` (default: stdout)")
	syntax := fs.String("syntax", convert.DefaultSyntax, "the frontend `image` of the spec's # syntax= line")
	keepGoing := fs.Bool("keep-going", false, "write what can be converted, with a # TODO comment where something cannot")
	bargs := buildArgs{}
	fs.Var(bargs, "build-arg", "set the default of an ARG, `KEY=VALUE`; repeatable")
	if code, ok := parseFlags(fs, args, stderr); !ok {
		return code
	}
	src, ok := sf.source(stderr)
	if !ok {
		return 2
	}
	dt, err := convert.Convert(*sf.file, src, convert.Options{Syntax: *syntax, KeepGoing: *keepGoing, BuildArgs: bargs})
	if err != nil {
		fmt.Fprintln(stderr, err)
		var problems convert.Problems
		if errors.As(err, &problems) {
			fmt.Fprintln(stderr, "tomlfront convert: nothing written; --keep-going writes the rest with a # TODO at each of these")
		}
		return 1
	}
	if *out == "" {
		if _, err := stdout.Write(dt); err != nil {
			fmt.Fprintf(stderr, "tomlfront convert: %v\n", err)
			return 1
		}
		return 0
	}
	if err := os.WriteFile(*out, dt, 0o644); err != nil {
		fmt.Fprintf(stderr, "tomlfront convert: %v\n", err)
		return 1
	}
	// The Dockerfile's own ignore file applies to the spec under its name.
	if ignore, err := os.ReadFile(*sf.file + ".dockerignore"); err == nil {
		dst := filepath.Join(filepath.Dir(*out), filepath.Base(*out)+".dockerignore")
		if err := os.WriteFile(dst, ignore, 0o644); err != nil {
			fmt.Fprintf(stderr, "tomlfront convert: %v\n", err)
			return 1
		}
	}
	return 0
}
