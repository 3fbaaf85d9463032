#!/usr/bin/env bash
# `cove fsmonitor` never under-reports: a git repository served by covefs, with core.fsmonitor
# set to the hook and core.untrackedCache=true, gives the same `git status --porcelain` as git
# without the hook after every change made through the mount (create, modify, delete, rename of
# files and directories, mkdir with files, chmod, truncate, symlink, hard link, same-size
# rewrite, editor-style save, a session worktree under .worktrees/). A hook that reports nothing
# is shown to fail the same comparison, so the check has teeth; a bogus token and a token from
# before a covefs restart are answered with "/".
source "$(dirname "$0")/cli_ws_lib.sh"
ws_setup
command -v git >/dev/null || skip "git is not installed"
ws_mount

export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.com GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@example.com
export GIT_CONFIG_NOSYSTEM=1 HOME=$TEST_DIR
HOOK="$COVE_CLI fsmonitor --journal $JOURNAL"
DEBUG_LOG=$TEST_DIR/hook.log

cd "$MNT" || fail "cd $MNT"
git init -q -b main . || fail "git init through the mount"
mkdir -p src/lib docs
for i in 1 2 3 4 5; do echo "line $i" >"src/lib/m$i.ts"; done
echo a >a.txt; echo b >b.txt; echo c >c.txt; echo '#!/bin/sh' >run.sh; echo d >docs/readme.md
printf 'ignored/\n*.log\n/.worktrees/\n' >.gitignore
git add -A && git commit -qm init || fail "initial commit"
git config core.fsmonitor "$HOOK"
git config core.fsmonitorHookVersion 2
git config core.untrackedCache true

STEPS=0
PATHS_ANSWERS=0
# check STEP: status with the hook (which may write the index and its token) equals status
# without it (a full scan that writes nothing).
check() {
  local with without
  with=$(COVE_FSMONITOR_DEBUG=1 git status --porcelain 2>>"$DEBUG_LOG") || fail "$1: git status with the hook failed"
  without=$(git -c core.fsmonitor= -c core.untrackedCache=false --no-optional-locks status --porcelain) ||
    fail "$1: git status without the hook failed"
  if [[ $with != "$without" ]]; then
    echo "--- with the hook ---" >&2; echo "$with" >&2
    echo "--- without ---" >&2; echo "$without" >&2
    echo "--- hook log ---" >&2; tail -n 5 "$DEBUG_LOG" >&2
    fail "$1: the hook under-reported"
  fi
  STEPS=$((STEPS + 1))
  say "ok   $1: $(echo "$with" | grep -c . ) status lines agree"
}

check "first run (git's own token)"
check "nothing changed"
echo more >>a.txt;                      check "modify a tracked file"
echo new >new.txt;                      check "create an untracked file"
mkdir newdir; echo f >newdir/f1; echo g >newdir/f2
                                        check "mkdir with files"
git add new.txt;                        check "git add"
rm b.txt;                               check "delete a tracked file"
mv c.txt c2.txt;                        check "rename a tracked file"
chmod +x run.sh;                        check "chmod +x"
mkdir -p deep/er/dir; echo x >deep/er/dir/x; echo y >deep/er/y
                                        check "mkdir -p with files"
rm -r newdir;                           check "rm -r an untracked directory"
echo 'line 1 edited' >src/lib/m1.ts.tmp && mv src/lib/m1.ts.tmp src/lib/m1.ts
                                        check "editor-style save (write, rename over)"
mv src/lib src/lib2;                    check "rename a tracked directory"
mv src/lib2 src/lib;                    check "rename it back"
mv deep moved;                          check "rename an untracked directory"
mkdir -p deep/er/dir;                   check "recreate the old directory names, empty"
: >docs/readme.md;                      check "truncate"
ln -s a.txt link.txt;                   check "symlink"
ln a.txt hard.txt;                      check "hard link"
printf 'A' >one.txt; git add one.txt;   check "same-size rewrite, before"
printf 'B' >one.txt;                    check "same-size rewrite, after"
touch -d '2001-01-01' src/lib/m2.ts;    check "touch (times only)"
mkdir ignored; echo i >ignored/i; echo l >x.log
                                        check "ignored files"
rm -r ignored x.log;                    check "remove ignored files"
git commit -qam wip;                    check "commit"
git reset -q --hard;                    check "reset --hard"
git clean -qfdx;                        check "clean -fdx"

grep -q " paths$" "$DEBUG_LOG" || fail "the hook never answered with a list of paths: $(tail -n 5 "$DEBUG_LOG")"
say "ok   answers with paths: $(grep -c ' paths$' "$DEBUG_LOG"), with everything: $(grep -c 'everything' "$DEBUG_LOG")"

# A session worktree under .worktrees/: the hook strips the prefix and ignores the rest.
git worktree add -q -b s1 .worktrees/s1 || fail "git worktree add"
(
  cd .worktrees/s1 || exit 1
  check "worktree: first run"
  echo wt >>a.txt;                      check "worktree: modify"
  echo main >>"$MNT/c2.txt";            check "worktree: a change in the main worktree only"
  mkdir wd; echo w >wd/w;               check "worktree: mkdir with a file"
  mv wd wd2;                            check "worktree: rename a directory"
) || exit 1
check "main worktree after the session's changes"

# The check has teeth: a hook that reports nothing makes git miss a change.
printf '#!/bin/sh\nprintf "liar\\0"\n' >"$TEST_DIR/liar.sh"
chmod +x "$TEST_DIR/liar.sh"
git -c core.fsmonitor="$TEST_DIR/liar.sh" status --porcelain >/dev/null  # stores the liar's token
echo lie >>a.txt
with=$(git -c core.fsmonitor="$TEST_DIR/liar.sh" status --porcelain)
without=$(git -c core.fsmonitor= --no-optional-locks status --porcelain)
[[ $with != "$without" ]] || fail "a hook that reports nothing went unnoticed: the comparison proves nothing"
say "ok   a lying hook is caught by the same comparison"
check "back to cove fsmonitor after the liar"

# Tokens: bogus and foreign ones get a fresh token and "/".
capture bogus 10 $HOOK 2 bogus-token
assert_rc 0 "bogus token"
[[ $(tr '\0' '\n' <"$OUT" | sed -n 2p) == "/" ]] || fail "bogus token not answered with /: $(tr '\0' ' ' <"$OUT")"
token=$(tr '\0' '\n' <"$OUT" | head -n1)
[[ $token == cove:*:*:* ]] || fail "fresh token looks wrong: $token"
say "ok   bogus token -> $token and /"
capture fresh 10 $HOOK 2 "$token"
[[ $(tr '\0' '\n' <"$OUT" | sed -n 2p) != "/" ]] || fail "the fresh token was not accepted: $(tr '\0' ' ' <"$OUT")"
say "ok   the fresh token is accepted"
capture v1 10 $HOOK 1 123
assert_rc 2 "protocol version 1 refused"

cd / || fail "cd /"
ws_unmount
echo host >>"$SRC/a.txt"  # while covefs is down: not journaled
ws_mount
cd "$MNT" || fail "cd $MNT"
capture restarted 10 $HOOK 2 "$token"
[[ $(tr '\0' '\n' <"$OUT" | sed -n 2p) == "/" ]] || fail "a token from before the restart was accepted: $(tr '\0' ' ' <"$OUT")"
say "ok   a token from before a covefs restart -> /"
check "after the restart"
echo again >>a.txt;                     check "modify after the restart"
cd / || fail "cd /"
say "$STEPS status comparisons agreed"
pass
