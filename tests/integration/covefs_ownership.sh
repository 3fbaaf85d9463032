#!/usr/bin/env bash
# UID/GID mapping: containers see the configured owner (1000:1000) on every file; what they create
# is owned on disk by the workspace's host owner whatever uid they run as (root included);
# setuid/setgid bits never land on disk from a container; device nodes are refused.
source "$(dirname "$0")/covefs_lib.sh"
covefs_setup
chown 4242:4343 "$SRC"
echo hi >"$SRC/existing"
chown 0:0 "$SRC/existing"
# A variant of the agent role that keeps the image's user (root), to show root is mapped too.
write_policy 'del(.roles.agent.user)'
start_covefs

c1=$(cid as1000)
EXTRA_ENV="COVE_TEAM=$TEAM" new_bundle "$c1" preview /bin/sh -c 'stat -c "seen=%u:%g" /workspace/existing'
run_container "$c1" 30
assert_rc 0 "preview container"
expect_probe seen 1000:1000

c2=$(cid asroot)
EXTRA_ENV="COVE_TEAM=$TEAM" new_bundle "$c2" agent /bin/sh -c '
  echo "uid=$(id -u)"
  echo data > /workspace/made-by-root && echo made=ok
  chmod 4755 /workspace/made-by-root && echo chmod=ok
  stat -c "mode=%a" /workspace/made-by-root'
# Root with Docker's default capabilities (the agent role keeps DAC_OVERRIDE and FOWNER of them).
edit_config "$c2" '.process.user = {uid: 0, gid: 0}
  | .process.capabilities = ({bounding: $c, effective: $c, permitted: $c})' \
  --argjson c '["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_FOWNER","CAP_FSETID","CAP_SETUID","CAP_SETGID","CAP_KILL"]'
run_container "$c2" 30
assert_rc 0 "agent container running as root"
expect_probe uid 0
expect_probe made ok
assert_eq "owner on disk of a file root created in a container" "4242:4343" "$(stat -c %u:%g "$SRC/made-by-root")"
mode=$(stat -c %a "$SRC/made-by-root")
(( (8#$mode & 8#6000) == 0 )) || fail "setuid/setgid reached the disk: mode $mode"
say "ok   mode on disk $mode has no setuid/setgid"

# Device nodes, even from host root through the mount.
if mknod "$MNT/null2" c 1 3 2>"$TEST_DIR/mknod.err"; then
  fail "mknod of a character device through covefs succeeded"
fi
grep -q "Operation not permitted" "$TEST_DIR/mknod.err" || fail "mknod error: $(cat "$TEST_DIR/mknod.err")"
say "ok   device node refused: $(cat "$TEST_DIR/mknod.err")"
pass
