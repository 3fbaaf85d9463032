#!/usr/bin/env bash
# `cove audit live` attests a running agent container against its role: right after create it
# reports no drift (exit 0); once the container's pids.max is raised behind cove's back (the
# cgroup file written directly, as a compromised orchestrator could) it reports the drift, naming
# the field, the value and the rule (exit 1).
source "$(dirname "$0")/cli_lib.sh"
require_cli
setup

id=$(cid live)
new_bundle "$id" agent /bin/sleep 60
capture create 20 "${COVE[@]}" run --detach --bundle "$(bundle_of "$id")" "$id"
assert_rc 0 "cove-runtime run --detach (agent, sleep 60)"
wait_status "$id" running

# The record names the runtime root, so no --root is needed.
capture live-clean 30 "$COVE_CLI" audit live --policy "$POLICY" --json
assert_rc 0 "cove audit live right after create"
assert_eq "containers reported" 1 "$(jq '.containers | length' "$OUT")"
assert_eq "container id" "$id" "$(jq -r '.containers[0].id' "$OUT")"
assert_eq "state" running "$(jq -r '.containers[0].state' "$OUT")"
assert_eq "attested" true "$(jq -r '.containers[0].attested' "$OUT")"
assert_eq "drift findings" 0 "$(jq '.drift' "$OUT")"

capture live-table 30 "$COVE_CLI" audit live --policy "$POLICY"
assert_rc 0 "cove audit live (table)"
grep -Eq "^$id +agent +- +[0-9]+ +running +ok\$" "$OUT" || fail "the table has no 'running ok' row for $id"
say "ok   table row: $(grep -F "$id" "$OUT" | head -n1)"

pids_file=$(cgroup_file "$id" pids pids.max pids.max)
[[ -f $pids_file ]] || fail "container $id has no pids.max at $pids_file"
assert_eq "pids.max after create ($pids_file)" 512 "$(cat "$pids_file")"
echo 4096 >"$pids_file" || fail "cannot write $pids_file"
say "raised $pids_file to 4096 behind cove's back"

capture live-drift 30 "$COVE_CLI" audit live --policy "$POLICY" --root "$ROOT"
assert_rc 1 "cove audit live after pids.max was raised"
grep -F "$id: drift: pids.max is 4096, expected <= 512 (rule roles.agent.pids" "$OUT" >/dev/null ||
  fail "no drift line naming pids.max 4096 and rule roles.agent.pids"
say "ok   $(grep -F 'pids.max' "$OUT")"

capture live-drift-json 30 "$COVE_CLI" audit live --policy "$POLICY" --json
assert_rc 1 "cove audit live --json after pids.max was raised"
assert_eq "drift findings" 1 "$(jq '.drift' "$OUT")"
assert_eq "drift field" pids.max "$(jq -r '.containers[0].drift[0].field' "$OUT")"
assert_eq "drift actual" 4096 "$(jq -r '.containers[0].drift[0].actual' "$OUT")"
assert_eq "drift rule" roles.agent.pids "$(jq -r '.containers[0].drift[0].rule' "$OUT")"
assert_eq "drift source" "$pids_file" "$(jq -r '.containers[0].drift[0].source' "$OUT")"

# Lowering it again is no drift: tighter than the role is fine.
echo 256 >"$pids_file" || fail "cannot write $pids_file"
capture live-lower 30 "$COVE_CLI" audit live --policy "$POLICY" --json
assert_rc 0 "cove audit live after pids.max was lowered to 256"
pass
