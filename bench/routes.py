#!/usr/bin/python3
"""Route scaling: bench/run.sh --suite routes [seconds] [runs].

For 10, 100, 1,000 and 10,000 public routes (BENCH_ROUTE_COUNTS changes the
list), each run and each count:

  ready     time from exec of a release Gatehouse to the first 200 from one
            of its routes (polled over loopback every millisecond)
  req/s     wrk -t1 -c64 with bench/routes.lua: every request goes to a host
            and path picked at random among the routes. All counts run side
            by side and are loaded in turn, [seconds] each, in BENCH_ROUNDS
            rounds (default 5); the ratio to the smallest count is taken
            within each round and its median kept, so that a neighbour's
            load drifting over the run weighs on every count alike
  reload    wrk keeps loading the routes while one route's `to` is changed
            in the config file (written to a new file and renamed over the
            old one, as editors and ConfigMaps do); the time from the write
            to the first response from the new upstream on that route, and
            the non-2xx responses and socket errors wrk saw meanwhile
  CPU/req   user + system CPU time of Gatehouse over a load, per request
            completed (steadier than req/s when other processes share CPU 0);
            its ratio is taken the same way
  RSS       VmRSS once ready, and VmHWM (the peak) at the end of the case
  nginx     the same routes as an nginx reverse proxy (server blocks for
            the hosts, `location =`, prefix and `~` locations for the
            shared ones, keep-alive to the same upstream, one worker on
            CPU 0), loaded in the same rounds: its req/s and CPU per
            request and their ratios to its own smallest count show what
            the number of routes costs a proxy on this machine
            (BENCH_NGINX_ROUTES=0 leaves it out)

The route mix, in config order: 60% routes on a host of their own, 30% on
shared hosts (about ten routes each, half `path`, half `prefix`), 2% `regex`
on the shared hosts, and one wildcard host (`*.wild.localhost`).

Gatehouse (one worker) and nginx (the upstream, one worker) run on CPU 0,
wrk and this script on CPU 1. The load average is printed before and after:
another process on these cores shows up in it.

Arguments: seconds per load (default 3), runs (default 3).
Environment: GATEHOUSE_BIN (default build/release/src/gatehouse), BENCH_ROUNDS,
BENCH_ROUTE_COUNTS (default "10,100,1000,10000"), BENCH_CONNECTIONS
(default 64), BENCH_KEEP (keep the temporary directory).
"""

import http.client
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from harness import free_port  # noqa: E402  (never the same port twice in a process)

LUA = os.path.join(ROOT, "bench", "routes.lua")
HZ = os.sysconf("SC_CLK_TCK")
SUT_CPU = 0
LOAD_CPU = 1 if os.cpu_count() and os.cpu_count() > 1 else 0


def load_average():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def status_kb(pid, field):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_ticks(pid):
    """utime + stime of every thread of the process, in clock ticks."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def pinned(cpu):
    return lambda: os.sched_setaffinity(0, {cpu})


# ---------------------------------------------------------------------------
# the configuration


def route_list(n, upstream, changed_index=None, changed_upstream=None):
    """n routes as (yaml lines, target) pairs; target is (host, path)."""
    shared_hosts = max(2, n // 30)
    out = []
    for i in range(n):
        to = "http://127.0.0.1:%d" % (changed_upstream if i == changed_index else upstream)
        kind = i % 10
        if i % 50 == 9:
            host = "shared-%d.bench.localhost" % (i % shared_hosts)
            match = "    regex: ^/re/%d/[0-9]+$" % i
            target = (host, "/re/%d/%d" % (i, 1000 + i))
        elif kind in (1, 4, 7):
            host = "shared-%d.bench.localhost" % (i % shared_hosts)
            if kind == 1:
                match = "    path: /p/%d" % i
                target = (host, "/p/%d" % i)
            else:
                match = "    prefix: /api/%d/" % i
                target = (host, "/api/%d/items/%d" % (i, i * 7 % 1000))
        else:
            host = "app-%d.bench.localhost" % i
            match = None
            target = (host, "/index-%d.html" % (i % 97))
        lines = ["  - from: http://%s" % host]
        if match:
            lines.append(match)
        lines += ["    to: %s" % to, "    allow_public_unauthenticated_access: true"]
        out.append((lines, target))
    # One wildcard host, after the others (as the last route, it also takes
    # hosts that no other route names).
    out.append(
        (
            [
                "  - from: http://*.wild.localhost",
                "    to: http://127.0.0.1:%d" % upstream,
                "    allow_public_unauthenticated_access: true",
            ],
            ("w%d.wild.localhost" % n, "/"),
        )
    )
    return out


def config_text(port, routes):
    lines = [
        "address: 127.0.0.1:%d" % port,
        "insecure_server: true",
        "workers: 1",
        "log_level: warn",
        "routes:",
    ]
    for route_lines, _ in routes:
        lines += route_lines
    return "\n".join(lines) + "\n"


def write_atomically(path, text):
    tmp = path + ".new"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


# ---------------------------------------------------------------------------
# the peers


class Nginx:
    """Two upstream servers: `ok` on one port, `changed` on another."""

    def __init__(self, dir):
        self.dir = os.path.join(dir, "nginx")
        os.makedirs(self.dir)
        os.chmod(dir, 0o755)
        os.chmod(self.dir, 0o755)
        self.port = free_port()
        self.changed_port = free_port()
        with open(os.path.join(self.dir, "nginx.conf"), "w") as f:
            f.write(nginx_config(self.dir, """
  server { listen 127.0.0.1:%d reuseport; location / { return 200 "ok\\n"; } }
  server { listen 127.0.0.1:%d reuseport; location / { return 200 "changed\\n"; } }
""" % (self.port, self.changed_port)))
        self.proc = subprocess.Popen(
            ["nginx", "-p", self.dir, "-c", os.path.join(self.dir, "nginx.conf")],
            preexec_fn=pinned(SUT_CPU)
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if get("127.0.0.1", self.port, "x", "/") == (200, b"ok\n"):
                return
            time.sleep(0.02)
        raise RuntimeError("nginx did not start")

    def stop(self):
        self.proc.send_signal(signal.SIGQUIT)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def nginx_config(d, http_block):
    """An nginx.conf for one worker, everything kept in `d`."""
    return """worker_processes 1;
daemon off;
pid %(d)s/nginx.pid;
error_log %(d)s/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path %(d)s/body; proxy_temp_path %(d)s/proxy;
  fastcgi_temp_path %(d)s/fastcgi; uwsgi_temp_path %(d)s/uwsgi; scgi_temp_path %(d)s/scgi;
  keepalive_requests 1000000;
%(http)s}
""" % {"d": d, "http": http_block.lstrip("\n")}


def nginx_router_config(d, port, upstream, routes):
    """nginx.conf proxying `routes` (route_list's) to `upstream`."""
    hosts = {}  # host -> list of location lines, in route order
    for lines, _ in routes:
        host = lines[0].split("://", 1)[1]
        match = lines[1].strip() if len(lines) > 3 else None
        if match is None:
            location = "location / { proxy_pass http://up; }"
        else:
            kind, value = match.split(": ", 1)
            if kind == "path":
                location = "location = %s { proxy_pass http://up; }" % value
            elif kind == "prefix":
                location = "location %s { proxy_pass http://up; }" % value
            else:
                location = "location ~ %s { proxy_pass http://up; }" % value
        hosts.setdefault(host, []).append(location)
    servers = []
    for host, locations in hosts.items():
        servers.append("  server { listen 127.0.0.1:%d; server_name %s;\n    %s\n  }"
                       % (port, host, "\n    ".join(locations)))
    return nginx_config(d, """
  server_names_hash_max_size 65536;
  server_names_hash_bucket_size 128;
  proxy_http_version 1.1;
  proxy_set_header Connection "";
  upstream up { server 127.0.0.1:%d; keepalive 64; }
  server { listen 127.0.0.1:%d default_server; return 404; }
%s
""" % (upstream, port, "\n".join(servers)))


class NginxRouter:
    """nginx as a reverse proxy with the same n routes, for comparison."""

    def __init__(self, nginx, workdir, n):
        self.n = n
        self.dir = os.path.join(workdir, "nginx-routes-%d" % n)
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(workdir, 0o755)
        os.chmod(self.dir, 0o755)
        self.port = free_port()
        self.routes = route_list(n, nginx.port)
        with open(os.path.join(self.dir, "nginx.conf"), "w") as f:
            f.write(nginx_router_config(self.dir, self.port, nginx.port, self.routes))
        self.targets = os.path.join(self.dir, "targets.txt")
        with open(self.targets, "w") as f:
            for _, (host, path) in self.routes:
                f.write("%s %s\n" % (host, path))
        self.result = {"routes": n}
        self.proc = None
        self.worker = None

    def start(self):
        self.proc = subprocess.Popen(
            ["nginx", "-p", self.dir, "-c", os.path.join(self.dir, "nginx.conf")],
            preexec_fn=pinned(SUT_CPU), stderr=subprocess.DEVNULL)
        probe_host, probe_path = self.routes[-2][1]
        deadline = time.monotonic() + 60
        while get("127.0.0.1", self.port, probe_host, probe_path) != (200, b"ok\n"):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("nginx with %d routes did not start (see %s)"
                                   % (self.n, self.dir))
            time.sleep(0.01)
        for _, (host, path) in self.routes:
            reply = get("127.0.0.1", self.port, host, path)
            if reply is None or reply[0] != 200:
                raise RuntimeError("nginx: %s%s answered %r" % (host, path, reply))
        # The worker does the work; the master only waits.
        with open("/proc/%d/task/%d/children" % (self.proc.pid, self.proc.pid)) as f:
            self.worker = int(f.read().split()[0])

    def load(self, seconds, connections):
        return measured_load(self.worker, self.port, self.targets, seconds, connections)

    def stop(self):
        stop_process(self.proc, signal.SIGQUIT, 10)


def get(address, port, host, path, timeout=2.0):
    """(status, body) of one GET on a new connection, or None."""
    conn = http.client.HTTPConnection(address, port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Host": host})
        response = conn.getresponse()
        return response.status, response.read()
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()


class Poller:
    """GETs over one keep-alive connection, reconnecting when it drops."""

    def __init__(self, port, host, path):
        self.port, self.host, self.path = port, host, path
        self.conn = None

    def get(self):
        for _ in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            try:
                self.conn.request("GET", self.path, headers={"Host": self.host})
                response = self.conn.getresponse()
                return response.status, response.read()
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.conn = None
        return None

    def close(self):
        if self.conn is not None:
            self.conn.close()


# ---------------------------------------------------------------------------
# wrk


def wrk_command(port, targets_file, seconds, connections):
    return [
        "wrk",
        "-t1",
        "-c%d" % connections,
        "-d%ds" % seconds,
        "-s",
        LUA,
        "http://127.0.0.1:%d" % port,
        "--",
        targets_file,
    ]


def parse_wrk(out):
    def number(pattern, default=0.0):
        m = re.search(pattern, out)
        return float(m.group(1)) if m else default

    socket_errors = 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        socket_errors = sum(int(x) for x in m.groups())
    return {
        "rps": number(r"Requests/sec:\s+([\d.]+)"),
        "requests": int(number(r"(\d+) requests in")),
        "non_2xx": int(number(r"Non-2xx or 3xx responses: (\d+)")),
        "socket_errors": socket_errors,
    }


def run_wrk(port, targets_file, seconds, connections):
    out = subprocess.run(
        wrk_command(port, targets_file, seconds, connections),
        preexec_fn=pinned(LOAD_CPU),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return parse_wrk(out)


def measured_load(pid, port, targets_file, seconds, connections):
    """wrk's figures plus the CPU time per request (µs) of process `pid`."""
    before = cpu_ticks(pid)
    out = run_wrk(port, targets_file, seconds, connections)
    ticks = cpu_ticks(pid) - before
    out["cpu_us"] = ticks * 1e6 / HZ / out["requests"] if out["requests"] else 0.0
    return out


def stop_process(proc, sig, timeout):
    """Sends `sig`, then kills what has not exited within `timeout` seconds."""
    if proc is not None and proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ---------------------------------------------------------------------------
# one case


class Instance:
    """One Gatehouse with n routes: started, checked, reloaded, stopped."""

    def __init__(self, bin, nginx, workdir, n):
        self.n, self.nginx = n, nginx
        case_dir = os.path.join(workdir, "routes-%d" % n)
        os.makedirs(case_dir, exist_ok=True)
        self.port = free_port()
        self.routes = route_list(n, nginx.port)
        self.config = os.path.join(case_dir, "gatehouse.yaml")
        write_atomically(self.config, config_text(self.port, self.routes))
        self.targets = os.path.join(case_dir, "targets.txt")
        with open(self.targets, "w") as f:
            for _, (host, path) in self.routes:
                f.write("%s %s\n" % (host, path))
        # The route changed on reload: one with a host of its own, mid-list.
        self.changed = next(
            i for i in range(n // 2, n) if i % 10 in (0, 2, 3, 5, 6, 8) and i % 50 != 9)
        self.result = {"routes": n}
        self.log = open(os.path.join(case_dir, "gatehouse.log"), "w")
        self.proc = None
        self.bin = bin

    def start(self):
        probe_host, probe_path = self.routes[-2][1]  # the last non-wildcard route
        start = time.monotonic()
        self.proc = subprocess.Popen([self.bin, "--config", self.config], stdout=self.log,
                                     stderr=subprocess.STDOUT, preexec_fn=pinned(SUT_CPU))
        deadline = start + 60
        while True:
            reply = get("127.0.0.1", self.port, probe_host, probe_path, timeout=5)
            if reply is not None and reply[0] == 200:
                break
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("gatehouse with %d routes did not start (see %s)"
                                   % (self.n, self.log.name))
            time.sleep(0.001)
        self.result["ready_ms"] = (time.monotonic() - start) * 1000
        self.result["rss_kb"] = status_kb(self.proc.pid, "VmRSS")
        # Every target once: each route answers 200 before anything is timed.
        for _, (host, path) in self.routes:
            reply = get("127.0.0.1", self.port, host, path)
            if reply is None or reply[0] != 200:
                raise RuntimeError("%s%s answered %r" % (host, path, reply))

    def load(self, seconds, connections):
        return measured_load(self.proc.pid, self.port, self.targets, seconds, connections)

    def reload_under_load(self, connections):
        """Rewrites the config with one route moved to the other upstream
        while wrk runs; times the write to the first answer from there."""
        window = 6
        load = subprocess.Popen(wrk_command(self.port, self.targets, window, connections),
                                preexec_fn=pinned(LOAD_CPU), stdout=subprocess.PIPE, text=True)
        time.sleep(2)
        host, path = self.routes[self.changed][1]
        poller = Poller(self.port, host, path)
        if poller.get() != (200, b"ok\n"):
            raise RuntimeError("the route to change does not answer ok")
        text = config_text(
            self.port, route_list(self.n, self.nginx.port, self.changed, self.nginx.changed_port))
        written = time.monotonic()
        write_atomically(self.config, text)
        while True:
            reply = poller.get()
            if reply == (200, b"changed\n"):
                break
            if time.monotonic() - written > 30:
                raise RuntimeError("the reload was not seen within 30 s (see %s)" % self.log.name)
            time.sleep(0.001)
        self.result["reload_ms"] = (time.monotonic() - written) * 1000
        poller.close()
        during = parse_wrk(load.communicate()[0])
        self.result["reload_failed"] = during["non_2xx"] + during["socket_errors"]
        self.result["reload_requests"] = during["requests"]
        self.result["peak_kb"] = status_kb(self.proc.pid, "VmHWM")

    def stop(self):
        stop_process(self.proc, signal.SIGTERM, 15)
        self.log.close()


def run_once(bin, nginx, workdir, counts, seconds, connections, rounds, with_nginx):
    """One run: every count started (ready, RSS), then the request rate in
    `rounds` rounds that visit every count in turn (so that a neighbour's
    load drifting over the run hits every count alike; the ratio is taken
    within each round, its median kept), then a reload of each. Returns
    Gatehouse's results and nginx's (empty without it)."""
    run_dir = os.path.join(workdir, "run-%d" % time.monotonic_ns())
    instances = [Instance(bin, nginx, run_dir, n) for n in counts]
    routers = [NginxRouter(nginx, run_dir, n) for n in counts] if with_nginx else []
    try:
        for instance in instances + routers:
            instance.start()
        for instance in instances + routers:
            instance.load(1, connections)  # warm-up
        for group in (instances, routers):
            if not group:
                continue
            per_round = []
            for _ in range(rounds):
                per_round.append([instance.load(seconds, connections) for instance in group])
            for i, instance in enumerate(group):
                instance.result["rps"] = statistics.median(r[i]["rps"] for r in per_round)
                instance.result["ratio"] = statistics.median(
                    r[i]["rps"] / r[0]["rps"] if r[0]["rps"] else 0.0 for r in per_round)
                instance.result["cpu_us"] = statistics.median(r[i]["cpu_us"] for r in per_round)
                instance.result["cpu_ratio"] = statistics.median(
                    r[i]["cpu_us"] / r[0]["cpu_us"] if r[0]["cpu_us"] else 0.0
                    for r in per_round)
        for instance in instances:
            instance.reload_under_load(connections)
        return [i.result for i in instances], [r.result for r in routers]
    finally:
        for instance in instances + routers:
            instance.stop()


def median_and_range(rows, key, fmt):
    """"median (min–max)" of `key` over `rows`, or the one value."""
    values = sorted(r[key] for r in rows)
    if len(values) == 1:
        return fmt % values[0]
    return (fmt + " (" + fmt + "–" + fmt + ")") % (statistics.median(values), values[0],
                                                   values[-1])


def table(results, counts):
    print()
    print("| routes | ready ms | reload ms | failed during reload | req/s | ratio to %d | CPU µs/req | ratio to %d | RSS once ready | peak RSS |" % (counts[0], counts[0]))
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in counts:
        rows = [r for r in results if r["routes"] == n]
        if not rows:
            continue

        def span(key, fmt):
            return median_and_range(rows, key, fmt)

        print(
            "| %s | %s | %s | %d | %s | %s | %s | %s | %.0f MB | %.0f MB |"
            % (
                "{:,}".format(n),
                span("ready_ms", "%.0f"),
                span("reload_ms", "%.0f"),
                sum(r["reload_failed"] for r in rows),
                span("rps", "%.0f"),
                span("ratio", "%.3f"),
                span("cpu_us", "%.1f"),
                span("cpu_ratio", "%.3f"),
                statistics.median(r["rss_kb"] for r in rows) / 1024,
                max(r["peak_kb"] for r in rows) / 1024,
            )
        )
    print()
    print("Medians of %d runs (range in brackets); failed requests summed over the runs." % len(
        {r["run"] for r in results}))


def nginx_table(results, counts):
    print()
    print("nginx as a reverse proxy with the same routes:")
    print()
    print("| routes | req/s | ratio to %d | CPU µs/req | ratio to %d |" % (counts[0], counts[0]))
    print("|---:|---:|---:|---:|---:|")
    for n in counts:
        rows = [r for r in results if r["routes"] == n]
        if not rows:
            continue

        print("| %s | %s | %s | %s | %s |" % (
            "{:,}".format(n), median_and_range(rows, "rps", "%.0f"),
            median_and_range(rows, "ratio", "%.3f"), median_and_range(rows, "cpu_us", "%.1f"),
            median_and_range(rows, "cpu_ratio", "%.3f")))


def main(argv):
    seconds = int(argv[1]) if len(argv) > 1 else 3
    runs = int(argv[2]) if len(argv) > 2 else 3
    counts = [int(x) for x in os.environ.get("BENCH_ROUTE_COUNTS", "10,100,1000,10000").split(",")]
    connections = int(os.environ.get("BENCH_CONNECTIONS", "64"))
    rounds = int(os.environ.get("BENCH_ROUNDS", "5"))
    bin = os.path.abspath(os.environ.get("GATEHOUSE_BIN", os.path.join(ROOT, "build/release/src/gatehouse")))
    for tool in ("wrk", "nginx"):
        if shutil.which(tool) is None:
            sys.exit("bench needs wrk and nginx (apt-get install wrk nginx-light)")
    workdir = tempfile.mkdtemp(prefix="gatehouse-routes-")
    print("gatehouse: %s" % bin)
    print("load average before: %s" % load_average())
    nginx = Nginx(workdir)
    with_nginx = os.environ.get("BENCH_NGINX_ROUTES", "1") != "0"
    results = []
    nginx_results = []
    try:
        for run in range(runs):
            ours, theirs = run_once(bin, nginx, workdir, counts, seconds, connections, rounds,
                                    with_nginx)
            for r in theirs:
                nginx_results.append(r)
                print("run %d: %6d routes: nginx %8.0f req/s (%.3f), %.1f CPU µs/req (%.3f)"
                      % (run + 1, r["routes"], r["rps"], r["ratio"], r["cpu_us"],
                         r["cpu_ratio"]), flush=True)
            for r in ours:
                r["run"] = run
                results.append(r)
                print(
                    "run %d: %6d routes: ready %6.0f ms, reload %5.0f ms (%d failed of %d), "
                    "%8.0f req/s (%.3f), %.1f CPU µs/req (%.3f), RSS %.0f MB, peak %.0f MB, load %s"
                    % (
                        run + 1,
                        r["routes"],
                        r["ready_ms"],
                        r["reload_ms"],
                        r["reload_failed"],
                        r["reload_requests"],
                        r["rps"],
                        r["ratio"],
                        r["cpu_us"],
                        r["cpu_ratio"],
                        r["rss_kb"] / 1024,
                        r["peak_kb"] / 1024,
                        load_average(),
                    ),
                    flush=True,
                )
    finally:
        nginx.stop()
        if os.environ.get("BENCH_KEEP"):
            print("kept %s" % workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print("load average after: %s" % load_average())
    table(results, counts)
    if nginx_results:
        nginx_table(nginx_results, counts)


if __name__ == "__main__":
    main(sys.argv)
