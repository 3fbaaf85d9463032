#!/usr/bin/env bash
# `cove policy explain` tells a reviewer what each role of the shipped policy does, measured
# against Docker 20.10's default: the agent is stricter by exactly the six syscalls cove's
# baseline removes and looser by none, keeps 8 of Docker's 14 capabilities; sync's own denials
# add to the stricter list. Unknown roles and unloadable policies are exit 2.
source "$(dirname "$0")/cli_lib.sh"
cli_setup

capture agent 20 "$COVE_CLI" policy explain "$SAMPLE" --role agent
assert_rc 0 "explain --role agent"
assert_contains "seccomp vs Docker" \
  "vs Docker's default: stricter by 6: chroot, io_uring_enter, io_uring_register, io_uring_setup, modify_ldt, ptrace; looser by 0"
assert_contains "capabilities kept" "keeps 8: CAP_CHOWN"
assert_contains "capabilities vs Docker" "vs Docker's default 14: drops 6: CAP_MKNOD, CAP_NET_RAW"
assert_contains "memory" "limit 2 GiB"
assert_contains "pids" "at most 512"
assert_contains "workspace" "read-only inside it: .git/hooks/**, .git/config"
assert_contains "docker socket" "never /var/run/docker.sock"
assert_not_contains "only the asked role" "Role preview"

capture all-json 20 "$COVE_CLI" policy explain --json "$SAMPLE"
assert_rc 0 "explain --json"
assert_eq "roles" "agent,preview,sync" "$(jq -r '[.roles[].name] | join(",")' "$OUT")"
assert_eq "sync stricter than Docker" "chroot,fanotify_mark,io_uring_enter,io_uring_register,io_uring_setup,mknod,mknodat,modify_ldt,ptrace" \
  "$(jq -r '.roles[] | select(.name == "sync") | .seccomp.vsDocker.stricter | join(",")' "$OUT")"
assert_eq "looser than Docker (any role)" 0 "$(jq '[.roles[].seccomp.vsDocker.looser[]] | length' "$OUT")"
assert_eq "preview workspace mode" ro "$(jq -r '.roles[] | select(.name == "preview") | .workspace.mode' "$OUT")"
assert_eq "ptrace not allowed for agent" 0 \
  "$(jq '[.roles[] | select(.name == "agent") | .seccomp.allowed[] | select(. == "ptrace")] | length' "$OUT")"

capture nosuch 20 "$COVE_CLI" policy explain "$SAMPLE" --role nosuch
assert_rc 2 "explain --role nosuch"
assert_contains "names the roles" "roles: agent, preview, sync" "$ERR"
capture broken 20 "$COVE_CLI" policy explain "$MISTAKES"
assert_rc 2 "explain of a policy that does not load"
assert_contains "points at lint" "cove policy lint" "$ERR"
pass
