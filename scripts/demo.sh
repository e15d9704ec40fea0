#!/usr/bin/env bash
# The main job: builds the frontend image from this tree, then builds
# examples/go-app through it with docker buildx, via the spec's `# syntax=`
# line. Uses the local bench, starting it when it is not running, with only
# the parts the demo uses (TOMLFRONT_BENCH_PARTS=demo); the bench stays up
# afterwards (stop it with `make bench-down`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

state=${TOMLFRONT_BENCH_STATE:-/tmp/tomlfront-bench}
# shellcheck source=/dev/null  # env.sh is written by up.sh at run time
if [[ -f $state/env.sh ]] && (source "$state/env.sh" && buildctl debug workers >/dev/null 2>&1); then
  echo "using the running bench ($state)"
else
  TOMLFRONT_BENCH_STATE=$state TOMLFRONT_BENCH_PARTS=demo bash scripts/bench/up.sh >/dev/null
fi
# shellcheck source=/dev/null  # env.sh is written by up.sh at run time
source "$state/env.sh"

echo "== building the frontend image -> $TOMLFRONT_REGISTRY/tomlfront/tomlfront:1 (served as ghcr.io/tomlfront/tomlfront:1)"
docker buildx build --provenance=false \
  --build-context gomodcache="$(go env GOMODCACHE)/cache/download" \
  --tag "$TOMLFRONT_REGISTRY/tomlfront/tomlfront:1" --push .

echo "== building examples/go-app through # syntax=ghcr.io/tomlfront/tomlfront:1"
rm -rf out/go-app
docker buildx build -f examples/go-app/build.toml --output type=local,dest=out/go-app examples/go-app

echo "== result: out/go-app (the image's files); running out/go-app/usr/local/bin/app:"
out/go-app/usr/local/bin/app
