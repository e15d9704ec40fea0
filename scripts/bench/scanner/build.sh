#!/usr/bin/env bash
# Build the offline SBOM scanner (see main.go) and a Dockerfile for its image.
#
#   bash build.sh OUTDIR
#
# Writes OUTDIR/scanner (static, CGO_ENABLED=0), OUTDIR/tmp (empty, 1777) and
# OUTDIR/Dockerfile; `docker build OUTDIR` then makes a FROM-scratch image
# usable as `--attest type=sbom,generator=IMAGE`. Only OUTDIR (absolute) is
# printed on stdout so callers can capture it; progress goes to stderr.
#
# The first build compiles syft and its dependencies (several minutes on two
# cores); later ones reuse the default GOCACHE. Modules come from the Go
# module proxy, pinned by go.mod/go.sum in this directory.
set -euo pipefail

log() { printf 'scanner/build.sh: %s\n' "$*" >&2; }

if [ "$#" -ne 1 ] || [ -z "$1" ]; then
	log "usage: bash build.sh OUTDIR"
	exit 2
fi

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)

log "building $out/scanner with $(go version)"
start=$SECONDS
# -mod=readonly: fail rather than re-resolve versions, so the binary is
# exactly what go.sum pins. -buildvcs=false: the checkout around this module
# says nothing about syft's sources. GOWORK=off keeps any go.work of the
# surrounding checkout out of it. Build output goes to stderr.
(
	cd "$here"
	CGO_ENABLED=0 GOWORK=off go build -mod=readonly -buildvcs=false -trimpath \
		-ldflags='-s -w' -o "$out/scanner" . >&2
)
log "built in $((SECONDS - start))s"

# FROM scratch has no /tmp and no shell to make one, so copy in an empty
# directory. BuildKit mounts a tmpfs over /tmp while scanning anyway.
mkdir -p "$out/tmp"
chmod 1777 "$out/tmp"

cat >"$out/Dockerfile" <<'EOF'
FROM scratch
COPY scanner /bin/scanner
COPY tmp /tmp
ENV TMPDIR=/tmp
ENTRYPOINT ["/bin/scanner"]
EOF
log "wrote $out/Dockerfile"

printf '%s\n' "$out"
