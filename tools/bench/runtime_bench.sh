#!/usr/bin/env bash
# runtime_bench.sh: what cove-runtime costs on top of runc, measured end to end with hyperfine.
#
#   (a) `runc run` of /bin/true in a busybox bundle (role agent by env) against `cove-runtime run`
#       of the same bundle, side by side, four commands:
#         runc      runc run of the original config.json
#         runc+pol  runc run of the config.json cove writes (same spec, no shim): what the policy
#                   itself costs runc (seccomp filter, tmpfs, masked paths) is in here
#         cove      cove-runtime run of the original config.json: parse policy, rewrite, audit,
#                   record, execve runc
#         runc (again)  the first command once more: the A/A difference is the drift and noise
#                   floor of this machine during the run
#       Every run gets a fresh container ID and --prepare restores that command's config.json, so
#       cove rewrites it every time; runc's commands pay the same prepare.
#   (b) `docker run --rm --network none -e COVE_ROLE=agent IMG /bin/true` side by side with
#       --runtime=runc, --runtime=runc-wrapped (runc behind the /bin/sh wrapper Docker 20.10 writes
#       for runtimes with runtimeArgs), --runtime=cove and runc again (A/A control), against a
#       private dockerd started as the Docker integration scenarios do
#       (tests/integration/docker/lib.sh) and stopped afterwards.
#   (c) the shim alone: `cove-runtime run` with /bin/true as the backend (policy, rewrite, audit,
#       record, execve) and `cove-runtime state` (a passthrough verb), with 0, 300 and 1000
#       container records already in the state dir (create sweeps stale ones now and then).
#
# Prints a markdown section (medians, stddev, ratios, machine, command) and, with --write-doc,
# puts it into docs/benchmarks.md as the section "## cove-runtime".
#
# (a) and (b) run as ROUNDS hyperfine runs (default 5), each with all commands side by side and
# their order rotated, samples pooled: see hyperfine_rounds. A target is reported met or MISSED
# only when the A/A control and the load at the start say the machine was quiet enough.
#
# Usage: sudo tools/bench/runtime_bench.sh [--runs N] [--docker-runs N] [--warmup N] [--rounds N]
#                                          [--only runc|docker|shim] [--write-doc]
# Environment: COVE_RUNTIME (default build/shim/cove-runtime), COVE_PROBE (default
# build/tests/probe/cove-probe; the rootfs tool wants it), BUILD_DIR (default <src>/build).
# The docker part runs lib.sh in a subshell, which sets its own RUNC and COVE_RUNTIME there.
# shellcheck disable=SC2031
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-$SRC/build}
RUNS=300
DOCKER_RUNS=100
WARMUP=3
ROUNDS=5
ONLY=""
WRITE_DOC=0
ARGS_GIVEN=("$@")

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed -e '/^# The docker part/,$d' -e 's/^# \{0,1\}//'
  exit "${1:-0}"
}

while [[ $# -gt 0 ]]; do
  case $1 in
    --runs) RUNS=$2; shift 2 ;;
    --docker-runs) DOCKER_RUNS=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    --write-doc) WRITE_DOC=1; shift ;;
    -h|--help) usage 0 ;;
    *) echo "runtime_bench.sh: unknown argument $1" >&2; usage 2 ;;
  esac
done

die() {
  echo "runtime_bench.sh: $*" >&2
  exit 1
}

[[ $(id -u) -eq 0 ]] || die "needs root (runc and dockerd)"
command -v hyperfine >/dev/null || die "hyperfine is not installed"
command -v jq >/dev/null || die "jq is not installed"
RUNC=$(command -v runc) || die "runc is not installed"
COVE_RUNTIME=$(realpath "${COVE_RUNTIME:-$BUILD_DIR/shim/cove-runtime}")
COVE_PROBE=${COVE_PROBE:-$BUILD_DIR/tests/probe/cove-probe}
[[ -x $COVE_RUNTIME ]] || die "no cove-runtime at $COVE_RUNTIME (build it, or set COVE_RUNTIME)"
[[ -f $COVE_PROBE ]] || die "no cove-probe at $COVE_PROBE (build it, or set COVE_PROBE)"
export COVE_RUNTIME COVE_PROBE COVE_SRC=$SRC

BENCH_DIR=$(mktemp -d /tmp/cove-bench.XXXXXX)
CGROUP=cove-bench-$$
cleanup() {
  local rc=$? d
  [[ $rc -eq 0 ]] || echo "runtime_bench.sh: failed (exit status $rc); nothing written" >&2
  for d in /sys/fs/cgroup/*/"$CGROUP" /sys/fs/cgroup/"$CGROUP"; do
    [[ -d $d ]] || continue
    find "$d" -mindepth 1 -depth -type d -exec rmdir {} \; 2>/dev/null
    rmdir "$d" 2>/dev/null || true
  done
  rm -rf --one-file-system "$BENCH_DIR"
}
trap cleanup EXIT

# row NAME JSON INDEX BASE_INDEX: one markdown table row from hyperfine's JSON export.
row() {
  jq -r --argjson i "$3" --argjson b "$4" --arg name "$1" '
    def ms: . * 1000 * 100 | round / 100;
    .results[$i] as $r | .results[$b] as $base
    | "| \($name) | \($r.median | ms) | \($r.mean | ms) ± \($r.stddev | ms) | \($r.min | ms) | "
      + (if $i == $b then "1 (baseline)" else "\(($r.median / $base.median * 1000 | round) / 1000)" end)
      + " |"' "$2"
}

# ratio JSON INDEX BASE_INDEX: median(INDEX) / median(BASE), as a percentage above (+) or below.
slowdown() {
  jq -r --argjson i "$2" --argjson b "$3" \
    '(.results[$i].median / .results[$b].median - 1) * 100 * 100 | round / 100' "$1"
}

# hyperfine_rounds OUT_JSON RUNS NAME PREPARE CMD [NAME PREPARE CMD]...
# ROUNDS hyperfine runs, each with all commands side by side (RUNS/ROUNDS runs each, WARMUP
# warmup), the commands' order rotated from round to round; the samples of all rounds are pooled
# into OUT_JSON ({results: [{command, median, mean, stddev, min, max, runs}]} in the order given).
# On a shared machine a burst of load then lands on every command instead of on whichever one
# hyperfine happened to be running.
hyperfine_rounds() {
  local out=$1 runs=$2
  shift 2
  local names=() preps=() cmds=()
  while [[ $# -gt 0 ]]; do
    names+=("$1")
    preps+=("$2")
    cmds+=("$3")
    shift 3
  done
  local n=${#names[@]} per=$(((runs + ROUNDS - 1) / ROUNDS)) round k j args
  for ((round = 0; round < ROUNDS; round++)); do
    args=()
    for ((k = 0; k < n; k++)); do
      j=$(((k + round) % n))
      args+=(--prepare "${preps[j]}" -n "${names[j]}" "${cmds[j]}")
    done
    echo "-- round $((round + 1))/$ROUNDS" >&2
    hyperfine --warmup "$WARMUP" --runs "$per" --style basic --export-json "$out.round$round" "${args[@]}" >&2
  done
  # --args makes every word after the filter a $ARGS.positional name, so the rounds come on stdin.
  cat "$out".round* | jq -s --args '
    ([.[].results[]] | group_by(.command) | map({key: .[0].command, value: (map(.times) | add)}) | from_entries)
      as $times
    | {results: [$ARGS.positional[] as $name | $times[$name] as $t | ($t | sort) as $s | ($t | length) as $k
        | ($t | add / $k) as $mean
        | {command: $name, runs: $k, mean: $mean, min: $s[0], max: $s[-1],
           median: (if $k % 2 == 1 then $s[($k - 1) / 2] else ($s[$k / 2 - 1] + $s[$k / 2]) / 2 end),
           stddev: (if $k > 1 then ($t | map((. - $mean) * (. - $mean)) | add / ($k - 1) | sqrt) else 0 end)}]}' \
    "${names[@]}" >"$out"
}

# verdict SLOWDOWN TARGET AA: "met" or "MISSED", or "INCONCLUSIVE" when the A/A control (the
# same command twice) differs by as much as the target, or the machine was busy (1-minute load
# of at least half its CPUs) when the run started: then noise can hide a miss of that size.
verdict() {
  awk -v s="$1" -v t="$2" -v aa="$3" -v load="$LOAD_BEFORE" -v cpus="$(nproc)" 'BEGIN {
    if (aa < 0) aa = -aa
    if (aa >= t) print "INCONCLUSIVE, the A/A control differs by " aa "%: rerun on a quiet machine"
    else if (load >= cpus / 2) print "INCONCLUSIVE, the machine was busy (load " load "): rerun on a quiet machine"
    else print (s < t ? "met" : "MISSED") }'
}

# --- (a) runc run vs cove-runtime run ---------------------------------------------------------
bench_runc() {
  local d=$BENCH_DIR/runc
  mkdir -p "$d/root" "$d/state" "$d/audit"
  "$SRC/tools/make-rootfs.sh" "$d/rootfs" "$COVE_PROBE" >/dev/null
  BUNDLE_ENV="COVE_ROLE=agent" RUNC="$RUNC" "$SRC/tools/make-bundle.sh" "$d/bundle" "$d/rootfs" /bin/true
  jq --arg cg "/$CGROUP/b" '.linux.cgroupsPath = $cg' "$d/bundle/config.json" >"$d/config.orig.json"
  # The shipped policy, with its state and audit in the bench dir and runc from PATH as backend.
  sed -e 's#^[[:space:]]*//.*##' "$SRC/docker/policy.json" |
    jq --arg d "$d" --arg runc "$RUNC" '.auditLog = $d + "/audit/audit.jsonl" | .stateDir = $d + "/state"
        | .workspaceRoot = $d + "/teams" | .defaultBackend = $runc | .roles[].backend = $runc' >"$d/policy.json"

  # The spec cove hands runc: run cove once and keep what it wrote.
  cp "$d/config.orig.json" "$d/bundle/config.json"
  "$COVE_RUNTIME" --cove-policy "$d/policy.json" --root "$d/root" run --bundle "$d/bundle" cove-bench-probe ||
    die "cove-runtime run of the bench bundle failed"
  cp "$d/bundle/config.json" "$d/config.cove.json"
  cmp -s "$d/config.orig.json" "$d/config.cove.json" && die "cove did not rewrite the bench bundle's config.json"

  # Each run: a fresh ID (read with a shell builtin, so no extra process is timed) and the
  # command's own config.json back in place.
  local prep_orig="cp $d/config.orig.json $d/bundle/config.json && cat /proc/sys/kernel/random/uuid > $d/id"
  local prep_cove="cp $d/config.cove.json $d/bundle/config.json && cat /proc/sys/kernel/random/uuid > $d/id"
  local runc_cmd="read id < $d/id; exec $RUNC --root $d/root run --bundle $d/bundle \$id"
  echo "== (a) runc run vs cove-runtime run: $RUNS runs each in $ROUNDS rounds" >&2
  hyperfine_rounds "$BENCH_DIR/runc.json" "$RUNS" \
    runc "$prep_orig" "$runc_cmd" \
    runc+pol "$prep_cove" "$runc_cmd" \
    cove "$prep_orig" "read id < $d/id; exec $COVE_RUNTIME --cove-policy $d/policy.json --root $d/root run --bundle $d/bundle \$id" \
    "runc (again)" "$prep_orig" "$runc_cmd"
  # Every cove run was audited (else the rewrite did not happen each time).
  local audited
  audited=$(grep -c '"verb":"run"' "$d/audit/audit.jsonl" || true)
  [[ $audited -ge $RUNS ]] || die "only $audited cove runs audited, expected >= $RUNS"
}

# --- (b) docker run --runtime=runc vs --runtime=cove -------------------------------------------
bench_docker() {
  (
    # shellcheck disable=SC2034 # read by lib.sh
    SCENARIO=runtime_bench
    # runc behind the /bin/sh wrapper Docker 20.10 writes for any runtime with runtimeArgs (a
    # no-op flag here), to tell that hop's cost from cove's.
    # shellcheck disable=SC2034 # read by lib.sh
    DAEMON_JSON_FILTER='.runtimes["runc-wrapped"] = {path: "'"$RUNC"'", runtimeArgs: ["--debug=false"]}'
    # shellcheck source-path=SCRIPTDIR source=../../tests/integration/docker/lib.sh
    source "$SRC/tests/integration/docker/lib.sh"
    set +e
    docker_setup >&2
    set -e
    local run=("${DK[@]}" run --rm --network none -e COVE_ROLE=agent)
    local q
    q=$(printf '%q ' "${run[@]}")
    echo "== (b) docker run --runtime=runc vs --runtime=cove: $DOCKER_RUNS runs each in $ROUNDS rounds" >&2
    hyperfine_rounds "$BENCH_DIR/docker.json" "$DOCKER_RUNS" \
      "docker runc" true "$q--runtime=runc $IMAGE /bin/true" \
      "docker runc-wrapped" true "$q--runtime=runc-wrapped $IMAGE /bin/true" \
      "docker cove" true "$q--runtime=cove $IMAGE /bin/true" \
      "docker runc (again)" true "$q--runtime=runc $IMAGE /bin/true"
    n=$(grep -c '"decision":"allow"' "$AUDIT_LOG" || true)
    [[ $n -ge $DOCKER_RUNS ]] || die "only $n docker cove runs audited, expected >= $DOCKER_RUNS"
  )
}

# --- (c) the shim alone, against the number of records in the state dir -----------------------
SHIM_RECORDS=(0 300 1000)
bench_shim() {
  local d=$BENCH_DIR/shim n i have
  mkdir -p "$d/root"
  "$SRC/tools/make-rootfs.sh" "$d/rootfs" "$COVE_PROBE" >/dev/null
  BUNDLE_ENV="COVE_ROLE=agent" RUNC="$RUNC" "$SRC/tools/make-bundle.sh" "$d/bundle" "$d/rootfs" /bin/true
  cp "$d/bundle/config.json" "$d/config.orig.json"
  sed -e 's#^[[:space:]]*//.*##' "$SRC/docker/policy.json" |
    jq --arg d "$d" '.auditLog = $d + "/audit.jsonl" | .stateDir = $d + "/state" | .workspaceRoot = $d + "/teams"
        | .defaultBackend = "/bin/true" | .roles[].backend = "/bin/true"' >"$d/policy.json"
  local cove="$COVE_RUNTIME --cove-policy $d/policy.json --root $d/root"
  for n in "${SHIM_RECORDS[@]}"; do
    # Fresh records (younger than the 60 s after which create sweeps those without a container).
    rm -rf "$d/state"
    for ((i = 0; i < n; i++)); do
      cp "$d/config.orig.json" "$d/bundle/config.json"
      $cove run --bundle "$d/bundle" "filler-$i"
    done
    have=$(find "$d/state/containers" -name '*.json' 2>/dev/null | wc -l || true)
    [[ $have -eq $n ]] || die "wanted $n records in $d/state, have $have"
    echo "== (c) shim alone with $n records: 200 runs each" >&2
    hyperfine -N --warmup 10 --runs 200 --export-json "$BENCH_DIR/shim-$n.json" --style basic \
      -n "/bin/true" "/bin/true --root $d/root state probe" \
      --prepare "cp $d/config.orig.json $d/bundle/config.json" -n "cove run" "$cove run --bundle $d/bundle probe" \
      -n "cove state" "$cove state probe" >&2
  done
}

LOAD_BEFORE=$(cut -d' ' -f1 /proc/loadavg)
[[ $ONLY == "" || $ONLY == runc ]] && bench_runc
[[ $ONLY == "" || $ONLY == docker ]] && bench_docker
[[ $ONLY == "" || $ONLY == shim ]] && bench_shim

# --- report ------------------------------------------------------------------------------------
LOAD_AFTER=$(cut -d' ' -f1 /proc/loadavg)
docker_version=$(/usr/sbin/dockerd --version 2>/dev/null || docker --version)
cgroup=v1
[[ -f /sys/fs/cgroup/cgroup.controllers ]] && cgroup=v2
report() {
  echo "## cove-runtime"
  echo
  echo "Measured $(date -u +%Y-%m-%d) with:"
  echo
  echo '```'
  echo "sudo tools/bench/runtime_bench.sh ${ARGS_GIVEN[*]}"
  echo '```'
  echo
  echo "Machine: $(nproc) CPUs ($(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n1)), kernel $(uname -r)," \
    "cgroup $cgroup; $("$RUNC" --version | head -n1); ${docker_version}; $(hyperfine --version)."
  echo "cove-runtime: $(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$SRC" diff --quiet 2>/dev/null || echo ' (with uncommitted changes)'), $COVE_RUNTIME."
  echo "Load average (1 min) when the run started: $LOAD_BEFORE, when it ended: $LOAD_AFTER (anything"
  echo "else running on the machine shows up as noise, and in the A/A rows)."
  echo
  echo "Times in ms. Ratio: median over the baseline's median. (a) and (b) are $ROUNDS hyperfine runs"
  echo "each (all commands side by side in every run, their order rotated, $WARMUP warmup runs per"
  echo "command and round), with the samples of all rounds pooled."
  if [[ -f $BENCH_DIR/runc.json ]]; then
    local s_end s_shim s_aa
    s_end=$(slowdown "$BENCH_DIR/runc.json" 2 0)
    s_shim=$(slowdown "$BENCH_DIR/runc.json" 2 1)
    s_aa=$(slowdown "$BENCH_DIR/runc.json" 3 0)
    echo
    echo "### runc run vs cove-runtime run ($RUNS runs each, in $ROUNDS rounds)"
    echo
    echo "\`run\` of /bin/true in a busybox bundle with env COVE_ROLE=agent; fresh container ID and"
    echo "config.json restored before every run (--prepare), so cove rewrites the spec every time."
    echo
    echo "| command | median | mean ± stddev | min | ratio |"
    echo "|---|---|---|---|---|"
    row "\`runc run\` (original spec)" "$BENCH_DIR/runc.json" 0 0
    row "\`runc run\` (spec as cove rewrites it)" "$BENCH_DIR/runc.json" 1 0
    row "\`cove-runtime run\` (original spec)" "$BENCH_DIR/runc.json" 2 0
    row "\`runc run\` (original spec, again: A/A control)" "$BENCH_DIR/runc.json" 3 0
    echo
    echo "- cove-runtime run vs runc run, median: **${s_end}%** (target < 2%: $(verdict "$s_end" 2 "$s_aa"));"
    echo "  A/A control (the same runc command again): ${s_aa}%."
    echo "- of which the shim itself (cove vs runc on the spec cove writes): ${s_shim}%; the rest is"
    echo "  what the agent role makes runc do (mostly loading the seccomp filter, which this bundle"
    echo "  does not have before cove adds it)."
    echo "- cove leaves one record per run in its state dir (removed by a sweep at most once a minute"
    echo "  once they are 60 s old); the last table shows what the number of records costs create."
  fi
  if [[ -f $BENCH_DIR/docker.json ]]; then
    local s_docker s_daa
    local s_wrap
    s_docker=$(slowdown "$BENCH_DIR/docker.json" 2 0)
    s_wrap=$(slowdown "$BENCH_DIR/docker.json" 1 0)
    s_daa=$(slowdown "$BENCH_DIR/docker.json" 3 0)
    echo
    echo "### docker run --runtime=runc vs --runtime=cove ($DOCKER_RUNS runs each, in $ROUNDS rounds)"
    echo
    echo "\`docker run --rm --network none -e COVE_ROLE=agent IMG /bin/true\` against a private dockerd"
    echo "(overlay2, cgroupfs) started by tests/integration/docker/lib.sh."
    echo
    echo "| command | median | mean ± stddev | min | ratio |"
    echo "|---|---|---|---|---|"
    row "\`docker run --runtime=runc\`" "$BENCH_DIR/docker.json" 0 0
    row "\`docker run --runtime=runc-wrapped\` (runc through Docker's runtimeArgs wrapper)" "$BENCH_DIR/docker.json" 1 0
    row "\`docker run --runtime=cove\`" "$BENCH_DIR/docker.json" 2 0
    row "\`docker run --runtime=runc\` (again: A/A control)" "$BENCH_DIR/docker.json" 3 0
    echo
    echo "- docker run with cove vs runc, median: **${s_docker}%** (target < 3%: $(verdict "$s_docker" 3 "$s_daa"));"
    echo "  A/A control (the same runc command again): ${s_daa}%."
    echo "- Both sides load a seccomp filter here (Docker's default profile, or cove's). Per"
    echo "  \`docker run --rm\` containerd calls the runtime 4 times (create, start, delete,"
    echo "  delete --force); for a runtime with runtimeArgs Docker 20.10 runs each call through the"
    echo "  /bin/sh wrapper it writes to <data-root>/runtimes/, then cove-runtime, then runc."
    echo "  \`runc-wrapped\` (runc with a no-op runtimeArg) is that wrapper alone: ${s_wrap}%."
  fi
  if [[ -f $BENCH_DIR/shim-0.json ]]; then
    echo
    echo "### The shim alone (200 runs each, backend /bin/true)"
    echo
    echo "\`cove-runtime run\` and \`cove-runtime state\` with /bin/true as the backend, so only cove's"
    echo "own work (and one execve) is timed; N = container records already in the state dir."
    echo "Median ± stddev."
    echo
    echo "| records | /bin/true | cove run (create path) | cove state (passthrough) |"
    echo "|---|---|---|---|"
    local n
    for n in "${SHIM_RECORDS[@]}"; do
      jq -r --arg n "$n" 'def ms: . * 1000 * 100 | round / 100;
        def cell($i): "\(.results[$i].median | ms) ± \(.results[$i].stddev | ms)";
        "| \($n) | \(cell(0)) | \(cell(1)) | \(cell(2)) |"' "$BENCH_DIR/shim-$n.json"
    done
  fi
}

REPORT=$BENCH_DIR/report.md
report >"$REPORT"
cat "$REPORT"

if [[ $WRITE_DOC -eq 1 ]]; then
  doc=$SRC/docs/benchmarks.md
  [[ -f $doc ]] || printf '# Benchmarks\n' >"$doc"
  # Replace the "## cove-runtime" section (up to the next "## " heading) or append it.
  awk -v report="$REPORT" '
    function emit(  line) { while ((getline line < report) > 0) print line; close(report); done = 1 }
    /^## / { if (skipping) { skipping = 0; print "" } }
    /^## cove-runtime$/ { emit(); skipping = 1; next }
    !skipping { print }
    END { if (!done) { print ""; emit() } }' "$doc" >"$doc.new"
  mv -f "$doc.new" "$doc"
  echo "runtime_bench.sh: wrote the cove-runtime section of $doc" >&2
fi
