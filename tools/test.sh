#!/usr/bin/env bash
# The second command of the README: install what is missing, build, run every test (unit tests,
# then integration scenarios with real runc and a real Docker daemon; scenarios that need root
# or a kernel feature this host lacks are reported as skipped).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
"$src/tools/install-deps.sh"
"$src/tools/build.sh"
build=${COVE_BUILD_DIR:-$src/build}
cd "$build"
ctest --output-on-failure --timeout 600 "$@"
