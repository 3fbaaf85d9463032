#!/usr/bin/env bash
# `docker run --runtime=cove` of an agent container that asks for more than the role allows fails
# before the container starts, and docker prints cove's reason with the rule that refused it:
#   - a bind mount of a denied socket path (a temp path the test policy denies, and the host's
#     real /var/run/docker.sock when there is one)       -> roles.agent.mounts.deny
#   - a bind mount of a host dir outside mounts.allow     -> roles.agent.mounts.allow
#   - --network host                                      -> roles.agent.hostNamespaces.network
#   - --privileged                                        -> privileged
#   - no role at all (policy: unmatched refuse)           -> unmatched.action
# A plain agent container in the same daemon runs, so the refusals are not a broken setup.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

# The temp dir is only known inside docker_setup, so the denied path is added by a filter that
# derives it from the state dir's parent.
docker_setup '.roles[].mounts.deny += [(.stateDir | sub("/state$"; "/deny/docker.sock"))]'
DENIED_SOCK=$TEST_DIR/deny/docker.sock
mkdir -p "$TEST_DIR/deny" "$TEST_DIR/hostdir"
: >"$DENIED_SOCK"
jq -e --arg p "$DENIED_SOCK" '.roles.agent.mounts.deny | index($p)' "$POLICY" >/dev/null ||
  fail "test policy does not deny $DENIED_SOCK"

# refused NAME WHAT WORDS -- DOCKER_RUN_ARGS...: docker run fails, stderr names cove and WORDS.
refused() {
  local name=$1 what=$2 words=()
  shift 2
  while [[ $1 != -- ]]; do
    words+=("$1")
    shift
  done
  shift
  say "refused? $what: docker run --rm --runtime=cove -e COVE_ROLE=agent $*"
  dk_capture "$name" 90 run --rm --runtime=cove -e COVE_ROLE=agent "$@" "$IMAGE" /bin/true
  assert_rc_nonzero "$what" || return 1
  assert_err_has "$what" "cove:" "${words[@]}" || return 1
  local left
  left=$(dk ps -aq --filter "ancestor=$IMAGE" 2>/dev/null)
  [[ -z $left ]] || check_failed "$what: containers left behind: $left"
}

say "control: an agent container without extra asks runs"
dk_capture control 90 run --rm --network none --runtime=cove -e COVE_ROLE=agent "$IMAGE" /bin/true
assert_rc 0 "control: docker run --runtime=cove -e COVE_ROLE=agent" || fail "the control container does not run"

refused denied_sock "bind mount of a denied socket path" roles.agent.mounts.deny "$DENIED_SOCK" -- \
  --network none -v "$DENIED_SOCK:/var/run/docker.sock"

# Only when the host has a Docker socket: otherwise docker would create /var/run/docker.sock as
# an empty directory on the host.
if [[ -S /var/run/docker.sock ]]; then
  refused host_docker_sock "bind mount of the host's /var/run/docker.sock" roles.agent.mounts.deny -- \
    --network none -v /var/run/docker.sock:/var/run/docker.sock
else
  say "skip host's /var/run/docker.sock: there is none here (the denied temp path stands in for it)"
fi

refused not_allowed "bind mount of a host dir outside mounts.allow" roles.agent.mounts.allow -- \
  --network none -v "$TEST_DIR/hostdir:/data"

refused host_network "--network host" roles.agent.hostNamespaces.network -- --network host

refused privileged "--privileged" privileged -- --network none --privileged

say "refused? no role: docker run --rm --network none --runtime=cove (no COVE_ROLE)"
dk_capture no_role 90 run --rm --network none --runtime=cove "$IMAGE" /bin/true
assert_rc_nonzero "container without a role" && assert_err_has "container without a role" "cove:" unmatched.action

# Every refusal is audited.
n=$(jq -s '[.[] | select(.decision == "refuse")] | length' "$AUDIT_LOG" 2>/dev/null || echo 0)
want=5
[[ -S /var/run/docker.sock ]] && want=6
if [[ $n -ge $want ]]; then
  say "ok   audit log has $n refusals (want >= $want)"
else
  check_failed "audit log $AUDIT_LOG has $n refuse decisions, want >= $want"
fi
finish
