#!/usr/bin/env bash
# The seed platform, end to end: every piece of cove running together for one team, as a user of
# the platform sees it, against a private dockerd (docker/lib.sh) with cove registered as the
# runtimes cove, cove-agent, cove-preview and cove-sync.
#
#   1. A bare git repository seeded with a commit is the team's remote; `cove ws create alpha
#      --repo` clones it, `cove ws mount alpha` serves it with covefs, cove-sync commits the
#      journal and pushes to the bare repository.
#   2. `docker run -d`: agent-1 (--runtime=cove -e COVE_ROLE=agent), agent-2 (--runtime=cove-agent),
#      a preview (--runtime=cove-preview, cove-probe watching /workspace/src with inotify) and a
#      sync container (--runtime=cove-sync, reading the workspace), each with the covefs
#      mountpoint at /workspace.
#   3. What users see: both agents' files appear in the workspace; the preview's inotify lists
#      every changed name (it blocks on the inotify fd, no polling); the preview cannot write
#      (EROFS); an agent cannot write .git/hooks/x; a container asking for the daemon's socket is
#      refused with cove's message; the commits on the remote are authored agent-1 and agent-2
#      with exactly their own paths; `cove audit live` finds no drift; `cove doctor` is healthy.
#   4. Stopping everything (docker stop/rm, cove-sync SIGTERM, fusermount3 -u, dockerd SIGTERM)
#      leaves no container, mount, cgroup or process behind, checked here; the EXIT trap cleans
#      up the same way, by PID, when a check failed.
#
# COVE_SEED_VERBOSE=1 (tools/demo-platform.sh) also prints what a person would look at: the
# records, the preview's output, the remote's log, the audit and doctor tables.
# Environment: COVE_RUNTIME, COVE_PROBE, COVE_SRC (docker/lib.sh), COVE_CLI, COVEFS, COVE_SYNC.
# Exit codes: 0 pass, 1 fail, 77 skip (not root; dockerd, /dev/fuse, fusermount3, git missing).
# shellcheck source-path=SCRIPTDIR source=docker/lib.sh
# shellcheck disable=SC2317 # functions called through wait_for and the EXIT trap
source "$(dirname "$0")/docker/lib.sh"

VERBOSE=${COVE_SEED_VERBOSE:-0}
TEAM=alpha
COVEFS_PID=""
SYNC_PID=""
MNT=""

[[ $(id -u) -eq 0 ]] || skip "needs root (dockerd, FUSE)"
[[ -c /dev/fuse ]] || skip "/dev/fuse is missing"
command -v fusermount3 >/dev/null || skip "fusermount3 is missing (apt-get install fuse3)"
command -v git >/dev/null || skip "git is missing"
for v in COVE_CLI COVEFS COVE_SYNC; do
  [[ -n ${!v:-} ]] || skip "$v is not set (run through ctest, or set it to the binary)"
  [[ -x ${!v} ]] || fail "$v=${!v} is not an executable file"
done

# The test policy also denies the private daemon's own socket ($TEST_DIR/d.sock; $data is
# $TEST_DIR/data in lib.sh's write_policy), which stands in for /var/run/docker.sock.
# shellcheck disable=SC2016 # $data is jq's
docker_setup '.roles[].mounts.deny += [($data | sub("/data$"; "/d.sock"))]'

# verbose TITLE FILE...: shown only for a person (COVE_SEED_VERBOSE=1).
verbose() {
  [[ $VERBOSE == 1 ]] || return 0
  local title=$1
  shift
  echo "----- $title -----"
  cat "$@"
  echo "-----"
}

# wait_for SECS WHAT CMD...: CMD until it succeeds; fails naming WHAT after SECS.
wait_for() {
  local secs=$1 what=$2 i
  shift 2
  for ((i = 0; i < secs * 10; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  fail "waited ${secs}s for $what"
}

set_status() {
  return "$1"
}

not_alive() {
  ! alive "$1"
}

# On any exit: containers first (they hold binds of the covefs mount), then cove-sync, then
# covefs, each by PID; then lib.sh's cleanup (dockerd, containerd, leftovers, cgroups, temp dir).
seed_cleanup() {
  local rc=$? ids i
  if [[ -n $DOCKERD_PID ]] && alive "$DOCKERD_PID"; then
    ids=$(timeout 20 "${DK[@]}" ps -aq 2>/dev/null)
    # shellcheck disable=SC2086
    [[ -z $ids ]] || timeout -k 5 60 "${DK[@]}" rm -f $ids >/dev/null 2>&1
  fi
  if [[ -n $SYNC_PID ]]; then
    kill -TERM "$SYNC_PID" 2>/dev/null
    for ((i = 0; i < 100; i++)); do alive "$SYNC_PID" || break; sleep 0.1; done
    kill -KILL "$SYNC_PID" 2>/dev/null
    wait "$SYNC_PID" 2>/dev/null
  fi
  if [[ -n $MNT ]] && grep -q " $MNT fuse" /proc/mounts 2>/dev/null; then
    fusermount3 -u "$MNT" 2>/dev/null || umount -l "$MNT" 2>/dev/null
  fi
  if [[ -n $COVEFS_PID ]]; then
    for ((i = 0; i < 100; i++)); do alive "$COVEFS_PID" || break; sleep 0.1; done
    if alive "$COVEFS_PID"; then
      echo "[$SCENARIO] covefs $COVEFS_PID still running; killing it" >&2
      kill -KILL "$COVEFS_PID" 2>/dev/null
    fi
  fi
  set_status "$rc"
  docker_cleanup
}
trap seed_cleanup EXIT

WS_ROOT=$TEST_DIR/ws
MOUNTS_ROOT=$TEST_DIR/teams  # the test policy's workspaceRoot
JOURNAL_ROOT=$TEST_DIR/journal
SYNC_ROOT=$TEST_DIR/sync
PATHS=(--workspaces-root "$WS_ROOT" --mounts-root "$MOUNTS_ROOT" --journal-root "$JOURNAL_ROOT" --sync-root "$SYNC_ROOT")
WS=$WS_ROOT/$TEAM
MNT=$MOUNTS_ROOT/$TEAM
JOURNAL=$JOURNAL_ROOT/$TEAM
SYNC_STATE=$SYNC_ROOT/$TEAM
STATUS=$SYNC_STATE/status.json
REMOTE=$TEST_DIR/remote.git
[[ $(jq -r .workspaceRoot "$POLICY") == "$MOUNTS_ROOT" ]] || fail "the test policy's workspaceRoot is not $MOUNTS_ROOT"
export GIT_CONFIG_NOSYSTEM=1
gitw() { git -c safe.directory='*' -C "$WS" "$@"; }
gitr() { git --git-dir="$REMOTE" "$@"; }

# ---- 1. the team's repository, workspace, covefs and cove-sync ---------------------------------
say "step 1: remote $REMOTE, cove ws create/mount $TEAM, cove-sync"
seed=$TEST_DIR/seed
git init -q --bare --initial-branch=main "$REMOTE" || fail "git init --bare $REMOTE"
git init -q --initial-branch=main "$seed" || fail "git init $seed"
mkdir -p "$seed/src"
echo "# team alpha's app" >"$seed/README.md"
echo "export const main = 0" >"$seed/src/main.ts"
if ! { git -C "$seed" add -A &&
  git -C "$seed" -c user.name=seed -c user.email=seed@example.org commit -q -m "seed: README and src/main.ts" &&
  git -C "$seed" push -q "$REMOTE" main; }; then
  fail "seeding $REMOTE"
fi
seed_head=$(gitr rev-parse main)

capture ws-create 120 "$COVE_CLI" ws create "$TEAM" --repo "file://$REMOTE" --branch main "${PATHS[@]}" --json
[[ $RC -eq 0 ]] || fail "cove ws create $TEAM --repo file://$REMOTE (exit $RC)"
assert_eq "workspace HEAD (the remote's seed commit)" "$seed_head" "$(jq -r .head "$OUT")"
assert_eq "workspace path" "$WS" "$(jq -r .path "$OUT")"
assert_eq "owner of the checkout" 1000:1000 "$(stat -c %u:%g "$WS/src/main.ts")"

capture ws-mount 60 "$COVE_CLI" ws mount "$TEAM" "${PATHS[@]}" --covefs "$COVEFS" --policy "$POLICY" \
  --state-dir "$STATE_DIR" --json
COVEFS_PID=$(jq -r '.pid // empty' "$OUT" 2>/dev/null)
[[ $RC -eq 0 && $COVEFS_PID =~ ^[0-9]+$ ]] || fail "cove ws mount $TEAM (exit $RC)"
grep -q " $MNT fuse.covefs " /proc/mounts || fail "no fuse.covefs mount at $MNT after cove ws mount"
say "ok   covefs $COVEFS_PID serves $WS at $MNT"

mkdir -p "$SYNC_STATE" || fail "mkdir $SYNC_STATE"
# shellcheck disable=SC2153 # checked above through ${!v}
"$COVE_SYNC" --team "$TEAM" --repo "$WS" --journal "$JOURNAL" --state-dir "$SYNC_STATE" \
  --remote "$REMOTE" --branch main --quiet-ms 300 --max-delay-ms 3000 >>"$TEST_DIR/sync.log" 2>&1 &
SYNC_PID=$!
sync_up() { alive "$SYNC_PID" && [[ $(jq -r .pid "$STATUS" 2>/dev/null) == "$SYNC_PID" ]]; }
wait_for 30 "cove-sync $SYNC_PID to write $STATUS (log: $TEST_DIR/sync.log)" sync_up
say "ok   cove-sync $SYNC_PID follows $JOURNAL, remote $REMOTE"

# ---- 2. the team's containers ------------------------------------------------------------------
say "step 2: docker run -d agent-1, agent-2, preview, sync (image $IMAGE)"
WSV=(-v "$MNT:/workspace")
is_running() {
  [[ $(container_state "$1") == running ]]
}
# run_d NAME RUNTIME DOCKER_RUN_ARGS_AND_IMAGE_AND_CMD...: docker run -d, running or fail.
run_d() {
  local name=$1 runtime=$2
  shift 2
  dk_capture "run-$name" 120 run -d --name "$name" --network none --runtime="$runtime" \
    -e COVE_TEAM="$TEAM" "${WSV[@]}" "$@"
  [[ $RC -eq 0 ]] || fail "docker run -d --name $name --runtime=$runtime ... (exit $RC)"
  wait_for 60 "container $name to be running" is_running "$name"
  say "ok   $name running (runtime $runtime, id $(head -c 12 "$OUT"))"
}
run_d preview cove-preview "$IMAGE" /bin/cove-probe inotify /workspace/src 900 0
run_d agent-1 cove -e COVE_ROLE=agent -e COVE_AGENT=agent-1 "$IMAGE" /bin/sleep 3600
run_d agent-2 cove-agent -e COVE_AGENT=agent-2 "$IMAGE" /bin/sleep 3600
run_d sync cove-sync "$IMAGE" /bin/sh -c 'ls /workspace /workspace/src; exec sleep 3600'

declare -A ID
for c in preview agent-1 agent-2 sync; do
  ID[$c]=$(dk inspect -f '{{.Id}}' "$c") || fail "docker inspect $c"
done
# record C FIELD: a field of cove-runtime's record of container C.
record() {
  jq -r ".$2" "$STATE_DIR/containers/${ID[$1]}.json" 2>/dev/null || echo "<no record>"
}
assert_eq "agent-1 role (from env COVE_ROLE)" "agent env COVE_ROLE agent-1 $TEAM" \
  "$(record agent-1 role) $(record agent-1 roleSource) $(record agent-1 agent) $(record agent-1 team)"
assert_eq "agent-2 role (the runtime's --cove-role)" "agent runtime-args agent-2 $TEAM" \
  "$(record agent-2 role) $(record agent-2 roleSource) $(record agent-2 agent) $(record agent-2 team)"
assert_eq "preview role" "preview $TEAM" "$(record preview role) $(record preview team)"
assert_eq "sync role" "sync $TEAM" "$(record sync role) $(record sync team)"
if [[ $VERBOSE == 1 ]]; then
  dk ps --format 'table {{.Names}}\t{{.Image}}\t{{.Command}}\t{{.Status}}'
fi

dk_capture sync-logs 30 logs sync
if grep -qx main.ts "$OUT" && grep -qx README.md "$OUT"; then
  say "ok   the sync container read the workspace (README.md, src/main.ts)"
else
  check_failed "the sync container's listing of /workspace lacks README.md or src/main.ts"
fi

preview_logs() {
  timeout 20 "${DK[@]}" logs preview >"$TEST_DIR/out/preview.log" 2>&1
}
preview_has() {
  preview_logs && grep -q "^$1" "$TEST_DIR/out/preview.log"
}
wait_for 30 "the preview's inotify watch on /workspace/src" preview_has "watching=/workspace/src"

# ---- 3. what users see -------------------------------------------------------------------------
say "step 3: agents write code"
AGENT1_FILES=(src/agent-1.ts src/agent-1.test.ts)
AGENT2_FILES=(src/agent-2.ts)
dk_capture write-agent-1 60 exec agent-1 /bin/sh -c \
  'echo "export const one = 1" >/workspace/src/agent-1.ts && echo "test(one)" >/workspace/src/agent-1.test.ts && id -u'
assert_rc 0 "agent-1 writes src/agent-1.ts and src/agent-1.test.ts (docker exec)"
assert_eq "agent-1's exec runs as" 1000 "$(tr -d '[:space:]' <"$OUT")"
dk_capture write-agent-2 60 exec agent-2 /bin/sh -c 'echo "export const two = 2" >/workspace/src/agent-2.ts'
assert_rc 0 "agent-2 writes src/agent-2.ts (docker exec)"
assert_eq "src/agent-1.ts in the workspace (backing dir)" "export const one = 1" "$(cat "$WS/src/agent-1.ts" 2>&1)"
assert_eq "src/agent-2.ts in the workspace (backing dir)" "export const two = 2" "$(cat "$WS/src/agent-2.ts" 2>&1)"
dk_capture sync-reads 60 exec sync cat /workspace/src/agent-1.ts /workspace/src/agent-2.ts
assert_rc 0 "the sync container reads the agents' files"
assert_eq "what the sync container reads" "export const one = 1 export const two = 2" "$(tr '\n' ' ' <"$OUT" | sed 's/ $//')"

say "step 3: the preview's inotify sees each change"
preview_saw_all() {
  preview_logs || return 1
  local f
  for f in "${AGENT1_FILES[@]}" "${AGENT2_FILES[@]}"; do
    grep -q "^event=${f#src/} " "$TEST_DIR/out/preview.log" || return 1
  done
}
if ! preview_saw_all; then
  for _ in $(seq 300); do preview_saw_all && break; sleep 0.1; done
fi
if preview_saw_all; then
  say "ok   the preview saw: $(grep '^event=' "$TEST_DIR/out/preview.log" | sed 's/^event=//; s/ op=/:/' | sort -u | tr '\n' ' ')"
else
  OUT=$TEST_DIR/out/preview.log ERR=/dev/null
  check_failed "within 30 s the preview's inotify output did not list every written file (${AGENT1_FILES[*]} ${AGENT2_FILES[*]})"
fi
verbose "preview container's output (cove-probe inotify /workspace/src)" "$TEST_DIR/out/preview.log"

say "step 3: refusals"
dk_capture preview-write 60 exec preview /bin/cove-probe write /workspace/src/preview.ts
assert_eq "preview writing /workspace/src/preview.ts" EROFS "$(tr -d '[:space:]' <"$OUT")"
[[ ! -e $WS/src/preview.ts ]] || check_failed "the preview's write reached $WS/src/preview.ts"
dk_capture agent-hook 60 exec agent-1 /bin/cove-probe write /workspace/.git/hooks/x
hook=$(tr -d '[:space:]' <"$OUT")
if [[ $hook == EROFS || $hook == EACCES ]]; then
  say "ok   agent-1 writing /workspace/.git/hooks/x: $hook"
else
  check_failed "agent-1 writing /workspace/.git/hooks/x: expected EROFS or EACCES, got '$hook'"
fi
[[ ! -e $WS/.git/hooks/x ]] || check_failed "the agent's write reached $WS/.git/hooks/x"

say "docker run --runtime=cove -e COVE_ROLE=agent -v $SOCK:/var/run/docker.sock (the daemon's socket)"
dk_capture docker-sock 90 run --rm --name sock --network none --runtime=cove -e COVE_ROLE=agent \
  -e COVE_TEAM="$TEAM" -v "$SOCK:/var/run/docker.sock" "$IMAGE" /bin/true
assert_rc_nonzero "an agent with the Docker socket" &&
  assert_err_has "an agent with the Docker socket" "cove: container" "refused by role agent" "$SOCK" \
    "roles.agent.mounts.deny"
[[ -z $(dk ps -aq --filter name='^sock$') ]] || check_failed "the refused container is left behind"
# The host's own socket only where there is one: otherwise docker would create
# /var/run/docker.sock as an empty directory on the host.
if [[ -S /var/run/docker.sock ]]; then
  dk_capture host-docker-sock 90 run --rm --network none --runtime=cove -e COVE_ROLE=agent \
    -e COVE_TEAM="$TEAM" -v /var/run/docker.sock:/var/run/docker.sock "$IMAGE" /bin/true
  assert_rc_nonzero "an agent with the host's /var/run/docker.sock" &&
    assert_err_has "an agent with the host's /var/run/docker.sock" "cove: container" "roles.agent.mounts.deny"
fi
if jq -e -s --arg s "$SOCK" 'map(select(.decision == "refuse" and (tostring | contains($s)))) | length > 0' \
  "$AUDIT_LOG" >/dev/null 2>&1; then
  say "ok   the audit log has the refusal"
else
  check_failed "no refuse decision naming $SOCK in $AUDIT_LOG"
fi

say "step 3: commits on the remote"
pushed() {
  local authors
  authors=$(gitr log --format=%an main 2>/dev/null) || return 1
  grep -qx agent-1 <<<"$authors" && grep -qx agent-2 <<<"$authors"
}
wait_for 60 "commits by agent-1 and agent-2 on $REMOTE (cove-sync log: $TEST_DIR/sync.log)" pushed
acked() { jq -e '.lag == 0 and .pendingCount == 0' "$STATUS" >/dev/null; }
wait_for 30 "cove-sync to acknowledge the whole journal ($STATUS)" acked
capture remote-log 30 git --git-dir="$REMOTE" log --format='%an %s' main
say "remote log: $(tr '\n' ';' <"$OUT")"
assert_eq "authors on the remote" "agent-1 agent-2 seed" "$(gitr log --format=%an main | sort -u | tr '\n' ' ' | sed 's/ $//')"
# paths_of AUTHOR: every path the author's commits on the remote touched, sorted.
paths_of() {
  local c
  for c in $(gitr log --format=%H --author="^$1 <" main); do
    gitr diff-tree --no-commit-id --name-only -r "$c"
  done | sort -u | tr '\n' ' ' | sed 's/ $//'
}
sorted() { printf '%s\n' "$@" | sort -u | tr '\n' ' ' | sed 's/ $//'; }
assert_eq "paths committed as agent-1" "$(sorted "${AGENT1_FILES[@]}")" "$(paths_of agent-1)"
assert_eq "paths committed as agent-2" "$(sorted "${AGENT2_FILES[@]}")" "$(paths_of agent-2)"
assert_eq "agent-1's email" "agent-1@$TEAM.cove" "$(gitr log -1 --format=%ae --author='^agent-1 <' main)"
assert_eq "the remote's src/agent-2.ts" "export const two = 2" "$(gitr show main:src/agent-2.ts 2>&1)"
assert_eq "the workspace's HEAD is the remote's main" "$(gitr rev-parse main)" "$(gitw rev-parse HEAD)"
if gitr ls-tree -r --name-only main | grep -q '^\.git/'; then
  check_failed "the remote has a .git path"
fi
verbose "git log on the remote (%an %s)" "$OUT"

say "step 3: cove ws status, cove audit live, cove doctor"
capture ws-status 60 "$COVE_CLI" ws status "$TEAM" "${PATHS[@]}" --json
assert_rc 0 "cove ws status $TEAM"
assert_eq "ws status: mount answering, covefs pid, sync running, lag" "true $COVEFS_PID true 0" \
  "$(jq -r '.teams[0] | "\(.mount.answering) \(.mount.pid) \(.sync.running) \(.sync.lag)"' "$OUT")"

# Docker's runc shim keeps runc's state under a root of its own (below the private exec root,
# one per containerd namespace); cove-runtime recorded the --root it was called with.
RUNC_ROOT=$(record agent-1 root)
[[ -f $RUNC_ROOT/${ID[agent-1]}/state.json ]] ||
  fail "the recorded runtime root '$RUNC_ROOT' has no state.json for agent-1"
say "runc root of the private dockerd: $RUNC_ROOT"
capture audit-live 60 "$COVE_CLI" audit live --policy "$POLICY" --state-dir "$STATE_DIR" --root "$RUNC_ROOT" --json
assert_rc 0 "cove audit live (no drift)"
assert_eq "drift findings" 0 "$(jq .drift "$OUT")"
for c in preview agent-1 agent-2 sync; do
  assert_eq "audit live: $c" "running true 0" \
    "$(jq -r --arg id "${ID[$c]}" '.containers[] | select(.id == $id) | "\(.state) \(.attested) \(.drift | length)"' "$OUT")"
done
if [[ $VERBOSE == 1 ]]; then
  capture audit-live-table 60 "$COVE_CLI" audit live --policy "$POLICY" --state-dir "$STATE_DIR" --root "$RUNC_ROOT"
  verbose "cove audit live" "$OUT"
fi

doctor_args=(--daemon-json "$TEST_DIR/daemon.json" --docker-socket "$SOCK" --policy "$POLICY" "${PATHS[@]}"
  --image "$IMAGE")
capture doctor 60 "$COVE_CLI" doctor --json "${doctor_args[@]}"
assert_rc 0 "cove doctor (healthy)"
check() { jq -r --arg c "$1" --arg s "$2" '.checks[] | select(.check == $c and .subject == $s) | .status' "$OUT"; }
assert_eq "doctor ok" true "$(jq -r .ok "$OUT")"
for cs in "docker-socket $SOCK" "docker-loaded dockerd" "docker-runtime cove" "docker-runtime cove-sync" \
  "policy $POLICY" "covefs $TEAM" "sync $TEAM" "image $IMAGE"; do
  # shellcheck disable=SC2086 # two words: check and subject
  assert_eq "doctor: $cs" ok "$(check $cs)"
done
if [[ $VERBOSE == 1 ]]; then
  capture doctor-table 60 "$COVE_CLI" doctor "${doctor_args[@]}"
  verbose "cove doctor" "$OUT"
fi

# ---- 4. stop everything; nothing is left behind ------------------------------------------------
say "step 4: stop everything"
mapfile -t container_pids < <(for c in preview agent-1 agent-2 sync; do dk inspect -f '{{.State.Pid}}' "$c"; done)
# Every process naming the temp dir (dockerd, containerd, the shims, covefs, cove-sync), read with
# builtins only so no helper's own argv matches.
named_pids() {
  local f p args
  for f in /proc/[0-9]*/cmdline; do
    p=${f#/proc/}
    p=${p%/cmdline}
    [[ $p != "$$" && $p != "$BASHPID" ]] || continue
    mapfile -d '' args 2>/dev/null <"$f" || continue
    [[ " ${args[*]} " == *"$TEST_DIR/"* ]] && echo "$p"
  done
}
mapfile -t started_pids < <(named_pids)
say "processes to be gone: containers ${container_pids[*]}, platform ${started_pids[*]}"

dk_capture stop 120 stop -t 2 preview agent-1 agent-2 sync
assert_rc 0 "docker stop"
dk_capture rm 60 rm preview agent-1 agent-2 sync
assert_rc 0 "docker rm"
dk_capture ps-a 30 ps -aq
assert_eq "docker ps -a" "" "$(cat "$OUT")"

kill -TERM "$SYNC_PID"
wait_for 30 "cove-sync $SYNC_PID to exit on SIGTERM" not_alive "$SYNC_PID"
wait "$SYNC_PID"
assert_eq "cove-sync's exit status on SIGTERM" 0 "$?"
SYNC_PID=""

fusermount3 -u "$MNT" || check_failed "fusermount3 -u $MNT"
wait_for 30 "covefs $COVEFS_PID to exit after the unmount" not_alive "$COVEFS_PID"
COVEFS_PID=""
say "covefs: $(tail -n 1 "$JOURNAL_ROOT/$TEAM.covefs.log")"

kill -TERM "$DOCKERD_PID"
wait_for 60 "dockerd $DOCKERD_PID to exit on SIGTERM" not_alive "$DOCKERD_PID"
wait "$DOCKERD_PID" 2>/dev/null
DOCKERD_PID=""
for p in ${CONTAINERD_PIDS[@]+"${CONTAINERD_PIDS[@]}"}; do
  wait_for 30 "containerd $p to exit after dockerd" not_alive "$p"
done

left=()
for p in "${container_pids[@]}" "${started_pids[@]}"; do
  [[ $p =~ ^[0-9]+$ && $p -gt 0 ]] || continue
  alive "$p" && left+=("$p:$(cat "/proc/$p/comm" 2>/dev/null)")
done
assert_eq "processes still running" "" "${left[*]}"
assert_eq "processes naming $TEST_DIR" "" "$(named_pids | tr '\n' ' ' | sed 's/ $//')"
assert_eq "covefs mounts" "" "$(grep ' fuse.covefs ' /proc/mounts | grep -F "$TEST_DIR/" | cut -d' ' -f2)"
# dockerd leaves its bind of the host network namespace (<exec-root>/netns/default); lib.sh's
# cleanup unmounts it. Anything else under the temp dir (overlay layers, container binds, shm)
# would be a leak.
assert_eq "other mounts under $TEST_DIR" "" \
  "$(awk -v d="$TEST_DIR/" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | grep -v "/netns/default\$" | tr '\n' ' ' | sed 's/ $//')"
cgroups_left=$(find /sys/fs/cgroup/*/"$CGROUP_PARENT" /sys/fs/cgroup/"$CGROUP_PARENT" -mindepth 1 -type d 2>/dev/null | tr '\n' ' ' | sed 's/ $//')
assert_eq "container cgroups under /$CGROUP_PARENT" "" "$cgroups_left"
finish
