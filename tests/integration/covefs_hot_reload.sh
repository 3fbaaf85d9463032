#!/usr/bin/env bash
# Hot reload without polling: an inotify watch in a preview container fires when an agent
# container writes a file, because both use the team's one mount.
source "$(dirname "$0")/covefs_lib.sh"
covefs_setup
mkdir -p "$SRC/src"
echo v1 >"$SRC/src/app.ts"
start_covefs

preview=$(cid preview)
EXTRA_ENV="COVE_TEAM=$TEAM" new_bundle "$preview" preview /bin/cove-probe inotify /workspace/src 20
capture preview-run 40 "${COVE[@]}" run --bundle "$TEST_DIR/$preview" "$preview" &
watcher=$!
BG_PIDS+=("$watcher")
for _ in $(seq 100); do grep -q '^watching=' "$TEST_DIR/preview-run.out" 2>/dev/null && break; sleep 0.1; done
agent=$(cid agent)
in_container "$agent" agent 'echo v2 > /workspace/src/app.ts && echo wrote=ok'
expect_probe wrote ok
wait "$watcher"
OUT=$TEST_DIR/preview-run.out
expect_probe event app.ts
pass
