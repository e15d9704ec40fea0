#!/usr/bin/env bash
# Check the scanner binary against BuildKit's scanner protocol without any
# BuildKit daemon: fake a Debian rootfs (dpkg status database) as
# BUILDKIT_SCAN_SOURCE and a second rootfs holding a Go binary as the extra
# sbom-build, run the scanner, and check the in-toto statements it writes.
#
#   bash check.sh OUTDIR/scanner
#
# Prints the packages found per file; exits non-zero on any mismatch. Needs
# jq, and go for the test binary.
set -euo pipefail

log() { printf 'scanner/check.sh: %s\n' "$*" >&2; }
fail() {
	log "FAIL: $*"
	exit 1
}

[ "$#" -eq 1 ] || { log "usage: bash check.sh PATH/TO/scanner"; exit 2; }
scanner=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
[ -x "$scanner" ] || fail "$scanner is not executable"
command -v jq >/dev/null || fail "jq is needed"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Core: a Debian 12 rootfs with three apt-installed packages and one that
# was removed (dpkg keeps its stanza; it must not be reported).
core=$work/src/core/sbom
mkdir -p "$core/var/lib/dpkg" "$core/etc"
cat >"$core/etc/os-release" <<'EOF'
PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
EOF
cat >"$core/var/lib/dpkg/status" <<'EOF'
Package: curl
Status: install ok installed
Priority: optional
Section: web
Installed-Size: 500
Maintainer: Debian Curl Maintainers <team+curl@tracker.debian.org>
Architecture: amd64
Version: 7.88.1-10+deb12u5
Depends: libc6 (>= 2.34), zlib1g (>= 1:1.1.4)
Description: command line tool for transferring data with URL syntax

Package: libc6
Status: install ok installed
Priority: optional
Section: libs
Installed-Size: 12985
Maintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>
Architecture: amd64
Multi-Arch: same
Source: glibc
Version: 2.36-9+deb12u4
Description: GNU C Library: Shared libraries

Package: zlib1g
Status: install ok installed
Priority: optional
Section: libs
Installed-Size: 168
Maintainer: Mark Brown <broonie@debian.org>
Architecture: amd64
Multi-Arch: same
Source: zlib
Version: 1:1.2.13.dfsg-1
Depends: libc6 (>= 2.14)
Description: compression library - runtime

Package: removed-pkg
Status: deinstall ok config-files
Priority: optional
Section: misc
Architecture: amd64
Version: 1.0-1
Description: removed, only its conffiles remain
EOF

# Extra "build": another Debian rootfs plus a static Go binary, whose
# embedded module info the Go binary cataloger should report.
build=$work/src/extras/sbom-build
mkdir -p "$build/var/lib/dpkg" "$build/usr/local/bin" "$build/etc" "$work/hello"
cp "$core/etc/os-release" "$build/etc/"
cat >"$build/var/lib/dpkg/status" <<'EOF'
Package: make
Status: install ok installed
Priority: optional
Section: devel
Installed-Size: 1575
Maintainer: Manoj Srivastava <srivasta@debian.org>
Architecture: amd64
Source: make-dfsg
Version: 4.3-4.1
Description: utility for directing compilation
EOF
printf 'module example.test/hello\n\ngo 1.21\n' >"$work/hello/go.mod"
printf 'package main\n\nfunc main() { println("hello") }\n' >"$work/hello/main.go"
(cd "$work/hello" && CGO_ENABLED=0 GOWORK=off GOFLAGS=-buildvcs=false go build -o "$build/usr/local/bin/hello" .)

dest=$work/out
mkdir -p "$dest"

log "running $scanner"
BUILDKIT_SCAN_SOURCE=$core \
	BUILDKIT_SCAN_SOURCE_EXTRAS=$work/src/extras \
	BUILDKIT_SCAN_DESTINATION=$dest \
	"$scanner" || fail "scanner exited $?"

echo "== files in BUILDKIT_SCAN_DESTINATION"
ls -l "$dest"

# check FILE WANT...: FILE is an SPDX 2.3 in-toto statement listing every
# WANT, given as "name@version", or "name@" for any version.
check() {
	local name=$1 f=$dest/$1
	shift
	[ -f "$f" ] || fail "$f missing"
	jq -e '._type == "https://in-toto.io/Statement/v0.1"
		and .predicateType == "https://spdx.dev/Document"
		and (.subject | type) == "array"
		and .predicate.spdxVersion == "SPDX-2.3"' "$f" >/dev/null ||
		fail "$name is not an SPDX 2.3 in-toto statement"
	echo "== $name: document $(jq -r '.predicate.name' "$f"), packages:"
	jq -r '.predicate.packages[]
		| "  \(.name)@\(.versionInfo // "")  \([.externalRefs[]? | select(.referenceType == "purl") | .referenceLocator] | join(" "))"' "$f"
	local got want line found
	got=$(jq -r '.predicate.packages[] | "\(.name)@\(.versionInfo // "")"' "$f")
	for want in "$@"; do
		found=
		while IFS= read -r line; do
			if [ "$line" = "$want" ] || { [ "${want%@}" != "$want" ] && [ "${line#"$want"}" != "$line" ]; }; then
				found=1
			fi
		done <<<"$got"
		[ -n "$found" ] || fail "$name: $want not found"
	done
	if grep -q '^removed-pkg@' <<<"$got"; then fail "$name: reports a deinstalled package"; fi
}

check sbom.spdx.json curl@7.88.1-10+deb12u5 libc6@2.36-9+deb12u4 zlib1g@1:1.2.13.dfsg-1
check sbom-build.spdx.json make@4.3-4.1 example.test/hello@ stdlib@
[ "$(find "$dest" -type f | wc -l)" -eq 2 ] || fail "expected exactly 2 files in $dest"

echo "3 passed, 0 failed"
