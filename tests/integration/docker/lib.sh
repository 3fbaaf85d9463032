# shellcheck shell=bash
# Shared helpers for the Docker scenarios (tests/integration/docker/docker_*.sh).
#
# A scenario sources this file and calls `docker_setup`, which starts a private dockerd in a temp
# dir ($TEST_DIR) with
#   - a daemon.json derived from docker/daemon.json: every runtime's path is $COVE_RUNTIME and its
#     --cove-policy is this test's policy, plus a cgroup parent of our own;
#   - a policy derived from docker/policy.json: audit log, state dir and workspace root in the temp
#     dir, every /var/lib/docker/... mount rule repeated for the private data root;
#   - an image $IMAGE imported from tools/make-rootfs.sh's busybox rootfs with /bin/cove-probe.
# It then runs `docker ...` through `dk` / `dk_capture`, checks with the assert_* helpers and ends
# with `finish`. Starting dockerd takes seconds, so one scenario groups a few related checks: each
# prints what it checks, a failed check is reported at once and the scenario goes on to the next
# one, and `finish` exits 1 listing every failed check. `fail` stops at once (setup problems,
# or a check later ones depend on).
#
# The EXIT trap removes every container of the private daemon, stops dockerd by its PID and waits
# for it and its containerd to exit, kills by PID any process still naming the temp dir (shims),
# unmounts whatever is left under the temp dir, removes our cgroup parent and the temp dir.
# COVE_KEEP_TMP=1 keeps the temp dir (daemon and mounts are still cleaned up).
#
# Environment (set by CMake's add_test, or by hand):
#   COVE_RUNTIME  cove-runtime under test
#   COVE_PROBE    the static cove-probe binary copied into the image
#   COVE_SRC      the source tree (docker/daemon.json, docker/policy.json, tools/make-rootfs.sh)
# Exit codes: 0 pass, 1 fail, 77 skip (not root; dockerd, docker, containerd, runc, jq or
# busybox-static missing).
source "$(dirname "${BASH_SOURCE[0]}")/../leftovers_lib.sh"
set -u -o pipefail

SCENARIO=${SCENARIO:-$(basename "$0" .sh)}
COVE_SRC=${COVE_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
IMAGE=cove-probe:test

TEST_DIR=""
DOCKERD_PID=""
CONTAINERD_PIDS=()
CGROUP_PARENT=""
FAILED=()
OUT=""
ERR=""
RC=0

say() {
  echo "[$SCENARIO] $*"
}

skip() {
  echo "SKIP [$SCENARIO]: $*"
  exit 77
}

# Prints the last command's output and the daemon's log tail.
show_context() {
  if [[ -n $OUT && -s $OUT ]]; then
    echo "--- stdout of the last command ($OUT, last 30 lines) ---" >&2
    tail -n 30 "$OUT" >&2
  fi
  if [[ -n $ERR && -s $ERR ]]; then
    echo "--- stderr of the last command ($ERR, last 20 lines) ---" >&2
    tail -n 20 "$ERR" >&2
  fi
}

# fail MSG: stops the scenario.
fail() {
  echo "FAIL [$SCENARIO]: $*" >&2
  show_context
  if [[ -n $TEST_DIR && -s $TEST_DIR/dockerd.log ]]; then
    echo "--- $TEST_DIR/dockerd.log (last 15 lines) ---" >&2
    tail -n 15 "$TEST_DIR/dockerd.log" >&2
  fi
  exit 1
}

# check_failed MSG: records a failed check and goes on. Returns 1 so callers can stop a chain.
check_failed() {
  FAILED+=("$*")
  echo "FAIL [$SCENARIO]: $*" >&2
  show_context
  return 1
}

finish() {
  if [[ ${#FAILED[@]} -gt 0 ]]; then
    echo "FAIL [$SCENARIO]: ${#FAILED[@]} check(s) failed:" >&2
    local f
    for f in "${FAILED[@]}"; do
      echo "  - $f" >&2
    done
    exit 1
  fi
  echo "PASS [$SCENARIO]"
  exit 0
}

# dk ARGS...: the docker client talking to this test's daemon.
dk() {
  "${DK[@]}" "$@"
}

# capture NAME TIMEOUT CMD...: runs CMD, stdout in $OUT, stderr in $ERR ($TEST_DIR/out/NAME.*),
# exit status in $RC (124: timed out); never fails by itself.
capture() {
  local name=$1 secs=$2
  shift 2
  OUT=$TEST_DIR/out/$name.out
  ERR=$TEST_DIR/out/$name.err
  timeout -k 5 "$secs" "$@" </dev/null >"$OUT" 2>"$ERR"
  RC=$?
  return 0
}

# dk_capture NAME TIMEOUT DOCKER_ARGS...
dk_capture() {
  local name=$1 secs=$2
  shift 2
  capture "$name" "$secs" "${DK[@]}" "$@"
}

# cname NAME: a container name unique to this run.
cname() {
  echo "cove-${SCENARIO#docker_}-$$-$1"
}

assert_eq() {
  if [[ $2 == "$3" ]]; then
    say "ok   $1 = $3"
  else
    check_failed "$1: expected '$2', got '$3'"
  fi
}

assert_rc() {
  local want=$1 what=$2
  if [[ $RC -eq $want ]]; then
    say "ok   $what: exit status $RC"
  else
    check_failed "$what: expected exit status $want, got $RC"
  fi
}

assert_rc_nonzero() {
  local what=$1
  if [[ $RC -ne 0 && $RC -ne 124 ]]; then
    say "ok   $what: exit status $RC (non-zero)"
  elif [[ $RC -eq 124 ]]; then
    check_failed "$what: timed out"
  else
    check_failed "$what: expected a non-zero exit status, got 0"
  fi
}

# assert_err_has WHAT WORDS...: what the last docker command printed contains every WORD (fixed
# strings). Docker prints a refused create on stderr, but a refused exec on stdout.
assert_err_has() {
  local what=$1 w
  shift
  for w in "$@"; do
    if ! grep -qF -- "$w" "$ERR" "$OUT"; then
      check_failed "$what: docker's output (stdout and stderr) does not contain '$w'"
      return 1
    fi
  done
  say "ok   $what: docker printed [$*]: $(cat "$ERR" "$OUT" | grep -m1 -oE 'cove: .{0,160}' || head -c 160 "$ERR")"
}

# probe_value KEY [FILE]: the value of KEY=... in FILE (default $OUT), or "<missing>".
probe_value() {
  local key=$1 file=${2:-$OUT} line
  line=$(grep -m1 "^$key=" "$file" 2>/dev/null) || {
    echo "<missing>"
    return 0
  }
  echo "${line#*=}"
}

# expect_probe WHAT KEY EXPECTED: the probe report in $OUT has KEY=EXPECTED.
expect_probe() {
  assert_eq "$1: $2" "$3" "$(probe_value "$2")"
}

# expect_probe_syscalls WHAT: every escape-prone syscall the probe tries failed with EPERM.
expect_probe_syscalls() {
  local sys
  for sys in unshare_newuser mount keyctl add_key bpf ptrace perf_event_open userfaultfd io_uring_setup; do
    expect_probe "$1" "sys_$sys" EPERM
  done
}

# container_state NAME: docker's .State.Status ("running", "paused", "exited", ...) or "absent".
container_state() {
  local s
  s=$(dk inspect -f '{{.State.Status}}' "$1" 2>/dev/null) || s=absent
  echo "$s"
}

cgroup_v2() {
  [[ -f /sys/fs/cgroup/cgroup.controllers ]]
}

# write_policy [JQ_FILTER]: this test's policy, from docker/policy.json.
write_policy() {
  local extra=${1:-.}
  sed -e 's#^[[:space:]]*//.*##' "$COVE_SRC/docker/policy.json" |
    jq --arg audit "$AUDIT_LOG" --arg state "$STATE_DIR" --arg ws "$TEST_DIR/teams" \
      --arg runc "$RUNC" --arg data "$DATA_ROOT" --argjson nofile "$NOFILE_MAX" '
      def private: [.[] | select(startswith("/var/lib/docker/")) | sub("^/var/lib/docker"; $data)];
      .auditLog = $audit | .stateDir = $state | .workspaceRoot = $ws | .defaultBackend = $runc
      | .roles[].backend = $runc
      | .roles[].mounts |= (.allow += (.allow | private) | .readOnly += ((.readOnly // []) | private))
      | (.roles[].rlimits[]? | select(.type == "RLIMIT_NOFILE"))
          |= (.soft = ([.soft, $nofile] | min) | .hard = ([.hard, $nofile] | min))
      | '"$extra" >"$POLICY.new" ||
    fail "cannot derive a test policy from $COVE_SRC/docker/policy.json (filter: $extra)"
  mv -f "$POLICY.new" "$POLICY"
}

# The highest RLIMIT_NOFILE a container can be given here. runc applies rlimits with prlimit(2)
# from the runtime process; raising a hard limit above the one it inherited from dockerd needs
# CAP_SYS_RESOURCE, which some sandboxes (and rootless setups) lack. The test policy is clamped
# to what this host can grant so the scenarios test cove, not the sandbox.
nofile_max() {
  local capeff hard
  capeff=$(awk '/^CapEff:/ {print $2}' /proc/self/status)
  hard=$(ulimit -Hn)
  if [[ $hard == unlimited ]] || (((0x$capeff >> 24) & 1)); then  # 24: CAP_SYS_RESOURCE
    echo 1048576
  else
    echo "$hard"
  fi
}

# docker_setup [POLICY_JQ_FILTER]: checks, temp dir, policy, daemon, image. $DAEMON_JSON_FILTER,
# if set, is a jq filter applied last to the generated daemon.json.
# shellcheck disable=SC2120 # the policy filter is optional
docker_setup() {
  [[ $(id -u) -eq 0 ]] || skip "needs root (dockerd)"
  DOCKERD=/usr/sbin/dockerd
  [[ -x $DOCKERD ]] || DOCKERD=$(command -v dockerd) || skip "dockerd is not installed"
  # /usr/bin/docker is the client of the same (Debian) release as dockerd; another one on PATH
  # may speak a newer API than this daemon.
  DOCKER=/usr/bin/docker
  [[ -x $DOCKER ]] || DOCKER=$(command -v docker) || skip "the docker client is not installed"
  command -v containerd >/dev/null || skip "containerd is not installed"
  RUNC=$(command -v runc) || skip "runc is not installed"
  command -v jq >/dev/null || skip "jq is not installed"
  [[ -x /bin/busybox ]] || skip "/bin/busybox is missing (apt-get install busybox-static)"
  [[ -n ${COVE_RUNTIME:-} ]] || skip "COVE_RUNTIME is not set (run through ctest, or set it to the cove-runtime binary)"
  [[ -n ${COVE_PROBE:-} ]] || skip "COVE_PROBE is not set (run through ctest, or set it to the cove-probe binary)"
  [[ -x $COVE_RUNTIME ]] || fail "COVE_RUNTIME=$COVE_RUNTIME is not an executable file"
  [[ -f $COVE_PROBE ]] || fail "COVE_PROBE=$COVE_PROBE does not exist"
  [[ -f $COVE_SRC/docker/policy.json && -f $COVE_SRC/docker/daemon.json ]] ||
    fail "COVE_SRC=$COVE_SRC has no docker/policy.json or docker/daemon.json"
  COVE_RUNTIME=$(realpath "$COVE_RUNTIME")

  # Short: the daemon's and containerd's unix sockets live below it (108-byte sun_path).
  TEST_DIR=$(mktemp -d /tmp/cove-dk.XXXXXX) || fail "mktemp failed"
  trap docker_cleanup EXIT
  trap 'exit 130' INT TERM
  DATA_ROOT=$TEST_DIR/data
  EXEC_ROOT=$TEST_DIR/x
  SOCK=$TEST_DIR/d.sock
  POLICY=$TEST_DIR/policy.json
  STATE_DIR=$TEST_DIR/state
  AUDIT_LOG=$TEST_DIR/audit.jsonl
  CGROUP_PARENT=cove-dtest-$$
  NOFILE_MAX=$(nofile_max)
  mkdir -p "$DATA_ROOT" "$EXEC_ROOT" "$STATE_DIR" "$TEST_DIR/teams" "$TEST_DIR/out" "$TEST_DIR/client" ||
    fail "cannot create dirs under $TEST_DIR"
  # The client must not read root's ~/.docker or a DOCKER_HOST/DOCKER_CONTEXT of the caller.
  unset DOCKER_HOST DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH
  export DOCKER_CONFIG=$TEST_DIR/client
  DK=("$DOCKER" -H "unix://$SOCK")
  say "temp dir $TEST_DIR, runtime $COVE_RUNTIME"

  write_policy "${1:-.}"
  if [[ $NOFILE_MAX -lt 65536 ]]; then
    say "note: no CAP_SYS_RESOURCE and hard RLIMIT_NOFILE $NOFILE_MAX here; test policy's RLIMIT_NOFILE clamped to it"
  fi
  # docker/daemon.json with our binary and policy; cgroupfs with a parent of our own so the
  # cleanup knows exactly which cgroups are ours.
  jq --arg rt "$COVE_RUNTIME" --arg pol "$POLICY" --arg cg "/$CGROUP_PARENT" '
      .runtimes |= map_values(.path = $rt
                              | .runtimeArgs |= map(if . == "/etc/cove/policy.json" then $pol else . end))
      | ."cgroup-parent" = $cg | ."exec-opts" = ["native.cgroupdriver=cgroupfs"]
      | '"${DAEMON_JSON_FILTER:-.}" \
    "$COVE_SRC/docker/daemon.json" >"$TEST_DIR/daemon.json" || fail "cannot derive daemon.json"

  start_dockerd
  import_image
}

start_dockerd() {
  # A dockerd without --containerd uses /run/containerd/containerd.sock if a system containerd
  # runs; namespaces of our own keep its containers apart from anyone else's there.
  local ns=cove-t$$
  "$DOCKERD" --iptables=false --ip-masq=false --bridge=none \
    --data-root "$DATA_ROOT" --exec-root "$EXEC_ROOT" --pidfile "$TEST_DIR/dockerd.pid" \
    -H "unix://$SOCK" --config-file "$TEST_DIR/daemon.json" \
    --containerd-namespace "$ns" --containerd-plugins-namespace "$ns-plugins" \
    </dev/null >"$TEST_DIR/dockerd.log" 2>&1 &
  DOCKERD_PID=$!
  local i
  for ((i = 0; i < 300; i++)); do
    if ! kill -0 "$DOCKERD_PID" 2>/dev/null; then
      wait "$DOCKERD_PID" 2>/dev/null
      DOCKERD_PID=""
      fail "dockerd exited during startup (log: $TEST_DIR/dockerd.log)"
    fi
    if [[ -S $SOCK ]] && dk version >/dev/null 2>&1; then
      break
    fi
    sleep 0.1
  done
  [[ $i -lt 300 ]] || fail "dockerd did not answer on $SOCK within 30s"
  local p comm
  for p in $(ps -o pid= --ppid "$DOCKERD_PID"); do
    comm=$(cat "/proc/$p/comm" 2>/dev/null) || continue
    [[ $comm == containerd ]] && CONTAINERD_PIDS+=("$p")
  done
  say "dockerd $DOCKERD_PID up after $((i / 10)).$((i % 10))s (managed containerd: ${CONTAINERD_PIDS[*]:-none, using a system containerd})"
  local runtimes
  # shellcheck disable=SC2016 # a Go template, not a shell expansion
  runtimes=$(dk info --format '{{range $k, $v := .Runtimes}}{{$k}} {{end}}' 2>/dev/null)
  local r
  for r in cove cove-agent cove-preview cove-sync; do
    [[ " $runtimes " == *" $r "* ]] || fail "dockerd does not list runtime $r (runtimes: $runtimes)"
  done
}

import_image() {
  "$COVE_SRC/tools/make-rootfs.sh" "$TEST_DIR/rootfs" "$COVE_PROBE" || fail "tools/make-rootfs.sh failed"
  OUT=$TEST_DIR/out/import.out
  ERR=$TEST_DIR/out/import.err
  tar -C "$TEST_DIR/rootfs" --numeric-owner -cf - . | timeout -k 5 60 "${DK[@]}" import - "$IMAGE" >"$OUT" 2>"$ERR" ||
    fail "docker import of the probe rootfs failed"
  say "image $IMAGE imported"
}

# True if pid $1 still runs (and is not a zombie we could not reap).
alive() {
  [[ -d /proc/$1 ]] && [[ $(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) != Z ]]
}

docker_cleanup() {
  local rc=$?
  local ids p i
  if [[ -n $DOCKERD_PID ]] && alive "$DOCKERD_PID"; then
    # Every container of this private daemon is ours.
    ids=$(timeout 20 "${DK[@]}" ps -aq 2>/dev/null)
    if [[ -n $ids ]]; then
      # shellcheck disable=SC2086
      timeout -k 5 60 "${DK[@]}" rm -f $ids >/dev/null 2>&1
    fi
    kill -TERM "$DOCKERD_PID" 2>/dev/null
    for ((i = 0; i < 300; i++)); do
      alive "$DOCKERD_PID" || break
      sleep 0.1
    done
    if alive "$DOCKERD_PID"; then
      echo "[$SCENARIO] dockerd $DOCKERD_PID did not stop within 30s; killing it" >&2
      kill -KILL "$DOCKERD_PID" 2>/dev/null
    fi
    wait "$DOCKERD_PID" 2>/dev/null
  fi
  # dockerd stops its managed containerd on the way out; wait for it, then insist.
  for p in ${CONTAINERD_PIDS[@]+"${CONTAINERD_PIDS[@]}"}; do
    for ((i = 0; i < 100; i++)); do
      alive "$p" || break
      sleep 0.1
    done
    if alive "$p"; then
      echo "[$SCENARIO] containerd $p still running; killing it" >&2
      kill -KILL "$p" 2>/dev/null
    fi
  done
  if [[ -n $TEST_DIR ]]; then
    kill_processes_naming "$TEST_DIR"
    unmount_under "$TEST_DIR"
  fi
  if [[ -n $CGROUP_PARENT ]]; then
    local d
    for d in /sys/fs/cgroup/*/"$CGROUP_PARENT" /sys/fs/cgroup/"$CGROUP_PARENT"; do
      [[ -d $d ]] || continue
      find "$d" -mindepth 1 -depth -type d -exec rmdir {} \; 2>/dev/null
      rmdir "$d" 2>/dev/null || echo "[$SCENARIO] cannot remove cgroup $d" >&2
    done
  fi
  if [[ -n $TEST_DIR && -d $TEST_DIR ]]; then
    if [[ ${COVE_KEEP_TMP:-0} == 1 ]]; then
      echo "[$SCENARIO] kept $TEST_DIR" >&2
    else
      rm -rf --one-file-system "$TEST_DIR"
    fi
  fi
  exit "$rc"
}
