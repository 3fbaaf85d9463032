#!/usr/bin/env bash
# cove-sync with a bare repository as remote: local commits are pushed; a concurrent push from
# elsewhere is merged in; a conflicting one sends the local work to cove/conflict/<time> on the
# remote and leaves the working tree at the remote's state. Nothing is lost either way.
source "$(dirname "$0")/sync_lib.sh"
sync_setup
BARE=$TEST_DIR/remote.git
OTHER=$TEST_DIR/other
git init -q --bare -b main "$BARE" || fail "git init --bare"
echo "base" >"$SRC/shared.txt"
git -C "$SRC" add -A && git -C "$SRC" commit -q -m shared && git -C "$SRC" push -q "$BARE" main || fail "seed push"
git clone -q "$BARE" "$OTHER" || fail "clone"
start_covefs
# Remote rounds only after commits (a long fetch period), so every step below is deterministic.
start_sync --remote "$BARE" --branch main --fetch-interval-ms 600000

remote_has() { # BRANCH PATH CONTENT
  [[ $(git --git-dir="$BARE" show "$1:$2" 2>/dev/null) == "$3" ]]
}

# 1. A write through the mount is committed and pushed.
echo "one" >"$MNT/one.txt"
wait_until 30 "one.txt on the remote" remote_has main one.txt one
say "ok   local commit pushed"

# 2. Someone else pushes; we write a different file: merged, pushed, both kept.
echo "from elsewhere" >"$OTHER/other.txt"
git -C "$OTHER" pull -q --no-rebase origin main && git -C "$OTHER" add -A && git -C "$OTHER" commit -q -m other &&
  git -C "$OTHER" push -q origin main || fail "the other clone's push"
echo "two" >"$MNT/two.txt"
wait_until 30 "the merge on the remote" remote_has main two.txt two
remote_has main other.txt "from elsewhere" || fail "the other clone's commit is missing from the remote"
assert_eq "local main equals the remote" "$(git --git-dir="$BARE" rev-parse main)" "$(git -C "$SRC" rev-parse main)"
assert_eq "parents of the merge commit" 2 "$(git -C "$SRC" log -1 --format=%P | wc -w)"
assert_eq "other.txt in the working tree (through the mount)" "from elsewhere" "$(cat "$MNT/other.txt")"
wait_acked 30
tree_matches || fail "HEAD's tree differs from the working tree after the merge"
say "ok   merge kept both sides"

# 3. Both change shared.txt: conflict.
git -C "$OTHER" pull -q --no-rebase origin main
echo "their version" >"$OTHER/shared.txt"
git -C "$OTHER" commit -q -am theirs && git -C "$OTHER" push -q origin main || fail "the other clone's push"
echo "our version" >"$MNT/shared.txt"
wait_until 30 "a conflict in the status" jq -e '.conflicts | length == 1' "$STATUS"
side=$(jq -r '.conflicts[0].branch' "$STATUS")
[[ $side == cove/conflict/* ]] || fail "conflict branch name: $side"
assert_eq "conflict paths" '["shared.txt"]' "$(jq -c '.conflicts[0].paths' "$STATUS")"
assert_eq "our version on the remote's $side" "our version" "$(git --git-dir="$BARE" show "$side:shared.txt")"
assert_eq "their version on the remote's main" "their version" "$(git --git-dir="$BARE" show main:shared.txt)"
wait_until 30 "the working tree to follow the remote" grep -qx "their version" "$SRC/shared.txt"
assert_eq "shared.txt through the mount" "their version" "$(cat "$MNT/shared.txt")"
assert_eq "local main equals the remote" "$(git --git-dir="$BARE" rev-parse main)" "$(git -C "$SRC" rev-parse main)"
wait_acked 30
tree_matches || fail "HEAD's tree differs from the working tree after the conflict"
# Nothing lost: every file ever written is on the remote's main or the conflict branch.
for f in one.txt two.txt other.txt; do
  git --git-dir="$BARE" cat-file -e "main:$f" || fail "$f lost from the remote's main"
done
say "ok   conflict kept both sides, working tree clean"
pass
