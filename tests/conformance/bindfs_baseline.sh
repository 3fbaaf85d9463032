#!/usr/bin/env bash
# The peer's baseline: how far bindfs, a mature FUSE passthrough, is from a native directory.
#
# Mounts bindfs over a temp dir, runs run.sh against it with a native dir on the same filesystem,
# and prints the differences. Informative: it passes whatever bindfs does (bindfs is known to
# differ), and fails only when the suite itself could not run. Skips (77) without root, bindfs,
# fusermount3 or /dev/fuse. The mount is always taken down, also on failure or interrupt.
#
# Observed with bindfs 1.14.7, libfuse 3.14, Linux 6.18, ext4: 21 of 132 checks differ, 4 of them
# on the covefs allow-list. The other 17 are bindfs traits, not limits of the kernel's FUSE:
#   dir.removed_while_open      fstat on an open, removed directory: ENOENT (path-based getattr)
#   fallocate.extend, .keep_size, .punch_hole, .zero_range   EOPNOTSUPP (no fallocate operation)
#   link.nlink, link.nlink_seen_via_other_name, link.attrs_seen_via_other_name, link.symlink,
#   unlink.hardlink_keeps_data  stale nlink/mode/owner/size/mtime through the other name of a hard
#                               link: each path is its own FUSE inode, so the kernel caches two
#                               copies of one file's attributes
#   open.mode_special_bits      setuid/setgid/sticky dropped at create and mkdir
#   perm.write_clears_setid     setgid (without group-exec) kept after a write by a non-member
#   rename.noreplace, rename.exchange   EINVAL: renameat2 flags refused
#   seek.data_hole              no lseek operation: the whole file is data
#   unlink.open_file            the unlinked open file shows up as .fuse_hidden* until closed
#   utimes.omit_now             UTIME_NOW combined with UTIME_OMIT does not set "now"
#   plus the allowed ones: exec.setuid (nosuid), fallocate.collapse_insert, stat.statx_btime,
#   tmpfile.open
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NAME=bindfs_baseline

skip() {
  echo "SKIP [$NAME]: $*"
  exit 77
}
fail() {
  echo "FAIL [$NAME]: $*" >&2
  exit 1
}

[[ $(id -u) -eq 0 ]] || skip "needs root"
command -v bindfs >/dev/null || skip "bindfs not installed (apt-get install bindfs)"
command -v fusermount3 >/dev/null || skip "fusermount3 not installed"
[[ -c /dev/fuse ]] || skip "no /dev/fuse"

TMP=$(mktemp -d /tmp/conform-bindfs.XXXXXX) || fail "mktemp"
MNT=$TMP/mnt
BINDFS_PID=""

cleanup() {
  if mountpoint -q "$MNT"; then
    fusermount3 -u "$MNT" 2>/dev/null || umount "$MNT" 2>/dev/null || umount -l "$MNT"
  fi
  if [[ -n $BINDFS_PID ]] && kill -0 "$BINDFS_PID" 2>/dev/null; then
    kill "$BINDFS_PID"
    wait "$BINDFS_PID" 2>/dev/null
  fi
  # Never remove through a live mount.
  if mountpoint -q "$MNT"; then
    echo "[$NAME] $MNT is still mounted; leaving $TMP" >&2
  else
    rm -rf -- "$TMP"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir "$TMP/src" "$MNT" "$TMP/native"
# -f keeps bindfs in the foreground so that its PID is ours to kill; as root it adds allow_other.
bindfs -f "$TMP/src" "$MNT" 2>"$TMP/bindfs.err" &
BINDFS_PID=$!
for _ in $(seq 100); do
  mountpoint -q "$MNT" && break
  kill -0 "$BINDFS_PID" 2>/dev/null || break
  sleep 0.1
done
mountpoint -q "$MNT" || fail "bindfs did not mount: $(cat "$TMP/bindfs.err")"
echo "[$NAME] $(bindfs --version 2>&1 | head -n1) on $(uname -r)"

bash "$HERE/run.sh" "$MNT" "$TMP/native" | tee "$TMP/run.out"
rc=${PIPESTATUS[0]}
if grep -q '^conformance: fsconform on the native side' "$TMP/run.out"; then
  fail "fsconform failed on the native side"
fi
summary=$(grep '^conformance: .* checks, .* differ' "$TMP/run.out") ||
  fail "run.sh produced no summary (exit $rc)"
differing=$(grep -E '^(DIFFER|ALLOWED) ' "$TMP/run.out" | awk '{print $2}' | tr '\n' ' ')
echo "[$NAME] bindfs baseline: ${summary#conformance: }"
echo "[$NAME] differing checks: ${differing:-none}"
exit 0
