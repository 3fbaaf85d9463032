#!/usr/bin/env bash
# `docker run` through each runtime docker/daemon.json registers gives the container its role's
# security settings and limits, as seen from inside by cove-probe:
#   --runtime=cove -e COVE_ROLE=agent   agent (role from env)
#   --runtime=cove-agent                agent (role from the runtime's --cove-role, no env)
#   --runtime=cove-preview              preview
#   --runtime=cove-sync                 sync, also when the container's env asks for agent
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
docker_setup

# probe_run NAME RUNTIME [DOCKER_RUN_ARGS...]: docker run --rm ... $IMAGE cove-probe report.
probe_run() {
  local name=$1 runtime=$2
  shift 2
  say "docker run --rm --network none --runtime=$runtime $* $IMAGE /bin/cove-probe report"
  dk_capture "$name" 90 run --rm --network none --runtime="$runtime" "$@" "$IMAGE" /bin/cove-probe report
  assert_rc 0 "docker run --runtime=$runtime $*"
}

# expect_common WHAT: what every role of the sample policy gives.
expect_common() {
  expect_probe "$1" seccomp 2
  expect_probe "$1" no_new_privs 1
  expect_probe "$1" cap_eff 0000000000000000
  expect_probe "$1" uid 1000
  expect_probe "$1" gid 1000
  expect_probe_syscalls "$1"
}

if probe_run agent_env cove -e COVE_ROLE=agent; then
  expect_common "agent (env)"
  expect_probe "agent (env)" memory_limit $((2 << 30))
  expect_probe "agent (env)" memory_reservation $((512 << 20))
  expect_probe "agent (env)" pids_limit 512
  expect_probe "agent (env)" cpu_quota 100000
  expect_probe "agent (env)" cpu_period 100000
fi

if probe_run agent_fixed cove-agent; then
  expect_common "cove-agent"
  expect_probe "cove-agent" memory_limit $((2 << 30))
  expect_probe "cove-agent" pids_limit 512
  expect_probe "cove-agent" cpu_quota 100000
fi

if probe_run preview_fixed cove-preview; then
  expect_common "cove-preview"
  expect_probe "cove-preview" memory_limit $((1 << 30))
  expect_probe "cove-preview" memory_reservation $((256 << 20))
  expect_probe "cove-preview" cpu_quota 50000
  expect_probe "cove-preview" cpu_period 100000
fi

if probe_run sync_fixed cove-sync; then
  expect_common "cove-sync"
  expect_probe "cove-sync" memory_limit $((128 << 20))
  expect_probe "cove-sync" pids_limit 128
  expect_probe "cove-sync" cpu_quota 10000
  expect_probe "cove-sync" cpu_period 100000
fi

# The runtime's role wins over the container's env.
if probe_run sync_fixed_env_agent cove-sync -e COVE_ROLE=agent; then
  expect_probe "cove-sync with env COVE_ROLE=agent" memory_limit $((128 << 20))
  expect_probe "cove-sync with env COVE_ROLE=agent" pids_limit 128
fi

# Each decision is audited with where the role came from.
audit_has() {
  local what=$1 filter=$2
  if jq -e -s "map(select($filter)) | length > 0" "$AUDIT_LOG" >/dev/null 2>&1; then
    say "ok   audit log has $what"
  else
    check_failed "audit log $AUDIT_LOG has no line with $what ($filter)"
  fi
}
audit_has "allow, role agent from env COVE_ROLE" \
  '.decision == "allow" and .role == "agent" and .roleSource == "env COVE_ROLE"'
audit_has "allow, role sync from the runtime's args" \
  '.decision == "allow" and .role == "sync" and .roleSource == "runtime-args"'
finish
