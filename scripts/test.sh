#!/usr/bin/env bash
# Runs the tests: `scripts/test.sh` runs all of them; `unit`, `fuzz` or `e2e`
# runs one part. The end-to-end part starts a bench of its own (in
# $TOMLFRONT_TEST_STATE, default /tmp/tomlfront-test) and stops it at exit,
# so a bench started by `make demo` is left alone.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

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
  local gofiles=() unformatted scripts=() staticcheck_bin
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
  mapfile -t scripts < <(shell_scripts)
  shellcheck --external-sources "${scripts[@]}"
  step "unit tests (no daemon)"
  go test -count=1 ./...
}

# fuzz runs each fuzz target for TOMLFRONT_FUZZTIME: the TOML layer against
# go-toml's decoder, then the loader and converter. `make test` runs them
# briefly; `make fuzz` runs them longer.
fuzz() {
  local t=${TOMLFRONT_FUZZTIME:-15s}
  step "fuzzing the TOML layer against go-toml's decoder ($t)"
  go test -run '^$' -fuzz '^FuzzTOML$' -fuzztime "$t" -fuzzminimizetime 5s ./spec
  step "fuzzing the loader and converter ($t)"
  go test -run '^$' -fuzz '^FuzzLoadConvert$' -fuzztime "$t" -fuzzminimizetime 5s ./llbgen
}

e2e() {
  export TOMLFRONT_BENCH_STATE=${TOMLFRONT_TEST_STATE:-/tmp/tomlfront-test}
  trap 'bash scripts/bench/down.sh >/dev/null 2>&1 || true' EXIT
  step "starting the bench"
  env_sh=$(bash scripts/bench/up.sh)
  # shellcheck disable=SC1090
  source "$env_sh"
  step "end-to-end tests on the bench"
  log=$TOMLFRONT_BENCH_STATE/e2e.log
  set +e
  go test -tags e2e -count=1 -timeout 45m -v ./e2e/... 2>&1 | tee "$log" |
    grep --line-buffered -E '^(=== RUN|--- |PASS|FAIL|ok|panic)|^\s+\S+_test\.go:[0-9]+:'
  rc=${PIPESTATUS[0]}
  set -e
  if ((rc != 0)); then
    echo "end-to-end tests failed (exit $rc); the last lines of $log:" >&2
    tail -80 "$log" >&2
  fi
  return "$rc"
}

case $part in
  all) unit; fuzz; e2e ;;
  unit | fuzz | e2e) "$part" ;;
  *) echo "usage: $0 [unit|fuzz|e2e]" >&2; exit 2 ;;
esac
