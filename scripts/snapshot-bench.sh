#!/usr/bin/env bash
# What a cache snapshot saves, on real projects. For each project of PROJECTS
# (default: go-service node-app debian-image go-app; the first three are the
# fixtures in e2e/testdata/projects, whose caches have persist = true), on the
# bench's daemon binary and machine:
#
#   once, on the bench's builder: a first build, the snapshot export
#   (TOMLFRONT_CACHE_EXPORT=1, -o type=local) and the buildkit-cache-dance
#   extraction (RUN --mount=type=cache copying the caches out, FROM scratch,
#   -o type=local) of the same caches;
#
#   then RUNS times (default 5), after a one-line source change:
#   - a fresh builder (buildkitd with an empty root) without a snapshot,
#   - a fresh builder with the snapshot (--build-context tomlfront-cache=DIR),
#   - a fresh builder with the cache dance: an extra build that copies the
#     extracted directories into the cache mounts (same id, sharing, mode),
#     then the build,
#   - the bench's warm builder.
#
# Each fresh builder first runs a build that only pulls the frontend and the
# project's base image (the same for every fresh case): that pull is timed
# and reported apart. Every time includes a `sync` after the build. Reports
# min / median / max per case, the ratios without/with, with/warm, dance vs
# snapshot, and the sizes, as markdown tables on stdout; logs of every build
# go to SNAPBENCH_LOGS (default $TOMLFRONT_BENCH_STATE/snapshot-bench), with
# the slowest steps and the downloads of each case's last run in steps.txt.
#
# CASES picks the cases (default: without with dance warm); two more, not
# run by default: `layers` and `layers-with`, a fresh builder that imports
# the layer cache of the first build (--cache-from type=local, as CI does
# with type=gha), without and with the snapshot.
#
# Knobs: RUNS (5), PROJECTS, CASES, BUILD_TIMEOUT (seconds per build, 900), STALL
# (seconds without progress after which an export to a directory counts as
# stalled, 90), DANCE_TRIES (tries of the dance's -o type=local, 3).
# Uses the bench (started when not running).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$PWD

runs=${RUNS:-5}
projects=${PROJECTS:-go-service node-app debian-image go-app}
cases=${CASES:-without with dance warm}
for c in $cases; do
  case $c in without | with | dance | warm | layers | layers-with) ;; *) echo "unknown case $c in CASES" >&2; exit 2 ;; esac
done
build_timeout=${BUILD_TIMEOUT:-900}
stall=${STALL:-90}
dance_tries=${DANCE_TRIES:-3}
state=${TOMLFRONT_BENCH_STATE:-/tmp/tomlfront-bench}
export TOMLFRONT_BENCH_STATE=$state
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "RUNS must be a positive integer" >&2; exit 2; }
# shellcheck source=/dev/null  # env.sh is written by up.sh at run time
if ! { [[ -f $state/env.sh ]] && (source "$state/env.sh" && buildctl debug workers >/dev/null 2>&1); }; then
  bash scripts/bench/up.sh >/dev/null
fi
# shellcheck source=/dev/null  # env.sh is written by up.sh at run time
source "$state/env.sh"
# No provenance attestation: with a local output it would land in the
# snapshot (docs/ci.md), and it would only add the same work to every case.
export BUILDX_NO_DEFAULT_ATTESTATIONS=1

logs=${SNAPBENCH_LOGS:-$state/snapshot-bench}
mkdir -p "$logs"
work=$(mktemp -d)
fresh_names=(snapbench-without snapbench-with snapbench-dance snapbench-layers snapbench-layers-with)

log() { printf '== %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

cleanup() {
  local name pid
  for name in "${fresh_names[@]}"; do
    docker buildx rm "$name" >/dev/null 2>&1 || true
  done
  # Only the extra buildkitds this script started, by their recorded pid.
  if [[ -f $state/pids ]]; then
    while read -r pid name; do
      case " ${fresh_names[*]/#/buildkitd-} " in
        *" $name "*)
          # The pid file keeps replaced daemons too: kill only a live one
          # that is still that buildkitd (pids are reused).
          if [[ -r /proc/$pid/cmdline ]] && tr '\0' ' ' </proc/"$pid"/cmdline | grep -qF -- "--root $state/${name#buildkitd-}/root"; then
            kill "$pid" 2>/dev/null || true
          fi
          ;;
      esac
    done <"$state/pids"
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# run_logged LOG CMD...: CMD with the time limit, its output in LOG; on
# failure, says so with the end of LOG.
run_logged() {
  local out=$1
  shift
  if ! timeout -k 20 "$build_timeout" "$@" >"$out" 2>&1; then
    log "failed (or over ${build_timeout}s): $*"
    tail -n 40 "$out" >&2
    return 1
  fi
}

# timed LOG CMD...: runs CMD as run_logged does, then sync, and prints the
# seconds it took (sync included; pending writes of earlier work are flushed
# before the clock starts).
timed() {
  local out=$1 start end
  shift
  sync
  start=$(date +%s.%N)
  run_logged "$out" "$@" || return 1
  sync
  end=$(date +%s.%N)
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f\n", b - a }'
}

# exported DEST LOG CMD...: as timed, for a build that writes the directory
# DEST. One whose DEST and LOG stop growing for STALL seconds has stalled
# (the local exporter's deadlock with many files, moby/buildkit#2950): it is
# stopped and exported returns 2.
exported() {
  local dest=$1 out=$2 start end pid now last="" idle=0 rc=0
  shift 2
  sync
  start=$(date +%s.%N)
  timeout -k 20 "$build_timeout" "$@" >"$out" 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 5
    now="$(du -sb "$dest" 2>/dev/null | cut -f1) $(stat -c %s "$out")"
    if [[ $now == "$last" ]]; then idle=$((idle + 5)); else idle=0 last=$now; fi
    if ((idle >= stall)); then
      log "no progress for ${stall}s at $(du -sh "$dest" 2>/dev/null | cut -f1): stalled; stopping it"
      # timeout leads a process group of its own: stop all of it.
      kill -TERM -- "-$pid" 2>/dev/null || true
      sleep 10
      kill -KILL -- "-$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
      return 2
    fi
  done
  wait "$pid" || rc=$?
  if ((rc != 0)); then
    log "failed (or over ${build_timeout}s): $*"
    tail -n 40 "$out" >&2
    return 1
  fi
  sync
  end=$(date +%s.%N)
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f\n", b - a }'
}

# stats FILE: "min median max" of the numbers in FILE, one a line.
stats() {
  sort -n "$1" | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "- - -"; exit }
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "%.1f %.1f %.1f\n", v[1], m, v[NR] }'
}
median() { stats "$1" | awk '{ print $2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b + 0 == 0) print "-"; else printf "%.2f", a / b }'; }
mb() { du -sb "$1" | awk '{ printf "%.0f", $1 / 1e6 }'; }
files() { find "$1" -type f | wc -l; }

# steps LOG: the slowest steps of a --progress=plain log, what was
# downloaded, and what tomlfront said about its caches.
steps() {
  awk '
    /^#[0-9]+ / { n = $1; if (!(n in name)) { sub(/^#[0-9]+ /, ""); name[n] = substr($0, 1, 110) } }
    / DONE [0-9.]+s$/ { d[$1] = $NF; sub(/s$/, "", d[$1]) }
    END { for (n in d) if (d[n] >= 1) printf "%8.1fs %s\n", d[n], name[n] }' "$1" | sort -rn | head -n 8
  printf '  go modules downloaded: %s, apt packages fetched (Get:): %s, npm fetches logged: %s\n' \
    "$(grep -c 'go: downloading' "$1" || true)" "$(grep -cE ' Get:[0-9]+ ' "$1" || true)" "$(grep -c 'http fetch' "$1" || true)"
  grep -E 'tomlfront: ' "$1" | sed -E 's/^#[0-9]+ [0-9.]+ /  /' | sort -u | head -n 12 || true
}

log "$(buildkitd --version | head -n 1); $(docker buildx version)"
log "building the frontend image"
run_logged "$logs/frontend.log" docker buildx build --progress=plain --provenance=false \
  --build-context gomodcache="$(go env GOMODCACHE)/cache/download" \
  --tag "$TOMLFRONT_REGISTRY/tomlfront/tomlfront:1" --push .

# project_dir, change_file, base_image, output: what each project is.
project_dir() {
  case $1 in
    go-app) echo examples/go-app ;;
    go-service | node-app | debian-image) echo "e2e/testdata/projects/$1" ;;
    *) die "unknown project $1 (go-app, go-service, node-app, debian-image)" ;;
  esac
}
change_line() {
  case $1 in
    go-app | go-service) echo "main.go //" ;;
    node-app) echo "src/server.js //" ;;
    debian-image) echo "motd.sh #" ;;
  esac
}
base_image() {
  case $1 in
    go-app | go-service) echo golang:1.26 ;;
    node-app) echo node:18 ;;
    debian-image) echo debian:bookworm ;;
  esac
}
# The Go projects end in a scratch stage with one binary: -o type=local.
# The others are whole images, which the local exporter would write file by
# file (and may stall on, moby/buildkit#2950): they are solved, not exported.
output_args() {
  case $1 in
    go-app | go-service) echo "--output type=local,dest=$2" ;;
    *) echo "--output type=cacheonly" ;;
  esac
}

# fresh NAME: a new buildkitd with an empty root, as buildx builder NAME.
fresh() {
  local addr
  addr=$(bash scripts/bench/buildkitd-extra.sh "$1" 2>>"$logs/daemons.log" | tail -n 1)
  docker buildx rm "$1" >/dev/null 2>&1 || true
  docker buildx create --name "$1" --driver remote "$addr" >/dev/null
}

# cache_mounts SPEC NS: one line per cache mount of the spec's target, as
# BuildKit sees it: id, target, sharing, mode (decimal, - when the cache
# has no mode of its own), uid, gid; read from the LLB tomlfront makes.
cache_mounts() {
  go run ./cmd/tomlfront llb -f "$1" --build-arg "BUILDKIT_CACHE_MOUNT_NS=$2" | buildctl debug dump-llb | jq -rs '
    (map({key: .Digest, value: .}) | from_entries) as $ops
    | [ .[] | select(.Op.Op.exec != null) | . as $e | .Op.Op.exec.mounts[] | select(.cacheOpt != null)
        | (.input // 0) as $i
        | (if $i >= 0 then ($e.Op.inputs[$i].digest // "") else "" end) as $src
        | (($ops[$src].Op.Op.file.actions[0].Action.mkdir) // null) as $mk
        | [ .cacheOpt.ID, .dest,
            ({"0": "shared", "1": "private", "2": "locked", "SHARED": "shared", "PRIVATE": "private", "LOCKED": "locked"}[(.cacheOpt.sharing // 0) | tostring]),
            (if $mk != null and $mk.path == "/cache" then ($mk.mode | tostring) else "-" end),
            (($mk.owner.user.User.ByID // 0) | tostring), (($mk.owner.group.User.ByID // 0) | tostring) ] ]
    | unique | .[] | @tsv'
}

# dance_files DIR NS MOUNTS: the cache dance's two Dockerfiles in DIR, for
# the mounts cache_mounts printed: extract.Dockerfile copies every cache to
# /<n>/ of its output, inject.Dockerfile copies /<n>/ of its context back.
# The Dockerfile frontend prefixes BUILDKIT_CACHE_MOUNT_NS and a slash to
# every id, so the ids are given without the namespace and the builds get
# the same BUILDKIT_CACHE_MOUNT_NS.
dance_files() {
  local dir=$1 ns=$2 mounts=$3 id target sharing mode uid gid n=0 flags="" out="" in=""
  while IFS=$'\t' read -r id target sharing mode uid gid; do
    [[ $id == "$ns/"* ]] || die "cache id $id is not in namespace $ns"
    flags+=" --mount=type=cache,id=${id#"$ns/"},target=$target,sharing=$sharing"
    [[ $mode == - ]] || flags+=",mode=$(printf '0%o' "$mode"),uid=$uid,gid=$gid"
    out+=" && mkdir -p /dance/$n && cp -p -R $target/. /dance/$n/"
    in+=" && cp -p -R /dance/$n/. $target/"
    n=$((n + 1))
  done <<<"$mounts"
  mkdir -p "$dir"
  cat >"$dir/extract.Dockerfile" <<DF
FROM busybox
ARG STAMP
RUN$flags \\
    echo "dance \$STAMP"$out
FROM scratch
COPY --from=0 /dance /
DF
  cat >"$dir/inject.Dockerfile" <<DF
FROM busybox
ARG STAMP
RUN --mount=type=bind,source=.,target=/dance$flags \\
    echo "dance \$STAMP"$in
DF
}

# has CASE: whether CASES asks for it.
has() { [[ " $cases " == *" $1 "* ]]; }
fresh_cases() { for c in $cases; do [[ $c == warm ]] || echo "$c"; done; }

results=$work/results.md
{
  echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(free -g | awk '/^Mem:/ { print $2 }') GiB;"
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'); $(buildkitd --version | head -n 1); RUNS=$runs;"
  echo "tomlfront $(git -C "$repo" describe --always --dirty 2>/dev/null || echo "${TOMLFRONT_REV:-unknown revision}")."
} >"$results"

bench_project() {
  local p=$1 dir pw ns file comment base spec ctx
  dir=$(project_dir "$p")
  read -r file comment <<<"$(change_line "$p")"
  base=$(base_image "$p")
  pw=$work/$p
  ctx=$pw/src
  spec=$ctx/build.toml
  mkdir -p "$pw" "$logs/$p"
  cp -r "$dir" "$ctx"
  rm -rf "$ctx/node_modules" "$ctx/dist"
  # A namespace of its own: this run's caches start empty on the bench's
  # builder, and no other project's build (go-app and go-service share the
  # go preset's ids) adds to its snapshot.
  ns="snapbench-$p-$(date +%s)"
  local args=(--progress=plain --build-arg "BUILDKIT_CACHE_MOUNT_NS=$ns")
  local out_main out_fresh
  read -r -a out_main <<<"$(output_args "$p" "$pw/out-main")"
  read -r -a out_fresh <<<"$(output_args "$p" "$pw/out-fresh")"

  mkdir -p "$pw/pull"
  cat >"$pw/pull/build.toml" <<TOML
# syntax=ghcr.io/tomlfront/tomlfront:1
version = 1
[stages.pull]
from = "$base"
[[stages.pull.steps]]
run = "true"
TOML

  # --no-cache: BuildKit's cache keys leave the cache mounts' ids out, so an
  # earlier run's steps would be taken from the layer cache without filling
  # this namespace's caches.
  log "$p: first build on the bench's builder (caches empty)"
  timed "$logs/$p/first.log" docker buildx build "${args[@]}" --no-cache -f "$spec" "${out_main[@]}" "$ctx" >"$pw/first"
  log "$p: snapshot export"
  exported "$pw/snapshot" "$logs/$p/export.log" docker buildx build "${args[@]}" -f "$spec" --build-arg TOMLFRONT_CACHE_EXPORT=1 \
    --output "type=local,dest=$pw/snapshot" "$ctx" >"$pw/export" || die "$p: the snapshot export failed or stalled"
  log "$p: snapshot $(mb "$pw/snapshot") MB: $(cd "$pw/snapshot" && echo *)"

  if has dance; then
    local mounts
    mounts=$(cache_mounts "$spec" "$ns")
    printf '%s\n' "$mounts" >"$logs/$p/cache-mounts.tsv"
    dance_files "$pw/dance-files" "$ns" "$mounts"
    mkdir -p "$pw/empty"
    log "$p: cache-dance extraction"
    # -o type=local, as the brief of the method says; when every try stalls,
    # -o type=tar piped to tar (which the deadlock does not hit), so the rest
    # can still be measured.
    local try rc
    : >"$pw/stalls"
    for try in $(seq "$dance_tries") tar; do
      rm -rf "$pw/dance"
      mkdir -p "$pw/dance"
      rc=0
      if [[ $try == tar ]]; then
        # shellcheck disable=SC2016  # expanded by the inner bash
        exported "$pw/dance" "$logs/$p/dance-extract.log" bash -c 'set -o pipefail; dest=$1; shift; docker buildx build "$@" --output type=tar,dest=- | tar -x -C "$dest"' \
          - "$pw/dance" "${args[@]}" --build-arg "STAMP=$(date +%s.%N)" -f "$pw/dance-files/extract.Dockerfile" "$pw/empty" >"$pw/extract" || rc=$?
        ((rc == 0)) || die "$p: the cache-dance extraction failed through -o type=tar too"
        echo "tar" >"$pw/extract-how"
        break
      fi
      exported "$pw/dance" "$logs/$p/dance-extract.log" docker buildx build "${args[@]}" --build-arg "STAMP=$(date +%s.%N)" \
        -f "$pw/dance-files/extract.Dockerfile" --output "type=local,dest=$pw/dance" "$pw/empty" >"$pw/extract" || rc=$?
      if ((rc == 0)); then
        echo "local" >"$pw/extract-how"
        break
      fi
      cp "$logs/$p/dance-extract.log" "$logs/$p/dance-extract-try$try.log"
      echo "try $try: $([[ $rc == 2 ]] && echo "stalled at $(du -sh "$pw/dance" | cut -f1)" || echo failed)" >>"$pw/stalls"
    done
    log "$p: dance $(mb "$pw/dance") MB in $(files "$pw/dance") files; snapshot $(files "$pw/snapshot") files"
  fi
  if has layers || has layers-with; then
    # The layer cache of the same build, as CI carries it (--cache-to /
    # --cache-from; docs/ci.md): it holds the steps' layers, never the
    # content of cache mounts.
    # Exported from a build given an empty snapshot context, as a first CI
    # run would be: without one, the steps that mount a persisted cache
    # would not match those of a build given a snapshot.
    log "$p: layer cache export (--cache-to type=local,mode=max)"
    mkdir -p "$pw/no-snapshot"
    timed "$logs/$p/layers-export.log" docker buildx build "${args[@]}" -f "$spec" \
      --build-context "tomlfront-cache=$pw/no-snapshot" \
      --cache-to "type=local,dest=$pw/layers,mode=max" --output type=cacheonly "$ctx" >"$pw/layers-export"
  fi
  local f c t t1 t2 summary
  for f in without with dance dance-inject dance-build warm layers layers-with; do : >"$pw/t-$f"; done
  : >"$pw/pull-times"
  # pulled CASE: on the fresh builder of CASE, a build that only pulls the
  # frontend and the base image, timed apart.
  pulled() {
    timed "$logs/$p/pull-$1.log" docker buildx build --builder "snapbench-$1" "${args[@]}" \
      -f "$pw/pull/build.toml" --output type=cacheonly "$pw/pull" >>"$pw/pull-times"
  }
  for i in $(seq "$runs"); do
    # The namespace makes each change new to the bench's builder too: its
    # layer cache would otherwise have the same sources from an earlier run.
    echo "$comment change $i ($ns)" >>"$ctx/$file"
    summary=""
    for c in $cases; do
      case $c in
        without | with | layers | layers-with)
          local extra=()
          [[ $c != with && $c != layers-with ]] || extra+=(--build-context "tomlfront-cache=$pw/snapshot")
          # As in docs/ci.md, a build with the layer cache always gets the
          # snapshot context, empty when there is no snapshot: its steps then
          # match the cache's (the seed is mounted in the steps it seeds).
          [[ $c != layers ]] || extra+=(--build-context "tomlfront-cache=$pw/no-snapshot")
          [[ $c != layers* ]] || extra+=(--cache-from "type=local,src=$pw/layers")
          fresh "snapbench-$c"
          pulled "$c"
          t=$(timed "$logs/$p/$c.log" docker buildx build --builder "snapbench-$c" "${args[@]}" -f "$spec" "${extra[@]}" "${out_fresh[@]}" "$ctx")
          ;;
        dance)
          fresh snapbench-dance
          pulled dance
          t1=$(timed "$logs/$p/dance-inject.log" docker buildx build --builder snapbench-dance "${args[@]}" \
            --build-arg "STAMP=$(date +%s.%N)" -f "$pw/dance-files/inject.Dockerfile" --output type=cacheonly "$pw/dance")
          t2=$(timed "$logs/$p/dance.log" docker buildx build --builder snapbench-dance "${args[@]}" -f "$spec" "${out_fresh[@]}" "$ctx")
          echo "$t1" >>"$pw/t-dance-inject"
          echo "$t2" >>"$pw/t-dance-build"
          t=$(awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%.2f\n", a + b }')
          ;;
        warm)
          t=$(timed "$logs/$p/warm.log" docker buildx build "${args[@]}" -f "$spec" "${out_main[@]}" "$ctx")
          ;;
      esac
      echo "$t" >>"$pw/t-$c"
      summary+=" $c ${t}s"
    done
    log "$p run $i/$runs:$summary; pulls $(tail -n "$(fresh_cases | wc -w)" "$pw/pull-times" | paste -sd' ')"
  done

  {
    local c
    for c in first export dance-extract layers-export pull-without without with dance-inject dance warm layers layers-with; do
      [[ -f $logs/$p/$c.log ]] || continue
      echo "--- $c (last run): slowest steps"
      steps "$logs/$p/$c.log"
    done
  } >"$logs/$p/steps.txt"

  local w s wm
  w=$(median "$pw/t-without")
  s=$(median "$pw/t-with")
  wm=$(median "$pw/t-warm")
  row() { [[ ! -s $2 ]] || printf '| %s | %s |\n' "$1" "$(stats "$2" | awk '{ printf "%s | %s | %s", $1, $2, $3 }')"; }
  {
    echo
    echo "#### $p"
    echo
    echo "Seconds, $runs runs, \`sync\` included."
    echo
    echo "| | min | median | max |"
    echo "|---|---|---|---|"
    row "pull on a fresh builder: frontend + \`$base\` (each fresh case)" "$pw/pull-times"
    row "fresh builder, no snapshot" "$pw/t-without"
    row "fresh builder, with the snapshot" "$pw/t-with"
    row "fresh builder, cache dance: inject" "$pw/t-dance-inject"
    row "fresh builder, cache dance: build" "$pw/t-dance-build"
    row "fresh builder, cache dance: inject + build" "$pw/t-dance"
    row "warm builder" "$pw/t-warm"
    row "fresh builder with the layer cache (\`--cache-from\`), no snapshot" "$pw/t-layers"
    row "fresh builder with the layer cache and the snapshot" "$pw/t-layers-with"
    echo
    echo "| once, on the bench's builder | seconds | size |"
    echo "|---|---|---|"
    echo "| first build (caches empty, base image present) | $(cat "$pw/first") | |"
    echo "| snapshot export (\`TOMLFRONT_CACHE_EXPORT=1\`, \`-o type=local\`) | $(cat "$pw/export") | $(mb "$pw/snapshot") MB, $(files "$pw/snapshot") files |"
    if has dance; then
      echo "| cache-dance extraction (\`-o type=$(cat "$pw/extract-how")\`) | $(cat "$pw/extract") | $(mb "$pw/dance") MB, $(files "$pw/dance") files |"
    fi
    if [[ -f $pw/layers-export ]]; then
      echo "| layer cache export (\`--cache-to type=local,mode=max\`) | $(cat "$pw/layers-export") | $(mb "$pw/layers") MB |"
    fi
    if [[ -s $pw/stalls ]]; then
      echo
      echo "The extraction with \`-o type=local\` before that: $(paste -sd';' "$pw/stalls" | sed 's/;/; /g') (no progress for ${stall} s: stopped)."
    fi
    echo
    printf 'Ratios of medians:'
    [[ ! -s $pw/t-with || ! -s $pw/t-without ]] || printf ' without / with **%s** (aim ≥ 3);' "$(ratio "$w" "$s")"
    [[ ! -s $pw/t-with || ! -s $pw/t-warm ]] || printf ' with / warm **%s** (aim ≤ 2);' "$(ratio "$s" "$wm")"
    if [[ -s $pw/t-with && -s $pw/t-dance ]]; then
      printf ' dance (inject + build) / with %s; dance build alone / with %s; dance extraction / snapshot export %s;' \
        "$(ratio "$(median "$pw/t-dance")" "$s")" "$(ratio "$(median "$pw/t-dance-build")" "$s")" "$(ratio "$(cat "$pw/extract")" "$(cat "$pw/export")")"
    fi
    [[ ! -s $pw/t-layers || ! -s $pw/t-layers-with ]] || printf ' with the layer cache, without / with %s;' "$(ratio "$(median "$pw/t-layers")" "$(median "$pw/t-layers-with")")"
    [[ ! -s $pw/t-layers-with || ! -s $pw/t-warm ]] || printf ' layer cache and snapshot / warm %s;' "$(ratio "$(median "$pw/t-layers-with")" "$wm")"
    echo
  } >>"$results"
  log "$p done; steps: $logs/$p/steps.txt"
}

for p in $projects; do
  bench_project "$p"
done
cp "$results" "$logs/results.md"
cat "$results"
