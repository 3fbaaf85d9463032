#!/usr/bin/env bash
# `update` cannot raise an agent container's limits above the role's: 8 GiB of memory through
# --resources on stdin is refused and the cgroup keeps 2 GiB; 1 GiB is accepted and applied.
source "$(dirname "$0")/lib.sh"
setup

id=$(cid update)
new_bundle "$id" agent /bin/sleep 60
capture create 20 "${COVE[@]}" run --detach --bundle "$(bundle_of "$id")" "$id"
assert_rc 0 "cove run --detach (agent, sleep 60)"
wait_status "$id" running

limit_file=$(cgroup_file "$id" memory memory.limit_in_bytes memory.max)
[[ -f $limit_file ]] || fail "container $id has no memory limit file at $limit_file"
assert_eq "memory limit after create ($limit_file)" 2147483648 "$(cat "$limit_file")"

echo '{"memory": {"limit": 8589934592}}' >"$TEST_DIR/8g.json"
log_mark
STDIN_FILE=$TEST_DIR/8g.json capture update-8g 20 "${COVE[@]}" update --resources - "$id"
assert_rc_nonzero "cove update --resources - (memory 8 GiB)"
assert_refusal "memory"
assert_eq "memory limit after the refused update" 2147483648 "$(cat "$limit_file")"

echo '{"memory": {"limit": 1073741824}}' >"$TEST_DIR/1g.json"
log_mark
STDIN_FILE=$TEST_DIR/1g.json capture update-1g 20 "${COVE[@]}" update --resources - "$id"
assert_rc 0 "cove update --resources - (memory 1 GiB)"
assert_no_refusal
assert_eq "memory limit after the accepted update" 1073741824 "$(cat "$limit_file")"
pass
