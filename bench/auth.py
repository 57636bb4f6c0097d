#!/usr/bin/python3
"""The authenticated-path benchmark: bench/run.sh --suite auth [seconds] [runs].

Every system under test (SUT) proxies to the same nginx upstream on
loopback with one worker process. Over plain HTTP/1.1:

  upstream          nginx answering directly (/small: 20 bytes, /big: 102,400 bytes)
  ceiling           nginx as a plain reverse proxy with upstream keep-alive
  auth_request      nginx with auth_request to an authorization endpoint (a second
                    server block of the same nginx, reached over keep-alive, that
                    answers 204 with an X-User header when the session cookie matches)
  mod_auth_openidc  Apache httpd (mpm_event) + mod_auth_openidc with a session from
                    one real sign-in, PKCE S256, Require claim email and department,
                    the ID token and claims passed upstream as headers
  gatehouse public  a route with allow_public_unauthenticated_access
  gatehouse auth    a route with a PPL policy (email and claim/department),
                    pass_identity_headers (the signed X-Pomerium-Jwt-Assertion) and
                    claim headers, session cookie from one real sign-in
  gatehouse unauth  the same route without a cookie: a 302 to the sign-in URL
  gatehouse split auth
                    the signed-in route through Gatehouse split into three processes:
                    proxy (+ authenticate) -> authorize over gRPC, databroker in a
                    third process feeding authorize's local copy of the sessions

Over TLS with HTTP/2 (ALPN h2, one self-signed EC P-256 certificate for all),
loaded by h2load:

  h2 ceiling        nginx "listen ... ssl http2" as a plain reverse proxy
  gatehouse h2 public / gatehouse h2 auth
                    a second all-in-one Gatehouse serving TLS, the same routes
                    (its own sign-in)

The identity provider is tests/support/idp (oidc-provider) on 127.0.0.1.
Gatehouse and Apache listen on 127.0.0.1 and are addressed with Host headers
(app.localhost, apache.localhost): wrk connects to 127.0.0.1 and sends the
Host header, which is what it does for nginx too (h2load: --connect-to).

The SUTs run on CPU 0, the load generator and this script on CPU 1. Each
case is measured right after the ceiling of its protocol on the same path,
and the ratio is taken pair by pair. CPU time per request is utime+stime of
the SUT's processes (from /proc/<pid>/stat) divided by the requests
completed. Peak RSS is VmHWM summed over the SUT's processes, reset before
each case.

Closed loop: wrk -t1 (HTTP/1.1) and h2load -t1 -m BENCH_H2_STREAMS (HTTP/2),
at every connection count of BENCH_CONNECTIONS. Open loop: bench/openloop
(a fixed-rate generator whose latencies count from the time each request was
due, correcting coordinated omission) over BENCH_OPENLOOP_CONNECTIONS
connections at 50% and 80% of the maximum that wrk measured for the same
case at that connection count in the same run, for every HTTP/1.1 /small
case and the ceiling.

Environment: BENCH_CONNECTIONS (default "1 16 64 256"), BENCH_OPENLOOP_CONNECTIONS
(default 64; must be one of BENCH_CONNECTIONS), BENCH_OPENLOOP_SECS (default:
the seconds per case), BENCH_H2_STREAMS (default 8), GATEHOUSE_BIN (default
build/release/src/gatehouse), OPENLOOP_BIN (default: openloop in the build
directory of GATEHOUSE_BIN, else compiled from bench/openloop.cc into the
temporary directory), BENCH_CASES (a comma-separated subset of the cases:
"gatehouse auth" or "gatehouse auth /small"), BENCH_RAW (a file to write
every measurement to, as JSON; `bench/auth.py --report FILE [seconds]` prints
its tables again).
"""

import base64
import http.client
import http.cookiejar
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import harness  # noqa: E402  (the Idp and BrowserClient of the integration tests)

SESSION = "bench-session-7f3a9c"  # the cookie value the auth_request endpoint accepts
HZ = os.sysconf("SC_CLK_TCK")


def free_port():
    return harness.free_port()


# ---------------------------------------------------------------------------
# processes

def descendants(pid):
    """pid and all of its descendants (nginx master + workers, Apache parent + children)."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def cpu_ticks(pids):
    total = 0
    for p in pids:
        try:
            with open("/proc/%d/stat" % p) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total


def reset_peak_rss(pids):
    for p in pids:
        try:
            with open("/proc/%d/clear_refs" % p, "w") as f:
                f.write("5")
        except OSError:
            pass


def peak_rss_kb(pids):
    total = 0
    for p in pids:
        try:
            with open("/proc/%d/status" % p) as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


class Procs:
    def __init__(self, workdir):
        self.dir = workdir
        self.started = []

    def start(self, name, argv, cpu):
        log = open(os.path.join(self.dir, name + ".out"), "wb")
        p = subprocess.Popen(["taskset", "-c", str(cpu)] + argv, stdout=log,
                             stderr=subprocess.STDOUT, cwd=self.dir)
        self.started.append((name, p))
        return p

    def stop_all(self):
        for name, p in reversed(self.started):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for name, p in reversed(self.started):
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def log(self, name):
        try:
            with open(os.path.join(self.dir, name + ".out"), errors="replace") as f:
                return f.read()[-4000:]
        except OSError:
            return ""


def wait_http(port, host, path="/", timeout=20, proc=None, name="", procs=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise SystemExit("%s exited:\n%s" % (name, procs.log(name) if procs else ""))
        try:
            return request(port, host, path)
        except OSError:
            time.sleep(0.1)
    raise SystemExit("%s did not answer on port %d:\n%s" % (name, port, procs.log(name) if procs else ""))


def request(port, host, path, cookie=None):
    """One request as wrk sends it: Host (and Cookie), no Accept header."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.putrequest("GET", path, skip_host=True, skip_accept_encoding=True)
        c.putheader("Host", host)
        if cookie:
            c.putheader("Cookie", cookie)
        c.endheaders()
        r = c.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    finally:
        c.close()


# ---------------------------------------------------------------------------
# configurations

def nginx_common(d, name, workers):
    return f"""worker_processes {workers};
daemon off;
pid {d}/{name}.pid;
error_log {d}/{name}.error.log warn;
events {{ worker_connections 4096; }}
"""


def nginx_http_common(d, name):
    return f"""  access_log off;
  client_body_temp_path {d}/{name}-body; proxy_temp_path {d}/{name}-proxy;
  fastcgi_temp_path {d}/{name}-fastcgi; uwsgi_temp_path {d}/{name}-uwsgi; scgi_temp_path {d}/{name}-scgi;
  keepalive_requests 1000000;
"""


def write_configs(d, ports, workers, idp, secrets):
    files = {}
    # The upstream: /small, /big and /whoami (the identity headers it received).
    files["upstream.conf"] = nginx_common(d, "upstream", workers) + f"""http {{
{nginx_http_common(d, "upstream")}  server {{
    listen 127.0.0.1:{ports['upstream']} reuseport;
    underscores_in_headers on;  # mod_auth_openidc's OIDC_CLAIM_* headers
    location = /small {{ return 200 "hello from upstream\\n"; }}
    location = /big {{ root {d}; try_files /big =404; }}
    location = /whoami {{
      return 200 "jwt=$http_x_pomerium_jwt_assertion\\nemail=$http_x_pomerium_claim_email\\nx-user=$http_x_user\\noidc-email=$http_oidc_claim_email\\nx-email=$http_x_email\\nid-token=$http_oidc_id_token\\n";
    }}
  }}
}}
"""
    proxy = 'proxy_http_version 1.1; proxy_set_header Connection "";'
    files["ceiling.conf"] = nginx_common(d, "ceiling", workers) + f"""http {{
{nginx_http_common(d, "ceiling")}  upstream app {{ server 127.0.0.1:{ports['upstream']}; keepalive 256; }}
  server {{
    listen 127.0.0.1:{ports['ceiling']} reuseport;
    location / {{ proxy_pass http://app; {proxy} }}
  }}
}}
"""
    # auth_request: every request asks the authorization endpoint first (a
    # keep-alive subrequest), which checks the session cookie and names the
    # user; the name is forwarded upstream as X-User.
    files["authreq.conf"] = nginx_common(d, "authreq", workers) + f"""http {{
{nginx_http_common(d, "authreq")}  upstream app {{ server 127.0.0.1:{ports['upstream']}; keepalive 256; }}
  upstream authz {{ server 127.0.0.1:{ports['authz']}; keepalive 256; }}
  server {{
    listen 127.0.0.1:{ports['authreq']} reuseport;
    location / {{
      auth_request /_auth;
      auth_request_set $user $upstream_http_x_user;
      proxy_set_header X-User $user;
      proxy_pass http://app; {proxy}
    }}
    location = /_auth {{
      internal;
      proxy_pass http://authz/check;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      {proxy}
    }}
  }}
  server {{
    listen 127.0.0.1:{ports['authz']} reuseport;
    location = /check {{
      if ($cookie_session = "{SESSION}") {{
        add_header X-User "alice@example.com";
        return 204;
      }}
      return 401;
    }}
  }}
}}
"""
    mods = "/usr/lib/apache2/modules"
    a = ports["apache"]
    files["apache.conf"] = f"""ServerRoot {d}
DefaultRuntimeDir {d}
PidFile {d}/apache.pid
Mutex file:{d} default
ErrorLog {d}/apache.error.log
LogLevel warn
Listen 127.0.0.1:{a}
ServerName apache.localhost
LoadModule mpm_event_module {mods}/mod_mpm_event.so
LoadModule authn_core_module {mods}/mod_authn_core.so
LoadModule authz_core_module {mods}/mod_authz_core.so
LoadModule authz_user_module {mods}/mod_authz_user.so
LoadModule headers_module {mods}/mod_headers.so
LoadModule proxy_module {mods}/mod_proxy.so
LoadModule proxy_http_module {mods}/mod_proxy_http.so
LoadModule auth_openidc_module {mods}/mod_auth_openidc.so
# One child process, as one nginx worker and one Gatehouse worker; its
# threads all run on the same CPU as the others' single thread.
StartServers 1
ServerLimit 1
ThreadLimit 64
ThreadsPerChild 64
MaxRequestWorkers 64
MinSpareThreads 1
MaxSpareThreads 64
MaxConnectionsPerChild 0
KeepAlive On
MaxKeepAliveRequests 0
KeepAliveTimeout 60
OIDCProviderMetadataURL {idp.discovery_url}
OIDCClientID apache
OIDCClientSecret apache-secret
OIDCRedirectURI http://apache.localhost:{a}/redirect_uri
OIDCCryptoPassphrase {secrets['apache']}
OIDCPKCEMethod S256
OIDCScope "openid email profile groups"
OIDCRemoteUserClaim email
OIDCPassIDTokenAs serialized
OIDCSessionInactivityTimeout 86400
OIDCSessionMaxDuration 86400
ProxyPass /redirect_uri !
ProxyPass / http://127.0.0.1:{ports['upstream']}/
<Location />
  AuthType openid-connect
  <RequireAll>
    Require claim email:alice@example.com
    Require claim department:eng
  </RequireAll>
  RequestHeader set X-Email "%{{OIDC_CLAIM_email}}e"
</Location>
"""
    g = ports["gatehouse"]
    files["gatehouse.yaml"] = json.dumps(dict(
        address="127.0.0.1:%d" % g, insecure_server=True, workers=workers, log_level="warn",
        shared_secret=secrets["gatehouse"], cookie_secret=secrets["gatehouse"],
        authenticate_service_url="http://authenticate.localhost:%d" % g,
        jwt_claims_headers="email,groups",
        routes=[
            {"from": "http://bench.localhost", "to": "http://127.0.0.1:%d" % ports["upstream"],
             "allow_public_unauthenticated_access": True},
            {"from": "http://app.localhost:%d" % g, "to": "http://127.0.0.1:%d" % ports["upstream"],
             "pass_identity_headers": True,
             "policy": {"allow": {"and": [{"email": {"is": "alice@example.com"}},
                                          {"claim/department": "eng"}]}}},
        ],
        **idp.gatehouse_options(client="gatehouse")), indent=1)

    # HTTP/2 over TLS: nginx and a second all-in-one Gatehouse with the same
    # certificate and the same routes.
    files["ceiling-h2.conf"] = nginx_common(d, "ceiling-h2", workers) + f"""http {{
{nginx_http_common(d, "ceiling-h2")}  upstream app {{ server 127.0.0.1:{ports['upstream']}; keepalive 256; }}
  server {{
    listen 127.0.0.1:{ports['ceiling_h2']} ssl http2 reuseport;
    ssl_certificate {d}/tls.crt; ssl_certificate_key {d}/tls.key;
    http2_max_concurrent_streams 128;
    location / {{ proxy_pass http://app; {proxy} }}
  }}
}}
"""
    t = ports["gatehouse_tls"]
    files["gatehouse-tls.yaml"] = json.dumps(dict(
        address="127.0.0.1:%d" % t, workers=workers, log_level="warn",
        certificate_file=d + "/tls.crt", certificate_key_file=d + "/tls.key",
        shared_secret=secrets["gatehouse_tls"], cookie_secret=secrets["gatehouse_tls"],
        authenticate_service_url="https://authenticate.localhost:%d" % t,
        jwt_claims_headers="email,groups",
        routes=[
            {"from": "https://bench.localhost", "to": "http://127.0.0.1:%d" % ports["upstream"],
             "allow_public_unauthenticated_access": True},
            {"from": "https://app.localhost", "to": "http://127.0.0.1:%d" % ports["upstream"],
             "pass_identity_headers": True,
             "policy": {"allow": {"and": [{"email": {"is": "alice@example.com"}},
                                          {"claim/department": "eng"}]}}},
        ],
        **idp.gatehouse_options(client="gatehouse")), indent=1)

    # Split mode: one config, `services` and the addresses per process. The
    # proxy process also serves authenticate (sign-in), so that the route and
    # the sign-in share one plain-HTTP listener like the all-in-one case.
    s = ports["split_proxy"]
    split = dict(
        workers=workers, log_level="warn", insecure_server=True,
        shared_secret=secrets["split"], cookie_secret=secrets["split"],
        authenticate_service_url="http://authenticate.localhost:%d" % s,
        databroker_service_urls=["http://127.0.0.1:%d" % ports["split_databroker"]],
        authorize_service_urls=["http://127.0.0.1:%d" % ports["split_authorize"]],
        grpc_insecure=True, jwt_claims_headers="email,groups",
        routes=[
            {"from": "http://app.localhost:%d" % s, "to": "http://127.0.0.1:%d" % ports["upstream"],
             "pass_identity_headers": True,
             "policy": {"allow": {"and": [{"email": {"is": "alice@example.com"}},
                                          {"claim/department": "eng"}]}}},
        ],
        **idp.gatehouse_options(client="gatehouse"))
    for name, extra in (
            ("split-databroker", dict(services="databroker",
                                      grpc_address="127.0.0.1:%d" % ports["split_databroker"])),
            ("split-authorize", dict(services="authorize",
                                     grpc_address="127.0.0.1:%d" % ports["split_authorize"])),
            ("split-proxy", dict(services="proxy,authenticate", address="127.0.0.1:%d" % s,
                                 grpc_address="127.0.0.1:0"))):
        files[name + ".yaml"] = json.dumps(dict(split, **extra), indent=1)
    for name, text in files.items():
        with open(os.path.join(d, name), "w") as f:
            f.write(text)


# ---------------------------------------------------------------------------
# sign-in

def sign_in(url, cookie_name):
    """One scripted sign-in through the IdP's pages; returns the Cookie header
    value with the session cookie. Gatehouse's cookies are always Secure while
    the benchmark speaks plain HTTP, so this process's cookie jars send Secure
    cookies over http too (requests copies cookies into fresh jars with the
    default policy, so the policy class itself is changed)."""
    http.cookiejar.DefaultCookiePolicy.return_ok_secure = lambda self, cookie, request: True
    b = harness.BrowserClient()
    r = b.login(url, "alice", "alice-password")
    if r.status != 200 or b"hello from upstream" not in r.body:
        raise SystemExit("sign-in at %s ended with %d: %r\n%r" % (url, r.status, r.body[:300],
                                                                   r.hops))
    host = url.split("/")[2].split(":")[0]
    values = ["%s=%s" % (c.name, c.value) for c in b.cookies
              if c.name.startswith(cookie_name) and c.domain.lstrip(".") == host]
    if not values:
        raise SystemExit("no %s cookie for %s after sign-in: %r" % (cookie_name, host,
                                                                    list(b.cookies)))
    b.close()
    return "; ".join(values)


# ---------------------------------------------------------------------------
# load

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def to_ms(text):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    return float(m.group(1)) * UNITS[m.group(2)]


def wrk(port, host, path, conns, secs, cookie, load_cpu):
    cmd = ["taskset", "-c", str(load_cpu), "wrk", "-t1", "-c%d" % conns, "-d%ds" % secs,
           "--latency", "-H", "Host: " + host]
    if cookie:
        cmd += ["-H", "Cookie: " + cookie]
    cmd.append("http://127.0.0.1:%d%s" % (port, path))
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    res = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
           "requests": int(re.search(r"(\d+) requests in", out).group(1)),
           "p50": to_ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)),
           "p99": to_ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)),
           "bad": 0, "errors": 0}
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if m:
        res["bad"] = int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        res["errors"] = sum(int(x) for x in m.groups())
    return res


def h2load(port, host, path, conns, secs, cookie, load_cpu, streams, logdir):
    """h2load over TLS with ALPN h2; percentiles from its per-request log."""
    log = os.path.join(logdir, "h2load.log")
    cmd = ["taskset", "-c", str(load_cpu), "h2load", "-t1", "-c%d" % conns, "-m%d" % streams,
           "-D%d" % secs, "--connect-to=127.0.0.1:%d" % port, "--log-file=" + log]
    if cookie:
        cmd += ["-H", "cookie: " + cookie]
    cmd.append("https://%s%s" % (host, path))
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, check=True,
                             timeout=secs + 30).stdout
    except subprocess.TimeoutExpired:
        # h2load waits for every stream it started: a server that stops
        # reading some connections keeps it waiting for ever. The run counts
        # as failed (no requests, every connection an error), and goes on.
        if os.path.exists(log):
            os.unlink(log)
        print("h2load against %s%s with %d connections did not finish within %d s: the server "
              "stopped answering some streams" % (host, path, conns, secs + 30), file=sys.stderr)
        return {"rps": 0.0, "requests": 0, "p50": 0.0, "p99": 0.0, "bad": 0, "errors": conns,
                "stalled": True}
    m = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, "
                  r"(\d+) failed, (\d+) errored, (\d+) timeout", out)
    if not m:
        raise SystemExit("h2load said:\n" + out)
    done, failed, errored, timeout = (int(m.group(i)) for i in (3, 5, 6, 7))
    codes = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", out)
    latencies = []
    with open(log) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3:
                latencies.append(int(parts[2]) / 1000.0)
    os.unlink(log)
    latencies.sort()

    def pct(q):
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else 0.0
    return {"rps": float(re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", out).group(1)),
            "requests": done, "p50": pct(0.50), "p99": pct(0.99),
            "bad": int(codes.group(3)) + int(codes.group(4)) if codes else 0,
            "errors": failed + errored + timeout}


def openloop(binary, port, host, path, conns, rate, secs, cookie, load_cpu):
    cmd = ["taskset", "-c", str(load_cpu), binary, "-c", str(conns), "-R", "%.0f" % rate,
           "-d", str(secs), "-H", "Host: " + host]
    if cookie:
        cmd += ["-H", "Cookie: " + cookie]
    cmd.append("http://127.0.0.1:%d%s" % (port, path))
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    v = dict(line.split() for line in out.splitlines() if line.strip())
    return {"rate": rate, "rps": float(v["rate"]), "requests": int(v["completed"]),
            "p50": float(v["p50_ms"]), "p99": float(v["p99_ms"]), "p999": float(v["p999_ms"]),
            "max": float(v["max_ms"]), "bad": int(v["non2xx3xx"]),
            "errors": int(v["errors"]) + int(v["unfinished"])}


def measure(case, conns, secs, load_cpu, tools, rate=None):
    """One load run against `case`: wrk or h2load (closed loop), or openloop
    at `rate` requests per second; with the SUT's CPU time and peak RSS."""
    pids = [p for root in case["pids"] for p in descendants(root)]
    reset_peak_rss(pids)
    before = cpu_ticks(pids)
    if rate is not None:
        r = openloop(tools["openloop"], case["port"], case["host"], case["path"], conns, rate,
                     secs, case.get("cookie"), load_cpu)
    elif case.get("proto") == "h2":
        r = h2load(case["port"], case["host"], case["path"], conns, secs, case.get("cookie"),
                   load_cpu, tools["h2_streams"], tools["dir"])
    else:
        r = wrk(case["port"], case["host"], case["path"], conns, secs, case.get("cookie"),
                load_cpu)
    pids = [p for root in case["pids"] for p in descendants(root)]
    r["cpu_us"] = (cpu_ticks(pids) - before) * 1e6 / HZ / r["requests"] if r["requests"] else 0.0
    r["rss_kb"] = peak_rss_kb(pids)
    return r


def openloop_binary(gh_bin, d):
    """OPENLOOP_BIN, the openloop target next to the gatehouse binary's build
    tree, or bench/openloop.cc compiled into the temporary directory."""
    if os.environ.get("OPENLOOP_BIN"):
        return os.path.abspath(os.environ["OPENLOOP_BIN"])
    built = os.path.join(os.path.dirname(os.path.dirname(gh_bin)), "openloop")
    if os.access(built, os.X_OK):
        return built
    out = os.path.join(d, "openloop")
    cxx = shutil.which("clang++-14") or shutil.which("c++")
    subprocess.run([cxx, "-std=c++20", "-O2", "-o", out, os.path.join(ROOT, "bench/openloop.cc")],
                   check=True)
    return out


def tls_certificate(d):
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", d + "/tls.key",
                    "-out", d + "/tls.crt", "-days", "2", "-subj", "/CN=localhost", "-addext",
                    "subjectAltName=DNS:localhost,DNS:*.localhost,DNS:app.localhost,"
                    "DNS:bench.localhost,DNS:authenticate.localhost,DNS:ceiling.localhost,"
                    "IP:127.0.0.1"], check=True, capture_output=True)
    os.chmod(d + "/tls.key", 0o644)  # nginx reads it as root before dropping privileges


def wait_tls(port, timeout=20, proc=None, name="", procs=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise SystemExit("%s exited:\n%s" % (name, procs.log(name)))
        r = subprocess.run(["h2load", "-n1", "-c1", "--connect-to=127.0.0.1:%d" % port,
                            "https://bench.localhost/small"], capture_output=True, text=True)
        if "1 succeeded" in r.stdout:
            return
        time.sleep(0.2)
    raise SystemExit("%s did not answer HTTP/2 on port %d:\n%s" % (name, port, procs.log(name)))


def h2_request(port, host, path, cookie=None):
    """One HTTP/2 request as h2load sends it; returns (status, body length)."""
    cmd = ["curl", "-sk", "--http2", "-o", "/dev/null", "-w", "%{http_code} %{size_download} "
           "%{http_version}", "--connect-to", "%s:%d:127.0.0.1:%d" % (host.split(":")[0], port,
                                                                       port)]
    if cookie:
        cmd += ["-H", "Cookie: " + cookie]
    cmd.append("https://%s:%d%s" % (host.split(":")[0], port, path))
    status, size, version = subprocess.run(cmd, capture_output=True, text=True).stdout.split()
    if version != "2":
        raise SystemExit("%s answered over HTTP/%s, not HTTP/2" % (host, version))
    return int(status), int(size)


# ---------------------------------------------------------------------------

def main():
    if sys.argv[1:2] == ["--report"]:  # the tables again from a BENCH_RAW file
        with open(sys.argv[2]) as f:
            saved = json.load(f)
        report(saved["raw"], saved.get("openloop", []), int(sys.argv[3]) if len(sys.argv) > 3
               else saved.get("secs", 0), len({r["run"] for r in saved["raw"]}),
               saved.get("workers", 1), saved.get("settings", {}))
        return
    secs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    workers = int(os.environ.get("BENCH_WORKERS", "1"))
    conns_list = [int(c) for c in os.environ.get("BENCH_CONNECTIONS", "1 16 64 256").split()]
    ol_conns = int(os.environ.get("BENCH_OPENLOOP_CONNECTIONS", "64"))
    ol_secs = int(os.environ.get("BENCH_OPENLOOP_SECS", str(secs)))
    h2_streams = int(os.environ.get("BENCH_H2_STREAMS", "8"))
    settings = dict(connections=conns_list, openloop_connections=ol_conns, openloop_secs=ol_secs,
                    h2_streams=h2_streams)
    gh_bin = os.path.abspath(os.environ.get("GATEHOUSE_BIN",
                                            os.path.join(ROOT, "build/release/src/gatehouse")))
    for tool in ("wrk", "h2load", "nginx", "apache2", "taskset", "openssl", "curl"):
        if not shutil.which(tool) and not os.path.exists("/usr/sbin/" + tool):
            raise SystemExit("bench needs %s (scripts/install-deps.sh installs it)" % tool)
    if not os.path.exists("/usr/lib/apache2/modules/mod_auth_openidc.so"):
        raise SystemExit("bench needs libapache2-mod-auth-openidc (scripts/install-deps.sh)")
    if not os.access(gh_bin, os.X_OK):
        raise SystemExit("no gatehouse binary at %s (set GATEHOUSE_BIN)" % gh_bin)

    sut_cpu = 0
    load_cpu = 1 if os.cpu_count() > 1 else 0
    os.sched_setaffinity(0, {load_cpu})  # this script, the IdP and the load share CPU 1

    d = tempfile.mkdtemp(prefix="gatehouse-bench-")
    os.chmod(d, 0o755)  # nginx workers run as nobody
    with open(os.path.join(d, "big"), "wb") as f:
        f.write(base64.b64encode(os.urandom(76800)))  # exactly 102,400 bytes
    tls_certificate(d)
    tools = dict(openloop=openloop_binary(gh_bin, d), h2_streams=h2_streams, dir=d)
    procs = Procs(d)
    idp = None
    try:
        ports = {k: free_port() for k in ("upstream", "ceiling", "authreq", "authz", "apache",
                                          "gatehouse", "ceiling_h2", "gatehouse_tls",
                                          "split_proxy", "split_authorize", "split_databroker")}
        g, a, t, sp = ports["gatehouse"], ports["apache"], ports["gatehouse_tls"], \
            ports["split_proxy"]
        idp = harness.Idp(
            clients=[harness.idp_client("gatehouse", "gatehouse-secret",
                                        ["http://authenticate.localhost:%d/oauth2/callback" % g,
                                         "https://authenticate.localhost:%d/oauth2/callback" % t,
                                         "http://authenticate.localhost:%d/oauth2/callback" % sp]),
                     harness.idp_client("apache", "apache-secret",
                                        ["http://apache.localhost:%d/redirect_uri" % a],
                                        pkce=True)],
            users={"alice": harness.idp_user("alice-password", email="alice@example.com",
                                             name="Alice Example", groups=["admins", "users"],
                                             department="eng")},
            access_token_ttl=86400, id_token_ttl=86400)
        idp.start()
        secrets = {k: base64.b64encode(os.urandom(32)).decode()
                   for k in ("gatehouse", "gatehouse_tls", "split")}
        secrets["apache"] = base64.b64encode(os.urandom(24)).decode()
        write_configs(d, ports, workers, idp, secrets)

        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        apache = shutil.which("apache2") or "/usr/sbin/apache2"
        p_up = procs.start("upstream", [nginx, "-p", d, "-c", d + "/upstream.conf"], sut_cpu)
        p_ceil = procs.start("ceiling", [nginx, "-p", d, "-c", d + "/ceiling.conf"], sut_cpu)
        p_ceil2 = procs.start("ceiling-h2", [nginx, "-p", d, "-c", d + "/ceiling-h2.conf"],
                              sut_cpu)
        p_ar = procs.start("authreq", [nginx, "-p", d, "-c", d + "/authreq.conf"], sut_cpu)
        p_gh = procs.start("gatehouse", [gh_bin, "--config", d + "/gatehouse.yaml"], sut_cpu)
        p_ght = procs.start("gatehouse-tls", [gh_bin, "--config", d + "/gatehouse-tls.yaml"],
                            sut_cpu)
        p_sdb = procs.start("split-databroker",
                            [gh_bin, "--config", d + "/split-databroker.yaml"], sut_cpu)
        p_saz = procs.start("split-authorize",
                            [gh_bin, "--config", d + "/split-authorize.yaml"], sut_cpu)
        p_spx = procs.start("split-proxy", [gh_bin, "--config", d + "/split-proxy.yaml"], sut_cpu)
        wait_http(ports["upstream"], "x", "/small", proc=p_up, name="upstream", procs=procs)
        wait_http(ports["ceiling"], "x", "/small", proc=p_ceil, name="ceiling", procs=procs)
        wait_http(ports["authreq"], "x", "/small", proc=p_ar, name="authreq", procs=procs)
        wait_http(g, "bench.localhost", "/small", proc=p_gh, name="gatehouse", procs=procs)
        wait_tls(ports["ceiling_h2"], proc=p_ceil2, name="ceiling-h2", procs=procs)
        wait_tls(t, proc=p_ght, name="gatehouse-tls", procs=procs)
        wait_http(sp, "authenticate.localhost:%d" % sp, "/ping", proc=p_spx, name="split-proxy",
                  procs=procs)
        for p, name in ((p_sdb, "split-databroker"), (p_saz, "split-authorize")):
            if p.poll() is not None:
                raise SystemExit("%s exited:\n%s" % (name, procs.log(name)))
        # Apache needs the IdP's discovery document, so it starts after the IdP.
        p_ap = procs.start("apache", [apache, "-f", d + "/apache.conf", "-DFOREGROUND"], sut_cpu)
        wait_http(a, "apache.localhost", "/small", proc=p_ap, name="apache", procs=procs)

        gh_cookie = sign_in("http://app.localhost:%d/small" % g, "_pomerium")
        ght_cookie = sign_in("https://app.localhost:%d/small" % t, "_pomerium")
        split_cookie = sign_in("http://app.localhost:%d/small" % sp, "_pomerium")
        ap_cookie = sign_in("http://apache.localhost:%d/small" % a, "mod_auth_openidc_session")

        small, big = "/small", "/big"
        split_pids = [p_spx.pid, p_saz.pid, p_sdb.pid]
        cases = [  # the cases compared with each other are measured next to each other
            dict(name="upstream", path=small, port=ports["upstream"], host="x", pids=[p_up.pid]),
            dict(name="upstream", path=big, port=ports["upstream"], host="x", pids=[p_up.pid]),
            dict(name="gatehouse public", path=small, port=g, host="bench.localhost",
                 pids=[p_gh.pid]),
            dict(name="gatehouse public", path=big, port=g, host="bench.localhost",
                 pids=[p_gh.pid]),
            dict(name="auth_request", path=small, port=ports["authreq"], host="x",
                 cookie="session=" + SESSION, pids=[p_ar.pid]),
            dict(name="gatehouse auth", path=small, port=g, host="app.localhost:%d" % g,
                 cookie=gh_cookie, pids=[p_gh.pid]),
            dict(name="mod_auth_openidc", path=small, port=a, host="apache.localhost:%d" % a,
                 cookie=ap_cookie, pids=[p_ap.pid]),
            dict(name="gatehouse split auth", path=small, port=sp, host="app.localhost:%d" % sp,
                 cookie=split_cookie, pids=split_pids),
            dict(name="gatehouse unauth", path=small, port=g, host="app.localhost:%d" % g,
                 pids=[p_gh.pid], status=302),
            dict(name="gatehouse auth", path=big, port=g, host="app.localhost:%d" % g,
                 cookie=gh_cookie, pids=[p_gh.pid]),
            dict(name="gatehouse h2 public", proto="h2", path=small, port=t,
                 host="bench.localhost:%d" % t, pids=[p_ght.pid]),
            dict(name="gatehouse h2 auth", proto="h2", path=small, port=t,
                 host="app.localhost:%d" % t, cookie=ght_cookie, pids=[p_ght.pid]),
        ]
        only = os.environ.get("BENCH_CASES")
        if only:
            keep = {s.strip() for s in only.split(",")}
            cases = [c for c in cases if c["name"] in keep or "%s %s" % (c["name"], c["path"]) in keep]
        ceilings = {("h1", p): dict(name="nginx ceiling", path=p, port=ports["ceiling"], host="x",
                                    pids=[p_ceil.pid]) for p in (small, big)}
        ceilings[("h2", small)] = dict(name="nginx h2 ceiling", proto="h2", path=small,
                                       port=ports["ceiling_h2"],
                                       host="ceiling.localhost:%d" % ports["ceiling_h2"],
                                       pids=[p_ceil2.pid])

        def ceiling_of(c):
            return ceilings[(c.get("proto", "h1"), c["path"])]

        # Every case answers what it should before its speed means anything.
        for c in list(ceilings.values()) + cases:
            want = c.get("status", 200)
            if c.get("proto") == "h2":
                status, size = h2_request(c["port"], c["host"], c["path"], c.get("cookie"))
                body = b""
            else:
                status, headers, body = request(c["port"], c["host"], c["path"], c.get("cookie"))
                size = len(body)
            if status != want:
                raise SystemExit("%s %s answered %d, not %d: %r" % (c["name"], c["path"], status,
                                                                    want, body[:300]))
            if want == 200 and size != (20 if c["path"] == small else 102400):
                raise SystemExit("%s %s: %d bytes" % (c["name"], c["path"], size))
        identity = {}
        for name, port, host, cookie in (
                ("auth_request", ports["authreq"], "x", "session=" + SESSION),
                ("mod_auth_openidc", a, "apache.localhost:%d" % a, ap_cookie),
                ("gatehouse auth", g, "app.localhost:%d" % g, gh_cookie),
                ("gatehouse split auth", sp, "app.localhost:%d" % sp, split_cookie)):
            body = request(port, host, "/whoami", cookie)[2].decode()
            identity[name] = {k: v for k, v in (l.split("=", 1) for l in body.splitlines()) if v}
        print("session cookie sizes: auth_request %d, mod_auth_openidc %d, gatehouse %d, "
              "gatehouse TLS %d, gatehouse split %d bytes" % (
                  len("session=" + SESSION), len(ap_cookie), len(gh_cookie), len(ght_cookie),
                  len(split_cookie)), file=sys.stderr)
        print("identity the upstream received:", file=sys.stderr)
        for name, fields in identity.items():
            print("  %-20s %s" % (name, ", ".join("%s=%s" % (k, v[:24] + ("…" if len(v) > 24 else ""))
                                                   for k, v in fields.items())), file=sys.stderr)
        if "jwt" not in identity["gatehouse auth"] or "x-user" not in identity["auth_request"] \
                or "oidc-email" not in identity["mod_auth_openidc"] \
                or "jwt" not in identity["gatehouse split auth"]:
            raise SystemExit("an identity header is missing upstream: %r" % identity)

        # Warm-up: two seconds of every case.
        for c in list(ceilings.values()) + cases:
            measure(c, max(conns_list), 2, load_cpu, tools)

        def log(run, label, c, res, ceil):
            print("run %d %-5s %-20s %-6s %8.0f req/s  ceiling %8.0f  %.2fx  %6.1f µs/req  "
                  "p99 %7.2f ms  bad %d err %d  (load %.1f)" % (
                      run, label, c["name"], c["path"], res["rps"], ceil["rps"],
                      res["rps"] / max(ceil["rps"], 1e-9), res["cpu_us"], res["p99"],
                      res["bad"], res["errors"], os.getloadavg()[0]), file=sys.stderr)

        raw, open_raw = [], []
        loads = [os.getloadavg()]
        started = time.monotonic()

        def save():  # after every measurement, so that an interrupted run keeps what it has
            if os.environ.get("BENCH_RAW"):
                with open(os.environ["BENCH_RAW"], "w") as f:
                    json.dump(dict(raw=raw, openloop=open_raw, identity=identity, secs=secs,
                                   workers=workers, settings=settings), f, indent=1)
        ol_cases = [c for c in cases if c.get("proto", "h1") == "h1" and c["path"] == small]
        for run in range(1, runs + 1):
            for conns in conns_list:
                for c in cases:
                    ceil = measure(ceiling_of(c), conns, secs, load_cpu, tools)
                    res = measure(c, conns, secs, load_cpu, tools)
                    raw.append(dict(run=run, conns=conns, case=c["name"], path=c["path"],
                                    proto=c.get("proto", "h1"), ceiling=ceil, result=res))
                    log(run, "c%d" % conns, c, res, ceil)
                    save()
            if ol_conns not in conns_list or not ol_cases:
                continue
            # Open loop at 50% and 80% of each one's own closed-loop maximum
            # at the same connection count in this run.
            this_run = [r for r in raw if r["run"] == run and r["conns"] == ol_conns]
            ceil_max = statistics.median(r["ceiling"]["rps"] for r in this_run
                                         if r["proto"] == "h1" and r["path"] == small)
            for c in [ceilings[("h1", small)]] + ol_cases:
                if c is ceilings[("h1", small)]:
                    peak = ceil_max
                else:
                    peak = next(r["result"]["rps"] for r in this_run
                                if r["case"] == c["name"] and r["path"] == small
                                and r["proto"] == "h1")
                for share in (0.5, 0.8):
                    res = measure(c, ol_conns, ol_secs, load_cpu, tools, rate=peak * share)
                    open_raw.append(dict(run=run, conns=ol_conns, case=c["name"], path=c["path"],
                                         share=share, peak=peak, result=res))
                    print("run %d open  %-20s %3d%% of %6.0f: %8.0f req/s  p50 %6.2f  p99 %7.2f  "
                          "p99.9 %7.2f ms  %5.1f µs/req  bad %d err %d  (load %.1f)" % (
                              run, c["name"], share * 100, peak, res["rps"], res["p50"],
                              res["p99"], res["p999"], res["cpu_us"], res["bad"], res["errors"],
                              os.getloadavg()[0]), file=sys.stderr)
                    save()
        loads.append(os.getloadavg())
        settings["load_start"], settings["load_end"] = loads[0], loads[-1]
        settings["measured_minutes"] = (time.monotonic() - started) / 60
        save()
        report(raw, open_raw, secs, runs, workers, settings)
    finally:
        procs.stop_all()
        if idp is not None:
            idp.stop()
        shutil.rmtree(d, ignore_errors=True)


def report(raw, open_raw, secs, runs, workers, settings):
    def med(xs):
        return statistics.median(xs) if xs else float("nan")

    def spread(xs, fmt):
        return "%s (%s–%s)" % (fmt % med(xs), fmt % min(xs), fmt % max(xs))

    def ok(r):  # both sides of the pair served requests (h2load can stall: see h2load())
        return r["result"]["requests"] > 0 and r["ceiling"]["requests"] > 0

    groups, ceil = {}, {}
    for r in raw:
        groups.setdefault((r["conns"], r["case"], r["path"]), []).append(r)
        ceil.setdefault((r["conns"], r.get("proto", "h1"), r["path"]), []).append(r["ceiling"])
    print()
    print("Closed loop (wrk -t1 for HTTP/1.1, h2load -t1 -m%d for HTTP/2):" %
          settings.get("h2_streams", 0))
    print()
    print("| case | path | conns | req/s median (min–max) | p50 ms | p99 ms | CPU µs/req | "
          "peak RSS MiB | req/s ÷ ceiling | CPU/req: ceiling ÷ case | non-2xx/3xx, errors |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for conns in sorted({k[0] for k in ceil}):
        for (c2, proto, path), rs in ceil.items():
            if c2 != conns:
                continue
            name = "nginx ceiling" if proto == "h1" else "nginx h2 ceiling"
            print("| %s | %s | %d | %s | %.2f | %.2f | %.1f | %.1f | 1.00 | 1.00 | %d, %d |" % (
                name, path, conns, spread([x["rps"] for x in rs], "%.0f"),
                med([x["p50"] for x in rs]), med([x["p99"] for x in rs]),
                med([x["cpu_us"] for x in rs]), max(x["rss_kb"] for x in rs) / 1024,
                sum(x["bad"] for x in rs), sum(x["errors"] for x in rs)))
        for key, rs in groups.items():
            c2, case, path = key
            if c2 != conns:
                continue
            res = [r["result"] for r in rs]
            ratios = [r["result"]["rps"] / r["ceiling"]["rps"] for r in rs if ok(r)] or [0.0]
            cpu_ratios = [r["ceiling"]["cpu_us"] / r["result"]["cpu_us"] for r in rs
                          if ok(r) and r["result"]["cpu_us"] > 0]
            print("| %s | %s | %d | %s | %.2f | %.2f | %.1f | %.1f | %s | %s | %d, %d |" % (
                case, path, conns, spread([x["rps"] for x in res], "%.0f"),
                med([x["p50"] for x in res]), med([x["p99"] for x in res]),
                med([x["cpu_us"] for x in res]), max(x["rss_kb"] for x in res) / 1024,
                spread(ratios, "%.2f"), spread(cpu_ratios, "%.2f") if cpu_ratios else "-",
                sum(x["bad"] for x in res), sum(x["errors"] for x in res)))

    open_groups = {}
    for r in open_raw:
        open_groups.setdefault((r["case"], r["share"]), []).append(r)
    ceil_p99 = {share: med([r["result"]["p99"] for r in rs])
                for (case, share), rs in open_groups.items() if case == "nginx ceiling"}
    if open_groups:
        print()
        print("Open loop (bench/openloop, %d connections, %d s; latency from the time each "
              "request was due):" % (settings.get("openloop_connections", 0),
                                     settings.get("openloop_secs", 0)))
        print()
        print("| case | load | rate asked req/s | req/s done | p50 ms | p99 ms | p99.9 ms | "
              "max ms | CPU µs/req | p99 ÷ ceiling p99 | non-2xx/3xx, errors |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for (case, share), rs in open_groups.items():
            res = [r["result"] for r in rs]
            p99 = med([x["p99"] for x in res])
            print("| %s | %d%% | %s | %.0f | %.2f | %.2f | %.2f | %.1f | %.1f | %.2f | %d, %d |" % (
                case, share * 100, spread([x["rate"] for x in res], "%.0f"),
                med([x["rps"] for x in res]), med([x["p50"] for x in res]), p99,
                med([x["p999"] for x in res]), med([x["max"] for x in res]),
                med([x["cpu_us"] for x in res]), p99 / ceil_p99[share] if ceil_p99.get(share)
                else float("nan"), sum(x["bad"] for x in res), sum(x["errors"] for x in res)))

    # The goals, at every connection count: ratios pair by pair within a run.
    conns_all = sorted({r["conns"] for r in raw})

    def by_run(case, path, conns):
        return {r["run"]: r for r in raw if ok(r) and r["result"]["cpu_us"] > 0
                and r["case"] == case and r["path"] == path and r["conns"] == conns}

    # Each cell: the req/s ratio and the CPU-efficiency ratio (CPU µs/req of
    # the other ÷ this one's). Two cases measured at different moments are
    # compared through their own ceiling runs, (a ÷ its ceiling) ÷ (b ÷ its
    # ceiling), which cancels the drift of a busy machine between them.
    def vs_ceiling(case, path):
        def f(conns):
            rs = by_run(case, path, conns).values()
            if not rs:
                return None
            return (med([r["result"]["rps"] / r["ceiling"]["rps"] for r in rs]),
                    med([r["ceiling"]["cpu_us"] / r["result"]["cpu_us"] for r in rs]))
        return f

    def vs_case(case, other, path="/small"):
        def f(conns):
            a, b = by_run(case, path, conns), by_run(other, path, conns)
            runs_ = [k for k in a if k in b]
            if not runs_:
                return None

            def norm(r):
                return r["result"]["rps"] / r["ceiling"]["rps"]
            return (med([norm(a[k]) / norm(b[k]) for k in runs_]),
                    med([b[k]["result"]["cpu_us"] / a[k]["result"]["cpu_us"] for k in runs_]))
        return f

    def cpu_unauth(conns):
        u = by_run("gatehouse unauth", "/small", conns).values()
        s_ = by_run("gatehouse auth", "/small", conns).values()
        if not u or not s_:
            return None
        return med([r["result"]["cpu_us"] for r in u]), med([r["result"]["cpu_us"] for r in s_])

    goals = [
        ("public /small ≥ 1.0× ceiling (req/s)", vs_ceiling("gatehouse public", "/small"), 1.0),
        ("public /big ≥ 1.0× ceiling (req/s)", vs_ceiling("gatehouse public", "/big"), 1.0),
        ("signed-in /small ≥ 0.9× ceiling (req/s)", vs_ceiling("gatehouse auth", "/small"), 0.9),
        ("signed-in /big ≥ 0.9× ceiling (req/s)", vs_ceiling("gatehouse auth", "/big"), 0.9),
        ("signed-in ≥ 3× nginx auth_request (req/s)", vs_case("gatehouse auth", "auth_request"),
         3.0),
        ("signed-in ≥ 3× Apache + mod_auth_openidc (req/s)",
         vs_case("gatehouse auth", "mod_auth_openidc"), 3.0),
        ("split signed-in ≥ 0.5× all-in-one (req/s)",
         vs_case("gatehouse split auth", "gatehouse auth"), 0.5),
        ("HTTP/2 public ≥ 1.0× nginx h2 ceiling (req/s)",
         vs_ceiling("gatehouse h2 public", "/small"), 1.0),
        ("HTTP/2 signed-in ≥ 0.9× nginx h2 ceiling (req/s)",
         vs_ceiling("gatehouse h2 auth", "/small"), 0.9),
    ]
    print()
    print("Goals: req/s ratio (CPU efficiency ratio), medians of the per-run ratios, each "
          "case taken relative to its own ceiling run; ✓ met, ✗ not met (judged on req/s):")
    print()
    print("| goal | " + " | ".join("%d conns" % c for c in conns_all) + " |")
    print("|---|" + "---|" * len(conns_all))
    for label, f, target in goals:
        cells = []
        for c in conns_all:
            v = f(c)
            cells.append("-" if v is None else "%.2f× (CPU %.2f×) %s" % (
                v[0], v[1], "✓" if v[0] >= target else "✗"))
        if any(x != "-" for x in cells):
            print("| %s | %s |" % (label, " | ".join(cells)))
    cells = []
    for c in conns_all:
        v = cpu_unauth(c)
        cells.append("-" if v is None else "%.1f vs %.1f µs %s" % (v[0], v[1],
                                                                   "✓" if v[0] <= v[1] else "✗"))
    if any(x != "-" for x in cells):
        print("| unauthenticated CPU/request ≤ signed-in | %s |" % " | ".join(cells))
    if ("gatehouse auth", 0.5) in open_groups and ceil_p99.get(0.5):
        p99 = med([r["result"]["p99"] for r in open_groups[("gatehouse auth", 0.5)]])
        ratio = p99 / ceil_p99[0.5]
        print()
        print("Open loop: signed-in p99 at 50%% of its maximum %.2f ms vs the ceiling's %.2f ms at "
              "50%% of its own: %.2f× (goal ≤ 1.5×) %s" % (p99, ceil_p99[0.5], ratio,
                                                         "✓" if ratio <= 1.5 else "✗"))
    print()
    print("runs: %d x %d s per case; workers: %d; latency and CPU µs/req are medians over the "
          "runs" % (runs, secs, workers))
    if settings.get("measured_minutes"):
        print("measurement time: %.1f min (after start-up, sign-ins and warm-up)" %
              settings["measured_minutes"])
    if settings.get("load_start"):
        print("load average (1, 5, 15 min) at start %s, at end %s" % (
            " ".join("%.2f" % x for x in settings["load_start"]),
            " ".join("%.2f" % x for x in settings["load_end"])))


if __name__ == "__main__":
    main()
