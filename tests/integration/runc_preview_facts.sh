#!/usr/bin/env bash
# A preview container gets the preview role's limits (1 GiB memory, 256 MiB reservation, half a
# CPU, 512 pids), a read-only rootfs and a writable /tmp.
source "$(dirname "$0")/lib.sh"
setup

id=$(cid preview)
new_bundle "$id" preview /bin/sh -c \
  'cove-probe report; echo "write_etc=$(cove-probe write /etc/x)"; echo "write_tmp=$(cove-probe write /tmp/x)"'
run_container "$id"
assert_rc 0 "cove run (preview)"

expect_probe seccomp 2
expect_probe no_new_privs 1
expect_probe uid 1000
expect_probe memory_limit 1073741824
expect_probe memory_reservation 268435456
expect_probe cpu_quota 50000
expect_probe cpu_period 100000
expect_probe pids_limit 512
expect_probe write_etc EROFS
expect_probe write_tmp ok
pass
