#!/usr/bin/env bash
# exec cannot raise privilege above what the agent container was created with: a --process asking
# for every capability is refused; one with the container's original capabilities but user 0 runs
# clamped (uid 1000, no_new_privs 1); `exec --cap CAP_SYS_ADMIN` is refused.
source "$(dirname "$0")/lib.sh"
setup

id=$(cid exec)
new_bundle "$id" agent /bin/sleep 60
bundle=$(bundle_of "$id")
# The process as the bundle asked for it, before the shim rewrote config.json.
jq '.process | .args = ["/bin/cove-probe", "report"] | .terminal = false | .user = {uid: 0, gid: 0}' \
  "$bundle/config.json" >"$TEST_DIR/original-process.json" || fail "cannot derive a process from $bundle/config.json"

capture create 20 "${COVE[@]}" run --detach --bundle "$bundle" "$id"
assert_rc 0 "cove run --detach (agent, sleep 60)"
wait_status "$id" running

# 1. Every capability the kernel knows, in every set, as root.
all_caps='["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_DAC_READ_SEARCH","CAP_FOWNER","CAP_FSETID","CAP_KILL",
  "CAP_SETGID","CAP_SETUID","CAP_SETPCAP","CAP_LINUX_IMMUTABLE","CAP_NET_BIND_SERVICE",
  "CAP_NET_BROADCAST","CAP_NET_ADMIN","CAP_NET_RAW","CAP_IPC_LOCK","CAP_IPC_OWNER","CAP_SYS_MODULE",
  "CAP_SYS_RAWIO","CAP_SYS_CHROOT","CAP_SYS_PTRACE","CAP_SYS_PACCT","CAP_SYS_ADMIN","CAP_SYS_BOOT",
  "CAP_SYS_NICE","CAP_SYS_RESOURCE","CAP_SYS_TIME","CAP_SYS_TTY_CONFIG","CAP_MKNOD","CAP_LEASE",
  "CAP_AUDIT_WRITE","CAP_AUDIT_CONTROL","CAP_SETFCAP","CAP_MAC_OVERRIDE","CAP_MAC_ADMIN","CAP_SYSLOG",
  "CAP_WAKE_ALARM","CAP_BLOCK_SUSPEND","CAP_AUDIT_READ","CAP_PERFMON","CAP_BPF","CAP_CHECKPOINT_RESTORE"]'
jq --argjson caps "$all_caps" \
  '.capabilities = {bounding: $caps, effective: $caps, permitted: $caps, inheritable: $caps, ambient: $caps}
   | .noNewPrivileges = false' \
  "$TEST_DIR/original-process.json" >"$TEST_DIR/all-caps.json" || fail "cannot write all-caps.json"
log_mark
capture exec-all-caps 20 "${COVE[@]}" exec --process "$TEST_DIR/all-caps.json" "$id"
assert_rc_nonzero "cove exec with every capability"
assert_refusal "exec" "CAP_"
assert_stdout_empty "cove exec with every capability"

# 2. The container's original capabilities, as root: runs, clamped.
log_mark
capture exec-original 20 "${COVE[@]}" exec --process "$TEST_DIR/original-process.json" "$id"
assert_rc 0 "cove exec with the original capabilities and user 0"
assert_no_refusal
expect_probe uid 1000
expect_probe gid 1000
expect_probe no_new_privs 1
expect_probe seccomp 2
# CAP_SYS_ADMIN is bit 21; neither the original set nor the agent role has it.
for set in cap_eff cap_prm cap_bnd; do
  v=$(probe_value "$set")
  [[ $v =~ ^[0-9a-f]{16}$ ]] || fail "probe $set is '$v', not 16 hex digits"
  (((0x$v >> 21) & 1)) && fail "exec'd process has CAP_SYS_ADMIN in $set ($v)"
  say "ok   $set = $v has no CAP_SYS_ADMIN"
done

# 3. runc's --cap flag.
log_mark
capture exec-cap 20 "${COVE[@]}" exec --cap CAP_SYS_ADMIN "$id" /bin/cove-probe report
assert_rc_nonzero "cove exec --cap CAP_SYS_ADMIN"
assert_refusal "CAP_SYS_ADMIN"
assert_stdout_empty "cove exec --cap CAP_SYS_ADMIN"
pass
