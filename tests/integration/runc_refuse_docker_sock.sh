#!/usr/bin/env bash
# A bind mount of a denied host path is refused before runc runs: exit non-zero, a JSON error line
# "cove: ..." naming the rule in --log, nothing on stdout, no container left behind. Checked with
# a denied path this test creates (so the source exists and runc itself would have mounted it)
# and with the literal /var/run/docker.sock of the sample policy (which need not exist).
source "$(dirname "$0")/lib.sh"
setup

sock=$TEST_DIR/fake-docker.sock
: >"$sock"
write_policy '.roles.agent.mounts.deny += ["'"$sock"'"]'

check_refused() {
  local id=$1 source=$2
  log_mark
  run_container "$id"
  assert_rc_nonzero "cove run with a bind mount of $source"
  assert_refusal "$source" "mounts.deny"
  assert_stdout_empty "cove run"
  assert_no_container "$id"
  local line
  line=$(grep -F "\"$id\"" "$AUDIT_LOG" 2>/dev/null | tail -n1)
  assert_eq "audit decision for $id" refuse "$(jq -r .decision <<<"$line" 2>/dev/null)"
}

mount_filter='.mounts += [{destination: $dest, type: "bind", source: $src, options: ["rbind", "rw"]}]'

id=$(cid tmpsock)
new_bundle "$id" agent
edit_config "$id" "$mount_filter" --arg src "$sock" --arg dest /var/run/docker.sock
check_refused "$id" "$sock"

id=$(cid docker)
new_bundle "$id" agent
edit_config "$id" "$mount_filter" --arg src /var/run/docker.sock --arg dest /var/run/docker.sock
check_refused "$id" /var/run/docker.sock
pass
