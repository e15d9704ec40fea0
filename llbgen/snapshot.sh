# The steps that carry a persisted cache in and out of a cache snapshot:
# `sh -c "$script" tomlfront seed` and `... export`. It runs in the base
# image of the stage that mounts the cache, for the trim: a preset's trim
# uses the tools of that image (uv, ccache, awk). The step itself, the
# archive and its checks, is the frontend's binary's (internal/snapstep),
# mounted at $TF_TOOL.
#
# Its input is the environment, snapstep's (TF_DIR, TF_CACHE, TF_AUTO ...)
# and, with export:
#   TF_TRIM      the preset's trim, run in the cache ($TF_CACHE); it prints
#                the paths (./...) to leave out of the snapshot, and may
#                read the stage's root, $TF_STAGE
#   TF_STARTED   when the build started (Unix seconds)
set -eu
TF_WORK=$(mktemp -d)
export TF_WORK

if [ "${1:-}" = export ] && [ -n "${TF_TRIM:-}" ]; then
  TF_UNUSED_MIN=$((($(date +%s) - ${TF_STARTED:-0}) / 60 + 61))
  TF_EXCLUDE=$TF_WORK/exclude
  export TF_UNUSED_MIN TF_EXCLUDE
  if ! (cd "$TF_CACHE" && eval "$TF_TRIM") >"$TF_EXCLUDE"; then
    echo "tomlfront: cache $TF_DIR: trimming failed (above); the snapshot keeps the whole cache"
    : >"$TF_EXCLUDE"
  fi
fi
status=0
"$TF_TOOL" snapshot-step "${1:-}" || status=$?
rm -rf "$TF_WORK"
exit "$status"
