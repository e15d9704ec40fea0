# tomlfront: the two commands of the README, and the pieces they are made of.

.PHONY: demo test unit fuzz e2e compat bench-up bench-down benchmark bench-ci

# Builds examples/go-app through the frontend image (# syntax=), on the local
# bench, which it starts when it is not running.
demo:
	bash scripts/demo.sh

# Every test: unit tests (no daemon), a short fuzz run, then the end-to-end
# tests on a bench of their own, started and stopped here.
test:
	bash scripts/test.sh

unit:
	bash scripts/test.sh unit

# The fuzz targets, five minutes each (make test runs them for seconds).
fuzz:
	TOMLFRONT_FUZZTIME=$${TOMLFRONT_FUZZTIME:-5m} bash scripts/test.sh fuzz

e2e:
	bash scripts/test.sh e2e

# The end-to-end core on older buildkitd releases (docs/compatibility.md);
# builds each release the first time (minutes each).
compat:
	bash scripts/test.sh compat

bench-up:
	bash scripts/bench/up.sh

bench-down:
	bash scripts/bench/down.sh

# Go benchmarks of loading and converting a large spec.
benchmark:
	go test -run '^$$' -bench . -benchmem ./llbgen

# CI runs with tomlfront against the Dockerfile (docs/performance.md), on a
# fresh bench: appends to CIBENCH_RESULTS (resumable; CIBENCH_FLAGS picks
# -projects, -contenders, -runs), then rewrites the sections of the report
# in docs/performance.md, and the charts, of the projects it holds.
CIBENCH_RESULTS ?= /tmp/tomlfront-cibench.jsonl
bench-ci:
	. "$$(bash scripts/bench/up.sh)" && go run ./bench/ci -results $(CIBENCH_RESULTS) $(CIBENCH_FLAGS)
	go run ./bench/ci -results $(CIBENCH_RESULTS) -report docs/performance
