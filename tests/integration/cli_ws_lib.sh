# shellcheck shell=bash
# Helpers for the cove watch / fsmonitor scenarios (tests/integration/cli_watch.sh,
# cli_fsmonitor.sh): covefs serving a temp directory without containers or a policy (every
# caller gets the default read-write view), its journal in the temp dir, cleanup that unmounts.
# On top of lib.sh (say, fail, pass, capture, cleanup) without its runc requirements.
#
# Environment: COVE_CLI (the cove binary), COVEFS (the covefs binary).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TEAM=t$$
COVEFS_PID=""

ws_setup() {
  [[ $(id -u) -eq 0 ]] || skip "needs root (FUSE mount with fanotify)"
  [[ -c /dev/fuse ]] || skip "/dev/fuse is missing"
  command -v fusermount3 >/dev/null || skip "fusermount3 is missing (apt-get install fuse3)"
  command -v jq >/dev/null || skip "jq is not installed"
  [[ -n ${COVEFS:-} && -x ${COVEFS:-} ]] || skip "COVEFS is not set to the covefs binary"
  [[ -n ${COVE_CLI:-} && -x ${COVE_CLI:-} ]] || skip "COVE_CLI is not set to the cove binary"
  TEST_DIR=$(mktemp -d /tmp/cove-cli-ws.XXXXXX) || fail "mktemp failed"
  trap cleanup EXIT
  trap 'exit 130' INT TERM
  SRC=$TEST_DIR/src
  MNT=$TEST_DIR/mnt
  JOURNAL=$TEST_DIR/journal
  mkdir -p "$SRC" "$MNT"
  CLEANUP_HOOKS+=("ws_unmount")
}

# ws_mount [EXTRA_ARGS...]: covefs serves $SRC at $MNT (owners passed through, so git run as
# root trusts the repository).
ws_mount() {
  "$COVEFS" -f --team "$TEAM" --source "$SRC" --mountpoint "$MNT" --journal "$JOURNAL" \
    --state-dir "$TEST_DIR/state" --owner none "$@" >>"$TEST_DIR/covefs.log" 2>&1 &
  COVEFS_PID=$!
  BG_PIDS+=("$COVEFS_PID")
  local i
  for i in $(seq 200); do
    if grep -q " $MNT fuse.covefs " /proc/mounts && ls "$MNT" >/dev/null 2>&1; then
      return 0
    fi
    kill -0 "$COVEFS_PID" 2>/dev/null || fail "covefs exited before mounting: $(cat "$TEST_DIR/covefs.log")"
    sleep 0.05
  done
  fail "covefs did not mount $MNT in 10 s: $(cat "$TEST_DIR/covefs.log")"
}

# ws_unmount: unmounts and waits for covefs to exit (it marks its journal stopped on the way).
ws_unmount() {
  if [[ -n ${MNT:-} ]] && grep -q " $MNT fuse" /proc/mounts 2>/dev/null; then
    fusermount3 -u "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null
  fi
  if [[ -n $COVEFS_PID ]]; then
    local i
    for i in $(seq 100); do
      kill -0 "$COVEFS_PID" 2>/dev/null || break
      sleep 0.05
    done
    wait "$COVEFS_PID" 2>/dev/null
    COVEFS_PID=""
  fi
}
