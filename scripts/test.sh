#!/usr/bin/env bash
# Installs what is needed, builds Skiff and runs the whole test suite:
# format check, unit tests and end-to-end tests with the oldest and newest kubectl.
# Usage: scripts/test.sh [--sanitize]
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=build
CMAKE_ARGS=(-G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo)
if [ "${1:-}" = "--sanitize" ]; then
  BUILD_DIR=build-asan
  CMAKE_ARGS+=(-DSKIFF_SANITIZE=ON)
fi

scripts/install-deps.sh

echo "== format check"
scripts/check-format.sh

echo "== build"
cmake -S . -B "$BUILD_DIR" "${CMAKE_ARGS[@]}" >/dev/null
cmake --build "$BUILD_DIR"

echo "== tests"
cd "$BUILD_DIR"
ctest --output-on-failure --timeout 900 -j2
