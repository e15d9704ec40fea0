#!/usr/bin/env bash
# Starts the local test bench, all on loopback:
#   - an OCI registry (distribution) on 127.0.0.1:<a port it binds>, holding the
#     fixture images under their Docker Hub paths;
#   - buildkitd (runc worker) using that registry as its docker.io and
#     ghcr.io mirror;
#   - a buildx builder "tomlfront-bench" (remote driver) in a private
#     DOCKER_CONFIG;
#   - versitygw (S3, posix backend) with one bucket, and azurite's blob
#     service (Azure Blob Storage), and the GitHub Actions cache service
#     (nektos/act's), for the s3, azblob and gha cache backends (not with
#     TOMLFRONT_BENCH_PARTS=demo).
# Every daemon binds port 0 and the address it got is read back by its pid.
# Then writes $TOMLFRONT_BENCH_STATE/env.sh for tests and the Makefile.
# The state directory is wiped and recreated on every start.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The fixtures' root filesystems (debootstrap fetches Debian's packages) are
# made while the tools compile; they need only the Debian packages.
bash "$BENCH_DIR/tools.sh" apt
mkdir -p "$CACHE"
ROOTFS_LOG="$CACHE/fixtures-rootfs.log"
bash "$BENCH_DIR/fixtures.sh" rootfs >/dev/null 2>"$ROOTFS_LOG" &
ROOTFS_PID=$!
bash "$BENCH_DIR/tools.sh"
wait "$ROOTFS_PID" || { cat "$ROOTFS_LOG" >&2; die "making the fixtures' root filesystems failed (log: $ROOTFS_LOG)"; }
PATH="$(bench_path):$PATH"
export PATH

case "$STATE" in
  "" | / | "$HOME" | "$REPO_ROOT" | "$REPO_ROOT"/*) die "refusing to use TOMLFRONT_BENCH_STATE=$STATE" ;;
esac
# A previous bench on the same state dir is stopped (and unmounted) first.
if [[ -d $STATE ]]; then
  bash "$BENCH_DIR/down.sh"
fi
rm -rf "$STATE"
mkdir -p "$STATE/registry" "$STATE/docker/cli-plugins"
: >"$STATE/pids"

# If anything below fails, stop what was already started (logs stay).
on_exit() {
  local rc=$?
  if ((rc != 0)); then
    log "up.sh failed (exit $rc): stopping what it started; logs in $STATE"
    bash "$BENCH_DIR/down.sh" || true
  fi
}
trap on_exit EXIT

# --- registry ------------------------------------------------------------------
cat >"$STATE/registry.yml" <<YML
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $STATE/registry
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:0
  secret: $(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
YML
# No storage.cache on purpose: fixtures are copied into the storage dir while
# the registry runs, and it must see them at once. The registry (v3) exports
# OpenTelemetry traces to localhost:4318 by default (nothing listens there:
# error spam in its log): off.
REGISTRY_PID=$(start_daemon registry "$STATE/registry.log" \
  env OTEL_TRACES_EXPORTER=none OTEL_METRICS_EXPORTER=none OTEL_LOGS_EXPORTER=none OTEL_SDK_DISABLED=true \
  "$REGISTRY_BIN/registry" serve "$STATE/registry.yml")

REGISTRY_ADDR=$(wait_listen registry 30 "$REGISTRY_PID")

# --- S3 (versitygw, posix backend) and Azure Blob Storage (azurite) -------------
# Started now and waited for after the fixtures, so that they start in
# parallel with the rest. Fresh random S3 credentials on every start; the
# bucket is created once it runs.
S3_ACCESS_KEY="tomlfront"
S3_SECRET_KEY=$(od -An -tx1 -N20 /dev/urandom | tr -d ' \n')
S3_REGION="us-east-1"
S3_BUCKET="tomlfront-cache"
# The emulator's well-known development account and key (published in
# Azurite's documentation; they only ever open a local emulator).
AZURE_ACCOUNT_NAME="devstoreaccount1"
AZURE_ACCOUNT_KEY="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
if bench_all; then
  mkdir -p "$STATE/s3/data" "$STATE/azurite/data"
  # Keys through the environment (not on the command line, so `ps` shows none).
  S3_PID=$(start_daemon versitygw "$STATE/versitygw.log" \
    env ROOT_ACCESS_KEY_ID="$S3_ACCESS_KEY" ROOT_SECRET_ACCESS_KEY="$S3_SECRET_KEY" VGW_REGION="$S3_REGION" \
    "$VERSITYGW_BIN/versitygw" --port 127.0.0.1:0 --quiet posix "$STATE/s3/data")
  # AZURITE_ACCOUNTS (custom accounts) would disable devstoreaccount1: unset.
  # --skipApiVersionCheck: BuildKit's Azure SDK may speak a newer API version
  # than this Azurite knows. --loose: ignore headers Azurite does not support.
  # --disableProductStyleUrl: the account is always the URL's first path
  # segment. --disableTelemetry: no data sent anywhere.
  AZURE_PID=$(start_daemon azurite "$STATE/azurite.log" \
    env -u AZURITE_ACCOUNTS "$AZURITE_BLOB" --blobHost 127.0.0.1 --blobPort 0 \
    --location "$STATE/azurite/data" --skipApiVersionCheck --loose --disableProductStyleUrl --disableTelemetry)
  # The GitHub Actions cache service writes its URL and a runtime token
  # (what ACTIONS_CACHE_URL and ACTIONS_RUNTIME_TOKEN hold on a runner).
  mkdir -p "$STATE/gha"
  GHA_PID=$(start_daemon ghacache "$STATE/ghacache.log" \
    "$GHACACHE_BIN/ghacache" -dir "$STATE/gha/data" -url-file "$STATE/gha/url" -token-file "$STATE/gha/token")
fi

wait_for "registry on $REGISTRY_ADDR" 30 "$REGISTRY_PID" curl -fsS --noproxy '*' "http://$REGISTRY_ADDR/v2/"
log "registry ready on $REGISTRY_ADDR (pid $REGISTRY_PID)"

# --- buildkitd -------------------------------------------------------------------
# Snapshotter: overlayfs when the kernel lets us mount it on the state dir's
# filesystem (fast, no copies); otherwise "native" (plain copies, works
# everywhere). Probed here rather than assumed, since sandboxes differ.
overlay_works() {
  local d
  d=$(mktemp -d "$STATE/.overlay-probe.XXXXXX")
  mkdir -p "$d/l" "$d/u" "$d/w" "$d/m"
  echo x >"$d/l/f"
  local ok=1
  if mount -t overlay overlay -o "lowerdir=$d/l,upperdir=$d/u,workdir=$d/w" "$d/m" 2>/dev/null; then
    echo y >"$d/m/f" 2>/dev/null && [[ $(cat "$d/l/f") == x ]] && ok=0
    umount "$d/m" || true
  fi
  rm -rf "$d"
  return $ok
}
SNAPSHOTTER=${TOMLFRONT_BENCH_SNAPSHOTTER:-}
if [[ -z $SNAPSHOTTER ]]; then
  if overlay_works; then SNAPSHOTTER=overlayfs; else SNAPSHOTTER=native; fi
fi
log "buildkitd snapshotter: $SNAPSHOTTER"

# networkMode "host": no CNI plugins or bridge exist here (buildkitd's default
# "auto" would look for them), and RUN steps must reach the Go module proxy
# and the Debian mirror exactly as the host does (same resolv.conf, same
# routes). With it, every RUN uses the host's network namespace.
# A CDI device every bench buildkitd offers, for RUN --device and a run
# step's `devices`: it needs no hardware, it sets one variable in the step.
mkdir -p "$STATE/cdi"
cat >"$STATE/cdi/tomlfront-probe.yaml" <<'CDI'
cdiVersion: "0.6.0"
kind: "tomlfront.dev/probe"
annotations:
  org.mobyproject.buildkit.device.autoallow: "true"
devices:
  - name: "env"
    containerEdits:
      env:
        - TOMLFRONT_CDI_PROBE=present
CDI

cat >"$STATE/buildkitd.toml" <<TOML
# Generated by scripts/bench/up.sh. Shared by every bench buildkitd (root and
# address are given on the command line).
insecure-entitlements = ["network.host", "security.insecure"]

[log]
  format = "text"

[worker.oci]
  enabled = true
  snapshotter = "$SNAPSHOTTER"
  networkMode = "host"
  gc = true
  # Fixed GC thresholds, not the disk's share: lib.sh says why.
  reservedSpace = "$BENCH_GC_RESERVED"
  maxUsedSpace = "$BENCH_GC_MAX_USED"
  minFreeSpace = "$BENCH_GC_MIN_FREE"

[worker.containerd]
  enabled = false

[cdi]
  specDirs = ["$STATE/cdi"]

[registry."$REGISTRY_ADDR"]
  http = true

[registry."docker.io"]
  mirrors = ["$REGISTRY_ADDR"]

[registry."ghcr.io"]
  mirrors = ["$REGISTRY_ADDR"]
TOML

BUILDKIT_ADDR="unix://$STATE/buildkitd.sock"
BUILDKITD_PID=$(start_daemon buildkitd "$STATE/buildkitd.log" \
  "$BUILDKIT_BIN/buildkitd" --config "$STATE/buildkitd.toml" --root "$STATE/buildkitd" --addr "$BUILDKIT_ADDR")
wait_for "buildkitd" 60 "$BUILDKITD_PID" buildkitd_ready "$BUILDKIT_ADDR"
log "buildkitd ready at $BUILDKIT_ADDR (pid $BUILDKITD_PID)"

# --- env.sh ------------------------------------------------------------------------
cat >"$STATE/env.sh" <<ENV
# Generated by scripts/bench/up.sh: source it to use the running bench.
export TOMLFRONT_BENCH_STATE='$STATE'
export BUILDKIT_HOST='$BUILDKIT_ADDR'
export TOMLFRONT_REGISTRY='$REGISTRY_ADDR'
export TOMLFRONT_BUILDKITD='$BUILDKIT_BIN/buildkitd'
export TOMLFRONT_TAPLO='$TAPLO'
export TOMLFRONT_BUILDKITD_CONFIG='$STATE/buildkitd.toml'
export TOMLFRONT_SNAPSHOTTER='$SNAPSHOTTER'
export DOCKER_CONFIG='$STATE/docker'
export BUILDX_BUILDER='$BUILDX_BUILDER_NAME'
export TOMLFRONT_BUILDKITD_BUILDER='$BUILDX_BUILDER_NAME'
case ":\$PATH:" in *':$BUILDKIT_BIN:'*) ;; *) export PATH='$(bench_path)':"\$PATH" ;; esac
ENV

# --- fixtures ------------------------------------------------------------------------
bash "$BENCH_DIR/fixtures.sh" all

# --- S3 and Azure services: waited for last (Node.js starts slowly) ------------------
if bench_all; then
  S3_ADDR=$(wait_listen versitygw 30 "$S3_PID")
  # Any HTTP answer means versitygw / azurite serve (403 without credentials).
  http_answers() { curl -s --noproxy '*' -o /dev/null --max-time 2 "$1"; }
  wait_for "versitygw on $S3_ADDR" 30 "$S3_PID" http_answers "http://$S3_ADDR/"
  # CreateBucket, SigV4-signed by curl; S3 wants the payload's hash (empty).
  curl -fsS --noproxy '*' --max-time 10 -X PUT --aws-sigv4 "aws:amz:$S3_REGION:s3" \
    --user "$S3_ACCESS_KEY:$S3_SECRET_KEY" -H "x-amz-content-sha256: $(printf '' | sha256sum | cut -d' ' -f1)" \
    "http://$S3_ADDR/$S3_BUCKET" >/dev/null \
    || die "creating the S3 bucket $S3_BUCKET failed (log: $STATE/versitygw.log)"
  log "versitygw ready on $S3_ADDR, bucket $S3_BUCKET (pid $S3_PID)"
  AZURE_ADDR=$(wait_listen azurite 60 "$AZURE_PID")
  wait_for "azurite on $AZURE_ADDR" 60 "$AZURE_PID" http_answers "http://$AZURE_ADDR/$AZURE_ACCOUNT_NAME?comp=list"
  log "azurite ready on $AZURE_ADDR (pid $AZURE_PID)"
  wait_for "the GitHub Actions cache service" 30 "$GHA_PID" test -s "$STATE/gha/url"
  log "GitHub Actions cache service ready on $(cat "$STATE/gha/url") (pid $GHA_PID)"
  cat >>"$STATE/env.sh" <<ENV
export TOMLFRONT_S3_ENDPOINT='http://$S3_ADDR'
export TOMLFRONT_S3_BUCKET='$S3_BUCKET'
export TOMLFRONT_S3_REGION='$S3_REGION'
export TOMLFRONT_S3_ACCESS_KEY='$S3_ACCESS_KEY'
export TOMLFRONT_S3_SECRET_KEY='$S3_SECRET_KEY'
export TOMLFRONT_AZURE_ACCOUNT_URL='http://$AZURE_ADDR/$AZURE_ACCOUNT_NAME'
export TOMLFRONT_AZURE_ACCOUNT_NAME='$AZURE_ACCOUNT_NAME'
export TOMLFRONT_AZURE_ACCOUNT_KEY='$AZURE_ACCOUNT_KEY'
export TOMLFRONT_GHA_URL='$(cat "$STATE/gha/url")'
export TOMLFRONT_GHA_TOKEN='$(cat "$STATE/gha/token")'
export TOMLFRONT_GHACACHE='$GHACACHE_BIN/ghacache'
ENV
fi

# --- buildx ------------------------------------------------------------------------
export DOCKER_CONFIG="$STATE/docker"
ln -sf "$BUILDX_BIN/docker-buildx" "$DOCKER_CONFIG/cli-plugins/docker-buildx"
docker buildx create --name "$BUILDX_BUILDER_NAME" --driver remote "$BUILDKIT_ADDR" >/dev/null
docker buildx use "$BUILDX_BUILDER_NAME"
docker buildx inspect --bootstrap "$BUILDX_BUILDER_NAME" >"$STATE/buildx-inspect.txt" 2>&1 \
  || { cat "$STATE/buildx-inspect.txt" >&2; die "docker buildx inspect --bootstrap failed"; }
log "buildx builder $BUILDX_BUILDER_NAME ready (DOCKER_CONFIG=$DOCKER_CONFIG)"

log "bench up: source $STATE/env.sh"
echo "$STATE/env.sh"
