# The steps that carry a persisted cache in and out of a cache snapshot:
# `sh -c "$script" tomlfront seed` and `... export`. It runs in the base
# image of the stage that mounts the cache, for the trim: a preset's trim
# uses the tools of that image (uv, ccache, awk). The step itself, the
# archive and its checks, is the frontend's binary's (internal/snapstep),
# mounted at $TF_TOOL.
#
# Its input is the environment, snapstep's (TF_DIR, TF_IDENTITY, TF_AUTO,
# TF_MAX_KIB ...) and, with export:
#   TF_TRIM      the preset's trim, run in the cache; it prints the paths
#                (./...) to leave out of the snapshot
#   TF_STARTED   when the build started (Unix seconds)
# and, mounted: the cache at $TF_CACHE, the stage's root at $TF_STAGE.
set -eu
tool=${TF_TOOL:-/.tomlfront/bin/tomlfront}
cache=${TF_CACHE:-/.tomlfront/cache}
TF_STAGE=${TF_STAGE:-/.tomlfront/stage}
TF_WORK=$(mktemp -d)
export TF_WORK TF_STAGE

if [ "${1:-}" = export ] && [ -n "${TF_TRIM:-}" ]; then
  TF_UNUSED_MIN=$((($(date +%s) - ${TF_STARTED:-0}) / 60 + 61))
  TF_EXCLUDE=$TF_WORK/exclude
  export TF_UNUSED_MIN TF_EXCLUDE
  if ! (cd "$cache" && eval "$TF_TRIM") >"$TF_EXCLUDE"; then
    echo "tomlfront: cache $TF_DIR: trimming failed (above); the snapshot keeps the whole cache"
    : >"$TF_EXCLUDE"
  fi
fi
status=0
"$tool" snapshot-step "${1:-}" || status=$?
rm -rf "$TF_WORK"
exit "$status"
