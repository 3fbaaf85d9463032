#!/usr/bin/env bash
# kill -9 of cove-sync in a loop while files change through the mount (creates, rewrites,
# renames, removes). After the last restart: HEAD's tree equals the working tree, the status
# says the journal is fully acknowledged, and no commit is empty (nothing committed twice).
source "$(dirname "$0")/sync_lib.sh"
sync_setup
start_covefs
mkdir -p "$MNT/k"

writer() {
  local i
  for ((i = 0; i < 1500; i++)); do
    echo "rev $i" >"$MNT/k/f$((i % 40)).txt"
    case $((i % 7)) in
      3) mv -f "$MNT/k/f$((i % 40)).txt" "$MNT/k/moved$((i % 5)).txt" ;;
      5) rm -f "$MNT/k/f$(((i + 13) % 40)).txt" ;;
      6) mkdir -p "$MNT/k/d$((i % 3))" && echo "$i" >"$MNT/k/d$((i % 3))/x$((i % 4)).txt" ;;
    esac
  done
}
writer &
WRITER=$!
BG_PIDS+=("$WRITER")

kills=0
while kill -0 "$WRITER" 2>/dev/null; do
  SYNC_QUIET_MS=20 SYNC_MAX_DELAY_MS=100 start_sync
  # Let it get somewhere (a status written, i.e. at least its start-up batch), then kill it at
  # an arbitrary point of its work.
  wait_until 30 "cove-sync to write its status" test -s "$STATUS"
  sleep "0.$((RANDOM % 4))$((RANDOM % 10))"
  kill -KILL "$SYNC_PID" 2>/dev/null
  wait "$SYNC_PID" 2>/dev/null
  SYNC_PID=""
  rm -f "$STATUS"
  kills=$((kills + 1))
done
wait "$WRITER"
say "writer done after $kills kill -9s; $(journal_last_seq) journal records"
[[ $kills -ge 3 ]] || fail "only $kills kills happened while the writer ran"

start_sync
wait_acked 60
tree_matches || fail "HEAD's tree differs from the working tree: $(git -C "$SRC" status --short | head)"
say "ok   HEAD's tree equals the working tree"
assert_eq "status lag" 0 "$(jq -r .lag "$STATUS")"
assert_eq "last seq committed" "$(journal_last_seq)" "$(jq -r .lastSeqCommitted "$STATUS")"
empty=0
for c in $(git -C "$SRC" rev-list HEAD~0 --no-merges); do
  [[ -n $(git -C "$SRC" diff-tree --no-commit-id -r --root --name-only "$c") ]] || empty=$((empty + 1))
done
assert_eq "empty commits" 0 "$empty"
say "$(git -C "$SRC" rev-list --count HEAD) commits"
pass
