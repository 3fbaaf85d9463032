#!/usr/bin/env bash
# A sync container gets the sync role's limits: 128 MiB memory, 128 pids, a tenth of a CPU.
source "$(dirname "$0")/lib.sh"
setup

id=$(cid sync)
new_bundle "$id" sync
run_container "$id"
assert_rc 0 "cove run (sync, cove-probe report)"

expect_probe seccomp 2
expect_probe no_new_privs 1
expect_probe uid 1000
expect_probe memory_limit 134217728
expect_probe pids_limit 128
expect_probe cpu_quota 10000
expect_probe cpu_period 100000
pass
