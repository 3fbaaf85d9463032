#!/usr/bin/env bash
# fs_bench.sh: covefs against the native directory, bindfs and libfuse's passthrough_hp, side by
# side in ONE run. Each filesystem serves its own backing directory (same disk, same contents) and
# all are mounted for the whole run.
#
# Filesystems (columns):
#   native          the backing directory itself: by default on a fresh ext4 made for the run
#                   (mkfs.ext4 defaults, so with a journal) in a sparse image file in TMPDIR,
#                   loop-mounted; --on-tmpdir uses TMPDIR's own filesystem instead. Why: this
#                   VM's root ext4 has no journal, and ext4 without a journal checks every inode
#                   it allocates against recently deleted ones (recently_deleted(), reading the
#                   inode table), so after the first metadata run every create scans thousands
#                   of freshly deleted inodes: creates there took 300-500 us on every column and
#                   depended on what the previous column deleted, not on the filesystem tested.
#   bindfs          Debian's bindfs with its defaults (`bindfs -f DATA MNT`)
#   covefs          covefs with its defaults: kernel FUSE passthrough for file data where the
#                   kernel offers it (>= 6.9), --owner none so git sees root's own files
#   covefs-nopt     the same with --no-passthrough (data served through covefs, with splice)
#   passthrough_hp  libfuse's example server, only if $PASSTHROUGH_HP names a binary (built
#                   outside the project; `passthrough_hp --foreground DATA MNT`, its defaults)
#
# Measurements (rows), each the median of N runs (N=3, 1 with --quick). Within a run each group of
# measurements (write; reads; untar; metadata; git status) is taken on every filesystem before the
# next group starts, in an order that rotates between runs, so whatever else the machine does at
# a given minute lands on all columns alike:
#   seq write    fio, 1 GiB file, 1 MiB blocks, psync, direct=0, end_fsync=1 (the fsync is inside
#                fio's runtime)                                                       MiB/s
#   cold read    fio, the same file, 1 MiB blocks, after `echo 3 > /proc/sys/vm/drop_caches` MiB/s
#   warm read    the same again without dropping (invalidate=0, so fio keeps the cache)  MiB/s
#   rand warm    fio, 4 KiB random reads over the same 1 GiB file, buffered, the cache warm from
#                the reads before; ioengine=psync, numjobs=2 (one per CPU here), 5 s        IOPS
#   rand direct  the same with direct=1 (O_DIRECT), for RAND_TIME s (15; 5 with --quick): every
#                read reaches the filesystem under test. Native and covefs with passthrough read
#                the disk; a FUSE server that drops O_DIRECT when it opens the backing file
#                (bindfs does) serves from the host's page cache, so it can beat native here IOPS
#   metadata     tools/bench/fs/meta.c: create, then stat, then unlink 20,000 empty files in a
#                new directory, one thread; ops/s = 60,000 / wall time                   ops/s
#   untar        `tar -xf` (as root: owners and times restored) of 30,000 small files (1-4 KiB,
#                300 directories) from a tarball made once outside the filesystem, into a new
#                directory each run                                                          s
#   git status   `git status` in a 50,000-file repository (500 directories, committed, clean):
#                cold = one run after drop_caches; warm = hyperfine median, 2 warmups, 5 runs s
#                Before both, one untimed `git status` refreshes the index for this mount
#                (inode numbers differ between filesystems, which git would otherwise rehash).
#
# Prints a markdown section: machine facts, the table (median, and ratio to native in the same run:
# throughput / native's, or time / native's), the issue's targets for covefs met or not, the
# values of every run, and the command line. With --write-doc it also replaces the section
# "## covefs" of docs/benchmarks.md (or appends it) and draws docs/benchmarks-covefs.png with gnuplot.
#
# Usage: sudo tools/bench/fs_bench.sh [--quick] [--runs N] [--only fs,fs,...] [--write-doc] [--keep]
#                                     [--on-tmpdir]
# Environment: COVEFS (default <build>/fusefs/covefs; copied into the work dir so a rebuild during
# the run changes nothing), PASSTHROUGH_HP, BUILD_DIR (default <src>/build), TMPDIR (where the work
# dir goes: put it on the disk you mean to measure), and for trying the script out quickly
# SEQ_SIZE (1G), RAND_TIME, META_FILES (20000), UNTAR_FILES (30000), GIT_FILES (50000).
# Needs root (drop_caches, mounts), fio, hyperfine, bindfs, git, tar, cc, fusermount3.
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-$SRC/build}
COVEFS=${COVEFS:-$BUILD_DIR/fusefs/covefs}
PASSTHROUGH_HP=${PASSTHROUGH_HP:-}
RUNS=3
QUICK=0
ONLY=""
WRITE_DOC=0
KEEP=0
ON_TMPDIR=0
LOOP_DEV=""
ARGS_GIVEN=("$@")

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
  exit "${1:-0}"
}

while [[ $# -gt 0 ]]; do
  case $1 in
    --quick) QUICK=1; RUNS=1; shift ;;
    --runs) RUNS=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    --write-doc) WRITE_DOC=1; shift ;;
    --keep) KEEP=1; shift ;;
    --on-tmpdir) ON_TMPDIR=1; shift ;;
    -h|--help) usage 0 ;;
    *) echo "fs_bench.sh: unknown argument $1" >&2; usage 2 ;;
  esac
done

declare -A ENV_GIVEN
for var in SEQ_SIZE RAND_TIME META_FILES UNTAR_FILES GIT_FILES; do
  [[ -n ${!var:-} ]] && ENV_GIVEN[$var]=${!var}
done
SEQ_SIZE=${SEQ_SIZE:-1G}
if [[ $QUICK -eq 1 ]]; then RAND_TIME=${RAND_TIME:-5}; else RAND_TIME=${RAND_TIME:-15}; fi
META_FILES=${META_FILES:-20000}
UNTAR_FILES=${UNTAR_FILES:-30000}
GIT_FILES=${GIT_FILES:-50000}
STEP_TIMEOUT=600 # seconds any one measurement may take before it counts as failed

log() { echo "fs_bench.sh [${SECONDS}s]: $*" >&2; }
die() { log "$*"; exit 1; }

[[ $(id -u) -eq 0 ]] || die "needs root (drop_caches and mounts)"
for tool in fio hyperfine bindfs git tar cc fusermount3 findmnt timeout mkfs.ext4; do
  command -v "$tool" >/dev/null || die "$tool not found"
done
[[ -x $COVEFS ]] || die "no covefs at $COVEFS (cmake --build $BUILD_DIR --target covefs)"
if [[ -n $PASSTHROUGH_HP && ! -x $PASSTHROUGH_HP ]]; then
  die "PASSTHROUGH_HP=$PASSTHROUGH_HP is not an executable"
fi

FILESYSTEMS=(native bindfs covefs covefs-nopt)
[[ -n $PASSTHROUGH_HP ]] && FILESYSTEMS+=(passthrough_hp)
if [[ -n $ONLY ]]; then
  IFS=, read -r -a FILESYSTEMS <<<"$ONLY"
fi
METRICS=(seqwrite coldread warmread randwarm randdirect meta untar gitcold gitwarm)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/fs_bench.XXXXXX")
# Every filesystem gets its own backing directory $WORK/data/FS (so no server sees another's
# changes behind its back) and mountpoint $WORK/mnt/FS; all are mounted for the whole run.
RESULTS=$WORK/results.tsv # fs, metric, run, value ("fail" when it failed)
mkdir -p "$WORK/data" "$WORK/mnt" "$WORK/logs"
if [[ $ON_TMPDIR -eq 0 ]]; then
  # Room for every column: the 1 GiB file, the repository and the untarred trees, twice over.
  truncate -s "$((${#FILESYSTEMS[@]} * 4 + 2))G" "$WORK/disk.img"
  mkfs.ext4 -q -F "$WORK/disk.img"
  # Direct I/O on the loop device: otherwise every block is cached twice (the image file's page
  # cache under the ext4 on it), and fsync timings depend on what the previous column left there.
  LOOP_DEV=$(losetup --find --show --direct-io=on "$WORK/disk.img")
  mount "$LOOP_DEV" "$WORK/data"
fi
: >"$RESULTS"
declare -A DAEMON_PID TARGETS

cleanup() {
  local fs
  for fs in "${!DAEMON_PID[@]}"; do
    if findmnt -n -M "$WORK/mnt/$fs" >/dev/null 2>&1; then
      fusermount3 -u "$WORK/mnt/$fs" 2>/dev/null || umount -l "$WORK/mnt/$fs" 2>/dev/null || true
    fi
    if kill -0 "${DAEMON_PID[$fs]}" 2>/dev/null; then
      kill "${DAEMON_PID[$fs]}" 2>/dev/null || true
      wait "${DAEMON_PID[$fs]}" 2>/dev/null || true
    fi
  done
  if findmnt -n -M "$WORK/data" >/dev/null 2>&1; then
    umount "$WORK/data" || log "could not unmount $WORK/data (the loop-mounted image)"
  fi
  if [[ -n $LOOP_DEV ]]; then
    losetup -d "$LOOP_DEV" 2>/dev/null || true
  fi
  if [[ $KEEP -eq 1 ]]; then
    log "kept $WORK"
  elif findmnt -n -M "$WORK/data" >/dev/null 2>&1; then
    log "$WORK/data is still mounted: not removing $WORK"
  elif ! findmnt -n -R -o TARGET "$WORK/mnt" | grep -q .; then
    rm -rf "$WORK"
  else
    log "something is still mounted under $WORK/mnt: not removing $WORK"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

drop_caches() {
  sync
  echo 3 >/proc/sys/vm/drop_caches
}

now_ns() { date +%s%N; }

# ---------------------------------------------------------------------------------------------
# Setup: the helper, the tarball, the git repository, a private copy of covefs.

cc -O2 -Wall -Wextra -o "$WORK/meta" "$SRC/tools/bench/fs/meta.c"
cp "$COVEFS" "$WORK/covefs"

# A tree of small files under $1: $2 files in directories of 100; sizes from 1 to 4 KiB. Only
# shell builtins, so 50,000 files take seconds, not minutes.
make_tree() {
  local dir=$1 count=$2 i d
  RANDOM=42
  for ((i = 0; i < count; i++)); do
    d=$dir/d$((i / 1000))/s$((i / 100 % 10))
    if ((i % 100 == 0)); then mkdir -p "$d"; fi
    printf '// file %d\n%*s\n' "$i" $((1024 + RANDOM % 3072)) x >"$d/f$i.c"
  done
}

log "work dir $WORK; making the tarball ($UNTAR_FILES files) and the repository ($GIT_FILES files)"
make_tree "$WORK/tree" "$UNTAR_FILES"
tar -cf "$WORK/files.tar" -C "$WORK/tree" .
rm -rf "$WORK/tree"
make_tree "$WORK/repo" "$GIT_FILES"
git -C "$WORK/repo" init -q
git -C "$WORK/repo" add -A
# gc.auto=0: no detached auto-gc running while we measure; the one gc here packs the 50,000 loose
# objects so each copy and each `git status` finds one pack.
git -C "$WORK/repo" config gc.auto 0
git -C "$WORK/repo" -c user.name=bench -c user.email=bench@localhost commit -q -m "$GIT_FILES files"
git -C "$WORK/repo" gc -q
git -C "$WORK/repo" status --porcelain | head -3 | grep -q . && die "the repository is not clean"
for fs in "${FILESYSTEMS[@]}"; do
  mkdir -p "$WORK/data/$fs" "$WORK/mnt/$fs"
  cp -a "$WORK/repo" "$WORK/data/$fs/repo"
done
rm -rf "$WORK/repo"

# ---------------------------------------------------------------------------------------------
# Mounting. mount_fs FS TAG mounts $WORK/data/FS on $WORK/mnt/FS and sets TARGETS[FS], the
# directory to measure in (the backing directory itself for native).

wait_mounted() { # mountpoint pid
  local i
  for ((i = 0; i < 100; i++)); do
    findmnt -n -M "$1" >/dev/null 2>&1 && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

mount_fs() {
  local fs=$1 logf=$WORK/logs/$1.$2.log data=$WORK/data/$1 mnt=$WORK/mnt/$1
  if [[ $fs == native ]]; then
    TARGETS[$fs]=$data
    return 0
  fi
  TARGETS[$fs]=$mnt
  case $fs in
    bindfs) bindfs -f "$data" "$mnt" 2>"$logf" & ;;
    covefs | covefs-nopt)
      local extra=()
      [[ $fs == covefs-nopt ]] && extra=(--no-passthrough)
      rm -rf "$WORK/journal.$fs"
      "$WORK/covefs" -f --team "bench-$fs" --source "$data" --mountpoint "$mnt" --journal "$WORK/journal.$fs" \
        --owner none "${extra[@]}" 2>"$logf" &
      ;;
    passthrough_hp) "$PASSTHROUGH_HP" --foreground "$data" "$mnt" 2>"$logf" & ;;
    *) die "unknown filesystem $fs" ;;
  esac
  DAEMON_PID[$fs]=$!
  wait_mounted "$mnt" "${DAEMON_PID[$fs]}" || { cat "$logf" >&2; die "$fs did not mount"; }
}

unmount_fs() {
  local fs=$1 mnt=$WORK/mnt/$1 pid i
  [[ $fs == native ]] && return 0
  pid=${DAEMON_PID[$fs]}
  fusermount3 -u "$mnt" 2>/dev/null || { log "$fs: fusermount3 -u failed; lazy unmount"; umount -l "$mnt"; }
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "$fs: daemon $pid still running 10 s after unmount; killing it"
    kill "$pid"
  fi
  wait "$pid" 2>/dev/null || true
  unset "DAEMON_PID[$fs]"
}

# ---------------------------------------------------------------------------------------------
# Measurements. Each prints one number, or fails.

FIO_COMMON=(--ioengine=psync --invalidate=0 --output-format=terse --terse-version=3)

# fio terse v3: field 7 read bandwidth KiB/s, 8 read IOPS, 48 write bandwidth KiB/s.
fio_field() {
  local field=$1
  shift
  timeout "$STEP_TIMEOUT" fio "${FIO_COMMON[@]}" "$@" >"$WORK/fio.out" 2>"$WORK/fio.err" || {
    tail -3 "$WORK/fio.err" >&2
    return 1
  }
  awk -F';' -v f="$field" '{ print $f }' "$WORK/fio.out"
}

measure_seqwrite() {
  rm -f "$TARGET/seq.bin"
  sync # what is dirty now (the file just removed, anything else on the disk) is not this write's
  fio_field 48 --direct=0 --name=seqwrite --filename="$TARGET/seq.bin" --rw=write --bs=1M --size="$SEQ_SIZE" \
    --end_fsync=1 | awk '{ printf "%.0f\n", $1 / 1024 }'
}

measure_seqread() {
  [[ $1 == cold ]] && drop_caches
  fio_field 7 --direct=0 --name=seqread --filename="$TARGET/seq.bin" --rw=read --bs=1M --size="$SEQ_SIZE" |
    awk '{ printf "%.0f\n", $1 / 1024 }'
}

measure_randread() { # warm|direct
  local direct=0 runtime=5
  [[ $1 == direct ]] && { direct=1; runtime=$RAND_TIME; }
  fio_field 8 --name=randread --filename="$TARGET/seq.bin" --rw=randread --bs=4k --size="$SEQ_SIZE" \
    --numjobs=2 --group_reporting --time_based --runtime="$runtime" --randrepeat=0 --direct="$direct" |
    awk '{ printf "%.0f\n", $1 }'
}

measure_meta() {
  local out
  out=$(timeout "$STEP_TIMEOUT" "$WORK/meta" "$TARGET" "$META_FILES" 2>&1) || { log "$out"; return 1; }
  echo "${out%% *}"
}

measure_untar() {
  local t0 t1
  # A new directory each run (removed at the end, natively): no server has to forget the last one.
  mkdir "$TARGET/untar.$1" || return 1
  t0=$(now_ns)
  timeout "$STEP_TIMEOUT" tar -xf "$WORK/files.tar" -C "$TARGET/untar.$1" 2>"$WORK/tar.err" || {
    log "tar: $(grep -c . "$WORK/tar.err") error lines, the last: $(tail -2 "$WORK/tar.err" | head -1)"
    return 1
  }
  t1=$(now_ns)
  awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.3f\n", ns / 1e9 }'
}

# The untimed refresh: the index records inode numbers, which differ from one mount to the next.
git_refresh() {
  timeout "$STEP_TIMEOUT" git -C "$TARGET/repo" status --porcelain >"$WORK/git.out" 2>"$WORK/git.err" || {
    log "git status through $1 failed: $(grep -c . "$WORK/git.err") error lines, the last: $(tail -1 "$WORK/git.err")"
    return 1
  }
  if [[ -s $WORK/git.err ]]; then
    log "git status through $1: $(grep -c . "$WORK/git.err") error lines, the last: $(tail -1 "$WORK/git.err")"
    return 1
  fi
  if [[ -s $WORK/git.out ]]; then
    log "git status through $1 is not clean:"
    head -5 "$WORK/git.out" >&2
    return 1
  fi
}

measure_gitcold() {
  local t0 t1
  git_refresh "$1" || return 1
  drop_caches
  t0=$(now_ns)
  timeout "$STEP_TIMEOUT" git -C "$TARGET/repo" status >/dev/null 2>&1 || return 1
  t1=$(now_ns)
  awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.3f\n", ns / 1e9 }'
}

measure_gitwarm() {
  timeout "$STEP_TIMEOUT" hyperfine -N --style none --warmup 2 --runs 5 \
    --export-csv "$WORK/hf.csv" "git -C $TARGET/repo status" >/dev/null 2>"$WORK/hf.err" || {
    tail -3 "$WORK/hf.err" >&2
    return 1
  }
  # command,mean,stddev,median,user,system,min,max
  awk -F, 'NR == 2 { printf "%.3f\n", $4 }' "$WORK/hf.csv"
}

# record FS METRIC RUN COMMAND...: runs one measurement in FS and appends its value to $RESULTS.
# After a failure the filesystem is remounted, so one failure (passthrough_hp out of descriptors,
# say) does not fail every measurement after it.
record() {
  local fs=$1 metric=$2 run=$3 value
  shift 3
  TARGET=${TARGETS[$fs]}
  if value=$("$@") && [[ -n $value ]]; then
    log "  $fs run $run $metric: $value"
  else
    value=fail
    log "  $fs run $run $metric: FAILED"
    if [[ $fs != native ]]; then
      unmount_fs "$fs"
      mount_fs "$fs" "$run.after-$metric"
    fi
  fi
  printf '%s\t%s\t%s\t%s\n' "$fs" "$metric" "$run" "$value" >>"$RESULTS"
}

# ---------------------------------------------------------------------------------------------
# The run. Measurements go in groups (write; the reads, which need the cache the one before left;
# untar; metadata; git status) and each group is done for every filesystem before the next, so
# what else the machine does at a given minute lands on all columns alike; the order of the
# filesystems rotates from one run to the next.

LOAD_START=$(cut -d' ' -f1 /proc/loadavg)
T_START=$(date +%s)
DATE=$(date -u +%Y-%m-%d)

for fs in "${FILESYSTEMS[@]}"; do
  mount_fs "$fs" 1
done

for ((run = 1; run <= RUNS; run++)); do
  order=("${FILESYSTEMS[@]:$(((run - 1) % ${#FILESYSTEMS[@]}))}" "${FILESYSTEMS[@]:0:$(((run - 1) % ${#FILESYSTEMS[@]}))}")
  log "run $run/$RUNS, in the order ${order[*]}"
  # untar before metadata: ext4 makes creates pay for inodes deleted in the last seconds
  # (recently_deleted() in its inode allocator), and the metadata test deletes 20,000.
  for group in write read untar meta git; do
    for fs in "${order[@]}"; do
      case $group in
        write) record "$fs" seqwrite "$run" measure_seqwrite ;;
        read)
          record "$fs" coldread "$run" measure_seqread cold
          record "$fs" warmread "$run" measure_seqread warm
          record "$fs" randwarm "$run" measure_randread warm
          record "$fs" randdirect "$run" measure_randread direct
          ;;
        meta) record "$fs" meta "$run" measure_meta ;;
        untar) record "$fs" untar "$run" measure_untar "$run" ;;
        git)
          record "$fs" gitcold "$run" measure_gitcold "$fs"
          record "$fs" gitwarm "$run" measure_gitwarm
          ;;
      esac
    done
  done
done

for fs in "${FILESYSTEMS[@]}"; do
  unmount_fs "$fs"
done


T_END=$(date +%s)
LOAD_END=$(cut -d' ' -f1 /proc/loadavg)

# ---------------------------------------------------------------------------------------------
# The report.

label() {
  case $1 in
    seqwrite) echo "seq write, 1 MiB blocks + fsync (MiB/s)" ;;
    coldread) echo "seq read, cold cache (MiB/s)" ;;
    warmread) echo "seq read, warm cache (MiB/s)" ;;
    randwarm) echo "4 KiB random read, warm cache (IOPS)" ;;
    randdirect) echo "4 KiB random read, O_DIRECT (IOPS)" ;;
    meta) echo "create+stat+unlink $META_FILES files (ops/s)" ;;
    untar) echo "untar $UNTAR_FILES files (s)" ;;
    gitcold) echo "git status $GIT_FILES files, cold (s)" ;;
    gitwarm) echo "git status $GIT_FILES files, warm (s)" ;;
  esac
}

# median FS METRIC: the median of the runs that succeeded, or "fail" when none did.
median() {
  awk -F'\t' -v fs="$1" -v m="$2" '$1 == fs && $2 == m && $4 != "fail" { print $4 }' "$RESULTS" |
    sort -g | awk '{ v[NR] = $1 } END {
      if (NR == 0) { print "fail"; exit }
      if (NR % 2) { print v[(NR + 1) / 2] } else { print (v[NR / 2] + v[NR / 2 + 1]) / 2 } }'
}

failures() {
  awk -F'\t' -v fs="$1" -v m="$2" '$1 == fs && $2 == m && $4 == "fail"' "$RESULTS" | wc -l
}

fmt() { # metric value
  [[ $2 == fail ]] && { echo "fails"; return; }
  case $1 in
    randwarm | randdirect | meta) awk -v v="$2" 'BEGIN { if (v >= 100000) printf "%.0fk\n", v / 1000; else printf "%.1fk\n", v / 1000 }' ;;
    untar | gitcold | gitwarm) awk -v v="$2" 'BEGIN { printf "%.3g s\n", v }' ;;
    *) awk -v v="$2" 'BEGIN { printf "%.0f\n", v }' ;;
  esac
}

ratio() { # a b -> a / b with 2 decimals, or "-"
  [[ $1 == fail || $2 == fail ]] && { echo "-"; return; }
  awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "-"; else printf "%.2f\n", a / b }'
}

declare -A MED
for fs in "${FILESYSTEMS[@]}"; do
  for m in "${METRICS[@]}"; do
    MED[$fs,$m]=$(median "$fs" "$m")
  done
done

have() { [[ " ${FILESYSTEMS[*]} " == *" $1 "* ]]; }

# check FS METRIC: the issue's target for this metric, as "value | target | met".
check() {
  local fs=$1 m=$2 v base r op goal what
  v=${MED[$fs,$m]}
  case $m in
    coldread | warmread | randwarm | randdirect) base=native; op=ge; goal=0.9; what="≥ 0.9 × native" ;;
    seqwrite) base=native; op=ge; goal=0.8; what="≥ 0.8 × native" ;;
    meta) base=bindfs; op=ge; goal=1.5; what="≥ 1.5 × bindfs ops/s" ;;
    untar) base=bindfs; op=ge; goal=1.5; what="≥ 1.5 × bindfs speed (bindfs time / this)" ;;
    gitwarm) base=native; op=le; goal=1.3; what="≤ 1.3 × native time" ;;
    *) return 1 ;;
  esac
  if ! have "$base" || [[ $v == fail ]]; then
    echo "- | $what | no data"
    return
  fi
  if [[ $m == untar ]]; then r=$(ratio "${MED[$base,$m]}" "$v"); else r=$(ratio "$v" "${MED[$base,$m]}"); fi
  if [[ $r == - ]]; then
    echo "- | $what | no data"
  elif awk -v r="$r" -v g="$goal" -v op="$op" 'BEGIN { exit !((op == "ge") ? (r >= g) : (r <= g)) }'; then
    echo "$r | $what | **met**"
  else
    echo "$r | $what | **missed**"
  fi
}

# table_header: the header rows of a table with one column per filesystem.
table_header() {
  printf '| |'
  for fs in "${FILESYSTEMS[@]}"; do printf ' %s |' "$fs"; done
  echo
  printf '|---|'
  for fs in "${FILESYSTEMS[@]}"; do printf -- '---|'; done
  echo
}

cmdline="tools/bench/fs_bench.sh${ARGS_GIVEN[*]:+ ${ARGS_GIVEN[*]}}"
[[ -n $PASSTHROUGH_HP ]] && cmdline="PASSTHROUGH_HP=$PASSTHROUGH_HP $cmdline"
# Sizes given in the environment are part of the command that reproduces the numbers.
for var in SEQ_SIZE RAND_TIME META_FILES UNTAR_FILES GIT_FILES; do
  [[ -n ${ENV_GIVEN[$var]:-} ]] && cmdline="$var=${ENV_GIVEN[$var]} $cmdline"
done

covefs_rev=$(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$SRC" diff --quiet HEAD -- fusefs 2>/dev/null || covefs_rev="$covefs_rev (fusefs/ with uncommitted changes)"
passthrough_note="kernel FUSE passthrough in use"
if grep -qs "offers no passthrough" "$WORK"/logs/covefs.*.log; then
  passthrough_note="the kernel offered NO passthrough: covefs served data itself"
fi
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
mem=$(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
fsinfo=$(findmnt -n -o FSTYPE,SOURCE -T "$WORK/data" | tr -s ' ')
if [[ $ON_TMPDIR -eq 0 ]]; then
  fsinfo="$fsinfo: a fresh ext4 (mkfs.ext4 defaults, with a journal) in an image file (loop device with direct I/O) on $(findmnt -n -o FSTYPE,SOURCE -T "$WORK" | tr -s ' ')"
fi

REPORT=$WORK/report.md
{
  echo "## covefs"
  echo
  echo "Measured $DATE with:"
  echo
  echo '```'
  echo "sudo $cmdline"
  echo '```'
  echo
  echo "Machine: $(nproc) CPUs ($cpu), $mem RAM, kernel $(uname -r); backing directory on $fsinfo."
  echo "libfuse $(pkg-config --modversion fuse3 2>/dev/null || echo '?') (Debian; $(fusermount3 --version 2>&1 | head -1)),"
  echo "$(bindfs --version 2>&1 | head -1), $(fio --version), $(git --version), $(hyperfine --version)."
  echo "covefs: $covefs_rev, $COVEFS ($passthrough_note)."
  if [[ -n $PASSTHROUGH_HP ]]; then
    echo "passthrough_hp: $PASSTHROUGH_HP (built outside the project)."
  fi
  echo "Load average (1 min) at the start: $LOAD_START, at the end: $LOAD_END; run took $(((T_END - T_START) / 60)) min $(((T_END - T_START) % 60)) s."
  echo
  echo "Median of $RUNS run(s) each; in parentheses the ratio to native in the same run (throughput:"
  echo "this / native, higher is better; times: this / native, lower is better)."
  echo
  table_header
  for m in "${METRICS[@]}"; do
    printf '| %s |' "$(label "$m")"
    for fs in "${FILESYSTEMS[@]}"; do
      v=${MED[$fs,$m]}
      cell=$(fmt "$m" "$v")
      if [[ $fs != native && $v != fail ]] && have native; then
        cell="$cell ($(ratio "$v" "${MED[native,$m]}"))"
      fi
      nf=$(failures "$fs" "$m")
      if [[ $nf -gt 0 && $v != fail ]]; then cell="$cell, $nf of $RUNS runs failed"; fi
      printf ' %s |' "$cell"
    done
    echo
  done
  echo
  echo "Targets from the issue, for covefs (default, with passthrough) and covefs --no-passthrough:"
  echo
  echo "| measurement | target | covefs | | covefs --no-passthrough | |"
  echo "|---|---|---|---|---|---|"
  for m in seqwrite coldread warmread randwarm randdirect meta untar gitwarm; do
    for fs in covefs covefs-nopt; do
      if have "$fs"; then
        IFS='|' read -r r_val r_what r_met <<<"$(check "$fs" "$m")"
        r_val=${r_val% }
      else
        r_val=-
        r_met=" not run"
      fi
      case $fs in
        covefs) a_val=$r_val; a_met=$r_met; what=$r_what ;;
        *) b_val=$r_val; b_met=$r_met ;;
      esac
    done
    echo "| $(label "$m") |${what:- -}| ${a_val} |${a_met} | ${b_val} |${b_met} |"
  done
  echo
  echo "Every run (in order):"
  echo
  table_header
  for m in "${METRICS[@]}"; do
    printf '| %s |' "$m"
    for fs in "${FILESYSTEMS[@]}"; do
      printf ' %s |' "$(awk -F'\t' -v fs="$fs" -v m="$m" '$1 == fs && $2 == m { printf "%s%s", sep, $4; sep = ", " }' "$RESULTS")"
    done
    echo
  done
} >"$REPORT"

cat "$REPORT"

# The plot: speed relative to native (throughput / native's, native's time / this time).
PLOT_DATA=$WORK/plot.dat
{
  printf '"measurement"'
  for fs in "${FILESYSTEMS[@]}"; do [[ $fs == native ]] || printf ' "%s"' "$fs"; done
  echo
  for m in "${METRICS[@]}"; do
    case $m in
      seqwrite) name="seq write" ;; coldread) name="seq read cold" ;; warmread) name="seq read warm" ;;
      randwarm) name="4k rand warm" ;; randdirect) name="4k rand O_DIRECT" ;; meta) name="metadata" ;; untar) name="untar" ;;
      gitcold) name="git status cold" ;; gitwarm) name="git status warm" ;;
    esac
    printf '"%s"' "$name"
    for fs in "${FILESYSTEMS[@]}"; do
      [[ $fs == native ]] && continue
      case $m in
        untar | gitcold | gitwarm) r=$(ratio "${MED[native,$m]:-fail}" "${MED[$fs,$m]}") ;;
        *) r=$(ratio "${MED[$fs,$m]}" "${MED[native,$m]:-fail}") ;;
      esac
      printf ' %s' "$r"
    done
    echo
  done
} >"$PLOT_DATA"

if [[ $WRITE_DOC -eq 1 ]]; then
  doc=$SRC/docs/benchmarks.md
  png=$SRC/docs/benchmarks-covefs.png
  if command -v gnuplot >/dev/null && have native; then
    gnuplot -e "datafile='$PLOT_DATA'; outfile='$png'; subtitle='$DATE, $(nproc) CPUs, kernel $(uname -r), median of $RUNS'" \
      "$SRC/tools/bench/fs/plot.gp"
    {
      echo
      echo "![speed relative to native per filesystem](benchmarks-covefs.png)"
      echo
      echo "The plot shows speed relative to native (throughput / native's, or native's time / this"
      echo "time), so higher is better everywhere; a missing bar is a failure."
    } >>"$REPORT"
  else
    log "gnuplot not installed (or native not measured): no plot"
  fi
  [[ -f $doc ]] || printf '# Benchmarks\n' >"$doc"
  # Replace the "## covefs" section (up to the next "## " heading) or append it. A subsection
  # "### Notes" in it is written by hand (what the numbers mean, what was found): it is kept, after
  # the new numbers.
  awk -v report="$REPORT" '
    function emit(  line) { while ((getline line < report) > 0) print line; close(report); done = 1 }
    function end_section() { sub(/\n+$/, "\n", notes); if (notes != "") printf "\n%s", notes; notes = ""; skipping = 0 }
    /^## / { if (skipping) { end_section(); print "" } }
    /^## covefs$/ { emit(); skipping = 1; in_notes = 0; next }
    skipping && /^### Notes/ { in_notes = 1 }
    skipping && in_notes { notes = notes $0 "\n"; next }
    !skipping { print }
    END { if (skipping) end_section(); if (!done) { print ""; emit() } }' "$doc" >"$doc.new"
  mv -f "$doc.new" "$doc"
  log "wrote the covefs section of $doc"
fi
