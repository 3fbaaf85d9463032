# shellcheck shell=bash
# Shared helpers for the runc integration scenarios (tests/integration/runc_*.sh).
#
# A scenario sources this file, calls `setup`, builds bundles with `new_bundle`, runs them through
# the shim with `cove ...` or `run_container`, checks with the assert_* helpers and ends with
# `pass`. Everything lives in one temp dir ($TEST_DIR) that the EXIT trap removes after deleting,
# with runc itself, every container the scenario named and killing every background PID it
# registered. Set COVE_KEEP_TMP=1 to keep the temp dir for a post-mortem.
#
# Environment (set by CMake's add_test, or by hand):
#   COVE_RUNTIME  the shim (cove-runtime) under test; may be pointed at runc while developing
#   COVE_PROBE    the static cove-probe binary copied into the rootfs
#   COVE_SRC      the source tree (for docker/policy.json and tools/)
# Exit codes: 0 pass, 1 fail, 77 skip (not root, runc/jq/busybox-static missing, cgroup
# controllers missing).
set -u -o pipefail

SCENARIO=$(basename "$0" .sh)
COVE_SRC=${COVE_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}

TEST_DIR=""
CONTAINERS=()
CLEANUP_HOOKS=()  # shell commands run first at exit (unmounts), in order
COVE=()
BG_PIDS=()
LOG_MARK=0
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

# Shows what the shim and the containers left behind, then exits 1.
fail() {
  echo "FAIL [$SCENARIO]: $*" >&2
  if [[ -n $TEST_DIR && -s ${LOG:-/nonexistent} ]]; then
    echo "--- $LOG (last 20 lines) ---" >&2
    tail -n 20 "$LOG" >&2
  fi
  if [[ -n $OUT && -s $OUT ]]; then
    echo "--- stdout of the last command ($OUT, last 40 lines) ---" >&2
    tail -n 40 "$OUT" >&2
  fi
  if [[ -n $ERR && -s $ERR ]]; then
    echo "--- stderr of the last command ($ERR, last 20 lines) ---" >&2
    tail -n 20 "$ERR" >&2
  fi
  exit 1
}

pass() {
  echo "PASS [$SCENARIO]"
  exit 0
}

cleanup() {
  local rc=$?
  local id pid hook
  for hook in ${CLEANUP_HOOKS[@]+"${CLEANUP_HOOKS[@]}"}; do
    eval "$hook"
  done
  for pid in ${BG_PIDS[@]+"${BG_PIDS[@]}"}; do
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  if [[ -n ${RUNC:-} && -n $TEST_DIR ]]; then
    for id in ${CONTAINERS[@]+"${CONTAINERS[@]}"}; do
      "$RUNC" --root "$ROOT" delete -f "$id" >/dev/null 2>&1
      remove_cgroup "$id"
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

# runc removes a container's cgroup on delete but not the /cove-test parent; remove both when
# empty (rmdir fails harmlessly while another scenario still has a container there).
remove_cgroup() {
  local id=$1 d
  for d in /sys/fs/cgroup/*/cove-test /sys/fs/cgroup/cove-test; do
    [[ -d $d ]] || continue
    [[ -d $d/$id ]] && rmdir "$d/$id" 2>/dev/null
    rmdir "$d" 2>/dev/null
  done
  return 0
}

# True on a cgroup v2 (unified) host.
cgroup_v2() {
  [[ -f /sys/fs/cgroup/cgroup.controllers ]]
}

require_cgroup_controllers() {
  if cgroup_v2; then
    local c
    for c in memory pids cpu; do
      grep -qw "$c" /sys/fs/cgroup/cgroup.controllers || skip "cgroup v2 controller $c is not available"
    done
  else
    [[ -f /sys/fs/cgroup/memory/memory.limit_in_bytes ]] || skip "cgroup v1 memory controller is not mounted"
    [[ -d /sys/fs/cgroup/pids ]] || skip "cgroup v1 pids controller is not mounted"
    [[ -f /sys/fs/cgroup/cpu/cpu.cfs_quota_us || -f /sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us ]] ||
      skip "cgroup v1 cpu controller (CFS quota) is not mounted"
  fi
}

# Checks the environment, makes the temp dir, the rootfs and the default policy.
setup() {
  [[ $(id -u) -eq 0 ]] || skip "needs root (runc creates namespaces and cgroups)"
  RUNC=$(command -v runc) || skip "runc is not installed"
  command -v jq >/dev/null || skip "jq is not installed"
  [[ -x /bin/busybox ]] || skip "/bin/busybox is missing (apt-get install busybox-static)"
  [[ -n ${COVE_RUNTIME:-} ]] || skip "COVE_RUNTIME is not set (run through ctest, or set it to the cove-runtime binary)"
  [[ -n ${COVE_PROBE:-} ]] || skip "COVE_PROBE is not set (run through ctest, or set it to the cove-probe binary)"
  [[ -x $COVE_RUNTIME ]] || fail "COVE_RUNTIME=$COVE_RUNTIME is not an executable file"
  [[ -f $COVE_PROBE ]] || fail "COVE_PROBE=$COVE_PROBE does not exist"
  [[ -f $COVE_SRC/docker/policy.json ]] || fail "COVE_SRC=$COVE_SRC has no docker/policy.json"
  require_cgroup_controllers

  TEST_DIR=$(mktemp -d /tmp/cove-it.XXXXXX) || fail "mktemp failed"
  trap cleanup EXIT
  trap 'exit 130' INT TERM
  ROOT=$TEST_DIR/runc-root
  LOG=$TEST_DIR/runtime.log
  POLICY=$TEST_DIR/policy.json
  STATE_DIR=$TEST_DIR/state
  AUDIT_LOG=$TEST_DIR/audit/audit.jsonl
  WORKSPACE_ROOT=$TEST_DIR/teams
  ROOTFS=$TEST_DIR/rootfs
  mkdir -p "$ROOT" "$STATE_DIR" "$WORKSPACE_ROOT" || fail "cannot create dirs under $TEST_DIR"
  : >"$LOG"
  COVE=("$COVE_RUNTIME" --cove-policy "$POLICY" --root "$ROOT" --log "$LOG" --log-format json)
  say "temp dir $TEST_DIR, runtime $COVE_RUNTIME"
  "$COVE_SRC/tools/make-rootfs.sh" "$ROOTFS" "$COVE_PROBE" || fail "tools/make-rootfs.sh failed"
  write_policy .
}

# write_policy [JQ_FILTER]: this test's copy of docker/policy.json with every path in $TEST_DIR and
# every backend the runc on PATH, then JQ_FILTER (e.g. '.roles.agent.mounts.deny += ["/x"]').
# The sample's comments are whole lines, so sed can strip them before jq reads it.
write_policy() {
  local extra=${1:-.}
  sed -e 's#^[[:space:]]*//.*##' "$COVE_SRC/docker/policy.json" |
    jq --arg audit "$AUDIT_LOG" --arg state "$STATE_DIR" --arg ws "$WORKSPACE_ROOT" --arg runc "$RUNC" \
      '.auditLog = $audit | .stateDir = $state | .workspaceRoot = $ws | .defaultBackend = $runc
       | .roles[].backend = $runc | '"$extra" >"$POLICY.new" ||
    fail "cannot derive a test policy from $COVE_SRC/docker/policy.json (filter: $extra)"
  mv -f "$POLICY.new" "$POLICY"
}

# cid NAME: a container ID unique to this run (it is also the bundle dir's and cgroup's name).
cid() {
  echo "cove-${SCENARIO#runc_}-$$-$1"
}

# new_bundle ID ROLE [ARGS...]: bundle $TEST_DIR/ID for role ROLE (env COVE_ROLE; "" for none)
# running ARGS (default: cove-probe report). Extra env words may be given in $EXTRA_ENV.
new_bundle() {
  local id=$1 role=$2
  shift 2
  local env="${EXTRA_ENV:-}"
  [[ -n $role ]] && env="COVE_ROLE=$role $env"
  CONTAINERS+=("$id")
  BUNDLE_ENV="$env" RUNC="$RUNC" "$COVE_SRC/tools/make-bundle.sh" "$TEST_DIR/$id" "$ROOTFS" "$@" ||
    fail "tools/make-bundle.sh failed for $id"
}

bundle_of() {
  echo "$TEST_DIR/$1"
}

# edit_config ID JQ_FILTER [jq args...]: rewrites the bundle's config.json.
edit_config() {
  local id=$1 filter=$2
  shift 2
  local cfg="$TEST_DIR/$id/config.json"
  jq "$@" "$filter" "$cfg" >"$cfg.new" || fail "jq edit of $cfg failed: $filter"
  mv -f "$cfg.new" "$cfg"
}

# cove ARGS...: the shim with this test's policy, runc root and log. --log-format json is what
# Docker and containerd pass, and what makes the refusal line JSON.
# $COVE is the same command as an array, for capture (timeout(1) cannot run a shell function).
cove() {
  "${COVE[@]}" "$@"
}

# capture NAME TIMEOUT CMD...: runs CMD with stdin from $STDIN_FILE (default /dev/null), stdout
# in $OUT, stderr in $ERR ($TEST_DIR/NAME.out/.err), exit status in $RC; never fails by itself.
capture() {
  local name=$1 secs=$2
  shift 2
  OUT=$TEST_DIR/$name.out
  ERR=$TEST_DIR/$name.err
  timeout -k 5 "$secs" "$@" <"${STDIN_FILE:-/dev/null}" >"$OUT" 2>"$ERR"
  RC=$?
  return 0
}

# run_container ID [TIMEOUT]: `cove run --bundle <bundle> ID`, output in $OUT, status in $RC.
run_container() {
  local id=$1 secs=${2:-40}
  say "run $id (role from bundle env) through $(basename "$COVE_RUNTIME")"
  capture "$id.run" "$secs" "${COVE[@]}" run --bundle "$TEST_DIR/$id" "$id"
  [[ $RC -ne 124 ]] || fail "cove run $id did not finish within ${secs}s"
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

# assert_eq WHAT EXPECTED ACTUAL
assert_eq() {
  if [[ $2 == "$3" ]]; then
    say "ok   $1 = $3"
  else
    fail "$1: expected '$2', got '$3'"
  fi
}

# assert_ne WHAT UNEXPECTED ACTUAL
assert_ne() {
  if [[ $2 != "$3" ]]; then
    say "ok   $1 = $3 (not $2)"
  else
    fail "$1: expected anything but '$2'"
  fi
}

# expect_probe KEY EXPECTED [FILE]: the probe's KEY line has value EXPECTED.
expect_probe() {
  assert_eq "probe $1" "$2" "$(probe_value "$1" "${3:-$OUT}")"
}

assert_rc() {
  local want=$1 what=${2:-exit status}
  [[ $RC -eq $want ]] || fail "$what: expected $want, got $RC"
  say "ok   $what = $RC"
}

assert_rc_nonzero() {
  local what=${1:-exit status}
  [[ $RC -ne 0 ]] || fail "$what: expected non-zero, got 0"
  say "ok   $what = $RC (non-zero)"
}

assert_file() {
  [[ -f $1 ]] || fail "${2:-file} $1 does not exist"
  say "ok   ${2:-file} $1 exists"
}

assert_stdout_empty() {
  [[ ! -s $OUT ]] || fail "${1:-command} printed on stdout: $(head -c 300 "$OUT")"
  say "ok   nothing on stdout"
}

# log_mark: later log assertions only look at lines appended after this point.
log_mark() {
  LOG_MARK=$(wc -l <"$LOG" 2>/dev/null || echo 0)
}

# cove_errors: the msg of every JSON error line starting "cove:" appended to $LOG since log_mark.
cove_errors() {
  tail -n +"$((LOG_MARK + 1))" "$LOG" 2>/dev/null |
    jq -Rr 'fromjson? | select(type == "object" and .level == "error" and (.msg | type) == "string"
             and (.msg | startswith("cove:"))) | .msg'
}

# assert_refusal WORDS...: $LOG got, since log_mark, a JSON error line whose msg starts "cove:"
# and contains every WORD (fixed strings).
assert_refusal() {
  local msgs msg w ok
  msgs=$(cove_errors)
  [[ -n $msgs ]] || fail "no JSON error line with a msg starting 'cove:' in $LOG since the last step (wanted: $*)"
  while IFS= read -r msg; do
    ok=1
    for w in "$@"; do
      [[ $msg == *"$w"* ]] || ok=0
    done
    if [[ $ok -eq 1 ]]; then
      say "ok   refusal logged: $msg"
      return 0
    fi
  done <<<"$msgs"
  fail "no cove: error line in $LOG mentions all of [$*]; cove: lines were: $msgs"
}

# assert_no_refusal: no cove: error line since log_mark.
assert_no_refusal() {
  local msgs
  msgs=$(cove_errors)
  [[ -z $msgs ]] || fail "unexpected cove: refusal in $LOG: $msgs"
}

# assert_no_container ID: runc has no state for ID under $ROOT.
assert_no_container() {
  if "$RUNC" --root "$ROOT" state "$1" >/dev/null 2>&1; then
    fail "container $1 exists after a refusal ($RUNC --root $ROOT state $1 succeeded)"
  fi
  say "ok   no container $1 (runc state fails)"
}

# container_status ID: runc's status ("running", "paused", ...) or "absent".
container_status() {
  "$RUNC" --root "$ROOT" state "$1" 2>/dev/null | jq -r '.status' 2>/dev/null || echo absent
}

# cgroup_file ID V1_CONTROLLER V1_FILE V2_FILE: the path of a cgroup file of container ID (its
# cgroupsPath is /cove-test/ID, see tools/make-bundle.sh).
cgroup_file() {
  local id=$1 ctl=$2 v1=$3 v2=$4
  if cgroup_v2; then
    echo "/sys/fs/cgroup/cove-test/$id/$v2"
  elif [[ $ctl == cpu && ! -d /sys/fs/cgroup/cpu ]]; then
    echo "/sys/fs/cgroup/cpu,cpuacct/cove-test/$id/$v1"
  else
    echo "/sys/fs/cgroup/$ctl/cove-test/$id/$v1"
  fi
}

# wait_status ID STATUS [SECS]: polls runc state until the container has STATUS.
wait_status() {
  local id=$1 want=$2 secs=${3:-10} i
  for ((i = 0; i < secs * 10; i++)); do
    [[ $(container_status "$id") == "$want" ]] && return 0
    sleep 0.1
  done
  fail "container $id did not reach status $want within ${secs}s (status: $(container_status "$id"))"
}
