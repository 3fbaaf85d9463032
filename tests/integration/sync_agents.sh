#!/usr/bin/env bash
# Two agent containers write through one covefs mount; cove-sync commits their changes with the
# right author and only the paths each one touched. An edit made on the host, outside FUSE, is
# committed too, by "cove-sync". The status ends with the journal fully acknowledged.
source "$(dirname "$0")/sync_lib.sh"
sync_setup
start_covefs
start_sync

AGENT=alice in_container "$(cid alice)" agent '
  mkdir -p /workspace/src && echo "export const a = 1" > /workspace/src/alice.ts && echo wrote=ok'
assert_rc 0 "alice's container"
expect_probe wrote ok
AGENT=bob in_container "$(cid bob)" agent '
  echo "# notes by bob" > /workspace/bob.md && rm /workspace/seed.txt && echo wrote=ok'
assert_rc 0 "bob's container"
expect_probe wrote ok
echo "edited on the host" >"$SRC/host-side.txt"

wait_acked 30
wait_until 30 "the host-side edit to be committed" git -C "$SRC" cat-file -e HEAD:host-side.txt
assert_eq "author of src/alice.ts" "alice <alice@$TEAM.cove>" "$(author_of src/alice.ts)"
assert_eq "author of bob.md" "bob <bob@$TEAM.cove>" "$(author_of bob.md)"
assert_eq "who removed seed.txt" "bob" "$(git -C "$SRC" log -1 --format=%an -- seed.txt)"
assert_eq "author of host-side.txt" "cove-sync <cove-sync@$TEAM.cove>" "$(author_of host-side.txt)"
assert_eq "content of src/alice.ts in HEAD" "export const a = 1" "$(git -C "$SRC" show HEAD:src/alice.ts)"
# Each agent's commit touches only its own paths.
for c in $(git -C "$SRC" log --format=%H --author=alice); do
  assert_eq "paths in alice's commit ${c:0:8}" "src/alice.ts" "$(git -C "$SRC" diff-tree --no-commit-id --name-only -r "$c")"
done
for c in $(git -C "$SRC" log --format=%H --author=bob); do
  assert_eq "paths in bob's commit ${c:0:8}" "bob.md seed.txt" \
    "$(git -C "$SRC" diff-tree --no-commit-id --name-only -r "$c" | sort | tr '\n' ' ' | sed 's/ $//')"
done
tree_matches || fail "HEAD's tree differs from the working tree: $(git -C "$SRC" status --short)"
say "ok   HEAD's tree equals the working tree"
index_clean() { [[ -z $(git -C "$SRC" status --porcelain) ]]; }
wait_until 10 "the index to follow HEAD (git status clean; refreshed at most once a second)" index_clean
say "ok   git status is clean: the index follows HEAD"
assert_eq "status lag" "0" "$(jq -r .lag "$STATUS")"
loop=$(jq -r .loop "$STATUS")
[[ $loop == io_uring || $loop == epoll ]] || fail "status loop: $loop"
say "ok   event loop $loop"
pass
