#!/usr/bin/env bash
# The Google Benchmark microbenchmarks of the request path, built in a
# release tree and run one after the other:
#   proxy_bench      route lookup, path normalisation, session cookie, upstream head
#   authorize_bench  policy evaluation, identity JWT cache, identity headers
#   databroker_bench the memory backend (put, get, sync, local client, gRPC)
#
#   bench/micro.sh [extra Google Benchmark flags]     (or bench/run.sh --suite micro)
#
# BENCH_BUILD_DIR (default build/release) is the release tree to build in;
# BENCH_REPETITIONS (default 3) repetitions per case, of which the median
# is printed; BENCH_FILTER restricts all three (a Google Benchmark regex).
set -euo pipefail
cd "$(dirname "$0")/.."
build="${BENCH_BUILD_DIR:-build/release}"
repetitions="${BENCH_REPETITIONS:-3}"

if [[ ! -f "$build/build.ninja" ]]; then
  cmake --preset release -B "$build" >/dev/null
fi
nice ninja -C "$build" proxy_bench authorize_bench databroker_bench >/dev/null

echo "load before the run: $(uptime | sed 's/.*load average/load average/') on $(nproc) cores"
echo "medians of ${repetitions} repetitions; allocs/iter counts heap allocations per iteration"

# run NAME FILTER [flags...]: the median rows (and the table header) only.
run() {
  local name=$1 filter=$2
  shift 2
  echo
  echo "== ${name}"
  "$build/${name}" --benchmark_filter="${BENCH_FILTER:-$filter}" \
    --benchmark_repetitions="$repetitions" --benchmark_display_aggregates_only=true "$@" |
    grep -v -E '_(mean|stddev|cv) '
}
run proxy_bench '.' "$@"
run authorize_bench '.' "$@"
run databroker_bench '/memory' "$@"
echo
echo "load after the run: $(uptime | sed 's/.*load average/load average/')"
