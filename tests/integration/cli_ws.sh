#!/usr/bin/env bash
# `cove ws` on real parts: create (a new repository, then a clone of it), mount (real covefs,
# a second mount refused with covefs's own error), status (mount answering, journal, a real
# cove-sync's lag), write and read-only sessions (worktrees through the sync library), and gc
# of two runc containers started through cove-runtime: the one that wrote through covefs is
# busy, the one that never wrote and whose record says it was created 3 h ago is idle and is
# the only one stopped.
source "$(dirname "$0")/cli_lib.sh"
source "$(dirname "$0")/sync_lib.sh"
require_cli
covefs_setup
[[ -n ${COVE_SYNC:-} && -x ${COVE_SYNC:-} ]] || skip "COVE_SYNC is not set to the cove-sync binary"
command -v git >/dev/null || skip "git is missing"

PATHS=(--workspaces-root "$TEST_DIR/ws" --mounts-root "$WORKSPACE_ROOT" --journal-root "$TEST_DIR/journal"
  --sync-root "$TEST_DIR/sync")
WS=$TEST_DIR/ws/$TEAM
JOURNAL=$TEST_DIR/journal/$TEAM
SYNC_STATE=$TEST_DIR/sync/$TEAM
STATUS=$SYNC_STATE/status.json
SYNC_LOG=$TEST_DIR/sync.log
SRC=$WS
rmdir "$MNT"  # ws mount makes the mountpoint itself

ws() {
  capture "ws-$1" 60 "$COVE_CLI" ws "${@:2}"
  [[ $RC -ne 124 ]] || fail "cove ws $2 did not finish in 60 s"
}

ws create create "$TEAM" "${PATHS[@]}" --json
assert_rc 0 "ws create (new repository)"
assert_eq "branch" main "$(jq -r .branch "$OUT")"
head=$(jq -r .head "$OUT")
assert_eq "HEAD is the repository's" "$(git -c safe.directory='*' -C "$WS" rev-parse HEAD)" "$head"
assert_eq "owner of the checkout" 1000:1000 "$(stat -c %u:%g "$WS/.git/HEAD")"
ws create-again create "$TEAM" "${PATHS[@]}"
assert_rc 2 "ws create on an existing workspace"
assert_contains "refusal" "exists and is not empty" "$ERR"

ws clone create beta --repo "file://$WS" --branch main "${PATHS[@]}" --owner none --json
assert_rc 0 "ws create --repo (clone)"
assert_eq "clone HEAD" "$head" "$(jq -r .head "$OUT")"

ws mount mount "$TEAM" "${PATHS[@]}" --covefs "$COVEFS" --policy "$POLICY" --state-dir "$STATE_DIR" \
  --journal-group 4321 --json
assert_rc 0 "ws mount"
COVEFS_PID=$(jq -r .pid "$OUT")
BG_PIDS+=("$COVEFS_PID")
grep -q " $MNT fuse.covefs " /proc/mounts || fail "no fuse.covefs mount at $MNT"
say "ok   covefs $COVEFS_PID mounted at $MNT"
assert_eq "the journal's readers' group (--journal-group)" "750 4321" "$(stat -c '%a %g' "$(jq -r .journal "$OUT")")"
assert_eq "pidfile" "$COVEFS_PID" "$(cat "$MNT.covefs.pid")"
ws mount-again mount "$TEAM" "${PATHS[@]}" --covefs "$COVEFS" --policy "$POLICY" --state-dir "$STATE_DIR"
assert_rc 1 "a second ws mount"
assert_contains "covefs's own words" "covefs: " "$ERR"
assert_eq "the first covefs still serves" "$COVEFS_PID" "$(cat "$MNT.covefs.pid")"

mkdir -p "$SYNC_STATE"
start_sync
echo one >"$MNT/one.txt" || fail "write through covefs"
wait_acked 30
ws status status "$TEAM" "${PATHS[@]}" --json
assert_rc 0 "ws status"
t='.teams[0]'
assert_eq "status branch" main "$(jq -r "$t.branch" "$OUT")"
assert_eq "status answering" true "$(jq -r "$t.mount.answering" "$OUT")"
assert_eq "status covefs pid" "$COVEFS_PID" "$(jq -r "$t.mount.pid" "$OUT")"
assert_eq "status journal last seq" "$(journal_last_seq)" "$(jq -r "$t.journal.lastSeq" "$OUT")"
assert_eq "status sync running" true "$(jq -r "$t.sync.running" "$OUT")"
assert_eq "status sync pid" "$SYNC_PID" "$(jq -r "$t.sync.pid" "$OUT")"
assert_eq "status sync lag" 0 "$(jq -r "$t.sync.lag" "$OUT")"
assert_eq "status head moved (cove-sync committed)" "$(git -c safe.directory='*' -C "$WS" rev-parse HEAD)" \
  "$(jq -r "$t.head" "$OUT")"

ws session-add session add "$TEAM" fix-login --write "${PATHS[@]}" --json
assert_rc 0 "ws session add --write"
assert_eq "session path" "$WS/.worktrees/fix-login" "$(jq -r .path "$OUT")"
[[ -f $WS/.worktrees/fix-login/.git ]] || fail "no worktree at $WS/.worktrees/fix-login"
git -c safe.directory='*' -C "$WS" rev-parse -q --verify refs/heads/cove/session/fix-login >/dev/null ||
  fail "no branch cove/session/fix-login"
say "ok   worktree and branch cove/session/fix-login"
ws session-ro session add "$TEAM" reviewer "${PATHS[@]}" --json
assert_rc 0 "ws session add (read-only)"
assert_eq "read-only session path" "$WS" "$(jq -r .path "$OUT")"
ws status-sessions status "$TEAM" "${PATHS[@]}" --json
assert_eq "sessions listed" fix-login "$(jq -r '.teams[0].sessions | map(.name) | join(",")' "$OUT")"
ws session-remove session remove "$TEAM" fix-login "${PATHS[@]}"
assert_rc 0 "ws session remove"
[[ ! -e $WS/.worktrees/fix-login ]] || fail "worktree still there"
git -c safe.directory='*' -C "$WS" rev-parse -q --verify refs/heads/cove/session/fix-login >/dev/null ||
  fail "the branch went with the worktree"
say "ok   worktree removed, branch kept"

# gc: two containers of team alpha on the covefs mount (the policy's workspaceRoot is the
# mounts root, so cove-runtime binds $MNT at /workspace).
busy=$(cid busy)
EXTRA_ENV="COVE_TEAM=$TEAM COVE_AGENT=a1" new_bundle "$busy" agent /bin/sh -c 'echo hi >/workspace/from-busy.txt; sleep 120'
capture run-busy 30 "${COVE[@]}" run --detach --bundle "$(bundle_of "$busy")" "$busy"
assert_rc 0 "run the busy container"
quiet=$(cid quiet)
EXTRA_ENV="COVE_TEAM=$TEAM COVE_AGENT=a2" new_bundle "$quiet" preview /bin/sleep 120
capture run-quiet 30 "${COVE[@]}" run --detach --bundle "$(bundle_of "$quiet")" "$quiet"
assert_rc 0 "run the quiet container"
wait_status "$busy" running
wait_status "$quiet" running
wait_until 30 "the busy container's write in the journal" \
  bash -c "cat '$JOURNAL'/*.log | jq -e --arg c '$busy' 'select(.container == \$c and .path == \"from-busy.txt\")'"
# The quiet container was "created" 3 hours ago.
rec=$STATE_DIR/containers/$quiet.json
jq '.created = (now - 3 * 3600 | todate)' "$rec" >"$rec.new" && mv "$rec.new" "$rec" || fail "edit $rec"

ws gc-list gc --idle 2h --state-dir "$STATE_DIR" "${PATHS[@]}" --json
assert_rc 0 "ws gc (list)"
c() { jq -r --arg id "$1" ".containers[] | select(.id == \$id) | $2" "$OUT"; }
assert_eq "busy idle" false "$(c "$busy" .idle)"
assert_eq "busy last write seq" "$(cat "$JOURNAL"/*.log | jq -r --arg c "$busy" 'select(.container == $c) | .seq' | tail -n1)" \
  "$(c "$busy" .lastWriteSeq)"
assert_eq "quiet idle" true "$(c "$quiet" .idle)"
assert_eq "quiet has no write" null "$(c "$quiet" .lastWriteSeq)"
assert_eq "nothing stopped without --stop" running "$(container_status "$quiet")"

# sleep as PID 1 of its namespace ignores SIGTERM: the grace period ends in SIGKILL.
ws gc-stop gc --idle 2h --stop --grace 1s --state-dir "$STATE_DIR" "${PATHS[@]}" --json
assert_rc 0 "ws gc --stop"
assert_eq "quiet stopped" true "$(c "$quiet" .stopped)"
assert_eq "quiet needed SIGKILL" SIGKILL "$(c "$quiet" .signal)"
assert_eq "busy not stopped" false "$(c "$busy" .stopped)"
assert_eq "quiet container" stopped "$(container_status "$quiet")"
assert_eq "busy still running" running "$(container_status "$busy")"

ws gc-bad gc --idle soon --state-dir "$STATE_DIR"
assert_rc 2 "ws gc --idle soon"
pass
