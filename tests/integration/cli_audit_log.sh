#!/usr/bin/env bash
# `cove audit log` reads the decision log cove-runtime really wrote: an allowed agent container
# and a refused one (it bind-mounts the Docker socket). The log is found through the policy's
# auditLog; --refused, --container, --role and --since filter it; --json prints the records as
# logged; a malformed --since or a missing log is exit 2.
source "$(dirname "$0")/cli_lib.sh"
require_cli
setup

ok=$(cid allowed)
new_bundle "$ok" agent
run_container "$ok"
assert_rc 0 "cove-runtime run (agent)"

bad=$(cid refused)
new_bundle "$bad" agent
edit_config "$bad" '.mounts += [{destination: "/var/run/docker.sock", type: "bind", source: "/var/run/docker.sock", options: ["rbind", "rw"]}]'
run_container "$bad"
assert_rc_nonzero "cove-runtime run (agent with the Docker socket)"
assert_file "$AUDIT_LOG" "audit log"

capture all 20 "$COVE_CLI" audit log --policy "$POLICY"
assert_rc 0 "cove audit log (log from the policy's auditLog)"
grep -Eq "^[0-9T:-]+Z +run +$ok +agent +allow " "$OUT" || fail "no allow row for $ok"
grep -Eq "^[0-9T:-]+Z +run +$bad +agent +refuse .*docker.sock" "$OUT" || fail "no refuse row for $bad naming docker.sock"
assert_contains "summary" "2 records matched (1 refused) in $AUDIT_LOG"

capture refused 20 "$COVE_CLI" audit log --file "$AUDIT_LOG" --refused --json
assert_rc 0 "cove audit log --refused --json"
assert_eq "refused records" 1 "$(wc -l <"$OUT")"
assert_eq "refused container" "$bad" "$(jq -r .container "$OUT")"
assert_eq "refusal rule" roles.agent.mounts.deny "$(jq -r '.refusals[0].rule' "$OUT")"
# --json prints the lines exactly as logged.
grep -qxF "$(cat "$OUT")" "$AUDIT_LOG" || fail "--json did not print the logged line unchanged"

capture by-id 20 "$COVE_CLI" audit log --file "$AUDIT_LOG" --container "${ok%-allowed}-all" --json
assert_rc 0 "cove audit log --container PREFIX"
assert_eq "records for the prefix" "$ok" "$(jq -r .container "$OUT")"

capture by-role 20 "$COVE_CLI" audit log --file "$AUDIT_LOG" --role preview --json
assert_rc 0 "cove audit log --role preview"
assert_eq "records for role preview" 0 "$(wc -l <"$OUT")"

capture recent 20 "$COVE_CLI" audit log --file "$AUDIT_LOG" --since 1h --json
assert_eq "records in the last hour" 2 "$(wc -l <"$OUT")"
future=$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ)
capture future 20 "$COVE_CLI" audit log --file "$AUDIT_LOG" --since "$future" --json
assert_rc 0 "cove audit log --since tomorrow"
assert_eq "records since tomorrow" 0 "$(wc -l <"$OUT")"

capture bad-since 20 "$COVE_CLI" audit log --file "$AUDIT_LOG" --since yesterday
assert_rc 2 "cove audit log --since yesterday"
capture missing 20 "$COVE_CLI" audit log --file "$TEST_DIR/no-such.jsonl"
assert_rc 2 "cove audit log of a missing file"
pass
