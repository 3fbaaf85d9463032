#!/usr/bin/env bash
# covefs serves the source directory: bytes written through the mount land in the source, renames
# and unlinks show on both sides, every change is journaled, a second covefs on the same
# mountpoint is refused with a clear message, and `fusermount3 -u` unmounts it cleanly.
source "$(dirname "$0")/covefs_lib.sh"
covefs_setup
start_covefs

printf 'hello from the host\n' >"$MNT/a.txt" || fail "write through the mount failed"
assert_eq "bytes in the source" "hello from the host" "$(cat "$SRC/a.txt")"
mkdir -p "$MNT/src/lib" || fail "mkdir -p through the mount failed"
echo 'export const x = 1' >"$MNT/src/lib/x.ts" || fail "write src/lib/x.ts failed"
mv "$MNT/src/lib/x.ts" "$MNT/src/lib/y.ts" || fail "rename through the mount failed"
[[ -f $SRC/src/lib/y.ts && ! -e $SRC/src/lib/x.ts ]] || fail "rename not reflected in the source"
rm "$MNT/a.txt" || fail "unlink failed"
[[ ! -e $SRC/a.txt ]] || fail "unlink not reflected in the source"
[[ -e $MNT/host.txt ]] && fail "host.txt exists before it was made"  # the kernel now caches "absent"
echo 'from the source side' >"$SRC/host.txt"
# The kernel cached "absent" for 60 s; covefs invalidates it when the source changes.
for _ in $(seq 50); do [[ -e $MNT/host.txt ]] && break; sleep 0.05; done
assert_eq "a file made in the source is visible" "from the source side" "$(cat "$MNT/host.txt")"

expect_journal 'select(.op=="create" and .path=="a.txt")' "create a.txt"
expect_journal 'select(.op=="write" and .path=="a.txt")' "write a.txt"
expect_journal 'select(.op=="mkdir" and .path=="src/lib")' "mkdir src/lib"
expect_journal 'select(.op=="rename" and .path=="src/lib/x.ts" and .path2=="src/lib/y.ts")' "rename x.ts -> y.ts"
expect_journal 'select(.op=="unlink" and .path=="a.txt")' "unlink a.txt"
seqs=$(journal_lines | jq -s '[.[].seq] | (. == (. | sort)) and (. | length) == (. | unique | length)')
assert_eq "journal seqs strictly increase" true "$seqs"

# A second covefs on the same mountpoint is refused.
capture second 10 "$COVEFS" -f --team "$TEAM" --source "$SRC" --mountpoint "$MNT" --journal "$TEST_DIR/j2"
assert_rc_nonzero "second covefs on $MNT"
grep -q "already mounted" "$ERR" || fail "second covefs did not say the mountpoint is in use: $(cat "$ERR")"
say "ok   second covefs refused: $(head -n1 "$ERR")"

fusermount3 -u "$MNT" || fail "fusermount3 -u $MNT failed"
for _ in $(seq 50); do kill -0 "$COVEFS_PID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$COVEFS_PID" 2>/dev/null && fail "covefs still running after unmount"
wait "$COVEFS_PID"
assert_eq "covefs exit status after unmount" 0 "$?"
grep -q " $MNT " /proc/mounts && fail "$MNT still mounted"
pass
