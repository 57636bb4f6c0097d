#!/usr/bin/python3
"""Instructions and simulated cache misses of one signed-in request.

  bench/signed_in_callgrind.py BIN OUT [SECONDS]

Sets up what the auth suite's "gatehouse auth" case uses (bench/auth.py:
the test OpenID provider, nginx as the upstream, Gatehouse all-in-one with
the route that has a policy on email and a claim and pass_identity_headers),
starts Gatehouse under valgrind's callgrind with instrumentation off, signs
in once through the provider, then counts only during a SECONDS (default 5)
wrk run with 8 connections carrying the session cookie on /small. The
counts go to OUT.1 (callgrind_annotate OUT.1); the per-request figures are
printed. Cache simulation as in routes_cachesim.py (D1 48 KB 12-way, LL
2 MB 16-way).
"""

import base64
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import auth as A  # noqa: E402
from routes_cachesim import callgrind_totals  # noqa: E402


def main():
    gatehouse, out = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    seconds = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    d = tempfile.mkdtemp(prefix="signed-in-callgrind-")
    os.chmod(d, 0o755)
    with open(os.path.join(d, "big"), "wb") as f:
        f.write(b"x" * 1024)
    A.tls_certificate(d)
    procs = A.Procs(d)
    ports = {k: A.free_port() for k in (
        "upstream", "ceiling", "authreq", "authz", "apache", "gatehouse", "ceiling_h2",
        "gatehouse_tls", "split_proxy", "split_authorize", "split_databroker")}
    g = ports["gatehouse"]
    idp = A.harness.Idp(
        clients=[A.harness.idp_client("gatehouse", "gatehouse-secret",
                                      ["http://authenticate.localhost:%d/oauth2/callback" % g]),
                 A.harness.idp_client("apache", "apache-secret",
                                      ["http://apache.localhost:1/redirect_uri"], pkce=True)],
        users={"alice": A.harness.idp_user("alice-password", email="alice@example.com",
                                           name="Alice Example", groups=["admins", "users"],
                                           department="eng")},
        access_token_ttl=86400, id_token_ttl=86400)
    idp.start()
    try:
        secrets = {k: base64.b64encode(os.urandom(32)).decode()
                   for k in ("gatehouse", "gatehouse_tls", "split")}
        secrets["apache"] = base64.b64encode(os.urandom(24)).decode()
        A.write_configs(d, ports, 1, idp, secrets)
        upstream = procs.start("upstream", ["nginx", "-p", d, "-c", d + "/upstream.conf"], 0)
        server = procs.start("gatehouse", [
            "valgrind", "--tool=callgrind", "--cache-sim=yes", "--instr-atstart=no",
            "--D1=49152,12,64", "--LL=2097152,16,64", "--callgrind-out-file=" + out,
            gatehouse, "--config", d + "/gatehouse.yaml"], 0)
        A.wait_http(ports["upstream"], "x", "/small", proc=upstream, name="upstream", procs=procs)
        A.wait_http(g, "bench.localhost", "/small", timeout=120, proc=server, name="gatehouse",
                    procs=procs)
        cookie = A.sign_in("http://app.localhost:%d/small" % g, "_pomerium")
        host = "app.localhost:%d" % g
        A.wrk(g, host, "/small", 8, 2, cookie, 1)  # warm: the session, the JWT, the pool
        control = ["callgrind_control"]
        subprocess.run(control + ["-i", "on", str(server.pid)], check=True, capture_output=True)
        result = A.wrk(g, host, "/small", 8, seconds, cookie, 1)
        subprocess.run(control + ["-i", "off", str(server.pid)], check=True, capture_output=True)
        subprocess.run(control + ["-d", str(server.pid)], check=True, capture_output=True)
        time.sleep(1)
        totals = callgrind_totals(out + ".1")
        print("signed-in requests=%d bad=%d %s (per request; %s)" % (
            result["requests"], result["bad"],
            " ".join("%s=%.1f" % (k, v / result["requests"]) for k, v in totals.items()),
            out + ".1"))
    finally:
        procs.stop_all()
        idp.stop()


if __name__ == "__main__":
    main()
