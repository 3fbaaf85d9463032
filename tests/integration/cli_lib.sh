# shellcheck shell=bash
# Helpers for the cove CLI scenarios (tests/integration/cli_*.sh). The policy commands need no
# container: `cli_setup` gives them lib.sh's capture and assertions, a temp dir removed at exit
# and $COVE_CLI, without lib.sh's root/runc requirements. Scenarios with real containers call
# lib.sh's `setup` instead and check COVE_CLI with `require_cli`.
#
# Environment: COVE_CLI (the cove binary), COVE_SRC (the source tree).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_cli() {
  [[ -n ${COVE_CLI:-} ]] || skip "COVE_CLI is not set (run through ctest, or set it to the cove binary)"
  [[ -x $COVE_CLI ]] || fail "COVE_CLI=$COVE_CLI is not an executable file"
  command -v jq >/dev/null || skip "jq is not installed"
}

cli_setup() {
  require_cli
  [[ -f $COVE_SRC/docker/policy.json ]] || fail "COVE_SRC=$COVE_SRC has no docker/policy.json"
  TEST_DIR=$(mktemp -d /tmp/cove-cli.XXXXXX) || fail "mktemp failed"
  trap cleanup EXIT
  trap 'exit 130' INT TERM
  SAMPLE=$COVE_SRC/docker/policy.json
  MISTAKES=$COVE_SRC/tests/fixtures/policy-mistakes.json
}

# derive_policy OUT JQ_FILTER: the sample policy (whole-line comments stripped) through jq.
derive_policy() {
  sed -e 's#^[[:space:]]*//.*##' "$SAMPLE" | jq "$2" >"$1" || fail "jq filter failed: $2"
}

# assert_contains WHAT FIXED_STRING [FILE]: FILE (default $OUT) contains the string.
assert_contains() {
  grep -qF -- "$2" "${3:-$OUT}" || fail "$1: '$2' not found in ${3:-$OUT}"
  say "ok   $1"
}

assert_not_contains() {
  if grep -qF -- "$2" "${3:-$OUT}"; then
    fail "$1: '$2' unexpectedly found in ${3:-$OUT}"
  fi
  say "ok   $1"
}
