#!/usr/bin/env bash
# Every runc verb works through the shim on an agent container (create, start, state, ps, pause,
# resume, exec with and without --process, list, kill, delete); for a container that does not
# exist the shim exits as runc does; and Go's --flag=value form of global flags is accepted.
source "$(dirname "$0")/lib.sh"
setup

id=$(cid verbs)
new_bundle "$id" agent /bin/sleep 60
bundle=$(bundle_of "$id")

step() {
  local what=$1
  shift
  capture "verb.$what" 20 "${COVE[@]}" "$@"
  [[ $RC -ne 124 ]] || fail "cove $* did not finish within 20s"
  assert_rc 0 "cove $what"
}

step create create --bundle "$bundle" "$id"
assert_eq "status after create" created "$(container_status "$id")"
step start start "$id"
wait_status "$id" running

step state state "$id"
assert_eq "state .id" "$id" "$(jq -r .id "$OUT")"
assert_eq "state .status" running "$(jq -r .status "$OUT")"
pid=$(jq -r .pid "$OUT")

step ps ps --format json "$id"
jq -e --argjson pid "$pid" 'index($pid) != null' "$OUT" >/dev/null ||
  fail "cove ps --format json does not list the container's pid $pid: $(cat "$OUT")"
say "ok   ps lists pid $pid"

step pause pause "$id"
assert_eq "status after pause" paused "$(container_status "$id")"
step resume resume "$id"
assert_eq "status after resume" running "$(container_status "$id")"

step exec-args exec "$id" /bin/echo exec-args-ok
assert_eq "exec (args) output" exec-args-ok "$(cat "$OUT")"

jq '.process | .args = ["/bin/echo", "exec-process-ok"] | .terminal = false' "$bundle/config.json" \
  >"$TEST_DIR/process.json" || fail "cannot write process.json"
step exec-process exec --process "$TEST_DIR/process.json" "$id"
assert_eq "exec (--process) output" exec-process-ok "$(cat "$OUT")"

step list list --format json
jq -e --arg id "$id" 'map(.id) | index($id) != null' "$OUT" >/dev/null ||
  fail "cove list --format json does not list $id: $(cat "$OUT")"
say "ok   list shows $id"

# Go flag syntax: --name=value for the global flags.
capture "verb.state-eq" 20 "$COVE_RUNTIME" --cove-policy "$POLICY" --root="$ROOT" --log="$LOG" --log-format=json \
  state "$id"
assert_rc 0 "cove --root=... state"
assert_eq "state (--root=) .status" running "$(jq -r .status "$OUT" 2>/dev/null)"

step kill kill "$id" KILL
wait_status "$id" stopped
step delete delete "$id"
assert_eq "status after delete" absent "$(container_status "$id")"

# A missing container: the shim's exit status is runc's.
missing=$(cid nosuch)
for verb in state kill pause resume ps delete exec; do
  args=("$verb" "$missing")
  [[ $verb == exec ]] && args+=(/bin/true)
  "$RUNC" --root "$ROOT" "${args[@]}" </dev/null >/dev/null 2>&1
  want=$?
  capture "missing.$verb" 20 "${COVE[@]}" "${args[@]}"
  assert_eq "exit status of '$verb' on a missing container (runc: $want)" "$want" "$RC"
done
pass
