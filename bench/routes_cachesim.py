#!/usr/bin/python3
"""Per-request cost of the routes suite's load, counted rather than timed.

  bench/routes_cachesim.py BIN ROUTES MODE SECONDS [OUT]

Starts nginx and BIN with ROUTES public routes exactly as bench/routes.py
does (one worker on CPU 0, wrk on CPU 1, every request to a host and path
picked at random among the routes), then:

  MODE=perf       the server's task-clock (perf stat -p) over a SECONDS wrk
                  run with 64 connections, per request completed
  MODE=syscalls   the server's system calls (all, and the kinds a proxy
                  makes per request) and context switches over the same
                  run, per request completed
  MODE=callgrind  runs the server under valgrind's callgrind with its cache
                  simulator (D1 48 KB 12-way, LL 2 MB 16-way: one core's L1d
                  and L2 here), counting only during a SECONDS wrk run with
                  8 connections; the counts go to OUT (callgrind_annotate OUT)
                  and are divided by the requests wrk completed

BIN=nginx measures nginx as the same reverse proxy (bench/routes.py's
NginxRouter: the same routes, keep-alive to the same upstream), its one
worker process; under callgrind it runs without a master process.

BENCH_CONNECTIONS sets wrk's connections instead (all modes).

For machines without hardware counters (a guest without a virtual PMU):
instructions and simulated cache misses do not move with the load of
other processes, and callgrind_annotate names the function of each miss.
"""

import os
import re
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import routes as R  # noqa: E402

EVENTS = ["Ir", "D1mr", "DLmr"]


def callgrind_totals(path):
    out = subprocess.run(["callgrind_annotate", "--show=" + ",".join(EVENTS), path],
                         capture_output=True, text=True, check=True).stdout
    line = next(l for l in out.splitlines() if "PROGRAM TOTALS" in l)
    numbers = [int(t.replace(",", "")) for t in re.findall(r"([\d,]+) \(", line)]
    return dict(zip(EVENTS, numbers))


def start_server(binary, n, mode, out, work, upstream):
    """Starts the server under test; returns (process, pid to measure,
    port, targets file)."""
    valgrind = ["valgrind", "--tool=callgrind", "--cache-sim=yes", "--instr-atstart=no",
                "--D1=49152,12,64", "--LL=2097152,16,64",
                "--callgrind-out-file=" + out + ".final"] if mode == "callgrind" else []
    if binary == "nginx":
        router = R.NginxRouter(upstream, work, n)
        config = os.path.join(router.dir, "nginx.conf")
        if valgrind:  # one process, so that callgrind counts the worker
            with open(config) as f:
                text = f.read()
            with open(config, "w") as f:
                f.write(text.replace("worker_processes 1;", "worker_processes 1;\nmaster_process off;"))
        proc = subprocess.Popen(valgrind + ["nginx", "-p", router.dir, "-c", config],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                preexec_fn=R.pinned(R.SUT_CPU))
        return proc, router.port, router.targets, router.routes
    port = R.free_port()
    routes = R.route_list(n, upstream.port)
    config = os.path.join(work, "gatehouse.yaml")
    R.write_atomically(config, R.config_text(port, routes))
    targets = os.path.join(work, "targets.txt")
    with open(targets, "w") as f:
        for _, (host, path) in routes:
            f.write("%s %s\n" % (host, path))
    log = open(os.path.join(work, "gatehouse.log"), "w")
    proc = subprocess.Popen(valgrind + [binary, "--config", config], stdout=log,
                            stderr=subprocess.STDOUT, preexec_fn=R.pinned(R.SUT_CPU))
    return proc, port, targets, routes


def measured_pid(binary, mode, proc):
    """The process doing the work: nginx's worker unless it runs alone."""
    if binary != "nginx" or mode == "callgrind":
        return proc.pid
    with open("/proc/%d/task/%d/children" % (proc.pid, proc.pid)) as f:
        return int(f.read().split()[0])


def main():
    binary, n, mode, seconds = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    out = sys.argv[5] if len(sys.argv) > 5 else "callgrind.routes.out"
    connections = int(os.environ.get("BENCH_CONNECTIONS", "0")) or (8 if mode == "callgrind"
                                                                     else 64)
    work = tempfile.mkdtemp(prefix="routes-cachesim-")
    nginx = R.Nginx(work)
    proc = None
    try:
        proc, port, targets, routes = start_server(binary, n, mode, out, work, nginx)
        host, path = routes[-2][1]
        deadline = time.monotonic() + 300  # 10,000 routes under valgrind take a while
        while True:
            answer = R.get("127.0.0.1", port, host, path, timeout=5)
            if answer is not None and answer[0] == 200:
                break
            if time.monotonic() > deadline:
                raise RuntimeError("%s did not answer" % binary)
            time.sleep(0.1)
        pid = measured_pid(binary, mode, proc)
        if mode == "callgrind":
            R.run_wrk(port, targets, 2, connections)  # connections to the upstream opened
            control = ["callgrind_control"]
            subprocess.run(control + ["-i", "on", str(pid)], check=True, capture_output=True)
            result = R.run_wrk(port, targets, seconds, connections)
            subprocess.run(control + ["-i", "off", str(pid)], check=True, capture_output=True)
            subprocess.run(control + ["-d", str(pid)], check=True, capture_output=True)
            time.sleep(1)
            dumped = out + ".final.1"
            totals = callgrind_totals(dumped)
            print("routes=%d requests=%d non2xx=%d %s (per request; %s)" % (
                n, result["requests"], result["non_2xx"],
                " ".join("%s=%.1f" % (k, v / result["requests"]) for k, v in totals.items()),
                dumped))
        elif mode == "syscalls":
            R.run_wrk(port, targets, 1, connections)
            events = ["raw_syscalls:sys_enter", "syscalls:sys_enter_sendmsg",
                      "syscalls:sys_enter_writev", "syscalls:sys_enter_recvfrom",
                      "syscalls:sys_enter_getsockopt", "syscalls:sys_enter_epoll_wait",
                      "syscalls:sys_enter_epoll_ctl", "context-switches"]
            perf = subprocess.Popen(["perf", "stat", "-x,", "-e", ",".join(events), "-p",
                                     str(pid)], stderr=subprocess.PIPE, text=True)
            result = R.run_wrk(port, targets, seconds, connections)
            perf.send_signal(signal.SIGINT)
            counts = {}
            for line in perf.communicate()[1].strip().splitlines():
                fields = line.split(",")
                if len(fields) > 2 and fields[0].replace(".", "").isdigit():
                    counts[fields[2]] = float(fields[0])
            print("routes=%d requests=%d non2xx=%d %s (per request)" % (
                n, result["requests"], result["non_2xx"],
                " ".join("%s=%.2f" % (k.split(":")[-1], v / result["requests"])
                         for k, v in counts.items())))
        else:
            R.run_wrk(port, targets, 1, connections)
            perf = subprocess.Popen(["perf", "stat", "-x,", "-e", "task-clock", "-p", str(pid)],
                                    stderr=subprocess.PIPE, text=True)
            result = R.run_wrk(port, targets, seconds, connections)
            perf.send_signal(signal.SIGINT)
            ms = float(perf.communicate()[1].strip().splitlines()[-1].split(",")[0])
            print("routes=%d requests=%d non2xx=%d req/s=%.0f cpu_us_per_request=%.2f load=%s" % (
                n, result["requests"], result["non_2xx"], result["rps"],
                ms * 1000 / result["requests"], R.load_average()))
    finally:
        if proc is not None:
            if binary == "nginx" and mode != "callgrind":
                proc.send_signal(signal.SIGQUIT)
            else:
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
        nginx.stop()


if __name__ == "__main__":
    main()
