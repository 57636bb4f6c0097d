#!/usr/bin/python3
"""Per-request cost of the routes suite's load, counted rather than timed.

  bench/routes_cachesim.py BIN ROUTES MODE SECONDS [OUT]

Starts nginx and BIN with ROUTES public routes exactly as bench/routes.py
does (one worker on CPU 0, wrk on CPU 1, every request to a host and path
picked at random among the routes), then:

  MODE=perf       Gatehouse's task-clock (perf stat -p) over a SECONDS wrk
                  run with 64 connections, per request completed
  MODE=syscalls   Gatehouse's system calls (all, sendmsg, recvfrom,
                  epoll_wait) and context switches over the same run, per
                  request completed
  MODE=callgrind  runs BIN under valgrind's callgrind with its cache
                  simulator (D1 48 KB 12-way, LL 2 MB 16-way: one core's L1d
                  and L2 here), counting only during a SECONDS wrk run with
                  8 connections; the counts go to OUT (callgrind_annotate OUT)
                  and are divided by the requests wrk completed

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


def main():
    binary, n, mode, seconds = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    out = sys.argv[5] if len(sys.argv) > 5 else "callgrind.routes.out"
    connections = int(os.environ.get("BENCH_CONNECTIONS", "0")) or (8 if mode == "callgrind"
                                                                     else 64)
    work = tempfile.mkdtemp(prefix="routes-cachesim-")
    nginx = R.Nginx(work)
    try:
        port = R.free_port()
        routes = R.route_list(n, nginx.port)
        config = os.path.join(work, "gatehouse.yaml")
        R.write_atomically(config, R.config_text(port, routes))
        targets = os.path.join(work, "targets.txt")
        with open(targets, "w") as f:
            for _, (host, path) in routes:
                f.write("%s %s\n" % (host, path))
        command = [binary, "--config", config]
        if mode == "callgrind":
            command = ["valgrind", "--tool=callgrind", "--cache-sim=yes", "--instr-atstart=no",
                       "--D1=49152,12,64", "--LL=2097152,16,64",
                       "--callgrind-out-file=" + out + ".final"] + command
        log = open(os.path.join(work, "gatehouse.log"), "w")
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                preexec_fn=R.pinned(R.SUT_CPU))
        host, path = routes[-2][1]
        deadline = time.monotonic() + 300  # 10,000 routes under valgrind take a while
        while True:
            answer = R.get("127.0.0.1", port, host, path, timeout=5)
            if answer is not None and answer[0] == 200:
                break
            if time.monotonic() > deadline:
                raise RuntimeError("Gatehouse did not answer")
            time.sleep(0.1)
        if mode == "callgrind":
            R.run_wrk(port, targets, 2, connections)  # connections to the upstream opened
            control = ["callgrind_control"]
            subprocess.run(control + ["-i", "on", str(proc.pid)], check=True, capture_output=True)
            result = R.run_wrk(port, targets, seconds, connections)
            subprocess.run(control + ["-i", "off", str(proc.pid)], check=True, capture_output=True)
            subprocess.run(control + ["-d", str(proc.pid)], check=True, capture_output=True)
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
                      "syscalls:sys_enter_recvfrom", "syscalls:sys_enter_epoll_wait",
                      "context-switches"]
            perf = subprocess.Popen(["perf", "stat", "-x,", "-e", ",".join(events), "-p",
                                     str(proc.pid)], stderr=subprocess.PIPE, text=True)
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
            perf = subprocess.Popen(["perf", "stat", "-x,", "-e", "task-clock", "-p", str(proc.pid)],
                                    stderr=subprocess.PIPE, text=True)
            result = R.run_wrk(port, targets, seconds, connections)
            perf.send_signal(signal.SIGINT)
            ms = float(perf.communicate()[1].strip().splitlines()[-1].split(",")[0])
            print("routes=%d requests=%d non2xx=%d req/s=%.0f cpu_us_per_request=%.2f load=%s" % (
                n, result["requests"], result["non_2xx"], result["rps"],
                ms * 1000 / result["requests"], R.load_average()))
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
    finally:
        nginx.stop()


if __name__ == "__main__":
    main()
