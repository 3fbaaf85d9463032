#!/usr/bin/env bash
# Malformed input is refused with exit 1 and a cove: message naming the bad file, and the bundle's
# config.json is left byte for byte as it was: a truncated config.json, then a truncated policy.
source "$(dirname "$0")/lib.sh"
setup

# 1. config.json cut off in the middle.
id=$(cid config)
new_bundle "$id" agent
cfg=$(bundle_of "$id")/config.json
head -c 300 "$cfg" >"$cfg.cut" && mv -f "$cfg.cut" "$cfg"
cp "$cfg" "$TEST_DIR/config.before"
log_mark
run_container "$id"
assert_rc 1 "cove run with a truncated config.json"
assert_refusal "config.json"
assert_stdout_empty "cove run"
cmp -s "$cfg" "$TEST_DIR/config.before" || fail "the shim modified the malformed $cfg"
say "ok   config.json unchanged"
assert_no_container "$id"

# 2. A valid bundle and a policy cut off in the middle.
id=$(cid policy)
new_bundle "$id" agent
cfg=$(bundle_of "$id")/config.json
cp "$cfg" "$TEST_DIR/config.before"
bad=$TEST_DIR/bad-policy.json
head -c 400 "$POLICY" >"$bad"
log_mark
say "run $id with the truncated policy $bad"
capture "$id.run" 40 "$COVE_RUNTIME" --cove-policy "$bad" --root "$ROOT" --log "$LOG" --log-format json \
  run --bundle "$(bundle_of "$id")" "$id"
assert_rc 1 "cove run with a truncated policy"
assert_refusal "$bad"
assert_stdout_empty "cove run"
cmp -s "$cfg" "$TEST_DIR/config.before" || fail "the shim modified $cfg although the policy was malformed"
say "ok   config.json unchanged"
assert_no_container "$id"
pass
