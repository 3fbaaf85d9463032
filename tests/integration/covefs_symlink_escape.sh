#!/usr/bin/env bash
# Symlinks planted in the source never make covefs touch a file outside it: lchown and lutimes act
# on the link itself, and a container that reads or truncates the link reaches its own root's
# file, never the host's.
source "$(dirname "$0")/covefs_lib.sh"
covefs_setup
OUTSIDE=$TEST_DIR/outside
mkdir -p "$OUTSIDE"
echo 'host secret' >"$OUTSIDE/secret"
chmod 600 "$OUTSIDE/secret"
touch -d '2001-01-01 00:00:00' "$OUTSIDE/secret"
before=$(stat -c '%u:%g %a %Y %s' "$OUTSIDE/secret")
ln -s "$OUTSIDE/secret" "$SRC/link"
start_covefs --owner none

chown -h 1234:1234 "$MNT/link" || fail "lchown through the mount failed"
touch -h -d '2020-02-02 00:00:00' "$MNT/link" || fail "lutimes through the mount failed"
assert_eq "the link itself changed owner" "1234:1234" "$(stat -c %u:%g "$SRC/link")"
assert_eq "host file untouched by lchown/lutimes" "$before" "$(stat -c '%u:%g %a %Y %s' "$OUTSIDE/secret")"

# (A create over a name where a symlink was planted behind the kernel's back is covered by the
# unit test FsSafety.CreateNeverFollowsAPlantedSymlink: here covefs' invalidation makes the kernel
# see the symlink first, and host root following it is host root's own access.)

# From inside a container the absolute target resolves in the container's own root.
c=$(cid ctr)
EXTRA_ENV="COVE_TEAM=$TEAM" new_bundle "$c" agent /bin/sh -c '
  cat /workspace/link 2>/dev/null && echo read=leaked || echo read=blocked
  : > /workspace/link 2>/dev/null; echo truncate=done'
run_container "$c" 30
expect_probe read blocked
assert_eq "host file after a container truncated the link" "$before" "$(stat -c '%u:%g %a %Y %s' "$OUTSIDE/secret")"
pass
