#!/usr/bin/env bash
# An agent container gets the agent role's security settings and limits: seccomp filter, no new
# privileges, uid/gid 1000 with no effective capabilities, 2 GiB / 512 MiB memory, 512 pids,
# one CPU, and the escape-prone syscalls fail with EPERM. The decision is audited and recorded.
source "$(dirname "$0")/lib.sh"
setup

id=$(cid agent)
new_bundle "$id" agent
run_container "$id"
assert_rc 0 "cove run (agent, cove-probe report)"

expect_probe seccomp 2
expect_probe no_new_privs 1
expect_probe cap_eff 0000000000000000
expect_probe uid 1000
expect_probe gid 1000
expect_probe memory_limit 2147483648
expect_probe memory_reservation 536870912
expect_probe pids_limit 512
expect_probe cpu_quota 100000
expect_probe cpu_period 100000
for sys in unshare_newuser mount keyctl add_key bpf ptrace perf_event_open userfaultfd io_uring_setup; do
  expect_probe "sys_$sys" EPERM
done

assert_file "$AUDIT_LOG" "audit log"
line=$(grep -F "\"$id\"" "$AUDIT_LOG" | grep -F '"decision"' | head -n1)
[[ -n $line ]] || fail "audit log $AUDIT_LOG has no line with \"decision\" for container $id: $(cat "$AUDIT_LOG")"
assert_eq "audit decision for $id" allow "$(jq -r .decision <<<"$line")"
assert_file "$STATE_DIR/containers/$id.json" "container record"
assert_eq "record role" agent "$(jq -r .role "$STATE_DIR/containers/$id.json")"
pass
