#!/usr/bin/python3
"""The authenticated-path benchmark: bench/run.sh --suite auth [seconds] [runs].

Every system under test (SUT) proxies to the same nginx upstream on
loopback, over plain HTTP/1.1, with one worker process:

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

The identity provider is tests/support/idp (oidc-provider) on 127.0.0.1.
Gatehouse and Apache listen on 127.0.0.1 and are addressed with Host headers
(app.localhost, apache.localhost): wrk connects to 127.0.0.1 and sends the
Host header, which is what it does for nginx too.

The SUTs run on CPU 0, wrk (-t1) and this script on CPU 1. Each case is
measured right after the nginx ceiling on the same path, and the ratio is
taken pair by pair. CPU time per request is utime+stime of the SUT's
processes (from /proc/<pid>/stat) divided by the requests wrk completed.
Peak RSS is VmHWM summed over the SUT's processes, reset before each case.

Environment: BENCH_CONNECTIONS (default "64"), GATEHOUSE_BIN
(default build/release/src/gatehouse), BENCH_CASES (a comma-separated
subset of the cases: "gatehouse auth" or "gatehouse auth /small"), BENCH_RAW (a file to write every measurement to,
as JSON; `bench/auth.py --report FILE [seconds]` prints its table again).
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


def measure(case, conns, secs, load_cpu):
    pids = descendants(case["pid"])
    reset_peak_rss(pids)
    before = cpu_ticks(pids)
    r = wrk(case["port"], case["host"], case["path"], conns, secs, case.get("cookie"), load_cpu)
    pids = descendants(case["pid"])
    r["cpu_us"] = (cpu_ticks(pids) - before) * 1e6 / HZ / max(r["requests"], 1)
    r["rss_kb"] = peak_rss_kb(pids)
    return r


# ---------------------------------------------------------------------------

def main():
    if sys.argv[1:2] == ["--report"]:  # the table again from a BENCH_RAW file
        with open(sys.argv[2]) as f:
            raw = json.load(f)["raw"]
        report(raw, int(sys.argv[3]) if len(sys.argv) > 3 else 0,
               len({r["run"] for r in raw}), int(os.environ.get("BENCH_WORKERS", "1")))
        return
    secs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    workers = int(os.environ.get("BENCH_WORKERS", "1"))
    conns_list = [int(c) for c in os.environ.get("BENCH_CONNECTIONS", "64").split()]
    gh_bin = os.path.abspath(os.environ.get("GATEHOUSE_BIN",
                                            os.path.join(ROOT, "build/release/src/gatehouse")))
    for tool in ("wrk", "nginx", "apache2", "taskset"):
        if not shutil.which(tool) and not os.path.exists("/usr/sbin/" + tool):
            raise SystemExit("bench needs %s (scripts/install-deps.sh installs it)" % tool)
    if not os.path.exists("/usr/lib/apache2/modules/mod_auth_openidc.so"):
        raise SystemExit("bench needs libapache2-mod-auth-openidc (scripts/install-deps.sh)")
    if not os.access(gh_bin, os.X_OK):
        raise SystemExit("no gatehouse binary at %s (set GATEHOUSE_BIN)" % gh_bin)

    sut_cpu = 0
    load_cpu = 1 if os.cpu_count() > 1 else 0
    os.sched_setaffinity(0, {load_cpu})  # this script, the IdP and wrk share CPU 1

    d = tempfile.mkdtemp(prefix="gatehouse-bench-")
    os.chmod(d, 0o755)  # nginx workers run as nobody
    with open(os.path.join(d, "big"), "wb") as f:
        f.write(base64.b64encode(os.urandom(76800)))  # exactly 102,400 bytes
    procs = Procs(d)
    idp = None
    try:
        ports = {k: free_port() for k in ("upstream", "ceiling", "authreq", "authz", "apache",
                                          "gatehouse")}
        g, a = ports["gatehouse"], ports["apache"]
        idp = harness.Idp(
            clients=[harness.idp_client("gatehouse", "gatehouse-secret",
                                        ["http://authenticate.localhost:%d/oauth2/callback" % g]),
                     harness.idp_client("apache", "apache-secret",
                                        ["http://apache.localhost:%d/redirect_uri" % a],
                                        pkce=True)],
            users={"alice": harness.idp_user("alice-password", email="alice@example.com",
                                             name="Alice Example", groups=["admins", "users"],
                                             department="eng")},
            access_token_ttl=86400, id_token_ttl=86400)
        idp.start()
        secrets = {"gatehouse": base64.b64encode(os.urandom(32)).decode(),
                   "apache": base64.b64encode(os.urandom(24)).decode()}
        write_configs(d, ports, workers, idp, secrets)

        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        apache = shutil.which("apache2") or "/usr/sbin/apache2"
        p_up = procs.start("upstream", [nginx, "-p", d, "-c", d + "/upstream.conf"], sut_cpu)
        p_ceil = procs.start("ceiling", [nginx, "-p", d, "-c", d + "/ceiling.conf"], sut_cpu)
        p_ar = procs.start("authreq", [nginx, "-p", d, "-c", d + "/authreq.conf"], sut_cpu)
        p_gh = procs.start("gatehouse", [gh_bin, "--config", d + "/gatehouse.yaml"], sut_cpu)
        wait_http(ports["upstream"], "x", "/small", proc=p_up, name="upstream", procs=procs)
        wait_http(ports["ceiling"], "x", "/small", proc=p_ceil, name="ceiling", procs=procs)
        wait_http(ports["authreq"], "x", "/small", proc=p_ar, name="authreq", procs=procs)
        wait_http(g, "bench.localhost", "/small", proc=p_gh, name="gatehouse", procs=procs)
        # Apache needs the IdP's discovery document, so it starts after the IdP.
        p_ap = procs.start("apache", [apache, "-f", d + "/apache.conf", "-DFOREGROUND"], sut_cpu)
        wait_http(a, "apache.localhost", "/small", proc=p_ap, name="apache", procs=procs)

        gh_cookie = sign_in("http://app.localhost:%d/small" % g, "_pomerium")
        ap_cookie = sign_in("http://apache.localhost:%d/small" % a, "mod_auth_openidc_session")

        small, big = "/small", "/big"
        cases = [
            dict(name="upstream", path=small, port=ports["upstream"], host="x", pid=p_up.pid),
            dict(name="upstream", path=big, port=ports["upstream"], host="x", pid=p_up.pid),
            dict(name="auth_request", path=small, port=ports["authreq"], host="x",
                 cookie="session=" + SESSION, pid=p_ar.pid),
            dict(name="mod_auth_openidc", path=small, port=a, host="apache.localhost:%d" % a,
                 cookie=ap_cookie, pid=p_ap.pid),
            dict(name="gatehouse public", path=small, port=g, host="bench.localhost", pid=p_gh.pid),
            dict(name="gatehouse public", path=big, port=g, host="bench.localhost", pid=p_gh.pid),
            dict(name="gatehouse auth", path=small, port=g, host="app.localhost:%d" % g,
                 cookie=gh_cookie, pid=p_gh.pid),
            dict(name="gatehouse auth", path=big, port=g, host="app.localhost:%d" % g,
                 cookie=gh_cookie, pid=p_gh.pid),
            dict(name="gatehouse unauth", path=small, port=g, host="app.localhost:%d" % g,
                 pid=p_gh.pid, status=302),
        ]
        only = os.environ.get("BENCH_CASES")
        if only:
            keep = {s.strip() for s in only.split(",")}
            cases = [c for c in cases if c["name"] in keep or "%s %s" % (c["name"], c["path"]) in keep]
        ceilings = {p: dict(name="ceiling", path=p, port=ports["ceiling"], host="x",
                            pid=p_ceil.pid) for p in (small, big)}

        # Every case answers what it should before its speed means anything.
        for c in list(ceilings.values()) + cases:
            status, headers, body = request(c["port"], c["host"], c["path"], c.get("cookie"))
            want = c.get("status", 200)
            if status != want:
                raise SystemExit("%s %s answered %d, not %d: %r" % (c["name"], c["path"], status,
                                                                    want, body[:300]))
            if want == 200 and len(body) != (20 if c["path"] == small else 102400):
                raise SystemExit("%s %s: %d bytes" % (c["name"], c["path"], len(body)))
        identity = {}
        for name, port, host, cookie in (
                ("auth_request", ports["authreq"], "x", "session=" + SESSION),
                ("mod_auth_openidc", a, "apache.localhost:%d" % a, ap_cookie),
                ("gatehouse auth", g, "app.localhost:%d" % g, gh_cookie)):
            body = request(port, host, "/whoami", cookie)[2].decode()
            identity[name] = {k: v for k, v in (l.split("=", 1) for l in body.splitlines()) if v}
        print("session cookie sizes: auth_request %d, mod_auth_openidc %d, gatehouse %d bytes" % (
            len("session=" + SESSION), len(ap_cookie), len(gh_cookie)), file=sys.stderr)
        print("identity the upstream received:", file=sys.stderr)
        for name, fields in identity.items():
            print("  %-17s %s" % (name, ", ".join("%s=%s" % (k, v[:24] + ("…" if len(v) > 24 else ""))
                                                   for k, v in fields.items())), file=sys.stderr)
        if "jwt" not in identity["gatehouse auth"] or "x-user" not in identity["auth_request"] \
                or "oidc-email" not in identity["mod_auth_openidc"]:
            raise SystemExit("an identity header is missing upstream: %r" % identity)

        # Warm-up: two seconds of every case.
        for c in list(ceilings.values()) + cases:
            wrk(c["port"], c["host"], c["path"], max(conns_list), 2, c.get("cookie"), load_cpu)

        raw = []
        for run in range(1, runs + 1):
            for conns in conns_list:
                for c in cases:
                    ceil = measure(ceilings[c["path"]], conns, secs, load_cpu)
                    res = measure(c, conns, secs, load_cpu)
                    raw.append(dict(run=run, conns=conns, case=c["name"], path=c["path"],
                                    ceiling=ceil, result=res))
                    print("run %d c%d %-17s %-6s %8.0f req/s  ceiling %8.0f  %.2fx  %5.1f µs/req  "
                          "bad %d err %d  (load %s)" % (
                              run, conns, c["name"], c["path"], res["rps"], ceil["rps"],
                              res["rps"] / ceil["rps"], res["cpu_us"], res["bad"], res["errors"],
                              os.getloadavg()[0]), file=sys.stderr)
        if os.environ.get("BENCH_RAW"):
            with open(os.environ["BENCH_RAW"], "w") as f:
                json.dump(dict(raw=raw, identity=identity), f, indent=1)
        report(raw, secs, runs, workers)
    finally:
        procs.stop_all()
        if idp is not None:
            idp.stop()
        shutil.rmtree(d, ignore_errors=True)


def report(raw, secs, runs, workers):
    def med(xs):
        return statistics.median(xs)

    def spread(xs, fmt):
        return "%s (%s–%s)" % (fmt % med(xs), fmt % min(xs), fmt % max(xs))

    groups = {}
    ceil = {}
    for r in raw:
        groups.setdefault((r["conns"], r["case"], r["path"]), []).append(r)
        ceil.setdefault((r["conns"], r["path"]), []).append(r["ceiling"])
    print()
    print("| case | path | conns | req/s median (min–max) | p50 ms | p99 ms | CPU µs/req | "
          "peak RSS MiB | req/s vs ceiling | CPU/req: ceiling ÷ case | non-2xx/3xx, errors |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    order = {}
    for (conns, path), rs in sorted(ceil.items()):
        print("| nginx ceiling | %s | %d | %s | %.2f | %.2f | %.1f | %.1f | 1.00 | 1.00 | %d, %d |" % (
            path, conns, spread([x["rps"] for x in rs], "%.0f"), med([x["p50"] for x in rs]),
            med([x["p99"] for x in rs]), med([x["cpu_us"] for x in rs]),
            max(x["rss_kb"] for x in rs) / 1024, sum(x["bad"] for x in rs),
            sum(x["errors"] for x in rs)))
    for key, rs in groups.items():
        conns, case, path = key
        res = [r["result"] for r in rs]
        ratios = [r["result"]["rps"] / r["ceiling"]["rps"] for r in rs]
        cpu_ratios = [r["ceiling"]["cpu_us"] / r["result"]["cpu_us"] for r in rs
                      if r["result"]["cpu_us"] > 0]
        print("| %s | %s | %d | %s | %.2f | %.2f | %.1f | %.1f | %s | %s | %d, %d |" % (
            case, path, conns, spread([x["rps"] for x in res], "%.0f"),
            med([x["p50"] for x in res]), med([x["p99"] for x in res]),
            med([x["cpu_us"] for x in res]), max(x["rss_kb"] for x in res) / 1024,
            spread(ratios, "%.2f"), spread(cpu_ratios, "%.2f") if cpu_ratios else "-",
            sum(x["bad"] for x in res), sum(x["errors"] for x in res)))
    print()
    print("runs: %d x %d s per case; workers: %d; CPU µs/req and latency are medians over the runs"
          % (runs, secs, workers))


if __name__ == "__main__":
    main()
