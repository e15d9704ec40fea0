#!/usr/bin/env bash
# Installs pinned tools, idempotently. `tools.sh` (or `tools.sh bench`): the
# bench's tools:
#  - Debian packages (runc, debootstrap, busybox-static, ...) when missing;
#  - buildkitd + buildctl and docker-buildx, built from source through the Go
#    module proxy and cached by version under
#    $TOMLFRONT_CACHE/tools/<name>-<version>/bin; then the registry
#    (scripts/bench/registry) and the GitHub Actions cache service
#    (scripts/bench/ghacache), both cached by the digest of their sources;
#  - Azurite and Taplo from npm, under $TOMLFRONT_CACHE/tools/<name>-<version>.
# `tools.sh lint`: the static checkers of `scripts/test.sh unit`: Debian's
# package of ShellCheck when missing, and staticcheck, built through the Go
# module proxy into $TOMLFRONT_CACHE/tools/staticcheck-<version>/bin, whose
# path it prints (the only thing any mode writes to stdout). `tools.sh apt`:
# only the bench's Debian packages.
# A second run with everything cached takes well under a second.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command -v go >/dev/null || die "go is required"

# install_apt_packages PKG...: apt-get install those of PKG that are missing
# (after one apt-get update).
install_apt_packages() {
  local missing=() p
  for p in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
      missing+=("$p")
    fi
  done
  if ((${#missing[@]} == 0)); then
    log "apt packages present: $*"
    return 0
  fi
  local sudo=()
  [[ $(id -u) == 0 ]] || sudo=(sudo)
  log "installing apt packages: ${missing[*]}"
  "${sudo[@]}" apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# build_from_module MODULE VERSION DESTDIR LDFLAGS PKG...: go-build main
# packages of a module whose go.mod has exclude/replace directives (which
# `go install pkg@version` refuses) into DESTDIR. The module is copied out of
# the read-only module cache into a temp dir and built there in module mode:
# its vendor/ (only modules.txt survives in a module zip) is dropped, and a
# tree that keeps its requirements in vendor.mod/vendor.sum (Docker Engine
# before v29) gets them as go.mod/go.sum. BUILD_TAGS, when set, are the
# build tags.
build_from_module() {
  local module=$1 version=$2 dest=$3 ldflags=$4
  shift 4
  local dir work tmpdest
  dir=$(module_dir "$module" "$version")
  [[ -n $dir && -d $dir ]] || die "go mod download $module@$version failed"
  work=$(mktemp -d "${TMPDIR:-/tmp}/tomlfront-build.XXXXXX")
  # shellcheck disable=SC2064  # expand $work now
  trap "rm -rf '$work'" RETURN
  cp -r "$dir" "$work/src"
  chmod -R u+w "$work/src"
  rm -rf "$work/src/vendor"
  if [[ ! -f $work/src/go.mod && -f $work/src/vendor.mod ]]; then
    mv "$work/src/vendor.mod" "$work/src/go.mod"
    mv "$work/src/vendor.sum" "$work/src/go.sum"
  fi
  tmpdest="$dest.tmp.$$"
  rm -rf "$tmpdest"
  mkdir -p "$tmpdest"
  log "go build $module@$version $* (this takes minutes on 2 cores)"
  (cd "$work/src" && CGO_ENABLED=0 GOFLAGS="-buildvcs=false -mod=mod" GOWORK=off GOTOOLCHAIN=local \
    go build -trimpath -tags "${BUILD_TAGS:-}" -ldflags "$ldflags" -o "$tmpdest/" "$@") >&2
  mkdir -p "$(dirname "$dest")"
  rm -rf "$dest"
  mv "$tmpdest" "$dest"
}

# go_install DEST PACKAGE@VERSION LDFLAGS: `go install`s a static binary of a
# pinned module into DEST, which is replaced only once the build succeeded.
go_install() {
  local dest=$1 pkg=$2 ldflags=$3 tmpdest="$1.tmp.$$"
  rm -rf "$tmpdest"
  mkdir -p "$tmpdest"
  CGO_ENABLED=0 GOBIN="$tmpdest" GOWORK=off GOFLAGS=-buildvcs=false \
    go install -trimpath -ldflags "$ldflags" "$pkg" >&2
  rm -rf "$dest"
  mv "$tmpdest" "$dest"
}

# download_modules DIR PKG...: downloads the modules that building the
# packages PKG of the module in DIR needs (and only those), in the background
# of another build. Its failure is not one: the build downloads what is
# missing.
download_modules() {
  local dir=$1
  shift
  (cd "$dir" && GOFLAGS=-mod=mod GOWORK=off GOTOOLCHAIN=local go list -deps "$@" >/dev/null 2>&1) || true
}

# module_dir MODULE VERSION: where the module cache holds MODULE@VERSION
# (downloaded first when it does not).
module_dir() {
  go mod download -json "$1@$2" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p'
}

# install_buildkit [VERSION]: buildkitd and buildctl of VERSION (default
# the bench's) into buildkit_bin VERSION.
install_buildkit() {
  local version=${1:-$BUILDKIT_VERSION} bin
  bin=$(buildkit_bin "$version")
  if [[ -x $bin/buildkitd && -x $bin/buildctl ]]; then
    log "buildkit $version cached: $bin"
    return 0
  fi
  build_from_module github.com/moby/buildkit "$version" "$bin" \
    "-s -w -X github.com/moby/buildkit/version.Version=$version -X github.com/moby/buildkit/version.Package=github.com/moby/buildkit" \
    ./cmd/buildkitd ./cmd/buildctl
}

# install_containerd: containerd and its runc shim, the version Engine 29
# pins (both engines talk to it over its API). The tags leave out what needs
# cgo.
install_containerd() {
  if [[ -x $CONTAINERD_BIN/containerd && -x $CONTAINERD_BIN/containerd-shim-runc-v2 ]]; then
    log "containerd $CONTAINERD_VERSION cached: $CONTAINERD_BIN"
    return 0
  fi
  BUILD_TAGS="no_btrfs no_devmapper no_zfs" build_from_module github.com/containerd/containerd/v2 "$CONTAINERD_VERSION" "$CONTAINERD_BIN" \
    "-s -w -X github.com/containerd/containerd/v2/version.Version=$CONTAINERD_VERSION" \
    ./cmd/containerd ./cmd/containerd-shim-runc-v2
}

# install_dockerd MODULE MODULE_VERSION ENGINE_VERSION BIN: cmd/dockerd of a
# Docker Engine module, with the tags and version variable of moby's own
# static build (hack/make.sh).
install_dockerd() {
  local module=$1 version=$2 engine=$3 bin=$4
  if [[ -x $bin/dockerd ]]; then
    log "dockerd $engine cached: $bin"
    return 0
  fi
  BUILD_TAGS="netgo osusergo static_build nri_no_wasm exclude_graphdriver_btrfs" build_from_module "$module" "$version" "$bin" \
    "-s -w -X $module/dockerversion.Version=$engine -X $module/dockerversion.GitCommit=$version" \
    ./cmd/dockerd
}

install_buildx() {
  if [[ -x $BUILDX_BIN/docker-buildx ]]; then
    log "buildx $BUILDX_VERSION cached: $BUILDX_BIN"
    return 0
  fi
  local tmpbin="$BUILDX_BIN.build.$$"
  build_from_module github.com/docker/buildx "$BUILDX_VERSION" "$tmpbin" \
    "-s -w -X github.com/docker/buildx/version.Version=$BUILDX_VERSION -X github.com/docker/buildx/version.Package=github.com/docker/buildx" \
    ./cmd/buildx
  mv "$tmpbin/buildx" "$tmpbin/docker-buildx"
  rm -rf "$BUILDX_BIN"
  mv "$tmpbin" "$BUILDX_BIN"
}

install_versitygw() {
  if [[ -x $VERSITYGW_BIN/versitygw ]]; then
    log "versitygw $VERSITYGW_VERSION cached: $VERSITYGW_BIN"
    return 0
  fi
  log "go install versitygw $VERSITYGW_VERSION (a few minutes on 2 cores)"
  go_install "$VERSITYGW_BIN" "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION" "-s -w -X main.Version=$VERSITYGW_VERSION"
}

# install_module NAME: builds scripts/bench/NAME, a module of the bench's own,
# into module_bin NAME.
install_module() {
  local name=$1 bin tmpdest
  bin=$(module_bin "$name")
  if [[ -x $bin/$name ]]; then
    log "$name cached: $bin"
    return 0
  fi
  log "go build $name (scripts/bench/$name)"
  tmpdest="$bin.tmp.$$"
  rm -rf "$tmpdest"
  mkdir -p "$tmpdest"
  (cd "$BENCH_DIR/$name" && CGO_ENABLED=0 GOWORK=off GOFLAGS=-buildvcs=false GOTOOLCHAIN=local \
    go build -trimpath -ldflags "-s -w" -o "$tmpdest/$name" .) >&2
  rm -rf "$bin"
  mv "$tmpdest" "$bin"
}

# install_npm PACKAGE VERSION DIR BIN: PACKAGE@VERSION from the npm registry
# npm is configured with, into the prefix DIR, for the machine's Node.js;
# BIN is the command it must provide under DIR/node_modules/.bin.
install_npm() {
  local pkg=$1 version=$2 dir=$3 bin=$4
  if [[ -x $dir/node_modules/.bin/$bin && -f $dir/ok ]]; then
    log "$pkg $version cached: $dir"
    return 0
  fi
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    die "node and npm are required for $pkg"
  fi
  log "npm install $pkg@$version"
  local tmpdest="$dir.tmp.$$"
  rm -rf "$tmpdest"
  mkdir -p "$tmpdest"
  # A package.json of its own, so npm never walks up into another project.
  printf '{"name":"tomlfront-bench-tool","private":true}\n' >"$tmpdest/package.json"
  npm install --prefix "$tmpdest" --no-audit --no-fund --no-update-notifier --loglevel=error \
    "$pkg@$version" >&2
  [[ -x $tmpdest/node_modules/.bin/$bin ]] || die "npm install $pkg@$version: no $bin"
  touch "$tmpdest/ok"
  rm -rf "$dir"
  mv "$tmpdest" "$dir"
}

# staticcheck, rebuilt when the machine's Go is not the one it was built with
# (staticcheck refuses modules that need a newer Go than its own).
install_staticcheck() {
  local bin=$STATICCHECK_BIN/staticcheck goversion built
  goversion=$(go env GOVERSION)
  if [[ -x $bin ]]; then
    built=$(go version "$bin" 2>/dev/null) || built=""
    if [[ ${built##* } == "$goversion" ]]; then
      log "staticcheck $STATICCHECK_VERSION cached: $STATICCHECK_BIN"
      return 0
    fi
    log "staticcheck $STATICCHECK_VERSION was built with ${built##* }, not $goversion: rebuilding"
  fi
  log "go install staticcheck $STATICCHECK_VERSION"
  GOTOOLCHAIN=local go_install "$STATICCHECK_BIN" "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION" ""
}

main() {
  case ${1:-bench} in
    bench)
      install_apt_packages "${BENCH_APT_PACKAGES[@]}"
      # On a fresh machine, buildx's and the registry's modules download
      # while buildkit compiles; the three then compile one after another,
      # not at once: buildx reuses what buildkit compiled of the modules
      # they share (at the same versions), which two builds at once would
      # each compile (on a fresh 2-core machine 8.3 minutes at once, 7.4 one
      # after another).
      [[ -x $BUILDX_BIN/docker-buildx ]] || download_modules "$(module_dir github.com/docker/buildx "$BUILDX_VERSION")" ./cmd/buildx &
      [[ -x $REGISTRY_BIN/registry ]] || download_modules "$BENCH_DIR/registry" . &
      install_buildkit
      install_buildx
      install_module registry
      wait
      if bench_all; then
        install_versitygw
        install_module ghacache
        # Azurite, the Azure Storage emulator; Taplo, the TOML toolkit
        # editors use, to check the spec's JSON Schema.
        install_npm azurite "$AZURITE_VERSION" "$AZURITE_DIR" azurite-blob
        install_npm @taplo/cli "$TAPLO_VERSION" "$TAPLO_DIR" taplo
      fi
      log "tools ready: $(bench_path)"
      ;;
    apt)
      install_apt_packages "${BENCH_APT_PACKAGES[@]}"
      ;;
    engine)
      install_apt_packages "${BENCH_APT_PACKAGES[@]}"
      install_containerd
      install_dockerd github.com/moby/moby/v2 "$ENGINE29_MODULE_VERSION" "$ENGINE29_VERSION" "$ENGINE29_BIN"
      install_dockerd github.com/docker/docker "$ENGINE28_MODULE_VERSION" "$ENGINE28_VERSION" "$ENGINE28_BIN"
      ;;
    compat)
      local v
      for v in "${COMPAT_BUILDKIT_VERSIONS[@]}"; do install_buildkit "$v"; done
      ;;
    lint)
      install_apt_packages "${LINT_APT_PACKAGES[@]}"
      install_staticcheck
      echo "$STATICCHECK_BIN"
      ;;
    *) die "usage: $0 [bench|apt|engine|compat|lint]" ;;
  esac
}

main "$@"
