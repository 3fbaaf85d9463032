#!/usr/bin/env bash
# A sync container (pids 128) cannot fork 1000 processes: fork fails with EAGAIN before 128.
source "$(dirname "$0")/lib.sh"
setup

id=$(cid forkbomb)
new_bundle "$id" sync /bin/cove-probe forkbomb 1000
run_container "$id" 50
assert_rc 0 "cove run (sync, forkbomb 1000)"
line=$(grep -m1 '^forked=' "$OUT") || fail "forkbomb printed no forked= line"
say "probe: $line"
forked=$(sed -n 's/^forked=\([0-9]*\) .*/\1/p' <<<"$line")
err=$(sed -n 's/.* errno=\(.*\)$/\1/p' <<<"$line")
[[ $forked =~ ^[0-9]+$ ]] || fail "cannot parse the fork count from '$line'"
[[ $forked -lt 128 ]] || fail "forked $forked processes in a container limited to 128 pids"
say "ok   forked $forked < 128"
assert_eq "fork errno" EAGAIN "$err"
pass
