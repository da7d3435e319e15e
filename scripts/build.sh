#!/usr/bin/env bash
# build.sh [TARGET...] - install the build dependencies (scripts/setup.sh), configure
# build/ once (Ninja, CMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo}) and build
# TARGETs (default: everything). Used by `make build` and scripts/demo.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/setup.sh
if [ ! -f build/build.ninja ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}"
fi
ninja -C build "$@"
