#!/usr/bin/env bash
# cove-sync benchmarks, side by side in one run (docs/benchmarks.md, "cove-sync"):
#   1. committing 10 changed files in repositories of 1k, 10k and 100k files:
#      `git add -A && git commit` (hyperfine, fresh changes before every run) vs cove-sync's
#      commit (Committer::commit in one long-lived process, as the daemon runs it), and cove-sync's
#      index refresh after it (`git reset -q -- <paths>`, index_sync.h);
#   2. write-to-commit latency under a steady 1,000 writes/s (quiet period 2 s), in process and,
#      where FUSE is available, through a covefs mount;
#   3. 1,000,000 journaled writes: nothing lost (the branch equals the working tree, the cursor
#      equals the journal's last seq).
#
# usage: tools/bench/sync_bench.sh [--write-doc] [--dir DIR] [--sizes "1000 10000 100000"]
#                                  [--rounds N] [--ops N] [--latency-seconds N] [--fresh-ext4]
#   BUILD=<build dir> (default: build/ next to this script's repository)
# --dir defaults to a temp dir under /var/tmp (the machine's disk, where workspaces live);
# point it at a tmpfs to take the file system's cost of creating objects out. --fresh-ext4 (root)
# makes a new ext4 (mkfs.ext4 defaults, with a journal) in an image file under /var/tmp and runs
# there: this VM's root ext4 has no journal, and ext4 without one checks every inode it allocates
# against recently deleted ones, so each loose object or temporary file git or libgit2 creates
# costs up to half a millisecond once the benchmark has deleted a few thousand files.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-$SRC/build}
BENCH=$BUILD/tools/bench/cove-bench-sync
COVEFS=$BUILD/fusefs/covefs
ARGS="$*"
WRITE_DOC=0
DIR=""
SIZES="1000 10000 100000"
ROUNDS=10
OPS=1000000
LAT_SECONDS=20
FRESH_EXT4=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --write-doc) WRITE_DOC=1 ;;
    --dir) DIR=$2; shift ;;
    --sizes) SIZES=$2; shift ;;
    --rounds) ROUNDS=$2; shift ;;
    --ops) OPS=$2; shift ;;
    --latency-seconds) LAT_SECONDS=$2; shift ;;
    --fresh-ext4) FRESH_EXT4=1 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
[[ -x $BENCH ]] || { echo "build cove-bench-sync first ($BENCH)" >&2; exit 1; }
command -v hyperfine >/dev/null || { echo "hyperfine is required" >&2; exit 1; }
command -v jq >/dev/null || { echo "jq is required" >&2; exit 1; }
IMAGE=""
if [[ $FRESH_EXT4 -eq 1 ]]; then
  [[ -z $DIR ]] || { echo "--fresh-ext4 and --dir exclude each other" >&2; exit 2; }
  DIR=$(mktemp -d /var/tmp/cove-sync-bench.XXXXXX)
  IMAGE=$DIR.img
  trap 'cleanup' EXIT
  truncate -s 8G "$IMAGE"
  mkfs.ext4 -q -F "$IMAGE"
  mount -o loop "$IMAGE" "$DIR"
elif [[ -z $DIR ]]; then
  DIR=$(mktemp -d /var/tmp/cove-sync-bench.XXXXXX)
  trap 'cleanup' EXIT
fi
MNT=""
COVEFS_PID=""
cleanup() {
  if [[ -n $MNT ]] && grep -q " $MNT fuse" /proc/mounts; then fusermount3 -u "$MNT" 2>/dev/null || umount -l "$MNT"; fi
  [[ -n $COVEFS_PID ]] && { kill "$COVEFS_PID" 2>/dev/null; wait "$COVEFS_PID" 2>/dev/null || true; }
  if [[ -n $IMAGE ]]; then
    umount "$DIR" && rm -f "$IMAGE" && rmdir "$DIR"
  else
    rm -rf --one-file-system "$DIR"
  fi
}
export GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@bench GIT_COMMITTER_NAME=bench \
  GIT_COMMITTER_EMAIL=bench@bench
OUT=$DIR/report.md
load_start=$(cut -d' ' -f1 /proc/loadavg)
fstype=$(df -T "$DIR" | awk 'NR==2 {print $2}')
[[ -n $IMAGE ]] && fstype="a fresh $fstype (mkfs.ext4 defaults, with a journal) in an image file on /var/tmp"

stats() { # JSON-array -> "median | p90 | min" in ms
  jq -r 'sort as $s | ($s|length) as $n |
    [$s[(($n-1)*0.5|round)], $s[(($n-1)*0.9|round)], $s[0]] | map(. * 100 | round / 100) | "\(.[0]) | \(.[1]) | \(.[2])"' <<<"$1"
}

{
  echo "### Committing 10 changed files ($ROUNDS runs per row; times in ms)"
  echo
  echo "| files | command | median | p90 | min |"
  echo "|---|---|---|---|---|"
} >"$OUT.commit"
declare -A GIT_MED SYNC_MED
for n in $SIZES; do
  repo=$DIR/repo-$n
  rm -rf "$repo"
  git init -q -b main "$repo"
  # No automatic gc: it would run in the background in the middle of the measurements (and
  # cove-sync never starts one either).
  git -C "$repo" config gc.auto 0
  "$BENCH" generate "$repo" "$n"
  git -C "$repo" add -A && git -C "$repo" commit -q -m seed
  git -C "$repo" status --porcelain >/dev/null  # a fresh index stat cache, as in a live checkout
  prepare="for i in \$(shuf -i 0-$((n - 1)) -n 10); do printf 'change %s %s\n' \$i \$RANDOM\$RANDOM > $repo/\$(printf 'd%04d/f%02d.txt' \$((i / 100)) \$((i % 100))); done"
  hyperfine --style none --warmup 2 --runs "$ROUNDS" --prepare "$prepare" \
    --export-json "$DIR/git-$n.json" "git -C $repo add -A && git -C $repo commit -q -m bench" >/dev/null
  git_samples=$(jq -c '[.results[0].times[] * 1000]' "$DIR/git-$n.json")
  sync_json=$("$BENCH" commit "$repo" "$n" "$ROUNDS" 10)
  [[ -z $(git -C "$repo" status --porcelain) ]] || { echo "index not in step after cove-sync's commits" >&2; exit 1; }
  GIT_MED[$n]=$(jq -r 'sort | .[(length-1)/2|round]' <<<"$git_samples")
  SYNC_MED[$n]=$(jq -r '.commit_ms | sort | .[(length-1)/2|round]' <<<"$sync_json")
  {
    echo "| $n | \`git add -A && git commit\` | $(stats "$git_samples") |"
    echo "| $n | cove-sync commit (tree from HEAD's + 10 paths) | $(stats "$(jq -c .commit_ms <<<"$sync_json")") |"
    echo "| $n | cove-sync index refresh after it (\`git reset -- <10 paths>\`) | $(stats "$(jq -c .index_ms <<<"$sync_json")") |"
    echo "| $n | cove-sync commit + index refresh | $(stats "$(jq -c .total_ms <<<"$sync_json")") |"
  } >>"$OUT.commit"
  echo "files=$n git median ${GIT_MED[$n]} ms, cove-sync commit median ${SYNC_MED[$n]} ms" >&2
  rm -rf "$repo"
done
{
  echo
  for n in $SIZES; do
    echo "- $n files: cove-sync's commit is **$(jq -n "${GIT_MED[$n]} / ${SYNC_MED[$n]} | . * 10 | round / 10")x** faster than \`git add -A && git commit\` (medians)."
  done
} >>"$OUT.commit"

# Latency under a steady write rate.
lat_row() { # LABEL JSON
  echo "| $1 | $(jq -r '"\(.writes) | \(.rate) | \(.batches) | \(.p50_ms) | \(.p90_ms) | \(.p99_ms) | \(.max_ms) | \(.uncommitted)"' <<<"$2") |"
}
{
  echo "### Write-to-commit latency, steady 1,000 writes/s for ${LAT_SECONDS} s (quiet period 2,000 ms; times in ms)"
  echo
  echo "Each write goes to one of 10,000 files, so no file is written twice within its quiet period;"
  echo "latency is from the write to the end of the batch whose commit holds it."
  echo
  echo "| setup | writes | achieved rate/s | batches | p50 | p90 | p99 | max | not committed |"
  echo "|---|---|---|---|---|---|---|---|---|"
} >"$OUT.lat"
repo=$DIR/lat
git init -q -b main "$repo" && echo seed >"$repo/seed" && git -C "$repo" add -A && git -C "$repo" commit -q -m seed
j=$("$BENCH" latency --repo "$repo" --journal "$DIR/lat-journal" --state "$DIR/lat-state" --rate 1000 \
  --seconds "$LAT_SECONDS" --files 10000 --quiet-ms 2000)
lat_row "in process (journal appended by the writer)" "$j" >>"$OUT.lat"
echo "latency in process: $j" >&2
if [[ -c /dev/fuse && -x $COVEFS ]] && command -v fusermount3 >/dev/null; then
  repo=$DIR/latfs
  MNT=$DIR/mnt
  mkdir -p "$MNT"
  git init -q -b main "$repo" && echo seed >"$repo/seed" && git -C "$repo" add -A && git -C "$repo" commit -q -m seed
  "$COVEFS" -f --team bench --source "$repo" --mountpoint "$MNT" --journal "$DIR/latfs-journal" --owner none \
    >"$DIR/covefs.log" 2>&1 &
  COVEFS_PID=$!
  for _ in $(seq 100); do grep -q " $MNT fuse" /proc/mounts && break; sleep 0.05; done
  j=$("$BENCH" latency --repo "$repo" --write-dir "$MNT" --journal "$DIR/latfs-journal" --state "$DIR/latfs-state" \
    --rate 1000 --seconds "$LAT_SECONDS" --files 10000 --quiet-ms 2000)
  lat_row "through a covefs mount (covefs journals)" "$j" >>"$OUT.lat"
  echo "latency through covefs: $j" >&2
  fusermount3 -u "$MNT" || umount -l "$MNT"
  wait "$COVEFS_PID" 2>/dev/null || true
  COVEFS_PID=""
fi

# 1,000,000 journaled operations.
repo=$DIR/soak
git init -q -b main "$repo" && echo seed >"$repo/seed" && git -C "$repo" add -A && git -C "$repo" commit -q -m seed
soak_rc=0
soak=$("$BENCH" soak --repo "$repo" --journal "$DIR/soak-journal" --state "$DIR/soak-state" --ops "$OPS" \
  --files 10000 --quiet-ms 200 --max-delay-ms 2000 2>"$DIR/soak.log") || soak_rc=$?
echo "soak (exit $soak_rc): $soak" >&2
grep -v '"info"' "$DIR/soak.log" | tail -n 5 >&2 || true
[[ -n $soak ]] || soak='{"ops":0,"ops_per_s":0,"journal_last_seq":0,"cursor":0,"batches":0,"head_equals_worktree":false,"git_status_clean":false}'
scans=$(grep -c 'full scan:' "$DIR/soak.log" || true)
overflows=$(grep -c 'inotify queue overflowed' "$DIR/soak.log" || true)
{
  echo "### $OPS journaled writes (4 agents, 10,000 files, quiet period 200 ms)"
  echo
  echo "| ops | writer ops/s | journal last seq | cursor at the end | batches | HEAD's tree = working tree | \`git status\` clean |"
  echo "|---|---|---|---|---|---|---|"
  echo "| $(jq -r '"\(.ops) | \(.ops_per_s) | \(.journal_last_seq) | \(.cursor) | \(.batches) | \(.head_equals_worktree) | \(.git_status_clean)"' <<<"$soak") |"
  echo
  echo "Result: $([[ $soak_rc -eq 0 ]] && echo "nothing lost" || echo "**FAILED** (exit $soak_rc)"); $overflows inotify overflow(s), $scans full scan(s) during the run."
} >"$OUT.soak"

load_end=$(cut -d' ' -f1 /proc/loadavg)
{
  echo "## cove-sync"
  echo
  echo "Measured $(date -u +%Y-%m-%d) with:"
  echo
  echo '```'
  echo "tools/bench/sync_bench.sh $ARGS"
  echo '```'
  echo
  echo "Machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), kernel $(uname -r);"
  echo "$(git --version), libgit2 $(pkg-config --modversion libgit2 2>/dev/null || echo '?'), $(hyperfine --version)."
  echo "Repositories on $fstype ($DIR). cove-sync: $(git -C "$SRC" rev-parse --short HEAD)$(git -C "$SRC" diff --quiet HEAD -- sync || echo ' (with uncommitted changes)')."
  echo "Load average (1 min) at the start: $load_start, at the end: $load_end (the machine is shared:"
  echo "anything else running shows up as noise). Benchmark repositories have gc.auto=0."
  echo
  cat "$OUT.commit"
  echo
  cat "$OUT.lat"
  echo
  cat "$OUT.soak"
} >"$OUT"
cat "$OUT"
if [[ $WRITE_DOC -eq 1 ]]; then
  python3 - "$SRC/docs/benchmarks.md" "$OUT" <<'PY'
import re, sys
doc_path, section_path = sys.argv[1], sys.argv[2]
doc = open(doc_path).read()
section = open(section_path).read().rstrip() + "\n"
m = re.search(r"^## cove-sync\n.*?(?=^## |\Z)", doc, flags=re.S | re.M)
if m:
    doc = doc[:m.start()] + section + ("\n" if doc[m.end():] else "") + doc[m.end():]
else:
    doc = doc.rstrip() + "\n\n" + section
open(doc_path, "w").write(doc)
PY
  echo "wrote the cove-sync section of docs/benchmarks.md" >&2
fi
