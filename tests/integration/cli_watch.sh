#!/usr/bin/env bash
# `cove watch` streams the journal of a real covefs mount as JSON lines: records of changes made
# through the mount arrive while it follows (woken by inotify), with seq, time, op, path, path2
# and team; SIGTERM and SIGINT end it with 0; a closed pipe ends it with 0 (also while it waits
# with nothing to write); --no-follow prints what is there and stops.
source "$(dirname "$0")/cli_ws_lib.sh"
ws_setup
ws_mount

echo one >"$MNT/a.txt"

# wait_lines FILE N: until FILE has N lines (bounded; covefs appends before it replies, so the
# lines come at once, the bound only guards against a hang).
wait_lines() {
  local i
  for i in $(seq 200); do
    [[ $(wc -l <"$1") -ge $2 ]] && return 0
    sleep 0.05
  done
  fail "$1 has $(wc -l <"$1") lines, expected $2: $(cat "$1")"
}

for sig in TERM INT; do
  out=$TEST_DIR/watch-$sig.jsonl
  : >"$out"
  # From the current end of the journal (named explicitly: the default "now" is whenever the
  # process gets to it).
  last=$("$COVE_CLI" watch "$TEAM" --journal "$JOURNAL" --since 0 --no-follow | tail -n 1 | jq .seq)
  "$COVE_CLI" watch "$TEAM" --journal "$JOURNAL" --since "$last" >"$out" 2>"$TEST_DIR/watch-$sig.err" &
  pid=$!
  BG_PIDS+=("$pid")
  mkdir "$MNT/dir-$sig"
  echo x >"$MNT/dir-$sig/f"
  mv "$MNT/dir-$sig/f" "$MNT/dir-$sig/g"
  rm "$MNT/dir-$sig/g"
  wait_lines "$out" 4
  kill -"$sig" "$pid"
  wait "$pid"
  rc=$?
  assert_eq "exit status after SIG$sig" 0 "$rc"
  jq -e -s --arg d "dir-$sig" --arg team "$TEAM" '
      any(.[]; .op == "mkdir" and .path == $d) and
      any(.[]; .op == "rename" and .path == ($d + "/f") and .path2 == ($d + "/g")) and
      any(.[]; .op == "unlink" and .path == ($d + "/g")) and
      all(.[]; .team == $team and (.seq | type) == "number" and (.time | test("^[0-9-]+T[0-9:.]+Z$")))' "$out" >/dev/null ||
    fail "records missing or malformed: $(cat "$out")"
  say "ok   SIG$sig: $(wc -l <"$out") records streamed, exit 0"
done

# The seqs are the journal's, strictly increasing, and --since resumes after one.
capture all 10 "$COVE_CLI" watch "$TEAM" --journal "$JOURNAL" --since 0 --no-follow
assert_rc 0 "--no-follow"
n=$(wc -l <"$OUT")
[[ $n -ge 9 ]] || fail "expected every record since 0, got $n"
jq -s -e '[.[].seq] | . == (sort) and . == (unique)' "$OUT" >/dev/null || fail "seqs not strictly increasing"
third=$(sed -n 3p "$OUT" | jq .seq)
capture since 10 "$COVE_CLI" watch "$TEAM" --journal "$JOURNAL" --since "$third" --no-follow
assert_eq "records after --since $third" $((n - 3)) "$(wc -l <"$OUT")"

# A closed pipe ends it with 0: after a write (head took its line) and while waiting.
"$COVE_CLI" watch "$TEAM" --journal "$JOURNAL" --since 0 | head -n 1 >/dev/null
assert_eq "exit status when the reader goes away" 0 "${PIPESTATUS[0]}"
mkfifo "$TEST_DIR/fifo"
"$COVE_CLI" watch "$TEAM" --journal "$JOURNAL" >"$TEST_DIR/fifo" &
pid=$!
BG_PIDS+=("$pid")
exec 7<"$TEST_DIR/fifo"
exec 7<&-  # the reader closes before anything was written
wait "$pid"
assert_eq "exit status when the reader closes while it waits" 0 "$?"

capture bad 10 "$COVE_CLI" watch "$TEAM" --journal "$TEST_DIR/nope" --no-follow
assert_rc 2 "missing journal"
pass
