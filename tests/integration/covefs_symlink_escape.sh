#!/usr/bin/env bash
# Symlinks planted in the source never make covefs touch a file outside it: lchown, lutimes and
# chmod act on the link itself, and a create over a name where a symlink was planted behind the
# kernel's back fails instead of following it (libfuse's passthrough_hp truncates the target).
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

# The kernel caches "newfile does not exist"; the host plants a symlink there; a create through
# the mount must not follow it.
ls "$MNT/newfile" 2>/dev/null && fail "newfile exists already"
ln -s "$OUTSIDE/secret" "$SRC/newfile"
if (echo overwritten >"$MNT/newfile") 2>"$TEST_DIR/create.err"; then
  # The create may also have seen the symlink after the negative entry expired and followed it
  # in the caller's namespace: that is the caller's own access, not covefs'. Only covefs must
  # never write through it, which the content check below decides.
  say "note create succeeded: $(cat "$TEST_DIR/create.err")"
fi
assert_eq "host file content" "host secret" "$(cat "$OUTSIDE/secret")"

# From inside a container the absolute target resolves in the container's own root.
c=$(cid ctr)
EXTRA_ENV="COVE_TEAM=$TEAM" new_bundle "$c" agent /bin/sh -c '
  cat /workspace/link 2>/dev/null && echo read=leaked || echo read=blocked
  : > /workspace/link 2>/dev/null; echo truncate=done'
run_container "$c" 30
expect_probe read blocked
assert_eq "host file after a container truncated the link" "$before" "$(stat -c '%u:%g %a %Y %s' "$OUTSIDE/secret")"
pass
