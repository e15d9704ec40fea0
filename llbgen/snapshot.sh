# The steps that carry a persisted cache in and out of a cache snapshot:
# `sh -c "$script" tomlfront seed` and `... export`. Written for any POSIX sh
# with tar, sha256sum, find, stat, awk and du (GNU or BusyBox), since it runs
# in the base image of the stage that mounts the cache.
#
# Its input is the environment:
#   TF_DIR       the cache's name in the snapshot: deps, go/mod
#   TF_IDENTITY  what the archive holds: a seed refuses another
#   TF_TRIM      with export: the preset's trim, run in the cache; it prints
#                the paths (./...) to leave out of the snapshot
#   TF_STARTED   with export: when the build started (Unix seconds)
#   TF_MAX_KIB   with export: max_size in KiB (TF_MAX_SIZE as written)
#   TF_AUTO      with export: 1 to skip a cache whose content is the
#                snapshot's (TOMLFRONT_CACHE_EXPORT=auto)
# and, mounted: the cache at $cache, the snapshot given to the build at
# $snapshot, the stage's root at $stage, the export's output at $out, and,
# with seed, the cache's pending mount at $pending, whose mark (see
# internal/seedprobe) the seed clears.
set -eu
cache=${TF_CACHE:-/.tomlfront/cache}
snapshot=${TF_SNAPSHOT:-/.tomlfront/snapshot}
stage=${TF_STAGE:-/.tomlfront/stage}
out=${TF_OUT:-/.tomlfront/out}
pending=${TF_PENDING:-/.tomlfront/pending}
work=$(mktemp -d)
export TF_WORK="$work" TF_STAGE="$stage"
archive=$snapshot/$TF_DIR.tar

say() { echo "tomlfront: $*"; }
kib() { if [ -e "$1" ]; then du -sk "$1" | cut -f1; else echo 0; fi; }
human() { du -sh "$1" | cut -f1; }
# files_size prints the size of the regular files of a listing (see list).
files_size() {
  awk -F'|' '$2 ~ /^regular/ { s += $5 }
    END { split("K M G T", u, " "); s /= 1024; i = 1; while (s >= 1024 && i < 4) { s /= 1024; i++ } printf "%.1f%s\n", s, u[i] }' "$1"
}

# wait_showing waits for the process $1 (a tar), saying every ten seconds
# (TF_PROGRESS_SECONDS) how many KiB of $3 KiB are in $2 so far, and
# returns its status.
wait_showing() {
  ticks=0 every=$((${TF_PROGRESS_SECONDS:-10} * 5))
  while kill -0 "$1" 2>/dev/null; do
    sleep 0.2 2>/dev/null || sleep 1
    ticks=$((ticks + 1))
    if [ $((ticks % every)) -eq 0 ] && kill -0 "$1" 2>/dev/null; then
      say "cache $TF_DIR: $4 $(kib "$2") of $3 KiB"
    fi
  done
  wait "$1"
}

# empty_cache leaves nothing in the cache: never a half-seeded one.
empty_cache() { find "$cache" -mindepth 1 -maxdepth 1 -exec rm -rf {} +; }

seed() {
  if [ ! -d "$snapshot" ]; then
    return # the build was given no snapshot
  elif [ -n "$(ls -A "$cache")" ]; then
    say "cache $TF_DIR already has content on this builder; the snapshot is not used"
  elif [ -f "$archive" ]; then
    # An export that did not finish (its builder or client killed) leaves
    # the files it was writing, some of them empty.
    if [ ! -s "$archive.sha256" ] || [ ! -s "$archive.info" ]; then
      say "the snapshot's $TF_DIR.tar is incomplete (its .sha256 or .info is missing or empty, as an export that did not finish leaves it): cache $TF_DIR starts empty; export a new snapshot"
    elif [ "$(head -n 1 "$archive.info" 2>/dev/null)" != "$TF_IDENTITY" ]; then
      say "the snapshot's $TF_DIR.tar is of another platform or cache layout ($(head -n 1 "$archive.info" 2>/dev/null || echo 'no .info'); this build needs $TF_IDENTITY): cache $TF_DIR starts empty"
    else
      # One read of the archive both extracts and checks it; an archive
      # whose digest does not match, or that does not extract, leaves the
      # cache empty before any step mounts it: never a half-seeded cache.
      # Its size is measured before tar starts: progress is then the only
      # thing the script does while tar runs.
      total=$(kib "$archive")
      mkfifo "$work/archive"
      (tee "$work/archive" <"$archive" | sha256sum | cut -c1-64 >"$work/sum") &
      sum=$!
      # tar may stop before the archive's padding: the rest is read, so
      # that tee, and the digest, see it all.
      (tar -xpf - -C "$cache" && cat >/dev/null) <"$work/archive" &
      if wait_showing $! "$cache" "$total" "seeded" && wait "$sum" &&
        [ "$(cat "$work/sum")" = "$(cut -c1-64 "$archive.sha256")" ]; then
        say "cache $TF_DIR seeded from the snapshot: $(human "$archive")"
      else
        wait "$sum" || true
        empty_cache
        say "the snapshot's $TF_DIR.tar is corrupt or truncated (its digest is not its .sha256's): cache $TF_DIR starts empty; export a new snapshot"
      fi
    fi
  elif [ -d "$snapshot/$TF_DIR" ]; then
    cp -a "$snapshot/$TF_DIR/." "$cache/"
    say "cache $TF_DIR seeded from the snapshot (a tree, as older exports wrote it): $(human "$cache")"
  else
    say "the snapshot has no $TF_DIR.tar; cache $TF_DIR starts empty"
  fi
}

# list prints what the snapshot of the cache holds, sorted, one line per
# path: name, type, mode, owner, size and link target, but not times, which
# tools change on every use (Go touches each build cache entry it reads). It
# leaves out the paths in $work/exclude and all under them.
list() {
  (cd "$cache" && find . -exec stat -c '%n|%F|%a|%u:%g|%s|%N' {} +) >"$work/all"
  awk -F'|' 'FILENAME == ARGV[1] { ex[$0] = 1; next }
    { p = $1; while (p != "." && p != "") { if (p in ex) next; sub(/\/[^\/]*$/, "", p) } print }' \
    "$work/exclude" "$work/all" | LC_ALL=C sort
}

export_cache() {
  : >"$work/exclude"
  if [ -n "${TF_TRIM:-}" ]; then
    TF_UNUSED_MIN=$((($(date +%s) - ${TF_STARTED:-0}) / 60 + 61))
    export TF_UNUSED_MIN
    if ! (cd "$cache" && eval "$TF_TRIM") >"$work/exclude"; then
      say "cache $TF_DIR: trimming failed (above); the snapshot keeps the whole cache"
      : >"$work/exclude"
    fi
    # BusyBox's tar leaves paths out only when built with it (Alpine's is).
    if [ -s "$work/exclude" ] && ! tar -cf /dev/null -X /dev/null /dev/null 2>/dev/null; then
      say "cache $TF_DIR: this image's tar cannot leave paths out (-X); the snapshot keeps the whole cache"
      : >"$work/exclude"
    fi
  fi
  list >"$work/list"
  if [ "$(grep -c . "$work/list")" -le 1 ]; then
    # BuildKit leaves cache mount ids out of cache keys: steps taken from
    # the layer cache (of this builder or --cache-from) never filled it.
    say "cache $TF_DIR is empty on this builder: its snapshot is empty; if the steps that fill it came from the layer cache, build once with --no-cache-filter for their stage before exporting"
  fi
  kept=$(awk -F'|' '$2 ~ /^regular/ { s += $5 } END { printf "%d", s / 1024 }' "$work/list")
  if [ -n "${TF_MAX_KIB:-}" ] && [ "$kept" -gt "$TF_MAX_KIB" ]; then
    say "cache $TF_DIR holds ${kept} KiB, above its max_size $TF_MAX_SIZE: the snapshot is not exported; trim the cache, raise max_size or drop persist" >&2
    exit 1
  fi
  # The content's digest, times aside: an auto export compares it with the
  # snapshot's.
  content="content sha256:$({
    cat "$work/list"
    awk -F'|' '$2 ~ /^regular/ { print $1 }' "$work/list" | tr '\n' '\0' | (cd "$cache" && xargs -0 -r sha256sum)
  } | sha256sum | cut -c1-64)"
  if [ "${TF_AUTO:-}" = 1 ]; then
    if [ ! -f "$archive.info" ]; then
      say "cache $TF_DIR: the build was given no snapshot of it to compare with: exported"
    elif [ "$(sed -n 2p "$archive.info")" = "$content" ]; then
      say "cache $TF_DIR unchanged since the snapshot ($content): not exported"
      return
    else
      say "cache $TF_DIR changed since the snapshot: exported"
    fi
  fi
  target=$out/$TF_DIR.tar
  mkdir -p "$(dirname "$target")"
  # The archive's digest is taken as it is written, not read again.
  (
    cd "$cache"
    status=0
    if [ -s "$work/exclude" ]; then tar -cf - -X "$work/exclude" . || status=$?; else tar -cf - . || status=$?; fi
    echo "$status" >"$work/tar-status"
  ) | (tee "$target" | sha256sum | cut -c1-64 >"$work/sum") &
  wait_showing $! "$target" "$kept" "archived"
  if [ "$(cat "$work/tar-status")" != 0 ]; then
    say "cache $TF_DIR: tar failed (above): the snapshot is not exported" >&2
    exit 1
  fi
  echo "$(cat "$work/sum")  $(basename "$target")" >"$target.sha256"
  printf '%s\n%s\n' "$TF_IDENTITY" "$content" >"$target.info"
  # A time from the archive's digest: an image snapshot's layer keeps its
  # digest while the cache does not change, and a snapshot that did change
  # never has the time and size of an older one, which BuildKit's transfer
  # of a local context would take for the same file and not send again.
  touch -d "@$((0x$(cut -c1-7 "$target.sha256")))" "$target" "$target.sha256" "$target.info"
  left=$(grep -c . "$work/exclude" || true)
  if [ "$left" -gt 0 ]; then
    paths=paths
    [ "$left" -ne 1 ] || paths=path
    say "cache $TF_DIR: $(files_size "$work/all"), trimmed to $(human "$target") (left out $left $paths the next build does not need), archived in $TF_DIR.tar"
  else
    say "cache $TF_DIR: $(files_size "$work/all"), archived in $TF_DIR.tar: $(human "$target")"
  fi
}

case "${1:-}" in
seed)
  seed
  rm -f "$pending/seed" "$pending/wanted" "$pending/heard"
  ;;
export) export_cache ;;
*) echo "usage: $0 seed|export" >&2; exit 2 ;;
esac
rm -rf "$work"
