#!/usr/bin/env bash
# `cove policy bpf` compiles a role's seccomp profile with libseccomp: the output is the same
# bytes on every run (pfc and raw bpf); the pfc names ptrace among the denials and has no rule
# allowing it; sync's own denial (mknod) removes the allow rule the agent has.
source "$(dirname "$0")/cli_lib.sh"
cli_setup

for fmt in pfc bpf; do
  "$COVE_CLI" policy bpf "$SAMPLE" --role agent --format "$fmt" >"$TEST_DIR/a.$fmt" || fail "bpf run 1 ($fmt)"
  "$COVE_CLI" policy bpf "$SAMPLE" --role agent --format "$fmt" >"$TEST_DIR/b.$fmt" || fail "bpf run 2 ($fmt)"
  [[ -s $TEST_DIR/a.$fmt ]] || fail "empty $fmt output"
  cmp "$TEST_DIR/a.$fmt" "$TEST_DIR/b.$fmt" || fail "two runs of --format $fmt differ"
  say "ok   --format $fmt is deterministic ($(wc -c <"$TEST_DIR/a.$fmt") bytes)"
done
size=$(wc -c <"$TEST_DIR/a.bpf")
assert_eq "bpf size is a whole number of 8-byte instructions" 0 $((size % 8))

pfc=$TEST_DIR/a.pfc
assert_contains "pfc names ptrace's denial" "# denied although Docker's default allows: chroot, io_uring_enter, io_uring_register, io_uring_setup, modify_ldt, ptrace" "$pfc"
assert_contains "pfc default action" "# default action: fail with EPERM" "$pfc"
assert_contains "libseccomp pfc body" "# pseudo filter code start" "$pfc"
assert_contains "read is allowed" 'filter for syscall "read"' "$pfc"
assert_not_contains "no rule for ptrace" 'filter for syscall "ptrace"' "$pfc"
assert_contains "agent may mknod" 'filter for syscall "mknod"' "$pfc"

capture sync 20 "$COVE_CLI" policy bpf "$SAMPLE" --role sync
assert_rc 0 "bpf --role sync"
assert_not_contains "sync may not mknod" 'filter for syscall "mknod"'
assert_contains "sync header lists its own denials" "# role's own denials (seccomp.deny): mknod, mknodat, fanotify_mark"

"$COVE_CLI" policy bpf "$SAMPLE" --role agent --merge-with "$COVE_SRC/tests/fixtures/docker-20.10-config.json" \
  >"$TEST_DIR/merged.pfc" || fail "bpf --merge-with Docker's config.json"
sed -n '/pseudo filter code start/,$p' "$TEST_DIR/merged.pfc" >"$TEST_DIR/merged.body"
sed -n '/pseudo filter code start/,$p' "$pfc" >"$TEST_DIR/alone.body"
cmp -s "$TEST_DIR/merged.body" "$TEST_DIR/alone.body" ||
  fail "merging with Docker's default changed the agent's filter (the baseline is a subset of it)"
say "ok   merged with Docker's default profile: the same filter"

capture nosuch 20 "$COVE_CLI" policy bpf "$SAMPLE" --role nosuch
assert_rc 2 "bpf --role nosuch"
capture norole 20 "$COVE_CLI" policy bpf "$SAMPLE"
assert_rc 2 "bpf without --role"
capture badfmt 20 "$COVE_CLI" policy bpf "$SAMPLE" --role agent --format elf
assert_rc 2 "bpf --format elf"
pass
