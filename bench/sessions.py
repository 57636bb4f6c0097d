#!/usr/bin/python3
"""Session scaling: bench/run.sh --suite sessions [seconds] [runs] [counts].

How memory and the request rate of one active, signed-in session change as
the number of stored sessions grows from 1,000 to 1,000,000.

Gatehouse runs all-in-one (one worker, CPU 0) with one route behind a PPL
policy (email and claim/department, identity JWT and claim headers, as the
"gatehouse auth" case of bench/auth.py), the test IdP (tests/support/idp)
for one real sign-in, and its databroker gRPC service on a loopback port.

Two Gatehouse processes run side by side:

  reference  memory backend, 1,000 stored sessions, never changes
  loaded     the backend under test, loaded step by step to each count

The real session record that the sign-in wrote is read back over the
databroker's gRPC API and used as the template for the synthetic ones:
every synthetic session and user is the same JSON shape with the same
field sizes (ID, access and refresh tokens of the lengths the IdP issued,
the same claims), with its own random ids, e-mail address and tokens.
They are put in batches over gRPC (Put, session and user records together,
as sign-in writes them). The load time runs until the authorize copy of
sessions and users has caught up (its record version, from /metrics).

RSS is VmRSS of the loaded process after the load has settled; the bytes
per session are (RSS at N - RSS with only the signed-in session) / N.
Requests/s: wrk (-t1, 64 connections) with the real session cookie on
/small; each measurement of the loaded process is paired with one of the
reference right before it, and the ratio is taken pair by pair (other work
on the machine moves both alike).

A stored session's first request reads its record through from the
databroker; the next ones find it parsed. For 200 of the sessions loaded at
each step, a cookie naming each (the real cookie's handle with its ids and
versions changed, signed again with the shared secret) is sent twice, one
request at a time: the latency of the first and of the second request.

Arguments: seconds per wrk run (default 5), runs per step (default 3),
counts (default "1000,100000,1000000"). Environment: BENCH_POSTGRES
(default "100000"; empty skips the PostgreSQL case: the counts its loaded
process steps through), BENCH_CONNECTIONS (default 64), BENCH_BATCH
(sessions per Put, default 500), BENCH_RAW (write every measurement to
this JSON file), BENCH_WRAP (a command the loaded processes run under, such
as "heaptrack -o FILE", to see where their memory goes; heaptrack's
script does not pass SIGTERM on, so its gatehouse is left to stop by hand).
"""

import base64
import hashlib
import hmac
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import auth  # noqa: E402  (processes, wrk, sign-in)
import harness  # noqa: E402
import test_databroker_service as dbtest  # noqa: E402  (protoc stubs, service JWT)

SESSION_TYPE = "type.googleapis.com/session.Session"
USER_TYPE = "type.googleapis.com/user.User"
STRUCT_TYPE = "type.googleapis.com/google.protobuf.Struct"


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def metric(port, name, labels=""):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10) as r:
        text = r.read().decode()
    m = re.search(r"^\w*%s%s (\S+)$" % (re.escape(name), re.escape(labels)), text, re.M)
    return float(m.group(1)) if m else None


class Loader:
    """Puts synthetic sessions and users shaped like a real signed-in one."""

    def __init__(self, grpc_port, secret, session_data, user_data):
        import grpc
        self.pb, pb_grpc = dbtest.stubs()
        self.channel = grpc.insecure_channel(
            "127.0.0.1:%d" % grpc_port,
            options=[("grpc.max_receive_message_length", 64 << 20),
                     ("grpc.max_send_message_length", 64 << 20)])
        self.stub = pb_grpc.DataBrokerServiceStub(self.channel)
        self.secret = secret
        self.session_template, self.session_fields = self._template(session_data, user_data, True)
        self.user_template, self.user_fields = self._template(user_data, user_data, False)
        self.record_bytes = {"session": len(json.dumps(session_data, separators=(",", ":"))),
                             "user": len(json.dumps(user_data, separators=(",", ":")))}
        self.last_version = {SESSION_TYPE: 0, USER_TYPE: 0}
        # (session id, user id, server version, record version) of the first
        # sessions of the last put: what a cookie for each of them names.
        self.samples = []
        self.sample_size = 200

    def _template(self, data, user, is_session):
        """The Struct bytes of `data` with every per-session value replaced by
        a marker of the same length, and the markers. A marker is replaced
        by a value of its length in the serialized bytes, which keeps them
        valid protobuf."""
        from google.protobuf import struct_pb2
        data = json.loads(json.dumps(data))
        values = {}  # original value -> marker

        def mark(value, kind):
            if value not in values:
                k = len(values)
                # A user id (the IdP's subject) is at least 24 bytes, so that a
                # million of them are distinct (the test IdP's is the login name).
                length = max(len(value), 24) if kind == "user" else len(value)
                marker = ("#%d%s#" % (k, kind[0])).ljust(length, "#")
                if len(marker) != length:
                    raise SystemExit("a %s of %d bytes is too short to mark" % (kind, len(value)))
                values[value] = (marker, kind)
            return values[value][0]

        user_id = user["id"]
        email = user.get("email", "")
        if is_session:
            data["id"] = mark(data["id"], "id")
            data["userId"] = mark(data["userId"], "user")
            tok = data.get("oauthToken", {})
            for k in ("accessToken", "refreshToken"):
                if tok.get(k):
                    tok[k] = mark(tok[k], "token")
            if data.get("idToken", {}).get("raw"):
                data["idToken"]["raw"] = mark(data["idToken"]["raw"], "jwt")
        else:
            data["id"] = mark(data["id"], "user")
            if email:
                data["email"] = mark(email, "email")
        claims = data.get("claims", {})
        for name, value in claims.items():
            if isinstance(value, list):
                claims[name] = [mark(v, "user") if v == user_id else
                                mark(v, "email") if v == email and email else v for v in value]
        s = struct_pb2.Struct()
        s.update(data)
        return s.SerializeToString(), [(m.encode(), kind, len(m)) for m, kind in values.values()]

    @staticmethod
    def _random(length):
        return base64.urlsafe_b64encode(os.urandom(length)).rstrip(b"=")[:length]

    def _fill(self, template, fields, values):
        out = template
        for marker, kind, length in fields:
            value = values.get(kind)
            if value is None:  # a token: random, of the same length
                value = self._random(length)
                if kind == "jwt":  # three dot-separated parts, like the real one
                    value = value[:length // 5] + b"." + value[length // 5 + 1:length * 4 // 5] + \
                        b"." + value[length * 4 // 5 + 1:]
            else:
                value = value[:length].rjust(length, b"0")
            assert len(value) == length
            out = out.replace(marker, value)
        return out

    def put(self, start, count, batch):
        """Sessions start..start+count (and their users), `batch` a request."""
        pb = self.pb
        done = 0
        lengths = {kind: length for _, kind, length in self.session_fields + self.user_fields}
        self.samples = []
        while done < count:
            records = []
            users_of = {}
            for n in range(start + done, start + min(count, done + batch)):
                # Ids and e-mail address of the lengths the real ones have.
                values = {"id": self._random(lengths["id"]),
                          "user": ("u%d-" % n).encode() + self._random(lengths["user"]),
                          "email": b"u%d@example.com" % n}
                values["user"] = values["user"][:lengths["user"]]  # n has at most 8 digits
                if "email" in lengths:
                    e = values["email"]
                    values["email"] = b"u" + str(n).encode().rjust(lengths["email"] - 12, b"0") + \
                        b"@example.com" if len(e) < lengths["email"] else e
                users_of[values["id"].decode()] = values["user"].decode()
                for type_url, template, fields, rid in (
                        (USER_TYPE, self.user_template, self.user_fields, values["user"]),
                        (SESSION_TYPE, self.session_template, self.session_fields, values["id"])):
                    r = pb.Record(type=type_url, id=rid.decode())
                    r.data.type_url = STRUCT_TYPE
                    r.data.value = self._fill(template, fields, values)
                    records.append(r)
            reply = self.stub.Put(pb.PutRequest(records=records),
                                  metadata=[("jwt", dbtest.token(self.secret))], timeout=120)
            for r in reply.records:
                self.last_version[r.type] = max(self.last_version[r.type], r.version)
                if r.type == SESSION_TYPE and len(self.samples) < self.sample_size and \
                        r.id in users_of:
                    self.samples.append((r.id, users_of[r.id], reply.server_version, r.version))
            done += len(records) // 2

    def close(self):
        self.channel.close()


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def cookie_for(template_cookie, secret, sample):
    """The real session cookie with its handle made to name `sample` instead,
    signed again with the shared secret (HS256, as Gatehouse signs it)."""
    name, _, token = template_cookie.split(";")[0].strip().partition("=")
    header, payload, _ = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    session_id, user_id, server_version, record_version = sample
    claims.update(jti=session_id, sub=user_id, databroker_server_version=server_version,
                  databroker_record_version=record_version)
    body = header + "." + b64url(json.dumps(claims, separators=(",", ":")).encode())
    signature = hmac.new(secret, body.encode(), hashlib.sha256).digest()
    return "%s=%s.%s" % (name, body, b64url(signature))


def first_requests(g, secret, samples):
    """Each sampled session's first request (its record read through, as after
    a start or 15 idle minutes) and its second (parsed already): latency of
    each, in ms, one at a time over a fresh connection. The route's policy
    refuses these users (403): the session is looked up all the same."""
    cold, warm, statuses = [], [], {}
    for sample in samples:
        cookie = cookie_for(g["cookie"], secret, sample)
        for into in (cold, warm):
            t0 = time.perf_counter()
            status, _, _ = auth.request(g["port"], g["host"], "/small", cookie)
            into.append((time.perf_counter() - t0) * 1e3)
            statuses[status] = statuses.get(status, 0) + 1
    return cold, warm, statuses


def read_records(grpc_port, secret):
    """The session and user records in the databroker, as JSON objects."""
    import grpc
    from google.protobuf import json_format, struct_pb2
    pb, pb_grpc = dbtest.stubs()
    with grpc.insecure_channel("127.0.0.1:%d" % grpc_port) as channel:
        stub = pb_grpc.DataBrokerServiceStub(channel)
        out = []
        for type_url in (SESSION_TYPE, USER_TYPE):
            reply = stub.Query(pb.QueryRequest(type=type_url, limit=10),
                               metadata=[("jwt", dbtest.token(secret))], timeout=30)
            found = []
            for r in reply.records:
                s = struct_pb2.Struct()
                r.data.Unpack(s)
                found.append(json_format.MessageToDict(s))
            out.append(found)
        return out


def wait_caught_up(port, loader, timeout):
    deadline = time.monotonic() + timeout
    want = {"session": loader.last_version[SESSION_TYPE], "user": loader.last_version[USER_TYPE]}
    while time.monotonic() < deadline:
        have = {t: metric(port, "session_cache_record_version", '{type="%s"}' % t) or 0
                for t in want}
        if all(have[t] >= want[t] for t in want):
            return
        time.sleep(0.05)
    raise SystemExit("the authorize copy did not catch up: %r of %r" % (have, want))


def settle_rss(pid, seconds=3.0):
    """VmRSS once it has stopped moving (the last sync batches are applied)."""
    last = rss_kb(pid)
    deadline = time.monotonic() + seconds * 10
    while time.monotonic() < deadline:
        time.sleep(seconds / 3)
        now = rss_kb(pid)
        if abs(now - last) < 256:
            return now
        last = now
    return last


def main():
    secs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    counts = [int(c) for c in (sys.argv[3] if len(sys.argv) > 3 else
                               "1000,100000,1000000").split(",")]
    pg_counts = [int(c) for c in os.environ.get("BENCH_POSTGRES", "100000").split(",") if c]
    conns = int(os.environ.get("BENCH_CONNECTIONS", "64"))
    batch = int(os.environ.get("BENCH_BATCH", "500"))
    gh_bin = os.path.abspath(os.environ.get("GATEHOUSE_BIN",
                                            os.path.join(ROOT, "build/release/src/gatehouse")))
    if not os.access(gh_bin, os.X_OK):
        raise SystemExit("no gatehouse binary at %s (set GATEHOUSE_BIN)" % gh_bin)
    for tool in ("wrk", "nginx", "taskset"):
        if not shutil.which(tool) and not os.path.exists("/usr/sbin/" + tool):
            raise SystemExit("bench needs %s (scripts/install-deps.sh installs it)" % tool)

    sut_cpu = 0
    load_cpu = 1 if os.cpu_count() > 1 else 0
    os.sched_setaffinity(0, {load_cpu})

    d = tempfile.mkdtemp(prefix="gatehouse-bench-sessions-")
    os.chmod(d, 0o755)
    procs = auth.Procs(d)
    idp = None
    pg = None
    loaders = []
    raw = {"steps": [], "uptime": []}
    try:
        names = ["reference", "memory"] + (["postgres"] if pg_counts else [])
        ports = {n: (harness.free_port(), harness.free_port(), harness.free_port())
                 for n in names}
        upstream = harness.free_port()
        idp = harness.Idp(
            clients=[harness.idp_client("gh-" + n, "gh-secret-" + n,
                                        ["http://authenticate.localhost:%d/oauth2/callback"
                                         % ports[n][0]]) for n in names],
            users={"alice": harness.idp_user("alice-password", email="alice@example.com",
                                             name="Alice Example", groups=["admins", "users"],
                                             department="eng")},
            access_token_ttl=86400, id_token_ttl=86400)
        idp.start()
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        with open(os.path.join(d, "upstream.conf"), "w") as f:
            f.write(auth.nginx_common(d, "upstream", 1) + """http {
%s  server {
    listen 127.0.0.1:%d reuseport;
    location = /small { return 200 "hello from upstream\\n"; }
  }
}
""" % (auth.nginx_http_common(d, "upstream"), upstream))
        p_up = procs.start("upstream", [nginx, "-p", d, "-c", d + "/upstream.conf"], sut_cpu)
        auth.wait_http(upstream, "x", "/small", proc=p_up, name="upstream", procs=procs)
        if pg_counts:
            pg = harness.PostgresServer()
            pg.start()

        secret = os.urandom(32)
        secret_b64 = base64.b64encode(secret).decode()
        gh = {}
        for n in names:
            http_port, grpc_port, metrics_port = ports[n]
            cfg = dict(
                address="127.0.0.1:%d" % http_port, insecure_server=True, workers=1,
                log_level="warn", shared_secret=secret_b64, cookie_secret=secret_b64,
                grpc_address="127.0.0.1:%d" % grpc_port, grpc_insecure=True,
                metrics_address="127.0.0.1:%d" % metrics_port,
                authenticate_service_url="http://authenticate.localhost:%d" % http_port,
                jwt_claims_headers="email,groups",
                routes=[{"from": "http://app.localhost:%d" % http_port,
                         "to": "http://127.0.0.1:%d" % upstream,
                         "pass_identity_headers": True,
                         "policy": {"allow": {"and": [{"email": {"is": "alice@example.com"}},
                                                      {"claim/department": "eng"}]}}}],
                **idp.gatehouse_options(client="gh-" + n))
            if n == "postgres":
                cfg.update(databroker_storage_type="postgres",
                           databroker_storage_connection_string=pg.url)
            with open(os.path.join(d, n + ".yaml"), "w") as f:
                json.dump(cfg, f, indent=1)
            wrap = os.environ.get("BENCH_WRAP", "").split() if n != "reference" else []
            p = procs.start(n, wrap + [gh_bin, "--config", os.path.join(d, n + ".yaml")], sut_cpu)
            auth.wait_http(http_port, "app.localhost:%d" % http_port, "/small", proc=p, name=n,
                           procs=procs)
            cookie = auth.sign_in("http://app.localhost:%d/small" % http_port, "_pomerium")
            gh[n] = dict(proc=p, port=http_port, metrics=metrics_port, cookie=cookie,
                         host="app.localhost:%d" % http_port)
            status, _, body = auth.request(http_port, gh[n]["host"], "/small", cookie)
            if status != 200:
                raise SystemExit("%s: the signed-in request answered %d: %r" % (n, status, body))
            sessions, users = read_records(grpc_port, secret)
            if len(sessions) != 1 or len(users) != 1:
                raise SystemExit("%s: expected one session and one user after sign-in, found "
                                 "%d and %d" % (n, len(sessions), len(users)))
            loader = Loader(grpc_port, secret, sessions[0], users[0])
            loaders.append(loader)
            gh[n]["loader"] = loader
            gh[n]["loaded"] = 0
        # Warm-up of every request path, then the base RSS.
        for n in names:
            auth.wrk(gh[n]["port"], gh[n]["host"], "/small", conns, 2, gh[n]["cookie"], load_cpu)
            gh[n]["base_rss"] = settle_rss(gh[n]["proc"].pid)
        tmpl = gh["reference"]["loader"]
        print("record sizes (compact JSON): session %d bytes, user %d bytes" % (
            tmpl.record_bytes["session"], tmpl.record_bytes["user"]), file=sys.stderr)

        def load_to(n, count):
            g = gh[n]
            t0 = time.monotonic()
            g["loader"].put(g["loaded"], count - g["loaded"], batch)
            put_s = time.monotonic() - t0
            wait_caught_up(g["metrics"], g["loader"], timeout=600)
            load_s = time.monotonic() - t0
            g["loaded"] = count
            rss = settle_rss(g["proc"].pid)
            status, _, body = auth.request(g["port"], g["host"], "/small", g["cookie"])
            if status != 200:
                raise SystemExit("%s at %d sessions answered %d: %r" % (n, count, status, body))
            return put_s, load_s, rss

        put_s, load_s, rss = load_to("reference", counts[0])
        print("reference: %d sessions in %.1f s, RSS %.1f MiB" % (counts[0], load_s, rss / 1024),
              file=sys.stderr)

        def step(n, count, load_info):
            g = gh[n]
            put_s, load_s, rss = load_info
            pairs = []
            for run in range(runs):
                ref = auth.wrk(gh["reference"]["port"], gh["reference"]["host"], "/small",
                               conns, secs, gh["reference"]["cookie"], load_cpu)
                res = auth.wrk(g["port"], g["host"], "/small", conns, secs, g["cookie"], load_cpu)
                if res["bad"] or ref["bad"]:
                    raise SystemExit("%s at %d: non-2xx answers: %r %r" % (n, count, res, ref))
                if res["errors"] or ref["errors"]:  # wrk's timeouts on a busy machine
                    print("%s at %d: socket errors %d (reference %d)" % (
                        n, count, res["errors"], ref["errors"]), file=sys.stderr)
                pairs.append((ref["rps"], res["rps"]))
            row = dict(backend="memory" if n != "postgres" else "postgres", sessions=count,
                       put_s=put_s, load_s=load_s, rss_kb=rss, base_rss_kb=g["base_rss"],
                       bytes_per_session=(rss - g["base_rss"]) * 1024.0 / count,
                       rps=statistics.median(p[1] for p in pairs),
                       ref_rps=statistics.median(p[0] for p in pairs),
                       ratio=statistics.median(p[1] / p[0] for p in pairs),
                       ratios=[p[1] / p[0] for p in pairs], load=os.getloadavg()[0])
            cold, warm, statuses = first_requests(g, secret, g["loader"].samples)
            if set(statuses) - {403}:
                raise SystemExit("%s at %d: a sampled session answered %r" % (n, count, statuses))
            q = lambda xs, p: sorted(xs)[min(len(xs) - 1, int(p * len(xs)))]
            row.update(first_ms=statistics.median(cold), first_p90_ms=q(cold, 0.9),
                       second_ms=statistics.median(warm), second_p90_ms=q(warm, 0.9),
                       sampled=len(cold))
            raw["steps"].append(row)
            print("%-8s %8d sessions: load %.1f s (puts %.1f s), RSS %.1f MiB, %.0f B/session, "
                  "%.0f req/s vs reference %.0f: %.3f (%s)  load avg %.2f" % (
                      row["backend"], count, load_s, put_s, rss / 1024,
                      row["bytes_per_session"], row["rps"], row["ref_rps"], row["ratio"],
                      ", ".join("%.3f" % r for r in row["ratios"]), row["load"]),
                  file=sys.stderr)
            print("%-8s %8d sessions: %d sessions' first request %.2f ms (p90 %.2f), second "
                  "%.2f ms (p90 %.2f)" % (row["backend"], count, row["sampled"], row["first_ms"],
                                          row["first_p90_ms"], row["second_ms"],
                                          row["second_p90_ms"]), file=sys.stderr)
            return row

        for count in counts:
            step("memory", count, load_to("memory", count))
        for count in pg_counts:
            step("postgres", count, load_to("postgres", count))
        raw["uptime"] = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
        if os.environ.get("BENCH_RAW"):
            with open(os.environ["BENCH_RAW"], "w") as f:
                json.dump(raw, f, indent=1)
        print()
        print("| backend | sessions | load time s | RSS MiB | bytes per session | req/s | "
              "ratio to 1,000 (median, min–max) | a session's first / second request ms "
              "(median; p90) |")
        print("|---|---|---|---|---|---|---|---|")
        for r in raw["steps"]:
            print("| %s | %d | %.1f | %.1f | %.0f | %.0f | %.3f (%.3f–%.3f) | "
                  "%.2f / %.2f; %.2f / %.2f |" % (
                      r["backend"], r["sessions"], r["load_s"], r["rss_kb"] / 1024,
                      r["bytes_per_session"], r["rps"], r["ratio"], min(r["ratios"]),
                      max(r["ratios"]), r["first_ms"], r["second_ms"], r["first_p90_ms"],
                      r["second_p90_ms"]))
        print()
        print("runs: %d x %d s per step, wrk -t1 -c%d; each step paired with the 1,000-session "
              "reference process; %s" % (runs, secs, conns, raw["uptime"]))
    finally:
        for loader in loaders:
            loader.close()
        procs.stop_all()
        if idp is not None:
            idp.stop()
        if pg is not None:
            pg.cleanup()
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
