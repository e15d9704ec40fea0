// Command scanner is a minimal SBOM generator for BuildKit's SBOM scanner
// protocol (see frontend/attestations/sbom/sbom.go in moby/buildkit).
//
// BuildKit runs the generator image's entrypoint with:
//
//	BUILDKIT_SCAN_SOURCE         read-only root filesystem to scan
//	                             (/run/src/core/sbom)
//	BUILDKIT_SCAN_SOURCE_EXTRAS  optional; one sub-directory per extra target,
//	                             named sbom-NAME (/run/src/extras/)
//	BUILDKIT_SCAN_DESTINATION    empty directory for the results (/run/out/)
//
// and reads every regular file in the destination back as an in-toto
// statement whose predicateType must be https://spdx.dev/Document. The file
// whose name before the first "." is "sbom" is treated as the core SBOM; the
// others are attached as extra SBOMs.
//
// It exists so that `--sbom=true` / `--attest type=sbom,generator=IMAGE` can
// be exercised on machines that cannot pull docker/buildkit-syft-scanner: it
// is built from pinned sources (go.mod/go.sum beside this file) with syft as
// a library.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/anchore/syft/syft"
	"github.com/anchore/syft/syft/cataloging"
	"github.com/anchore/syft/syft/cataloging/filecataloging"
	"github.com/anchore/syft/syft/cataloging/pkgcataloging"
	"github.com/anchore/syft/syft/format"
	"github.com/anchore/syft/syft/format/spdxjson"
	"github.com/anchore/syft/syft/source"
	"github.com/anchore/syft/syft/source/directorysource"

	// syft's RPM cataloger reads the sqlite rpmdb of newer Fedora/RHEL
	// images through database/sql; this registers a pure-Go (CGO-free)
	// driver for it, as syft's own CLI does.
	_ "modernc.org/sqlite"
)

const (
	// coreName is BuildKit's CoreSBOMName: the output file for the main
	// source must be named "sbom.<anything>" to be recognised as the core.
	coreName = "sbom"

	inTotoStatementV01 = "https://in-toto.io/Statement/v0.1"
	predicateSPDX      = "https://spdx.dev/Document"
)

// statement is the in-toto v0.1 statement BuildKit decodes from each file.
// Subject is left empty: BuildKit fills in the image as subject itself.
type statement struct {
	Type          string          `json:"_type"`
	PredicateType string          `json:"predicateType"`
	Subject       []any           `json:"subject"`
	Predicate     json.RawMessage `json:"predicate"`
}

// target is one directory to scan and the name of its result file.
type target struct {
	name string // "sbom" or "sbom-NAME"
	path string
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("scanner: ")
	if err := run(context.Background()); err != nil {
		log.Fatalf("error: %v", err)
	}
}

func run(ctx context.Context) error {
	dest, err := dirFromEnv("BUILDKIT_SCAN_DESTINATION", true)
	if err != nil {
		return err
	}
	core, err := dirFromEnv("BUILDKIT_SCAN_SOURCE", true)
	if err != nil {
		return err
	}
	targets := []target{{name: coreName, path: core}}

	extras, err := dirFromEnv("BUILDKIT_SCAN_SOURCE_EXTRAS", false)
	if err != nil {
		return err
	}
	if extras != "" {
		entries, err := os.ReadDir(extras)
		if err != nil {
			return fmt.Errorf("reading BUILDKIT_SCAN_SOURCE_EXTRAS: %w", err)
		}
		for _, e := range entries {
			if !e.IsDir() {
				log.Printf("skipping %s in extras: not a directory", e.Name())
				continue
			}
			// BuildKit names these sbom-NAME already, which keeps them
			// distinct from the core "sbom" file.
			targets = append(targets, target{name: e.Name(), path: filepath.Join(extras, e.Name())})
		}
	}

	// syft stages some archive contents in the temp dir; the image ships an
	// empty /tmp and BuildKit mounts a tmpfs there, but make sure it exists
	// when run elsewhere.
	if err := os.MkdirAll(os.TempDir(), 0o1777); err != nil {
		return fmt.Errorf("creating temp dir: %w", err)
	}

	for _, t := range targets {
		if err := scan(ctx, t, dest); err != nil {
			return fmt.Errorf("scanning %s (%s): %w", t.name, t.path, err)
		}
	}
	return nil
}

// scan catalogs one root filesystem and writes DEST/NAME.spdx.json.
func scan(ctx context.Context, t target, dest string) error {
	log.Printf("scanning %s as %s", t.path, t.name)

	// A directory source rather than syft.GetSource: the input is always a
	// directory, and this keeps syft from trying image/registry providers.
	// Base = Path makes absolute symlinks inside the rootfs (e.g. /lib ->
	// /usr/lib) resolve inside it rather than on the host.
	src, err := directorysource.New(directorysource.Config{
		Path:  t.path,
		Base:  t.path,
		Alias: source.Alias{Name: t.name},
	})
	if err != nil {
		return err
	}
	defer func() { _ = src.Close() }()

	// The source is a container root filesystem, not a source checkout, so
	// pick the catalogers syft uses for images (installed packages: dpkg
	// status, apk, rpmdb, Go/Rust binaries, site-packages, ...) instead of
	// the directory defaults (lock files). File catalogers add digests for
	// package-owned files, as docker/buildkit-syft-scanner does.
	sel := cataloging.NewSelectionRequest().WithDefaults(pkgcataloging.ImageTag, filecataloging.FileTag)
	// Same knob as the default generator: `--attest
	// type=sbom,SELECT_CATALOGERS=a,b` arrives as BUILDKIT_SCAN_SELECT_CATALOGERS.
	if v, ok := os.LookupEnv("BUILDKIT_SCAN_SELECT_CATALOGERS"); ok && v != "" {
		sel = cataloging.NewSelectionRequest().WithExpression(strings.Split(v, ",")...)
	}

	s, err := syft.CreateSBOM(ctx, src, syft.DefaultCreateSBOMConfig().WithCatalogerSelection(sel))
	if err != nil {
		return err
	}

	enc, err := spdxjson.NewFormatEncoderWithConfig(spdxjson.DefaultEncoderConfig()) // SPDX 2.3
	if err != nil {
		return err
	}
	doc, err := format.Encode(*s, enc)
	if err != nil {
		return fmt.Errorf("encoding SPDX: %w", err)
	}

	out, err := json.Marshal(statement{
		Type:          inTotoStatementV01,
		PredicateType: predicateSPDX,
		Subject:       []any{},
		Predicate:     json.RawMessage(doc),
	})
	if err != nil {
		return err
	}
	p := filepath.Join(dest, t.name+".spdx.json")
	if err := os.WriteFile(p, out, 0o644); err != nil {
		return err
	}
	log.Printf("wrote %s: %d packages", p, s.Artifacts.Packages.PackageCount())
	return nil
}

// dirFromEnv returns the directory named by env var name, or "" if it is
// unset/empty and not required.
func dirFromEnv(name string, required bool) (string, error) {
	p := os.Getenv(name)
	if p == "" {
		if required {
			return "", fmt.Errorf("%s is not set", name)
		}
		return "", nil
	}
	fi, err := os.Stat(p)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("%s=%q does not exist", name, p)
		}
		return "", fmt.Errorf("%s=%q: %w", name, p, err)
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("%s=%q is not a directory", name, p)
	}
	return p, nil
}
