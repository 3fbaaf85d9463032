#!/usr/bin/env bash
# The conformance suite checks itself on native directories:
#  1. fsconform run twice on the same filesystem prints the same bytes (it is deterministic), and
#     run.sh NATIVE_A NATIVE_B passes;
#  2. run.sh fails when one result differs, and passes when that check is in the allow-list
#     (through a wrapper that alters one line of the target side's output).
# Exit codes: 0 pass, 1 fail, 77 skip (not root: the permission checks would only print skips).
set -u -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
FSCONFORM=${FSCONFORM:-${COVE_BUILD:-$REPO/build}/tests/conformance/fsconform}
NAME=native_selftest

skip() {
  echo "SKIP [$NAME]: $*"
  exit 77
}
fail() {
  echo "FAIL [$NAME]: $*" >&2
  exit 1
}

[[ $(id -u) -eq 0 ]] || skip "needs root (permission checks drop to uid 1000/65534)"
[[ -x $FSCONFORM ]] || fail "no fsconform at $FSCONFORM"

TMP=$(mktemp -d /tmp/conform-selftest.XXXXXX) || fail "mktemp"
trap 'rm -rf -- "$TMP"' EXIT
mkdir "$TMP/a" "$TMP/b"

# 1. Determinism, byte for byte, then through the runner.
"$FSCONFORM" "$TMP/a" >"$TMP/run1.out" || fail "fsconform exited $? on $TMP/a"
"$FSCONFORM" "$TMP/a" >"$TMP/run2.out" || fail "fsconform exited $? on $TMP/a (second run)"
if ! diff -u "$TMP/run1.out" "$TMP/run2.out"; then
  fail "two runs on the same directory differ"
fi
[[ -z $(ls -A "$TMP/a") ]] || fail "fsconform left entries in $TMP/a: $(ls -A "$TMP/a")"
grep -q ' setup-error ' "$TMP/run1.out" && fail "a check could not set up natively: $(grep ' setup-error ' "$TMP/run1.out")"
checks=$(wc -l <"$TMP/run1.out")
[[ $checks -ge 100 ]] || fail "only $checks checks ran"

FSCONFORM=$FSCONFORM bash "$HERE/run.sh" "$TMP/b" "$TMP/a" >"$TMP/runner.out" 2>&1 ||
  { cat "$TMP/runner.out"; fail "run.sh native vs native exited $?"; }
grep -q "^conformance: $checks checks, 0 differ" "$TMP/runner.out" ||
  { cat "$TMP/runner.out"; fail "run.sh did not report $checks checks and no difference"; }

# 2. The runner must notice a difference. The wrapper alters rename.noreplace on the target side.
cat >"$TMP/fake-fsconform" <<EOF
#!/usr/bin/env bash
if [[ \$1 == "$TMP/b" ]]; then
  "$FSCONFORM" "\$@" | sed 's/^rename\.noreplace .*/rename.noreplace existing=errno=EINVAL/'
else
  "$FSCONFORM" "\$@"
fi
EOF
chmod +x "$TMP/fake-fsconform"
export CONFORM_ONLY="rename. link.nlink"
FSCONFORM=$TMP/fake-fsconform bash "$HERE/run.sh" "$TMP/b" "$TMP/a" >"$TMP/differ.out" 2>&1
rc=$?
[[ $rc -eq 1 ]] || { cat "$TMP/differ.out"; fail "run.sh exited $rc on an altered result, expected 1"; }
grep -q '^DIFFER  rename.noreplace$' "$TMP/differ.out" ||
  { cat "$TMP/differ.out"; fail "run.sh did not name rename.noreplace"; }

CONFORM_ALLOW="rename.noreplace" FSCONFORM=$TMP/fake-fsconform bash "$HERE/run.sh" "$TMP/b" "$TMP/a" \
  >"$TMP/allowed.out" 2>&1 ||
  { cat "$TMP/allowed.out"; fail "run.sh failed on a difference in the allow-list"; }
grep -q '^ALLOWED rename.noreplace$' "$TMP/allowed.out" ||
  { cat "$TMP/allowed.out"; fail "run.sh did not mark rename.noreplace as allowed"; }

echo "PASS [$NAME]: $checks checks, deterministic; run.sh fails on a difference"
exit 0
