#!/usr/bin/env bash
# A long-running agent container (`sleep 300`, --runtime=cove -e COVE_ROLE=agent) through the
# verbs Docker sends after create:
#   docker exec                 works, as uid 1000 with no_new_privs and no capabilities
#   docker exec --privileged    refused by cove (capabilities the container was not created with)
#   docker exec -u 0            runs, clamped to uid 1000
#   docker update --memory 8g --memory-swap 8g   refused by cove (role limit 2 GiB), limit unchanged
#   docker update --memory 1g --memory-swap 1g   works, the cgroup shows 1 GiB
#   docker top, pause/unpause, stop, start (limit lowered by update survives), kill, rm -f
# (Docker itself rejects `docker update --memory X` without --memory-swap for a container it
# created without a memory limit, before any runtime is asked; hence the --memory-swap.)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
docker_setup

c=$(cname agent)

# expect_state WHAT STATE [SECS]: docker's view of $c reaches STATE.
expect_state() {
  local what=$1 want=$2 secs=${3:-10} i s
  for ((i = 0; i < secs * 10; i++)); do
    s=$(container_state "$c")
    [[ $s == "$want" ]] && break
    sleep 0.1
  done
  assert_eq "$what: container state" "$want" "$s"
}

# mem_limit: the memory limit the container's cgroup shows from inside (v1 or v2).
mem_limit() {
  dk exec "$c" sh -c 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max' \
    2>/dev/null || echo "<exec failed>"
}

say "docker run -d --name $c --network none --runtime=cove -e COVE_ROLE=agent $IMAGE sleep 300"
dk_capture run 90 run -d --name "$c" --network none --runtime=cove -e COVE_ROLE=agent "$IMAGE" sleep 300
assert_rc 0 "docker run -d (agent, sleep 300)" || fail "the long-running agent container does not start"
expect_state "after run -d" running

say "docker exec $c /bin/cove-probe report"
dk_capture exec 60 exec "$c" /bin/cove-probe report
if assert_rc 0 "docker exec"; then
  expect_probe "docker exec" uid 1000
  expect_probe "docker exec" gid 1000
  expect_probe "docker exec" no_new_privs 1
  expect_probe "docker exec" cap_eff 0000000000000000
  expect_probe "docker exec" seccomp 2
fi

say "docker exec --privileged $c /bin/true"
dk_capture exec_privileged 60 exec --privileged "$c" /bin/true
assert_rc_nonzero "docker exec --privileged" &&
  assert_err_has "docker exec --privileged" "cove:" roles.agent.capabilities
expect_state "after the refused exec" running

say "docker exec -u 0 $c /bin/cove-probe report"
dk_capture exec_root 60 exec -u 0 "$c" /bin/cove-probe report
if assert_rc 0 "docker exec -u 0"; then
  expect_probe "docker exec -u 0" uid 1000
  expect_probe "docker exec -u 0" gid 1000
  expect_probe "docker exec -u 0" cap_eff 0000000000000000
fi

assert_eq "memory limit before update" $((2 << 30)) "$(mem_limit)"

say "docker update --memory 8g --memory-swap 8g $c"
dk_capture update_8g 60 update --memory 8g --memory-swap 8g "$c"
assert_rc_nonzero "docker update --memory 8g" &&
  assert_err_has "docker update --memory 8g" "cove:" roles.agent.memory.limit
assert_eq "memory limit after the refused update" $((2 << 30)) "$(mem_limit)"

say "docker update --memory 1g --memory-swap 1g $c"
dk_capture update_1g 60 update --memory 1g --memory-swap 1g "$c"
assert_rc 0 "docker update --memory 1g --memory-swap 1g"
assert_eq "memory limit after update to 1g" $((1 << 30)) "$(mem_limit)"

say "docker top $c"
dk_capture top 30 top "$c"
if assert_rc 0 "docker top"; then
  if grep -q 'sleep 300' "$OUT"; then
    say "ok   docker top lists sleep 300"
  else
    check_failed "docker top does not list 'sleep 300'"
  fi
fi

say "docker pause / unpause $c"
dk_capture pause 30 pause "$c"
assert_rc 0 "docker pause" && expect_state "after pause" paused
dk_capture unpause 30 unpause "$c"
assert_rc 0 "docker unpause" && expect_state "after unpause" running

say "docker stop -t 1 $c"
dk_capture stop 60 stop -t 1 "$c"
assert_rc 0 "docker stop" && expect_state "after stop" exited

# start goes through cove's create again, with Docker's spec that now carries the 1g limit.
say "docker start $c"
dk_capture start 90 start "$c"
assert_rc 0 "docker start after stop" && expect_state "after start" running &&
  assert_eq "memory limit after restart" $((1 << 30)) "$(mem_limit)"

say "docker kill $c"
dk_capture kill 30 kill "$c"
assert_rc 0 "docker kill" && expect_state "after kill" exited

say "docker start $c; docker rm -f $c"
dk_capture start2 90 start "$c"
assert_rc 0 "docker start after kill" && expect_state "after second start" running
dk_capture rm 60 rm -f "$c"
assert_rc 0 "docker rm -f"
assert_eq "after rm -f: container" absent "$(container_state "$c")"
finish
