#!/usr/bin/env bash
# Role views through real containers sharing one mount: an agent writes code but not .git/hooks
# or .git/config; a preview reads code, cannot write anywhere, and does not see .env. The
# journal attributes each change to the container and agent that made it.
source "$(dirname "$0")/covefs_lib.sh"
covefs_setup
mkdir -p "$SRC/src" "$SRC/.git/hooks"
echo 'secret=1' >"$SRC/.env"
echo '[core]' >"$SRC/.git/config"
echo 'console.log(1)' >"$SRC/src/app.ts"
start_covefs

agent=$(cid agent)
AGENT=alice in_container "$agent" agent '
  echo "export const y = 2" > /workspace/src/new.ts && echo new=ok
  cove-probe write /workspace/.git/hooks/pre-commit | sed "s/^/hook=/"
  cove-probe write /workspace/.git/config | sed "s/^/config=/"
  cove-probe write /workspace/src/app.ts | sed "s/^/app=/"
  cat /workspace/.env >/dev/null && echo env=visible'
assert_rc 0 "agent container"
expect_probe new ok
expect_probe hook EROFS
expect_probe config EROFS
expect_probe app ok
expect_probe env visible
assert_eq "agent's file in the source" "export const y = 2" "$(cat "$SRC/src/new.ts")"
[[ -e $SRC/.git/hooks/pre-commit ]] && fail "the agent created .git/hooks/pre-commit"
assert_eq ".git/config untouched" "[core]" "$(cat "$SRC/.git/config")"
expect_journal "select(.op==\"create\" and .path==\"src/new.ts\" and .container==\"$agent\" and .agent==\"alice\" and .role==\"agent\")" \
  "the agent's create, attributed to container and agent"

preview=$(cid preview)
in_container "$preview" preview '
  cat /workspace/src/app.ts >/dev/null && echo read=ok
  cove-probe write /workspace/src/app.ts | sed "s/^/write=/"
  cove-probe write /workspace/other.ts | sed "s/^/create=/"
  [ -e /workspace/.env ] && echo env=visible || echo env=absent
  ls -a /workspace | grep -qx .env && echo listed=yes || echo listed=no
  cat /workspace/src/new.ts'
assert_rc 0 "preview container"
expect_probe read ok
expect_probe write EROFS
expect_probe create EROFS
expect_probe env absent
expect_probe listed no
grep -qx "export const y = 2" "$OUT" || fail "the preview does not see the agent's new file"
say "ok   the preview reads the agent's new file"

# The host still sees .env: hidden is per caller, not a property of the file.
assert_eq "host sees .env" "secret=1" "$(cat "$MNT/.env")"
pass
