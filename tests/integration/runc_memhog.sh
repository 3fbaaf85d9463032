#!/usr/bin/env bash
# A sync container (128 MiB) that allocates 512 MiB is killed by the OOM killer before it gets
# there.
source "$(dirname "$0")/lib.sh"
setup

id=$(cid memhog)
new_bundle "$id" sync /bin/cove-probe memhog 512
run_container "$id" 50
last=$(grep '^memhog_progress=' "$OUT" | tail -n1)
last=${last#memhog_progress=}
say "cove run exited $RC; last progress: ${last:-none} MiB"
assert_rc_nonzero "cove run (sync, memhog 512)"
[[ $RC -eq 137 ]] || say "note: exit status $RC, not 137 (SIGKILL by the OOM killer)"
if grep -q '^memhog=complete' "$OUT"; then
  fail "memhog allocated all 512 MiB inside a 128 MiB sync container"
fi
say "ok   memhog never printed memhog=complete"
[[ $last =~ ^[0-9]+$ && $last -lt 140 ]] ||
  fail "memhog's last progress is '${last:-none}' MiB; expected it to stop below 140 MiB"
say "ok   memhog stopped at $last MiB"
pass
