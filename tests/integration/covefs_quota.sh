#!/usr/bin/env bash
# The team's quota: writes and creates past it fail with EDQUOT ("Disk quota exceeded") from a
# container and from the host, the source's disk is not filled, and reads and deletes keep
# working so the team can get back under it.
source "$(dirname "$0")/covefs_lib.sh"
covefs_setup
write_policy '.quotas = {"*": {"bytes": "8MiB", "inodes": 1000}}'
start_covefs

c=$(cid writer)
in_container "$c" agent '
  dd if=/dev/zero of=/workspace/big bs=1M count=32 2>/dev/null; echo "dd=$?"
  cat /workspace/big >/dev/null && echo read=ok
  rm /workspace/big && echo rm=ok
  dd if=/dev/zero of=/workspace/small bs=1M count=2 2>/dev/null && echo small=ok'
assert_rc 0 "agent container"
expect_probe dd 1
expect_probe read ok
expect_probe rm ok
expect_probe small ok
size=$(stat -c %s "$SRC/small")
assert_eq "size of a file within the quota" 2097152 "$size"
[[ -e $SRC/big ]] && fail "big is still in the source"

# Inodes: 1000 in all (the files above count while they exist).
made=0
for i in $(seq 1 1100); do
  if ! : 2>"$TEST_DIR/touch.err" >"$MNT/f$i"; then break; fi
  made=$i
done
(( made < 1000 )) || fail "created $made files under an inode quota of 1000"
grep -q "Disk quota exceeded" "$TEST_DIR/touch.err" || fail "create past the inode quota said: $(cat "$TEST_DIR/touch.err")"
say "ok   creates stop at $made files: $(cat "$TEST_DIR/touch.err")"
rm -f "$MNT"/f* || fail "deleting under a full quota failed"
: >"$MNT/again" || fail "create after deleting failed"
say "ok   deletes work and free the quota"
pass
