#!/usr/bin/env bash
# covefs --journal-group: a consumer running as another user (cove-sync in the sync container
# runs as uid 1000) reads the journal when it is in the readers' group, and only then; segments
# created after the mount get the same access.
source "$(dirname "$0")/covefs_lib.sh"
covefs_setup
command -v setpriv >/dev/null || skip "setpriv is missing (util-linux)"
GROUP=4321
chmod 0711 "$TEST_DIR"  # let uid 1000 reach $TEST_DIR/journal (and nothing else in it)
start_covefs --journal-group "$GROUP"

echo one >"$MNT/one.txt" || fail "write through the mount failed"
expect_journal 'select(.op=="create" and .path=="one.txt")' "create one.txt"

# as_reader GROUPS: reads every segment as uid 1000 with these supplementary groups.
as_reader() {
  setpriv --reuid=1000 --regid=1000 --groups="$1" sh -c 'cat "$0"/*.log' "$JOURNAL" 2>&1
}
out=$(as_reader "$GROUP") || fail "uid 1000 in group $GROUP cannot read the journal: $out"
grep -q '"path":"one.txt"' <<<"$out" || fail "the reader did not see the create of one.txt: $out"
say "ok   uid 1000 in group $GROUP reads the journal"
if out=$(as_reader 1000); then
  fail "uid 1000 outside group $GROUP read the journal: $out"
fi
say "ok   uid 1000 outside the group is refused: $(head -n 1 <<<"$out")"
assert_eq "journal directory mode" "750 $GROUP" "$(stat -c '%a %g' "$JOURNAL")"
for f in "$JOURNAL"/*; do
  assert_eq "mode of $(basename "$f")" "640 $GROUP" "$(stat -c '%a %g' "$f")"
done
pass
