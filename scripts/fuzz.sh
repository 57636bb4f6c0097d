#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) and runs each for the
# given number of seconds (default 20) over its seed corpus. A crash fails.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-20}"

cmake --preset fuzz >/dev/null
cmake --build --preset fuzz --target fuzz_targets

passed=0
failed=0
for target in build/fuzz/tests/fuzz/*_fuzz; do
  name="$(basename "$target" _fuzz)"
  corpus="tests/fuzz/corpus/${name}"
  work="$(mktemp -d)"
  [[ -d "$corpus" ]] && cp -r "$corpus/." "$work/"
  echo "fuzzing ${name} for ${seconds}s"
  if "$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=0 \
       "$work" > "$work.log" 2>&1; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    tail -50 "$work.log"
  fi
  rm -rf "$work" "$work.log"
done
echo "fuzz: ${passed} passed, ${failed} failed"
[[ $failed -eq 0 ]]
