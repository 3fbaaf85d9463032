#!/usr/bin/env bash
# covefs holds file handles, not one descriptor per inode: with RLIMIT_NOFILE at 1024 and a
# 256-descriptor cache, it serves a 25,000-file tree (every file looked up and read) without
# EMFILE, and its open descriptors stay bounded.
source "$(dirname "$0")/covefs_lib.sh"
covefs_setup
command -v prlimit >/dev/null || skip "prlimit is missing"
mkdir -p "$SRC/tree"
(cd "$SRC/tree" && for d in $(seq 0 24); do mkdir "d$d"; (cd "d$d" && seq 0 999 | sed 's/^/f/' | xargs touch); done)
echo payload >"$SRC/tree/d7/f777"
COVEFS_WRAP=(prlimit --nofile=1024:1024)
"${COVEFS_WRAP[@]}" "$COVEFS" -f --team "$TEAM" --source "$SRC" --mountpoint "$MNT" --policy "$POLICY" \
  --state-dir "$STATE_DIR" --journal "$JOURNAL" --fd-cache 256 >"$TEST_DIR/covefs.log" 2>&1 &
COVEFS_PID=$!
BG_PIDS+=("$COVEFS_PID")
for _ in $(seq 100); do ls "$MNT" >/dev/null 2>&1 && grep -q " $MNT fuse.covefs " /proc/mounts && break; sleep 0.05; done

n=$(find "$MNT/tree" -type f | wc -l)
assert_eq "files found through the mount" 25000 "$n"
stat_count=$(find "$MNT/tree" -type f -printf '%s\n' | wc -l)
assert_eq "files stat'ed through the mount" 25000 "$stat_count"
assert_eq "content of one file" payload "$(cat "$MNT/tree/d7/f777")"
fds=$(ls "/proc/$COVEFS_PID/fd" | wc -l)
(( fds < 400 )) || fail "covefs holds $fds descriptors (cache is 256)"
say "ok   covefs holds $fds descriptors after 25,000 lookups"
kill -0 "$COVEFS_PID" || fail "covefs died: $(cat "$TEST_DIR/covefs.log")"
grep -q EMFILE "$TEST_DIR/covefs.log" && fail "covefs hit EMFILE"
pass
