#!/usr/bin/env bash
# `cove doctor` on real parts: a covefs mount of a git checkout, a cove-sync writing its
# status.json, daemon.json pointing at the cove-runtime under test. Healthy = exit 0; then a
# stopped covefs (SIGSTOP: a stat would hang) is reported as not answering within the probe's
# deadline, a killed one (SIGKILL) as not answering (ENOTCONN), each with its fix; the fix
# (`cove ws mount`) recovers the dead mount; a stopped cove-sync and a malformed policy fail,
# naming the process and the file. The Docker API is a stand-in speaking HTTP on a unix socket
# (no Docker daemon here), used only when python3 is installed.
source "$(dirname "$0")/cli_lib.sh"
source "$(dirname "$0")/sync_lib.sh"
require_cli
sync_setup

# doctor's layout: <root>/<team> for the checkout, the journal and cove-sync's state.
mkdir -p "$TEST_DIR/ws" "$TEST_DIR/journal" "$TEST_DIR/sync" || fail "mkdir"
mv "$SRC" "$TEST_DIR/ws/$TEAM" || fail "mv"
SRC=$TEST_DIR/ws/$TEAM
JOURNAL=$TEST_DIR/journal/$TEAM
SYNC_STATE=$TEST_DIR/sync/$TEAM
STATUS=$SYNC_STATE/status.json
PATHS=(--workspaces-root "$TEST_DIR/ws" --mounts-root "$WORKSPACE_ROOT" --journal-root "$TEST_DIR/journal"
  --sync-root "$TEST_DIR/sync")
DAEMON_JSON=$TEST_DIR/daemon.json
jq -n --arg rt "$COVE_RUNTIME" --arg p "$POLICY" \
  '{runtimes: {cove: {path: $rt, runtimeArgs: ["--cove-policy", $p]},
               "cove-agent": {path: $rt, runtimeArgs: ["--cove-policy", $p, "--cove-role", "agent"]}}}' >"$DAEMON_JSON"
DOCKER_SOCK=$TEST_DIR/docker.sock

doctor() {
  capture "doctor-$1" 60 "$COVE_CLI" doctor --json --daemon-json "$DAEMON_JSON" --docker-socket "$DOCKER_SOCK" \
    --policy "$POLICY" "${PATHS[@]}" "${@:2}"
  [[ $RC -ne 124 ]] || fail "cove doctor did not finish in 60 s"
}
check() {  # check CHECK SUBJECT FIELD: a field of one check in $OUT
  jq -r --arg c "$1" --arg s "$2" ".checks[] | select(.check == \$c and .subject == \$s) | $3" "$OUT"
}

start_covefs
start_sync
echo hello >"$MNT/hello.txt" || fail "write through covefs"
wait_acked 30

doctor healthy
assert_rc 0 "doctor on a healthy host"
assert_eq "ok" true "$(jq -r .ok "$OUT")"
assert_eq "docker-runtime cove" ok "$(check docker-runtime cove .status)"
assert_eq "docker-runtime cove-agent role" agent "$(check docker-runtime cove-agent .facts.role)"
assert_eq "docker-socket absent is a warning" warn "$(check docker-socket "$DOCKER_SOCK" .status)"
assert_eq "policy" ok "$(check policy "$POLICY" .status)"
assert_eq "covefs" ok "$(check covefs "$TEAM" .status)"
assert_eq "covefs pid" "$COVEFS_PID" "$(check covefs "$TEAM" .facts.pid)"
assert_eq "sync" ok "$(check sync "$TEAM" .status)"
assert_eq "sync pid" "$SYNC_PID" "$(check sync "$TEAM" .facts.pid)"
assert_eq "sync lag" 0 "$(check sync "$TEAM" .facts.lag)"
assert_eq "backend runc" ok "$(check backend runc .status)"

if command -v python3 >/dev/null; then
  # Docker API stand-in: /_ping, /info listing the cove runtimes, one image.
  python3 - "$DOCKER_SOCK" <<'PY' >"$TEST_DIR/docker-stub.log" 2>&1 &
import http.server, socketserver, sys, json
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        routes = {"/_ping": (200, "OK"), "/info": (200, json.dumps({"Runtimes": {"runc": {}, "cove": {}, "cove-agent": {}}})),
                  "/images/busybox:latest/json": (200, json.dumps({"Id": "sha256:" + "ab" * 32}))}
        code, body = routes.get(self.path, (404, json.dumps({"message": "No such image"})))
        self.send_response(code); self.end_headers(); self.wfile.write(body.encode())
    def address_string(self): return "unix"
class S(socketserver.UnixStreamServer):
    def get_request(self):
        r, _ = self.socket.accept(); return r, ("unix", 0)
S(sys.argv[1], H).serve_forever()
PY
  stub=$!
  BG_PIDS+=("$stub")
  for _ in $(seq 100); do [[ -S $DOCKER_SOCK ]] && break; sleep 0.05; done
  doctor docker --image busybox:latest --image cove/missing:1
  assert_rc 1 "doctor with a missing image"
  assert_eq "docker-socket" ok "$(check docker-socket "$DOCKER_SOCK" .status)"
  assert_eq "docker-loaded" ok "$(check docker-loaded dockerd .status)"
  assert_eq "image present" ok "$(check image busybox:latest .status)"
  assert_eq "image missing" fail "$(check image cove/missing:1 .status)"
  assert_eq "image fix" "docker pull cove/missing:1" "$(check image cove/missing:1 .fix)"
  kill "$stub"
  wait "$stub" 2>/dev/null
  rm -f "$DOCKER_SOCK"
else
  say "python3 missing: the Docker API part is not run"
fi

# A stopped covefs: a stat of the mount would hang; doctor's probe gives up at its deadline.
kill -STOP "$COVEFS_PID"
doctor stopped --timeout-ms 500
kill -CONT "$COVEFS_PID"
assert_rc 1 "doctor with covefs stopped"
assert_eq "covefs probe" timeout "$(check covefs "$TEAM" .facts.probe)"
assert_eq "covefs fix" "kill -KILL $COVEFS_PID && cove ws mount $TEAM ${PATHS[*]}" "$(check covefs "$TEAM" .fix)"

old_pid=$COVEFS_PID
kill -KILL "$COVEFS_PID"
wait "$COVEFS_PID" 2>/dev/null
doctor killed
assert_rc 1 "doctor with covefs killed"
assert_eq "covefs status" fail "$(check covefs "$TEAM" .status)"
assert_eq "covefs probe" not-connected "$(check covefs "$TEAM" .facts.probe)"
assert_contains "detail" "not answering" <(check covefs "$TEAM" .detail)
assert_eq "covefs fix" "cove ws mount $TEAM ${PATHS[*]}" "$(check covefs "$TEAM" .fix)"
assert_eq "other checks still ok" ok "$(check sync "$TEAM" .status)"

# The fix: cove ws mount on the dead mount (covefs detaches it and mounts again).
capture remount 60 "$COVE_CLI" ws mount "$TEAM" "${PATHS[@]}" --policy "$POLICY" --state-dir "$STATE_DIR" \
  --covefs "$COVEFS" --json
assert_rc 0 "cove ws mount on the dead mount"
COVEFS_PID=$(jq -r .pid "$OUT")
BG_PIDS+=("$COVEFS_PID")
assert_ne "new covefs pid" "$old_pid" "$COVEFS_PID"
doctor remounted
assert_rc 0 "doctor after the fix"
assert_eq "covefs pid" "$COVEFS_PID" "$(check covefs "$TEAM" .facts.pid)"

stop_sync
doctor sync-stopped
assert_rc 1 "doctor with cove-sync stopped"
assert_eq "sync status" fail "$(check sync "$TEAM" .status)"
assert_contains "sync fix" "cove-sync --team $TEAM --repo $SRC --journal $JOURNAL --state-dir $SYNC_STATE" \
  <(check sync "$TEAM" .fix)

echo '{"roles": {"agent": ' >"$TEST_DIR/bad-policy.json"
capture bad-policy 60 "$COVE_CLI" doctor --json --no-docker --policy "$TEST_DIR/bad-policy.json" "${PATHS[@]}"
assert_rc 1 "doctor with a malformed policy"
assert_eq "policy status" fail "$(check policy "$TEST_DIR/bad-policy.json" .status)"
assert_contains "policy detail names the file" "$TEST_DIR/bad-policy.json" <(check policy "$TEST_DIR/bad-policy.json" .detail)
assert_eq "policy fix" "cove policy lint $TEST_DIR/bad-policy.json" "$(check policy "$TEST_DIR/bad-policy.json" .fix)"

capture human 60 "$COVE_CLI" doctor --no-docker --policy "$TEST_DIR/bad-policy.json" "${PATHS[@]}"
assert_rc 1 "human output exit"
assert_contains "fix line" "fix policy $TEST_DIR/bad-policy.json: cove policy lint"
pass
