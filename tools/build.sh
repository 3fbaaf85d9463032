#!/usr/bin/env bash
# Configures (once) and builds cove into build/ (or $COVE_BUILD_DIR).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${COVE_BUILD_DIR:-$src/build}
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo ${COVE_CMAKE_ARGS:-}
fi
cmake --build "$build" -j"$(nproc)"
