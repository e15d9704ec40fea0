#!/usr/bin/env bash
# What a cache snapshot saves: builds examples/go-app after a one-line source
# change on a fresh builder (a buildkitd with an empty root), without and with
# a snapshot of its caches, RUNS times each on the same machine, and reports
# the medians and their ratio. Uses the bench (started when not running).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

runs=${RUNS:-5}
state=${TOMLFRONT_BENCH_STATE:-/tmp/tomlfront-bench}
export TOMLFRONT_BENCH_STATE=$state
# shellcheck source=/dev/null  # env.sh is written by up.sh at run time
if ! { [[ -f $state/env.sh ]] && (source "$state/env.sh" && buildctl debug workers >/dev/null 2>&1); }; then
  bash scripts/bench/up.sh >/dev/null
fi
# shellcheck source=/dev/null  # env.sh is written by up.sh at run time
source "$state/env.sh"

log() { printf '== %s\n' "$*" >&2; }
quiet() { "$@" >/dev/null 2>&1 || { "$@"; exit 1; }; }

log "building the frontend image"
quiet docker buildx build --provenance=false --build-context gomodcache="$(go env GOMODCACHE)/cache/download" \
  --tag "$TOMLFRONT_REGISTRY/tomlfront/tomlfront:1" --push .

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r examples/go-app "$work/app"
log "taking a snapshot of go-app's caches on the bench's builder"
quiet docker buildx build -f "$work/app/build.toml" --output "type=local,dest=$work/out" "$work/app"
quiet docker buildx build -f "$work/app/build.toml" --build-arg TOMLFRONT_CACHE_EXPORT=1 --output "type=local,dest=$work/snapshot" "$work/app"
log "snapshot: $(du -sh "$work/snapshot" | cut -f1)"

# seconds runs a build on a new, empty builder and prints how long it took.
seconds() {
  local name=$1
  shift
  local addr
  addr=$(bash scripts/bench/buildkitd-extra.sh "$name" | tail -n 1)
  docker buildx rm "$name" >/dev/null 2>&1 || true
  quiet docker buildx create --name "$name" --driver remote "$addr"
  local start end
  start=$(date +%s.%N)
  quiet docker buildx build --builder "$name" -f "$work/app/build.toml" "$@" --output "type=local,dest=$work/out" "$work/app"
  end=$(date +%s.%N)
  docker buildx rm "$name" >/dev/null 2>&1 || true
  echo "$end - $start" | bc
}

median() { sort -n | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }

: >"$work/without"
: >"$work/with"
for i in $(seq "$runs"); do
  echo "// change $i" >>"$work/app/main.go"
  seconds snapbench-without >>"$work/without"
  seconds snapbench-with --build-context "tomlfront-cache=$work/snapshot" >>"$work/with"
  log "run $i: without $(tail -n 1 "$work/without")s, with $(tail -n 1 "$work/with")s"
done
without=$(median <"$work/without")
with=$(median <"$work/with")
printf 'go-app after a one-line change on a fresh builder, median of %d runs:\n' "$runs"
printf '  without a snapshot: %.1f s\n  with a snapshot:    %.1f s\n  ratio (with/without): %.2f\n' \
  "$without" "$with" "$(echo "$with / $without" | bc -l)"
