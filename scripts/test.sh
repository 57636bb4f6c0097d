#!/usr/bin/env bash
# Installs what the tests need, builds with warnings as errors, runs every
# unit and integration test, then builds the fuzz targets and runs each
# briefly over its corpus.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

cmake --preset ci >/dev/null
cmake --build --preset ci
ctest --preset ci -j2

if [[ "${GATEHOUSE_SKIP_FUZZ:-0}" != "1" ]]; then
  scripts/fuzz.sh "${GATEHOUSE_FUZZ_SECONDS:-20}"
fi
