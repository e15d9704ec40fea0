#!/usr/bin/env bash
# Stops the local test bench: only the processes up.sh, buildkitd-extra.sh and
# the e2e tests started (by their recorded pids, never by name), unmounts what is left
# under the state dir, removes the buildx builder and the daemons' data.
# Logs stay in $TOMLFRONT_BENCH_STATE for post-mortems. Idempotent.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [[ ! -d $STATE ]]; then
  log "no bench state in $STATE: nothing to stop"
  exit 0
fi

stop_engines
# Newest first: extra buildkitds, buildkitd, the S3, Azure and GitHub Actions
# cache services, the registry.
if [[ -f $STATE/pids ]]; then
  while read -r pid name; do
    [[ -n $pid ]] || continue
    if pid_alive "$pid"; then
      log "stopping $name (pid $pid)"
      stop_pid "$pid"
    fi
  done < <(tac "$STATE/pids")
fi

# Builder config: buildx's remote driver keeps nothing but this config.
if [[ -d $STATE/docker ]]; then
  if [[ -x $STATE/docker/cli-plugins/docker-buildx ]]; then
    DOCKER_CONFIG="$STATE/docker" docker buildx rm "$BUILDX_BUILDER_NAME" >/dev/null 2>&1 || true
  fi
  rm -rf "$STATE/docker"
fi

# Anything still mounted below the state dir (overlay snapshots of a daemon
# that was killed) must go before the data is removed.
grep -F " $STATE/" /proc/self/mounts | awk '{print $2}' | sort -r | xargs -r umount -l 2>/dev/null || true

rm -rf "$STATE/buildkitd" "$STATE/registry" "$STATE/s3" "$STATE/azurite" "$STATE/gha" "$STATE/env.sh" "$STATE/pids" "$STATE"/*.sock
for d in "$STATE"/*/; do
  [[ -d ${d}root ]] && rm -rf "${d}root" "${d}buildkitd.sock"
done
log "bench down"
