#!/usr/bin/env bash
# Shared helpers for the tomlfront local test bench. Sourced by the other
# scripts in this directory; not meant to be run on its own.
#
# Everything is derived from this file's own location, so a fresh clone works
# from any directory. Nothing is ever written inside the repository: tools and
# fixtures live in $TOMLFRONT_CACHE, a running bench lives in
# $TOMLFRONT_BENCH_STATE.

# shellcheck disable=SC2034  # variables are used by the scripts sourcing this

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$BENCH_DIR/../.." && pwd)"

TOMLFRONT_CACHE="${TOMLFRONT_CACHE:-$HOME/.cache/tomlfront}"
TOMLFRONT_BENCH_STATE="${TOMLFRONT_BENCH_STATE:-/tmp/tomlfront-bench}"
case "$TOMLFRONT_CACHE/" in
  "$REPO_ROOT"/*) echo "TOMLFRONT_CACHE must not be inside the repository" >&2; exit 1 ;;
esac
CACHE="$TOMLFRONT_CACHE"
STATE="$TOMLFRONT_BENCH_STATE"

# TOMLFRONT_BENCH_PARTS: "all" (the tests) or "demo" (what `make demo` uses:
# buildkitd, the registry, buildx and the busybox, debian and golang
# fixtures; no S3 or Azure service, Taplo, node image or SBOM scanner).
BENCH_PARTS="${TOMLFRONT_BENCH_PARTS:-all}"
case "$BENCH_PARTS" in
  all | demo) ;;
  *) echo "TOMLFRONT_BENCH_PARTS=$BENCH_PARTS: write all or demo" >&2; exit 1 ;;
esac
# bench_all: true when the bench has every part.
bench_all() { [[ $BENCH_PARTS == all ]]; }

# Pinned tool versions.
BUILDKIT_VERSION="v0.34.2"
BUILDX_VERSION="v0.38.2"
VERSITYGW_VERSION="v1.8.0"
AZURITE_VERSION="3.37.0"
# Taplo's CLI (npm @taplo/cli), which the editors' TOML extensions embed.
TAPLO_VERSION="0.7.0"
# staticcheck 2026.2.2 (its module version; the newest release, needs Go 1.26).
STATICCHECK_VERSION="v0.8.2"

# Docker Engine, as users run it (scripts/bench/engine.sh): Engine 29 from
# its module github.com/moby/moby/v2 (v2.0.0-beta.24 is Engine 29.8.0, its
# releases/versions.yaml says; BuildKit v0.33.0), Engine 28.5 from
# github.com/docker/docker (BuildKit v0.25.2), and the containerd Engine 29
# pins.
ENGINE29_MODULE_VERSION="v2.0.0-beta.24"
ENGINE29_VERSION="29.8.0"
ENGINE28_MODULE_VERSION="v28.5.2+incompatible"
ENGINE28_VERSION="28.5.2"
CONTAINERD_VERSION="v2.3.5"
# Older buildkitd releases `make compat` tests through the remote driver.
COMPAT_BUILDKIT_VERSIONS=(v0.12.5 v0.16.0 v0.20.2 v0.25.2)

# buildkit_bin VERSION: where buildkitd and buildctl of VERSION are cached.
buildkit_bin() { echo "$CACHE/tools/buildkit-$1/bin"; }
BUILDKIT_BIN=$(buildkit_bin "$BUILDKIT_VERSION")
ENGINE29_BIN="$CACHE/tools/dockerd-$ENGINE29_VERSION/bin"
ENGINE28_BIN="$CACHE/tools/dockerd-$ENGINE28_VERSION/bin"
CONTAINERD_BIN="$CACHE/tools/containerd-$CONTAINERD_VERSION/bin"
BUILDX_BIN="$CACHE/tools/buildx-$BUILDX_VERSION/bin"
VERSITYGW_BIN="$CACHE/tools/versitygw-$VERSITYGW_VERSION/bin"
# An npm prefix: node_modules/azurite plus node_modules/.bin/azurite-blob.
AZURITE_DIR="$CACHE/tools/azurite-$AZURITE_VERSION"
AZURITE_BLOB="$AZURITE_DIR/node_modules/.bin/azurite-blob"
# The bench's own commands, each a module of its own under scripts/bench that
# pins what it builds on (go.mod), cached by the digest of its sources:
# module_bin NAME is where NAME's binary is cached.
module_bin() {
  echo "$CACHE/tools/$1-$(cat "$BENCH_DIR/$1/go.mod" "$BENCH_DIR/$1/go.sum" "$BENCH_DIR/$1"/*.go | sha256sum | cut -c1-12)/bin"
}
# The OCI registry: distribution's, with the filesystem storage driver only.
REGISTRY_BIN=$(module_bin registry)
# The GitHub Actions cache service (nektos/act's).
GHACACHE_BIN=$(module_bin ghacache)
TAPLO_DIR="$CACHE/tools/taplo-$TAPLO_VERSION"
TAPLO="$TAPLO_DIR/node_modules/.bin/taplo"
STATICCHECK_BIN="$CACHE/tools/staticcheck-$STATICCHECK_VERSION/bin"

BUILDX_BUILDER_NAME="tomlfront-bench"

# The build cache's GC thresholds of every bench daemon (buildkitd and the
# Engines' builders), in place of their defaults, which keep 20% of the disk
# free by pruning every idle record, cache mounts included, when the disk is
# fuller than that: tests would then depend on the machine's disk.
BENCH_GC_RESERVED="2GB"
BENCH_GC_MAX_USED="30GB"
BENCH_GC_MIN_FREE="2GB"
export BENCH_GC_RESERVED BENCH_GC_MAX_USED BENCH_GC_MIN_FREE

# Apt packages the bench needs at run time (checked by tools.sh).
#  runc            OCI runtime used by buildkitd's runc worker
#  debootstrap     builds the debian:bookworm fixture rootfs
#  busybox-static  builds the busybox fixture rootfs
#  git, openssh-client  git sources / ssh forwarding in builds
#  ca-certificates debootstrap + go inside fixtures reach registries over https
#  iproute2        `ss` for picking a free port
BENCH_APT_PACKAGES=(runc debootstrap busybox-static git openssh-client ca-certificates iproute2)

# Apt packages the static checks of `scripts/test.sh unit` need (checked by
# `tools.sh lint`): shellcheck, Debian's version.
LINT_APT_PACKAGES=(shellcheck)

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# go_arch prints the machine's architecture in GOARCH/OCI terms.
go_arch() {
  case "$(uname -m)" in
    x86_64) echo amd64 ;;
    aarch64) echo arm64 ;;
    *) uname -m ;;
  esac
}

# listen_addr PID prints the 127.0.0.1:PORT that process PID listens on,
# or nothing while it listens on none.
listen_addr() {
  ss -Hltnp 2>/dev/null | awk -v pid="pid=$1," 'index($0, pid) { print $4; exit }'
}

# wait_listen WHAT TIMEOUT PID waits until process PID listens on a TCP port
# and prints that address. The daemons bind port 0, so the kernel picks a
# port nothing else holds: no race with another process picking the same
# free port between a check and the bind.
wait_listen() {
  local what=$1 timeout=$2 pid=$3 addr
  local deadline=$(( SECONDS + timeout ))
  until addr=$(listen_addr "$pid") && [[ -n $addr ]]; do
    pid_alive "$pid" || die "$what: process $pid exited before listening (its log is in $STATE)"
    (( SECONDS < deadline )) || die "$what: not listening after ${timeout}s"
    sleep 0.1
  done
  echo "$addr"
}

# start_daemon NAME LOGFILE CMD...: start CMD detached (own session, no tty,
# output to LOGFILE), record its pid for down.sh and print it.
start_daemon() {
  local name=$1 logfile=$2
  shift 2
  setsid "$@" </dev/null >"$logfile" 2>&1 &
  local pid=$!
  record_pid "$name" "$pid"
  echo "$pid"
}

# pid_alive PID: true while PID runs (a zombie waiting for its reaper, as our
# daemons are once up.sh has exited, counts as gone).
pid_alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat%% *} != Z ]]
}

# stop_pid PID: TERM a process the bench started (only if its command line
# mentions the state dir, so a reused pid is never hit), KILL after 15s.
stop_pid() {
  local pid=$1 i
  [[ -r /proc/$pid/cmdline ]] || return 0
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "$STATE" || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for i in $(seq 1 150); do
    pid_alive "$pid" || return 0
    sleep 0.1
  done
  log "pid $pid did not stop after 15s: KILL"
  kill -KILL "$pid" 2>/dev/null || true
  sleep 0.2
}

# buildkitd_ready ADDR: true when a buildkitd answers on ADDR.
buildkitd_ready() {
  "$BUILDKIT_BIN/buildctl" --addr "$1" debug workers >/dev/null 2>&1
}

# stop_engines: stop the Docker Engines engine.sh started (each dockerd
# before its containerd), unmount and remove their data; logs stay.
stop_engines() {
  local pid name kind
  [[ -f $STATE/pids ]] || return 0
  while read -r pid name; do
    case "$name" in dockerd-* | containerd-*) ;; *) continue ;; esac
    if pid_alive "$pid"; then
      log "stopping $name (pid $pid)"
      stop_pid "$pid"
    fi
    kind=${name#*-}
    if [[ $name == containerd-* && -d $STATE/$kind ]]; then
      grep -F " $STATE/$kind/" /proc/self/mounts | awk '{print $2}' | sort -r | xargs -r umount -l 2>/dev/null || true
      rm -rf "$STATE/$kind/data" "$STATE/$kind/exec" "$STATE/$kind/containerd"
    fi
  done < <(tac "$STATE/pids")
}

# record_pid NAME PID: remember a process the bench started, for down.sh.
record_pid() {
  printf '%s %s\n' "$2" "$1" >>"$STATE/pids"
}

# wait_for DESCRIPTION TIMEOUT_SECONDS PID CMD...: poll CMD until it succeeds;
# fail early if PID died.
wait_for() {
  local what=$1 timeout=$2 pid=$3
  shift 3
  local deadline=$(( SECONDS + timeout ))
  until "$@" >/dev/null 2>&1; do
    if ! pid_alive "$pid"; then
      die "$what: process $pid exited before becoming ready"
    fi
    if (( SECONDS >= deadline )); then
      die "$what: not ready after ${timeout}s"
    fi
    sleep 0.2
  done
}

# apt_mirror prints the Debian mirror URI the machine's apt uses (first
# "URIs:" of a deb822 source for the main archive, or the first "deb" line of
# a one-line style source). Never hard-code a mirror host in this repo.
apt_mirror() {
  local f uri=""
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f $f ]] || continue
    uri=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' "$f")
    [[ -n $uri ]] && break
  done
  if [[ -z $uri ]]; then
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
      [[ -f $f ]] || continue
      uri=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { if ($i !~ /security/) print $i; break } }' "$f" | head -n1)
      [[ -n $uri ]] && break
    done
  fi
  [[ -n $uri ]] || die "cannot find the Debian mirror in the machine's apt configuration"
  echo "$uri"
}

bench_path() {
  echo "$BUILDKIT_BIN:$REGISTRY_BIN:$BUILDX_BIN"
}
