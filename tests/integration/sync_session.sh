#!/usr/bin/env bash
# A write session in its own worktree: `cove-sync session add` makes .worktrees/s1 on branch
# cove/session/s1; an agent container writes there while another writes in the main checkout,
# through the same covefs mount. The session's daemon commits on the session's branch, the main
# daemon on main, neither takes the other's files; removing the session keeps its branch.
source "$(dirname "$0")/sync_lib.sh"
sync_setup
"$COVE_SYNC" session add --repo "$SRC" s1 >"$TEST_DIR/session.out" 2>&1 || fail "session add: $(cat "$TEST_DIR/session.out")"
assert_eq "session branch" "cove/session/s1" "$(git -C "$SRC/.worktrees/s1" rev-parse --abbrev-ref HEAD)"
start_covefs
start_sync
MAIN_PID=$SYNC_PID
MAIN_STATUS=$STATUS
STATUS=$SYNC_STATE-s1/status.json
"$COVE_SYNC" --team "$TEAM" --repo "$SRC" --journal "$JOURNAL" --state-dir "$SYNC_STATE-s1" --session s1 \
  --quiet-ms 200 >>"$SYNC_LOG" 2>&1 &
SESSION_PID=$!
BG_PIDS+=("$SESSION_PID")

AGENT=alice in_container "$(cid alice)" agent '
  echo "export const feature = 1" > /workspace/.worktrees/s1/feature.ts && echo wrote=ok'
assert_rc 0 "alice's container (session s1)"
expect_probe wrote ok
AGENT=bob in_container "$(cid bob)" agent 'echo "main work" > /workspace/main.txt && echo wrote=ok'
assert_rc 0 "bob's container (main checkout)"
expect_probe wrote ok

wait_until 30 "feature.ts on cove/session/s1" git -C "$SRC" cat-file -e cove/session/s1:feature.ts
wait_until 30 "main.txt on main" git -C "$SRC" cat-file -e main:main.txt
assert_eq "author on the session branch" "alice" "$(git -C "$SRC" log -1 --format=%an cove/session/s1 -- feature.ts)"
assert_eq "author on main" "bob" "$(git -C "$SRC" log -1 --format=%an main -- main.txt)"
git -C "$SRC" cat-file -e main:.worktrees/s1/feature.ts 2>/dev/null && fail "main committed the session's file"
git -C "$SRC" cat-file -e cove/session/s1:main.txt 2>/dev/null && fail "the session committed main's file"
say "ok   each branch holds only its own checkout's work"
assert_eq ".gitignore ignores the worktrees" "/.worktrees/" "$(git -C "$SRC" show main:.gitignore)"

kill -TERM "$SESSION_PID" && wait "$SESSION_PID"
"$COVE_SYNC" session remove --repo "$SRC" s1 >"$TEST_DIR/remove.out" 2>&1 || fail "session remove: $(cat "$TEST_DIR/remove.out")"
[[ -e $SRC/.worktrees/s1 ]] && fail "the worktree is still there"
assert_eq "the session's branch stays" "export const feature = 1" "$(git -C "$SRC" show cove/session/s1:feature.ts)"
STATUS=$MAIN_STATUS
SYNC_PID=$MAIN_PID
wait_acked 30
pass
