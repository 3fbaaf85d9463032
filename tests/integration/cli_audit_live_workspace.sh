#!/usr/bin/env bash
# `cove audit live` checks the workspace mount of a running preview container (role: read-only
# workspace, read-only rootfs): no drift right after create; once the workspace is remounted
# read-write inside the container's mount namespace behind cove's back, the drift names the
# mount and the rule (exit 1). The team workspace is a tmpfs here (covefs is not under test).
# (nsenter -m -p runs the container's own busybox mount, which needs its /proc/self.)
source "$(dirname "$0")/cli_lib.sh"
require_cli
command -v nsenter >/dev/null || skip "nsenter is not installed (util-linux)"
setup

team_dir=$WORKSPACE_ROOT/alpha
mkdir -p "$team_dir" || fail "mkdir $team_dir"
mount -t tmpfs -o size=1m cove-test-ws "$team_dir" || skip "cannot mount a tmpfs at $team_dir"
CLEANUP_HOOKS+=("umount -l '$team_dir' 2>/dev/null")

id=$(cid ws)
EXTRA_ENV="COVE_TEAM=alpha" new_bundle "$id" preview /bin/sleep 60
capture create 20 "${COVE[@]}" run --detach --bundle "$(bundle_of "$id")" "$id"
assert_rc 0 "cove-runtime run --detach (preview, team alpha, sleep 60)"
wait_status "$id" running

capture live-clean 30 "$COVE_CLI" audit live --policy "$POLICY" --json
assert_rc 0 "cove audit live right after create"
assert_eq "team" alpha "$(jq -r '.containers[0].team' "$OUT")"
assert_eq "attested" true "$(jq -r '.containers[0].attested' "$OUT")"
assert_eq "drift findings" 0 "$(jq '.drift' "$OUT")"

pid=$("$RUNC" --root "$ROOT" state "$id" | jq -r .pid)
[[ $pid =~ ^[0-9]+$ ]] || fail "no pid for $id"
nsenter -t "$pid" -m -p -- mount -o remount,bind,rw /workspace ||
  fail "cannot remount /workspace read-write in the mount namespace of $pid"
say "remounted /workspace read-write inside container $id (pid $pid)"

capture live-drift 30 "$COVE_CLI" audit live --policy "$POLICY" --json
assert_rc 1 "cove audit live after the workspace became read-write"
assert_eq "drift field" "mount /workspace" "$(jq -r '.containers[0].drift[0].field' "$OUT")"
assert_eq "drift rule" roles.preview.workspace.mode "$(jq -r '.containers[0].drift[0].rule' "$OUT")"
assert_eq "drift expected" ro "$(jq -r '.containers[0].drift[0].expected' "$OUT")"
assert_eq "drift actual" rw "$(jq -r '.containers[0].drift[0].actual' "$OUT")"
pass
