#!/usr/bin/env bash
# Runs the tests: `scripts/test.sh` runs all of them; `unit`, `fuzz` or `e2e`
# runs one part; `compat` runs the end-to-end core on older buildkitd
# releases (`make compat`, not part of all). The end-to-end parts start a
# bench of their own (in $TOMLFRONT_TEST_STATE, default /tmp/tomlfront-test)
# and stop it at exit, so a bench started by `make demo` is left alone.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/bench/lib.sh
source scripts/bench/lib.sh

part=${1:-all}
step() { printf '\n== %s\n' "$*"; }

# shell_scripts prints the repository's shell scripts: everything under
# scripts/ named *.sh or starting with a sh/bash #! line, and .ci/run.
shell_scripts() {
  local f
  while IFS= read -r -d '' f; do
    if [[ $f == *.sh ]] || head -n1 "$f" | grep -qE '^#!.*[/ ](ba)?sh( |$)'; then
      printf '%s\n' "$f"
    fi
  done < <(find scripts -type f -print0 | sort -z)
  echo .ci/run
}

unit() {
  step "gofmt, go vet"
  local gofiles=() unformatted scripts=() staticcheck_bin module
  mapfile -t gofiles < <(git ls-files '*.go' 2>/dev/null || find . -name '*.go')
  unformatted=$(gofmt -l "${gofiles[@]}")
  if [[ -n $unformatted ]]; then
    echo "gofmt would change: $unformatted" >&2
    exit 1
  fi
  go vet ./...
  go vet -tags e2e ./e2e/...
  step "static checks: staticcheck, shellcheck"
  staticcheck_bin=$(bash scripts/bench/tools.sh lint)
  "$staticcheck_bin/staticcheck" ./...
  "$staticcheck_bin/staticcheck" -tags e2e ./e2e/...
  # The bench's registry and GitHub Actions cache service, modules of their own.
  for module in registry ghacache; do
    (cd "scripts/bench/$module" && go vet ./... && "$staticcheck_bin/staticcheck" ./...)
  done
  mapfile -t scripts < <(shell_scripts)
  shellcheck --external-sources "${scripts[@]}"
  step "unit tests (no daemon)"
  go test -count=1 ./...
}

# fuzz runs each fuzz target for TOMLFRONT_FUZZTIME: the TOML layer against
# go-toml's decoder, includes and their merge (resolved back into one
# file), the loader and converter, then tomlfront convert. `make test` runs them
# briefly; `make fuzz` runs them longer.
fuzz() {
  local t=${TOMLFRONT_FUZZTIME:-15s}
  step "fuzzing the TOML layer against go-toml's decoder ($t)"
  fuzz_target FuzzTOML ./spec "$t"
  step "fuzzing includes, their merge and tomlfront resolve ($t)"
  fuzz_target FuzzInclude ./spec "$t"
  step "fuzzing the loader and converter ($t)"
  fuzz_target FuzzLoadConvert ./llbgen "$t"
  step "fuzzing tomlfront convert on Dockerfiles ($t)"
  fuzz_target FuzzConvert ./convert "$t"
}

# fuzz_target NAME PACKAGE TIME fuzzes one target. Go 1.26's fuzzing
# coordinator may end a run that found nothing with "context deadline
# exceeded" as the time is up (golang/go#75804, fixed in Go 1.27): such a
# run, which found no failing input (go test says where it writes one),
# passes.
fuzz_target() {
  local name=$1 pkg=$2 t=$3 log rc
  log=$(mktemp)
  set +e
  go test -run '^$' -fuzz "^$name\$" -fuzztime "$t" -fuzzminimizetime 5s "$pkg" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  set -e
  if ((rc != 0)) && grep -qx '    context deadline exceeded' "$log" &&
    ! grep -q 'Failing input written to' "$log"; then
    echo "(the fuzzing coordinator's end-of-time race, golang/go#75804: no failing input was found)"
    rc=0
  fi
  rm -f "$log"
  return "$rc"
}

# The builder kinds `e2e` runs on (scripts/bench/kinds): all the tests on
# the bench's buildkitd (remote driver), the core (e2e/core_test.go) on each
# Docker Engine, which engine.sh starts (docker driver). TOMLFRONT_E2E_KINDS
# picks some of them.
E2E_KINDS=${TOMLFRONT_E2E_KINDS:-$(awk '!/^#/ { print $1 }' scripts/bench/kinds)}

# go_test_e2e NAME GO-TEST-ARGS...: the end-to-end tests on the builder the
# environment points at, the full log in $TOMLFRONT_BENCH_STATE/e2e-NAME.log
# and its outline on stdout: the tests' verdicts and what they log, with
# the first 40 lines of each message that has several (a build's output, a
# daemon's log).
go_test_e2e() {
  local name=$1 log rc
  shift
  log=$TOMLFRONT_BENCH_STATE/e2e-$name.log
  set +e
  go test -tags e2e -count=1 -timeout 45m -v "$@" ./e2e/... 2>&1 | tee "$log" |
    awk '/^[[:space:]]+[^[:space:]]+_test\.go:[0-9]+:/ { print; fflush(); more = 40; next }
      /^(=== RUN|--- |PASS|FAIL|ok|panic)/ { print; fflush(); more = 0; next }
      more > 0 && /^        / { print; fflush(); more--; next }
      { more = 0 }'
  rc=${PIPESTATUS[0]}
  set -e
  if ((rc != 0)); then
    echo "end-to-end tests on $name failed (exit $rc); the last lines of $log:" >&2
    tail -80 "$log" >&2
    local daemon_log
    for daemon_log in "$TOMLFRONT_BENCH_STATE"/*.log "$TOMLFRONT_BENCH_STATE"/*/*.log; do
      [[ -f $daemon_log && $daemon_log != "$TOMLFRONT_BENCH_STATE"/e2e-* ]] || continue
      echo "== the last lines of the daemon log $daemon_log:" >&2
      tail -20 "$daemon_log" >&2
    done
  fi
  return "$rc"
}

# start_bench starts a bench of the tests' own and sources its env.sh.
start_bench() {
  export TOMLFRONT_BENCH_STATE=${TOMLFRONT_TEST_STATE:-/tmp/tomlfront-test}
  trap 'bash scripts/bench/down.sh >/dev/null 2>&1 || true' EXIT
  step "starting the bench"
  local env_sh
  env_sh=$(bash scripts/bench/up.sh)
  # shellcheck disable=SC1090
  source "$env_sh"
}

e2e() {
  start_bench
  local kind failed=()
  for kind in $E2E_KINDS; do
    if [[ $kind == buildkitd ]]; then
      step "end-to-end tests on buildkitd $BUILDKIT_VERSION (remote driver)"
      go_test_e2e buildkitd || failed+=("$kind")
      continue
    fi
    step "the end-to-end core on Docker Engine: $kind (docker driver)"
    local engine_env
    engine_env=$(bash scripts/bench/engine.sh "$kind") || { failed+=("$kind"); continue; }
    # shellcheck disable=SC1090
    (source "$engine_env" && go_test_e2e "$kind") || failed+=("$kind")
  done
  bash scripts/bench/engine.sh stop
  if ((${#failed[@]} > 0)); then
    echo "end-to-end tests failed on: ${failed[*]}" >&2
    return 1
  fi
}

# compat runs the end-to-end core on each older buildkitd release, through
# buildx's remote driver; fresh builders in the tests are of the same
# release.
compat() {
  start_bench
  bash scripts/bench/tools.sh compat
  local version bin addr failed=()
  for version in "${COMPAT_BUILDKIT_VERSIONS[@]}"; do
    step "the end-to-end core on buildkitd $version (remote driver)"
    bin=$(buildkit_bin "$version")
    addr=$(TOMLFRONT_BUILDKITD="$bin/buildkitd" bash scripts/bench/buildkitd-extra.sh "compat-$version") || { failed+=("$version"); continue; }
    docker buildx create --name "compat-$version" --driver remote "$addr" >/dev/null
    (export BUILDKIT_HOST=$addr BUILDX_BUILDER=compat-$version TOMLFRONT_BUILDKITD=$bin/buildkitd TOMLFRONT_E2E_CORE=1 &&
      go_test_e2e "buildkitd-$version") || failed+=("$version")
    docker buildx rm "compat-$version" >/dev/null 2>&1 || true
  done
  if ((${#failed[@]} > 0)); then
    echo "end-to-end core failed on buildkitd: ${failed[*]}" >&2
    return 1
  fi
}

case $part in
  all) unit; fuzz; e2e ;;
  unit | fuzz | e2e | compat) "$part" ;;
  *) echo "usage: $0 [unit|fuzz|e2e|compat]" >&2; exit 2 ;;
esac
