# shellcheck shell=bash
# Helpers for the cove-sync scenarios (tests/integration/sync_*.sh), on top of covefs_lib.sh:
# the workspace source is a git checkout, covefs serves it, cove-sync commits it.
#
# Environment: COVE_SYNC (the cove-sync binary) besides covefs_lib.sh's.
source "$(dirname "${BASH_SOURCE[0]}")/covefs_lib.sh"

SYNC_PID=""

export GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=tester GIT_AUTHOR_EMAIL=tester@example.org
export GIT_COMMITTER_NAME=tester GIT_COMMITTER_EMAIL=tester@example.org

# sync_setup: covefs_setup, then $SRC becomes a git checkout with one commit (seed.txt).
sync_setup() {
  covefs_setup
  [[ -n ${COVE_SYNC:-} && -x ${COVE_SYNC:-} ]] || skip "COVE_SYNC is not set to the cove-sync binary"
  command -v git >/dev/null || skip "git is missing"
  SYNC_STATE=$TEST_DIR/sync-state
  STATUS=$SYNC_STATE/status.json
  SYNC_LOG=$TEST_DIR/sync.log
  git init -q -b main "$SRC" || fail "git init"
  echo seed >"$SRC/seed.txt"
  git -C "$SRC" add -A && git -C "$SRC" commit -q -m seed || fail "seed commit"
}

# start_sync [ARGS...]: cove-sync on $SRC in the background; quiet period $SYNC_QUIET_MS
# (default 200 ms), maximum delay $SYNC_MAX_DELAY_MS (default 2000 ms).
start_sync() {
  "$COVE_SYNC" --team "$TEAM" --repo "$SRC" --journal "$JOURNAL" --state-dir "$SYNC_STATE" \
    --quiet-ms "${SYNC_QUIET_MS:-200}" --max-delay-ms "${SYNC_MAX_DELAY_MS:-2000}" "$@" >>"$SYNC_LOG" 2>&1 &
  SYNC_PID=$!
  BG_PIDS+=("$SYNC_PID")
  say "cove-sync $SYNC_PID started $*"
}

stop_sync() {
  [[ -n $SYNC_PID ]] || return 0
  kill -TERM "$SYNC_PID" 2>/dev/null
  wait "$SYNC_PID" 2>/dev/null
  SYNC_PID=""
}

# wait_until SECS WHAT CMD...: polls CMD every 50 ms until it succeeds; fails after SECS.
wait_until() {
  local secs=$1 what=$2 i
  shift 2
  for ((i = 0; i < secs * 20; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    if [[ -n $SYNC_PID ]] && ! kill -0 "$SYNC_PID" 2>/dev/null; then
      fail "cove-sync exited while waiting for $what: $(tail -n 20 "$SYNC_LOG")"
    fi
    sleep 0.05
  done
  fail "timed out after ${secs}s waiting for $what; status: $(cat "$STATUS" 2>/dev/null); log: $(tail -n 10 "$SYNC_LOG")"
}

journal_last_seq() {
  journal_lines | tail -n 1 | jq -r '.seq // 0'
}

# acknowledged: the status says every journaled change is committed and nothing is pending.
acknowledged() {
  local last
  last=$(journal_last_seq)
  [[ -s $STATUS ]] || return 1
  jq -e --argjson last "${last:-0}" '.lastSeqCommitted == $last and .pendingCount == 0 and .lag == 0' "$STATUS" >/dev/null
}

wait_acked() {
  wait_until "${1:-30}" "the journal to be fully acknowledged" acknowledged
}

# workdir_tree: the tree git would record for $SRC's working tree (through a throwaway index).
workdir_tree() {
  local idx=$TEST_DIR/throwaway-index
  rm -f "$idx"
  GIT_INDEX_FILE=$idx git -C "$SRC" read-tree HEAD &&
    GIT_INDEX_FILE=$idx git -C "$SRC" add -A &&
    GIT_INDEX_FILE=$idx git -C "$SRC" write-tree
}

head_tree() {
  git -C "$SRC" rev-parse 'HEAD^{tree}'
}

tree_matches() {
  [[ $(head_tree) == "$(workdir_tree)" ]]
}

# author_of PATH: the author names of the commits that touched PATH, newest first, unique.
author_of() {
  git -C "$SRC" log --format='%an <%ae>' -- "$1" | awk '!seen[$0]++'
}
