# shellcheck shell=bash
# Helpers for the covefs scenarios (tests/integration/covefs_*.sh), on top of lib.sh: a source
# directory, covefs mounted at the team's workspace mountpoint (where cove-runtime binds it into
# containers), its journal, and cleanup that unmounts whatever happens.
#
# Environment: COVEFS (the covefs binary) besides lib.sh's.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TEAM=alpha
COVEFS_PID=""

covefs_setup() {
  setup
  [[ -c /dev/fuse ]] || skip "/dev/fuse is missing"
  [[ -n ${COVEFS:-} && -x ${COVEFS:-} ]] || skip "COVEFS is not set to the covefs binary"
  command -v fusermount3 >/dev/null || skip "fusermount3 is missing (apt-get install fuse3)"
  SRC=$TEST_DIR/src
  MNT=$WORKSPACE_ROOT/$TEAM
  JOURNAL=$TEST_DIR/journal
  mkdir -p "$SRC" "$MNT"
  CLEANUP_HOOKS+=("covefs_unmount")
}

# start_covefs [EXTRA_ARGS...]: mounts $SRC at $MNT in the background and waits for the mount.
start_covefs() {
  "$COVEFS" -f --team "$TEAM" --source "$SRC" --mountpoint "$MNT" --policy "$POLICY" \
    --state-dir "$STATE_DIR" --journal "$JOURNAL" "$@" >"$TEST_DIR/covefs.log" 2>&1 &
  COVEFS_PID=$!
  BG_PIDS+=("$COVEFS_PID")
  local i
  for i in $(seq 100); do
    if grep -q " $MNT fuse.covefs " /proc/mounts && ls "$MNT" >/dev/null 2>&1; then
      say "covefs $COVEFS_PID mounted $SRC at $MNT"
      return 0
    fi
    kill -0 "$COVEFS_PID" 2>/dev/null || fail "covefs exited before mounting: $(cat "$TEST_DIR/covefs.log")"
    sleep 0.05
  done
  fail "covefs did not mount $MNT in 5 s: $(cat "$TEST_DIR/covefs.log")"
}

covefs_unmount() {
  if [[ -n ${MNT:-} ]] && grep -q " $MNT fuse" /proc/mounts 2>/dev/null; then
    fusermount3 -u "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null
  fi
  if [[ -n $COVEFS_PID ]]; then
    local i
    for i in $(seq 50); do
      kill -0 "$COVEFS_PID" 2>/dev/null || break
      sleep 0.1
    done
  fi
}

# journal_lines: every journal record so far, one JSON object per line.
journal_lines() {
  cat "$JOURNAL"/*.log 2>/dev/null
}

# expect_journal JQ_SELECT WHAT: some record matches the jq filter (e.g. 'select(.op=="create")').
expect_journal() {
  local n
  n=$(journal_lines | jq -c "$1" 2>/dev/null | wc -l)
  [[ $n -ge 1 ]] || fail "journal has no record for $2 ($1): $(journal_lines | tail -n 20)"
  say "ok   journal records $2"
}

# in_container ID ROLE SCRIPT: runs `sh -c SCRIPT` in a container of ROLE of team $TEAM; output in
# $OUT, status in $RC.
in_container() {
  local id=$1 role=$2 script=$3
  EXTRA_ENV="COVE_TEAM=$TEAM COVE_AGENT=${AGENT:-$id}" new_bundle "$id" "$role" /bin/sh -c "$script"
  run_container "$id" 60
}
