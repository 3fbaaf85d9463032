#!/usr/bin/env bash
# `cove policy lint`: the shipped policy is clean (exit 0); the seeded-mistakes fixture yields
# every planted finding with its JSON path (exit 1), also in the JSON output; a file that is not
# JSON is a finding, a missing file or a bad command line is exit 2.
source "$(dirname "$0")/cli_lib.sh"
cli_setup

capture sample 20 "$COVE_CLI" policy lint --strict --no-host "$SAMPLE"
assert_rc 0 "lint --strict of docker/policy.json"
assert_contains "clean message" "no problems found"

capture sample-json 20 "$COVE_CLI" policy lint --json "$SAMPLE"
assert_rc 0 "lint --json of docker/policy.json (host checks on)"
assert_eq "errors in docker/policy.json" 0 "$(jq .errors "$OUT")"
assert_eq "ok" true "$(jq .ok "$OUT")"

capture mistakes 20 "$COVE_CLI" policy lint "$MISTAKES"
assert_rc 1 "lint of the seeded mistakes"
assert_contains "unknown capability with its path" \
  "roles.agent.capabilities[1]: error: unknown capability \"CAP_SYS_ADMN\" (did you mean CAP_SYS_ADMIN?)"
assert_contains "unknown syscall with its path" "roles.agent.seccomp.deny[0]: error: \"ptracee\" is not a syscall"

capture mistakes-json 20 "$COVE_CLI" policy lint --json "$MISTAKES"
assert_rc 1 "lint --json of the seeded mistakes"
expect_finding() {
  local severity=$1 check=$2 path=$3 n
  n=$(jq --arg s "$severity" --arg c "$check" --arg p "$path" \
    '[.findings[] | select(.severity == $s and .check == $c and .path == $p)] | length' "$OUT")
  [[ $n -ge 1 ]] || fail "no $severity $check finding at $path in: $(jq -c '.findings[] | [.severity, .check, .path]' "$OUT")"
  say "ok   $severity $check at ${path:-(file)}"
}
expect_finding error unknown-capability "roles.agent.capabilities[1]"
expect_finding error capability-dangerous "roles.agent.capabilities[2]"
expect_finding warning capability-beyond-docker "roles.agent.capabilities[3]"
expect_finding error unknown-syscall "roles.agent.seccomp.deny[0]"
expect_finding warning syscall-not-on-all-architectures "roles.agent.seccomp.deny[1]"
expect_finding error rejected-by-loader "roles.agent.memory.limt"
expect_finding error no-memory-limit "roles.agent.memory"
expect_finding error no-new-privileges "roles.agent.noNewPrivileges"
expect_finding error host-namespace "roles.agent.hostNamespaces.pid"
expect_finding error mount-allow-docker-socket "roles.agent.mounts.allow[0]"
expect_finding error mount-allow-sensitive "roles.agent.mounts.allow[1]"
expect_finding error mount-rules-contradict "roles.agent.mounts.allow[2]"
expect_finding error mount-rules-contradict "roles.agent.mounts.readOnly[0]"
expect_finding error pattern-never-matches "roles.agent.workspace.protected[0]"
expect_finding warning limit-exceeds-host "roles.agent.cpu.cpus"
expect_finding warning limit-exceeds-host "roles.agent.pids"
expect_finding error role-shadowed "roles.preview"
expect_finding warning backend-missing "roles.preview.backend"
expect_finding warning limit-exceeds-host "roles.preview.memory.limit"
expect_finding warning pattern-redundant "roles.preview.workspace.protected"
expect_finding warning pattern-covers-workspace "roles.preview.workspace.hidden[0]"
expect_finding error no-pids-limit "roles.Sync"
expect_finding warning roles-differ-in-case "roles.sync"
expect_finding warning unmatched-passthrough "unmatched.action"
expect_finding warning no-audit-log ""
assert_eq "every finding names the file" "$MISTAKES" "$(jq -r '[.findings[].file] | unique | join(",")' "$OUT")"

printf '{"version": 1, "roles": {\n' >"$TEST_DIR/broken.json"
capture broken 20 "$COVE_CLI" policy lint --json "$TEST_DIR/broken.json"
assert_rc 1 "lint of a file that is not JSON"
assert_eq "finding check" invalid-json "$(jq -r '.findings[0].check' "$OUT")"

capture missing 20 "$COVE_CLI" policy lint "$TEST_DIR/no-such-policy.json"
assert_rc 2 "lint of a missing file"
capture usage 20 "$COVE_CLI" policy lint
assert_rc 2 "lint without FILE"
assert_contains "usage error names the missing argument" "FILE is required" "$ERR"
capture usage2 20 "$COVE_CLI" policy lint --no-such-flag "$SAMPLE"
assert_rc 2 "lint with an unknown flag"
pass
