#!/usr/bin/env bash
# The seed platform for a person to watch: runs tests/integration/seed_platform.sh verbosely.
# A private dockerd (its own data root, socket and cgroup parent; the host's Docker is not
# touched) with cove as its runtimes; team alpha's workspace cloned from a bare repository and
# served by covefs; cove-sync pushing commits; two agents, a preview and a sync container; the
# refusals; the commits by agent; `cove audit live` and `cove doctor`; then everything stopped
# and checked gone. Needs root and Docker's packages (dockerd, containerd, runc), fuse3, git, jq,
# busybox-static. Builds into $COVE_BUILD_DIR (default build/) if the binaries are missing.
# COVE_KEEP_TMP=1 keeps the temp dir (logs, the bare repository) afterwards.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${COVE_BUILD_DIR:-$src/build}
[ "$(id -u)" -eq 0 ] || { echo "demo-platform: run as root (dockerd, FUSE): sudo $0" >&2; exit 1; }
command -v dockerd >/dev/null || [ -x /usr/sbin/dockerd ] ||
  { echo "demo-platform: dockerd is not installed (apt-get install docker.io)" >&2; exit 1; }

bins=("$build/tools/cli/cove" "$build/shim/cove-runtime" "$build/fusefs/covefs" "$build/sync/cove-sync"
  "$build/tests/probe/cove-probe")
for b in "${bins[@]}"; do
  if [ ! -x "$b" ]; then
    echo "demo-platform: $b is missing; building into $build" >&2
    COVE_BUILD_DIR=$build "$src/tools/build.sh" >/dev/null
    break
  fi
done

rc=0
COVE_SEED_VERBOSE=1 COVE_SRC=$src COVE_CLI=${bins[0]} COVE_RUNTIME=${bins[1]} COVEFS=${bins[2]} \
  COVE_SYNC=${bins[3]} COVE_PROBE=${bins[4]} bash "$src/tests/integration/seed_platform.sh" || rc=$?
case $rc in
  0) echo "demo-platform: every check passed" ;;
  77) echo "demo-platform: skipped (see the SKIP line above)" >&2 ;;
  *) echo "demo-platform: failed (exit $rc)" >&2 ;;
esac
exit "$rc"
