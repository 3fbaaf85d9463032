#!/usr/bin/env bash
# covefs keeps POSIX semantics: run.sh finds no difference between a covefs mount and a native
# directory on the same filesystem, outside run.sh's allow-list.
#
# covefs runs with `--owner none` (ownership passes through: the owner mapping is a feature, not
# POSIX) and no policy (every caller gets the default read-write view).
# Environment: COVEFS (the covefs binary), FSCONFORM (see run.sh).
# Exit codes: 0 pass, 1 differences (or the suite could not run), 77 skip (not root, no covefs,
# no /dev/fuse or fusermount3).
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NAME=covefs_conformance

skip() {
  echo "SKIP [$NAME]: $*"
  exit 77
}
fail() {
  echo "FAIL [$NAME]: $*" >&2
  exit 1
}

[[ $(id -u) -eq 0 ]] || skip "needs root"
[[ -n ${COVEFS:-} && -x ${COVEFS:-} ]] || skip "COVEFS is not set to the covefs binary"
[[ -c /dev/fuse ]] || skip "no /dev/fuse"
command -v fusermount3 >/dev/null || skip "fusermount3 not installed"

TMP=$(mktemp -d /tmp/conform-covefs.XXXXXX) || fail "mktemp"
MNT=$TMP/mnt
COVEFS_PID=""

cleanup() {
  if mountpoint -q "$MNT"; then
    fusermount3 -u "$MNT" 2>/dev/null || umount "$MNT" 2>/dev/null || umount -l "$MNT"
  fi
  if [[ -n $COVEFS_PID ]]; then
    # covefs syncs its journal after the unmount; give it a moment before insisting.
    for _ in $(seq 50); do
      kill -0 "$COVEFS_PID" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$COVEFS_PID" 2>/dev/null; then
      kill "$COVEFS_PID"
    fi
    wait "$COVEFS_PID" 2>/dev/null
  fi
  # Never remove through a live mount.
  if mountpoint -q "$MNT"; then
    echo "[$NAME] $MNT is still mounted; leaving $TMP" >&2
  else
    rm -rf -- "$TMP"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir "$TMP/src" "$MNT" "$TMP/native" "$TMP/journal" "$TMP/state"
"$COVEFS" -f --team conformance --source "$TMP/src" --mountpoint "$MNT" --journal "$TMP/journal" \
  --state-dir "$TMP/state" --owner none >"$TMP/covefs.log" 2>&1 &
COVEFS_PID=$!
for _ in $(seq 100); do
  grep -q " $MNT fuse.covefs " /proc/mounts && break
  kill -0 "$COVEFS_PID" 2>/dev/null || fail "covefs exited before mounting: $(cat "$TMP/covefs.log")"
  sleep 0.1
done
grep -q " $MNT fuse.covefs " /proc/mounts || fail "covefs did not mount in 10 s: $(cat "$TMP/covefs.log")"

# The native side lives beside the source, on the same filesystem.
bash "$HERE/run.sh" "$MNT" "$TMP/native"
rc=$?
if [[ $rc -ne 0 ]]; then
  echo "--- covefs log (last 20 lines) ---" >&2
  tail -n 20 "$TMP/covefs.log" >&2
  fail "covefs differs from a native directory (run.sh exited $rc)"
fi
echo "PASS [$NAME]"
exit 0
