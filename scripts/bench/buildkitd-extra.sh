#!/usr/bin/env bash
# Usage: buildkitd-extra.sh NAME
# Starts one more buildkitd with an EMPTY fresh root (same buildkitd.toml, so
# the same registry and mirrors) at unix://$TOMLFRONT_BENCH_STATE/NAME/buildkitd.sock,
# records its pid for down.sh, waits until it answers and prints its address.
# An extra buildkitd of the same NAME that is still running is stopped and
# replaced by a fresh one. TOMLFRONT_BUILDKITD, when set, is the buildkitd
# binary to run (an older release, for `make compat`).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NAME=${1:-}
[[ $NAME =~ ^[A-Za-z0-9][A-Za-z0-9_.-]*$ ]] || die "usage: $0 NAME (letters, digits, . _ -)"
case "$NAME" in buildkitd | registry | docker) die "NAME $NAME is reserved" ;; esac
[[ -f $STATE/env.sh && -f $STATE/buildkitd.toml ]] || die "no running bench in $STATE: run up.sh first"

if [[ -f $STATE/pids ]]; then
  while read -r pid name; do
    if [[ $name == "buildkitd-$NAME" ]] && pid_alive "$pid"; then
      log "replacing the running buildkitd-$NAME (pid $pid)"
      stop_pid "$pid"
    fi
  done <"$STATE/pids"
fi

dir="$STATE/$NAME"
grep -F " $dir/" /proc/self/mounts | awk '{print $2}' | sort -r | xargs -r umount -l 2>/dev/null || true
rm -rf "$dir"
mkdir -p "$dir"
addr="unix://$dir/buildkitd.sock"
pid=$(start_daemon "buildkitd-$NAME" "$dir/buildkitd.log" \
  "${TOMLFRONT_BUILDKITD:-$BUILDKIT_BIN/buildkitd}" --config "$STATE/buildkitd.toml" --root "$dir/root" --addr "$addr")
wait_for "buildkitd-$NAME" 60 "$pid" buildkitd_ready "$addr"
log "buildkitd-$NAME ready at $addr (pid $pid)"
echo "$addr"
