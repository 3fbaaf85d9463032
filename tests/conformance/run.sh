#!/usr/bin/env bash
# Conformance: does TARGET_DIR (a covefs mount) behave like a native directory?
#
#   run.sh TARGET_DIR [NATIVE_DIR]
#
# Runs fsconform on NATIVE_DIR and on TARGET_DIR, prints `diff -u native target` of the two
# descriptions, then one line per differing check, marked ALLOWED when it is in the allow-list
# below. Exits 0 when every difference is allowed, 1 otherwise (or when fsconform failed, or left
# something behind), 2 on usage errors. Run it as root: without root the permission checks print
# skip=not-root on both sides and prove nothing.
#
# NATIVE_DIR defaults to a fresh temp dir next to the mount's source when the mount names its
# source directory (bindfs does, as its fsname) or when CONFORM_SOURCE names it (covefs shows
# "covefs:<team>"), so both runs meet the same filesystem; otherwise a fresh dir under /tmp.
# Comparing against a different filesystem type (tmpfs /tmp vs an ext4 source) reports that
# filesystem's differences too, so prefer passing NATIVE_DIR or CONFORM_SOURCE.
#
# For covefs, mount with `--owner none`: the default owner mapping (files appear as 1000:1000)
# is a feature, not POSIX, and every ownership check would differ.
#
# Environment:
#   FSCONFORM         the fsconform binary (default: $COVE_BUILD/tests/conformance/fsconform,
#                     COVE_BUILD defaulting to <repo>/build)
#   CONFORM_SOURCE    the mount's source directory, to place the default NATIVE_DIR beside it
#   CONFORM_ONLY      space-separated check-name prefixes to run (e.g. "rename. link.")
#   CONFORM_ALLOW     extra check names to treat as allowed (space-separated), for peers such as
#                     bindfs_baseline.sh; the built-in list is for covefs
#   CONFORM_TIMEOUT   seconds per fsconform run (default 300; a native run takes seconds)
set -u -o pipefail
export LC_ALL=C  # one collation for sort and join

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)

# Known differences between covefs and a native directory. Each is a limit of FUSE or of the
# libfuse covefs links, or a deliberate covefs choice; keep the reason next to the name.
declare -A ALLOWED=(
  # covefs refuses to create device nodes in a workspace (its "device" refusal counter): a
  # container must not plant a device node that a less confined process might open later.
  [mknod.chardev]=1
  # The kernel's FUSE client rejects every fallocate mode except KEEP_SIZE, PUNCH_HOLE and
  # ZERO_RANGE with EOPNOTSUPP before the request reaches the daemon (fs/fuse/file.c).
  [fallocate.collapse_insert]=1
  # O_TMPFILE needs the FUSE_TMPFILE operation, which the libfuse covefs builds against
  # (3.14, Debian 12) cannot receive: the kernel gets ENOSYS and reports EOPNOTSUPP.
  [tmpfile.open]=1
  # Birth time needs FUSE_STATX, which libfuse 3.14 cannot serve; plain getattr has no btime.
  [stat.statx_btime]=1
  # libfuse mounts nosuid,nodev unless told otherwise, and covefs keeps it that way: a setuid
  # binary in a shared workspace must not raise a container process's privileges.
  [exec.setuid]=1
)
for name in ${CONFORM_ALLOW:-}; do
  ALLOWED[$name]=1
done

usage() {
  echo "usage: $0 TARGET_DIR [NATIVE_DIR]" >&2
  exit 2
}

[[ $# -ge 1 && $# -le 2 ]] || usage
TARGET=$1
[[ -d $TARGET ]] || { echo "run.sh: $TARGET is not a directory" >&2; exit 2; }

FSCONFORM=${FSCONFORM:-${COVE_BUILD:-$REPO/build}/tests/conformance/fsconform}
[[ -x $FSCONFORM ]] || { echo "run.sh: no fsconform at $FSCONFORM (build it, or set FSCONFORM)" >&2; exit 2; }

WORK=$(mktemp -d /tmp/conform-run.XXXXXX) || exit 2
CREATED_NATIVE=""
cleanup() {
  if [[ -n $CREATED_NATIVE ]]; then
    rm -rf -- "$CREATED_NATIVE"
  fi
  rm -rf -- "$WORK"
}
trap cleanup EXIT

# A fresh directory beside $1 when that is on the same filesystem as $1, else nothing.
native_beside() {
  local src=$1 parent
  [[ $src == /* && -d $src ]] || return 1
  parent=$(dirname "$src")
  [[ $(stat -c %d "$parent") == "$(stat -c %d "$src")" ]] || return 1
  mktemp -d "$parent/.fsconform-native.XXXXXX" 2>/dev/null
}

if [[ $# -eq 2 ]]; then
  NATIVE=$2
  [[ -d $NATIVE ]] || { echo "run.sh: $NATIVE is not a directory" >&2; exit 2; }
else
  mount_source=$(findmnt -n -o SOURCE --target "$TARGET" 2>/dev/null || true)
  NATIVE=""
  for candidate in "${CONFORM_SOURCE:-}" "$mount_source"; do
    if [[ -n $candidate ]] && NATIVE=$(native_beside "$candidate"); then
      break
    fi
    NATIVE=""
  done
  if [[ -z $NATIVE ]]; then
    NATIVE=$(mktemp -d /tmp/fsconform-native.XXXXXX) || exit 2
  fi
  CREATED_NATIVE=$NATIVE
fi

native_fs=$(findmnt -n -o FSTYPE --target "$NATIVE" 2>/dev/null || echo "?")
target_fs=$(findmnt -n -o FSTYPE --target "$TARGET" 2>/dev/null || echo "?")
echo "conformance: native $NATIVE ($native_fs), target $TARGET ($target_fs)"
if [[ $(id -u) -ne 0 ]]; then
  echo "conformance: not root: permission checks are skipped on both sides"
fi

# Runs fsconform on $1, output to $2.out / $2.err; returns its exit status (124 on timeout).
run_fsconform() {
  local dir=$1 tag=$2
  # shellcheck disable=SC2086  # CONFORM_ONLY is a list of prefixes
  timeout -k 10 "${CONFORM_TIMEOUT:-300}" "$FSCONFORM" "$dir" ${CONFORM_ONLY:-} \
    >"$WORK/$tag.out" 2>"$WORK/$tag.err"
}

failed=0
for side in native target; do
  if [[ $side == native ]]; then dir=$NATIVE; else dir=$TARGET; fi
  before=$(ls -A "$dir" | wc -l)
  run_fsconform "$dir" "$side"
  rc=$?
  if [[ $rc -ne 0 ]]; then
    echo "conformance: fsconform on the $side side exited $rc$([[ $rc -eq 124 ]] && echo ' (timeout)')"
    sed 's/^/  /' "$WORK/$side.err"
    failed=1
  fi
  after=$(ls -A "$dir" | wc -l)
  if [[ $after -ne $before ]]; then
    echo "conformance: the $side side has $((after - before)) more entries than before the run"
    ls -A "$dir" | sed 's/^/  /'
    failed=1
  fi
done

checks=$(wc -l <"$WORK/native.out")
echo "conformance: $checks checks"
if ! diff -q "$WORK/native.out" "$WORK/target.out" >/dev/null; then
  diff -U0 --label native --label target "$WORK/native.out" "$WORK/target.out"
fi

# Per-check classification, by name (a check missing on one side counts as a difference).
differ=0
allowed=0
while IFS=$'\t' read -r name native_result target_result; do
  if [[ $native_result == "$target_result" ]]; then
    continue
  fi
  if [[ -n ${ALLOWED[$name]:-} ]]; then
    allowed=$((allowed + 1))
    echo "ALLOWED $name"
  else
    differ=$((differ + 1))
    echo "DIFFER  $name"
  fi
  echo "    native: $native_result"
  echo "    target: $target_result"
done < <(join -t $'\t' -a 1 -a 2 -e '<missing>' -o 0,1.2,2.2 \
           <(sed 's/ /\t/' "$WORK/native.out" | sort -t $'\t' -k1,1) \
           <(sed 's/ /\t/' "$WORK/target.out" | sort -t $'\t' -k1,1))

echo "conformance: $checks checks, $((differ + allowed)) differ ($allowed allowed, $differ not)"
if [[ $differ -ne 0 || $failed -ne 0 ]]; then
  exit 1
fi
exit 0
