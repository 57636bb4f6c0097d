#!/usr/bin/env bash
# Side-by-side benchmark on this machine: nginx as the upstream, nginx as a
# plain reverse proxy (the ceiling), and Gatehouse on a public route, all
# on loopback with the same number of workers, loaded by wrk.
#
#   bench/run.sh [seconds-per-case] [runs]
#   bench/run.sh --suite auth [seconds-per-case] [runs]
#   bench/run.sh --suite routes|sessions [seconds-per-case] [runs]
#   bench/run.sh --suite micro
#
# Prints a Markdown table (median of the runs per case) and the ratio of
# Gatehouse to the nginx ceiling, computed pair by pair within each run.
# The auth suite (bench/auth.py) adds the authenticated path: nginx
# auth_request, Apache + mod_auth_openidc and Gatehouse with a signed-in
# session, each against the same nginx upstream and ceiling.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ "${1:-}" == "--suite" ]]; then
  suite="${2:?--suite needs a name: proxy, auth, routes, sessions or micro}"
  shift 2
  case "$suite" in
    proxy) ;;
    auth)
      export GATEHOUSE_BIN="${GATEHOUSE_BIN:-build/release/src/gatehouse}"
      if [[ ! -x "$GATEHOUSE_BIN" ]]; then
        cmake --preset release >/dev/null && cmake --build --preset release --target gatehouse
      fi
      exec /usr/bin/python3 bench/auth.py "$@"
      ;;
    routes | sessions)
      export GATEHOUSE_BIN="${GATEHOUSE_BIN:-build/release/src/gatehouse}"
      if [[ ! -x "$GATEHOUSE_BIN" ]]; then
        cmake --preset release >/dev/null && cmake --build --preset release --target gatehouse
      fi
      exec /usr/bin/python3 "bench/${suite}.py" "$@"
      ;;
    micro) exec bench/micro.sh "$@" ;;
    *) echo "unknown suite: $suite (proxy, auth, routes, sessions or micro)" >&2; exit 2 ;;
  esac
fi
duration="${1:-10}"
runs="${2:-3}"
workers="${BENCH_WORKERS:-1}"
connections="${BENCH_CONNECTIONS:-1 16 64 256}"
bin="${GATEHOUSE_BIN:-build/release/src/gatehouse}"

if [[ ! -x "$bin" ]]; then
  cmake --preset release >/dev/null && cmake --build --preset release --target gatehouse
fi
command -v wrk >/dev/null && command -v nginx >/dev/null || {
  echo "bench needs wrk and nginx (apt-get install wrk nginx-light)" >&2
  exit 1
}

dir="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT

# Cores: the systems under test on CPU 0, wrk on CPU 1 (when there are two).
sut_cpu=0
load_cpu=$(( $(nproc) > 1 ? 1 : 0 ))

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
up_port=$(free_port); ceil_port=$(free_port); gh_port=$(free_port)

mkdir -p "$dir/nginx"
chmod 755 "$dir" "$dir/nginx"  # nginx workers run as nobody
head -c 76800 /dev/urandom | base64 -w0 > "$dir/nginx/big"  # exactly 102400 bytes
[[ $(stat -c %s "$dir/nginx/big") -eq 102400 ]]
cat > "$dir/nginx/nginx.conf" <<CONF
worker_processes ${workers};
daemon off;
pid ${dir}/nginx/nginx.pid;
error_log ${dir}/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/nginx/body; proxy_temp_path ${dir}/nginx/proxy;
  fastcgi_temp_path ${dir}/nginx/fastcgi; uwsgi_temp_path ${dir}/nginx/uwsgi; scgi_temp_path ${dir}/nginx/scgi;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:${up_port} reuseport;
    location = /small { return 200 "hello from upstream\n"; }
    location = /big { root ${dir}/nginx; try_files /big =404; }
  }
}
CONF
cat > "$dir/nginx/ceiling.conf" <<CONF
worker_processes ${workers};
daemon off;
pid ${dir}/nginx/ceiling.pid;
error_log ${dir}/nginx/ceiling.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/nginx/body2; proxy_temp_path ${dir}/nginx/proxy2;
  fastcgi_temp_path ${dir}/nginx/fastcgi2; uwsgi_temp_path ${dir}/nginx/uwsgi2; scgi_temp_path ${dir}/nginx/scgi2;
  keepalive_requests 1000000;
  upstream app { server 127.0.0.1:${up_port}; keepalive 256; }
  server {
    listen 127.0.0.1:${ceil_port} reuseport;
    location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
CONF
cat > "$dir/gatehouse.yaml" <<CONF
address: 127.0.0.1:${gh_port}
insecure_server: true
workers: ${workers}
log_level: warn
routes:
  - from: http://bench.localhost
    to: http://127.0.0.1:${up_port}
    allow_public_unauthenticated_access: true
CONF

taskset -c "$sut_cpu" nginx -p "$dir/nginx" -c "$dir/nginx/nginx.conf" & pids+=($!)
taskset -c "$sut_cpu" nginx -p "$dir/nginx" -c "$dir/nginx/ceiling.conf" & pids+=($!)
ceiling_pid=$!
taskset -c "$sut_cpu" "$bin" --config "$dir/gatehouse.yaml" > "$dir/gatehouse.log" & pids+=($!)
gh_pid=$!
sleep 1

# cpu_ticks PID...: user+system clock ticks of the processes and their children.
cpu_ticks() {
  local total=0
  for p in "$@"; do
    for t in /proc/"$p"/task/*/stat; do
      read -r -a f < "$t" || continue
      total=$(( total + f[13] + f[14] ))
    done
  done
  echo "$total"
}
# nginx_pids MASTER: the master and its workers.
nginx_pids() { echo "$1 $(pgrep -P "$1" | tr '\n' ' ')"; }

# run_case NAME PORT PATH CONNS PIDS... -> "rps p50 p99 cpu_us_per_req"
run_case() {
  local port=$1 path=$2 conns=$3; shift 3
  local before after out rps p50 p99 reqs
  before=$(cpu_ticks "$@")
  out=$(taskset -c "$load_cpu" wrk -t1 -c"$conns" -d"${duration}s" --latency \
        -H "Host: bench.localhost" "http://127.0.0.1:${port}${path}")
  after=$(cpu_ticks "$@")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  reqs=$(awk '/requests in/ {print $1}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  local ticks=$(( after - before )) hz
  hz=$(getconf CLK_TCK)
  local cpu_us
  cpu_us=$(awk -v t="$ticks" -v hz="$hz" -v n="$reqs" 'BEGIN { if (n > 0) printf "%.1f", t * 1e6 / hz / n; else print "-" }')
  echo "$rps $p50 $p99 $cpu_us"
}

ceiling_pids=$(nginx_pids "$ceiling_pid")
# Both proxies must serve the same bytes before their speed means anything.
for port in "$ceil_port" "$gh_port"; do
  size=$(curl -s -o /dev/null -w '%{size_download} %{http_code}' -H "Host: bench.localhost" "http://127.0.0.1:${port}/big")
  [[ "$size" == "102400 200" ]] || { echo "port ${port}: /big answered ${size}" >&2; exit 1; }
done
results="$dir/results"
: > "$results"
for run in $(seq 1 "$runs"); do
  for conns in $connections; do
    for path in /small /big; do
      c=$(run_case "$ceil_port" "$path" "$conns" $ceiling_pids)
      g=$(run_case "$gh_port" "$path" "$conns" "$gh_pid")
      echo "$run $conns $path $c $g" >> "$results"
    done
  done
done

rss_kb=$(awk '/VmHWM/ {print $2}' /proc/"$gh_pid"/status)
echo
echo "| case | conns | nginx req/s | nginx p50 | nginx p99 | nginx CPU µs/req | gatehouse req/s | gatehouse p50 | gatehouse p99 | gatehouse CPU µs/req | ratio (median, min–max) |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
/usr/bin/python3 - "$results" <<'PY'
import sys, statistics, collections
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    run, conns, path, *v = line.split()
    rows[(path, int(conns))].append(v)
def med(xs):
    nums = []
    for x in xs:
        try: nums.append(float(x))
        except ValueError: pass
    return statistics.median(nums) if nums else float("nan")
for (path, conns), vs in sorted(rows.items()):
    ratios = [float(v[4]) / float(v[0]) for v in vs if float(v[0]) > 0]
    c = [med([v[i] for v in vs]) for i in (0, 3)]
    g = [med([v[i] for v in vs]) for i in (4, 7)]
    p = lambda i: vs[len(vs)//2][i]
    print(f"| {path} | {conns} | {c[0]:.0f} | {p(1)} | {p(2)} | {c[1]} | {g[0]:.0f} | {p(5)} | {p(6)} | {g[1]} | "
          f"{statistics.median(ratios):.2f} ({min(ratios):.2f}–{max(ratios):.2f}) |")
PY
echo
echo "gatehouse peak RSS: $((rss_kb / 1024)) MiB; workers: ${workers}; runs: ${runs} x ${duration}s"
