#!/usr/bin/env bash
# `cove policy diff`: a change that gives the agent CAP_SYS_ADMIN and lets unmatched containers
# through is reported as loosening, listed before the tightening (sync's pids lowered) and the
# neutral (preview's backend) changes, and fails (exit 1); a change that only tightens passes;
# comparing a policy with itself reports nothing.
source "$(dirname "$0")/cli_lib.sh"
cli_setup

derive_policy "$TEST_DIR/loose.json" \
  '.roles.agent.capabilities += ["CAP_SYS_ADMIN"] | .unmatched = {action: "passthrough"}
   | .roles.sync.pids = 64 | .roles.preview.backend = "/usr/bin/crun"'
capture loose 20 "$COVE_CLI" policy diff "$SAMPLE" "$TEST_DIR/loose.json"
assert_rc 1 "diff with loosening changes"
assert_eq "first line is the header" "EFFECT" "$(head -n1 "$OUT" | awk '{print $1}')"
assert_eq "first change" "loosens (policy) unmatched refuse -> passthrough" "$(sed -n 2p "$OUT" | tr -s ' ')"
assert_eq "second change" "loosens agent capabilities + CAP_SYS_ADMIN" "$(sed -n 3p "$OUT" | tr -s ' ')"
assert_eq "third change" "tightens sync limits.pids 128 -> 64" "$(sed -n 4p "$OUT" | tr -s ' ')"
assert_eq "fourth change" "other preview backend /usr/bin/runc -> /usr/bin/crun" "$(sed -n 5p "$OUT" | tr -s ' ')"

capture loose-json 20 "$COVE_CLI" policy diff --json "$SAMPLE" "$TEST_DIR/loose.json"
assert_rc 1 "diff --json with loosening changes"
assert_eq "counts" "2 1 1" "$(jq -r '"\(.loosens) \(.tightens) \(.other)"' "$OUT")"
assert_eq "effects in order" "loosens,loosens,tightens,other" "$(jq -r '[.changes[].effect] | join(",")' "$OUT")"

derive_policy "$TEST_DIR/tight.json" '.roles.agent.seccomp.deny += ["mknod"] | .roles.agent.memory.limit = "1GiB"'
capture tight 20 "$COVE_CLI" policy diff --json "$SAMPLE" "$TEST_DIR/tight.json"
assert_rc 0 "diff with only tightening changes"
assert_eq "tightening changes" 2 "$(jq .tightens "$OUT")"
assert_eq "seccomp change" "newly denied: mknod" \
  "$(jq -r '.changes[] | select(.field == "seccomp") | .summary' "$OUT")"

capture same 20 "$COVE_CLI" policy diff "$SAMPLE" "$SAMPLE"
assert_rc 0 "diff of a policy with itself"
assert_contains "no change" "No change in effect"
capture usage 20 "$COVE_CLI" policy diff "$SAMPLE"
assert_rc 2 "diff with one file"
pass
