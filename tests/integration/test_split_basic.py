"""Split mode: databroker, authorize, authenticate and proxy as separate
processes talking gRPC. Sign-in, decisions, identity headers, two proxy
replicas sharing sessions, a service with the wrong shared secret, health
checks, SIGTERM drain, and each process's gRPC and storage metrics."""

import json
import re
import signal
import time
import unittest

import harness as h

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def echo_headers(r):
    return {k.lower(): v for k, v in json.loads(r.body)["headers"]}


def scrape(g):
    """{(name, frozenset(labels)): value} of a process's /metrics."""
    r = h.http_request(g.ports["metrics"], "127.0.0.1", "/metrics")
    assert r.status == 200, r
    samples = {}
    for line in (r.text if isinstance(r.text, str) else r.text()).splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, "malformed line: %r" % line
        samples[(m.group(1), frozenset(LABEL.findall(m.group(2) or "")))] = float(m.group(3))
    return samples


def metric(samples, name, **labels):
    """The sum of `name` over the series that carry `labels`."""
    want = set(labels.items())
    return sum(v for (n, have), v in samples.items() if n == name and want <= have)


def families(samples, prefix):
    return {n for n, _ in samples if n.startswith(prefix)}


class SplitHappyPath(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.upstream = h.Upstream()
        cls.addClassCleanup(cls.upstream.close)
        # Two proxies and two authorize replicas: the request right after a
        # sign-in may reach a replica that has not synced the new session.
        cls.split = h.start_split(cls, cls.upstream, proxies=2, authorizers=2,
                                  metrics_address="127.0.0.1:0")

    def test_sign_in_allowed_denied_and_api_client(self):
        s = self.split
        b, r = s.login("alice", path="/hello?x=1")
        self.assertEqual(r.status, 200, "hops: %r\n%s" % (r.hops, s.log_text()))
        self.assertEqual(r.url, s.url("app", "/hello?x=1"))
        # The sign-in went through the authenticate process.
        self.assertTrue(any(hop.url.startswith(s.authenticate_url + "/oauth2/callback")
                            for hop in r.hops), r.hops)
        headers = echo_headers(r)
        jwt = headers.get("x-pomerium-jwt-assertion")
        self.assertTrue(jwt, headers)
        claims = h.jwt_parts(jwt)[1]
        self.assertEqual(claims["email"], "alice@example.com")
        # The upstream never sees the session cookie.
        self.assertNotIn("_pomerium", headers.get("cookie", ""))

        # Policy: app.localhost is for alice only; bob is signed in but denied.
        bob, r = s.login("bob")
        self.assertEqual(r.status, 403, "hops: %r" % r.hops)
        r = bob.get(s.url("any", "/bob"), follow=True)
        self.assertEqual(r.status, 200, "hops: %r" % r.hops)
        bob_jwt = echo_headers(r)["x-pomerium-jwt-assertion"]
        self.assertEqual(h.jwt_parts(bob_jwt)[1]["email"], "bob@example.com")

        # An API client without a session: 401, not a redirect.
        api = s.browser(headers={"Accept": "application/json"})
        r = api.get(s.url("app", "/api"))
        self.assertEqual(r.status, 401, r.body[:300])
        self.assertIsNone(r.header("Location"))

    def test_second_proxy_replica_shares_the_session(self):
        """Signed in through proxy A, the very next request to proxy B (same
        hosts, other port) is allowed without a sign-in hop."""
        s = self.split
        rounds = 8
        for i in range(rounds):
            b = s.browser()
            b, r = s.login("alice", path="/a%d" % i, browser=b)
            self.assertEqual(r.status, 200, "hops: %r" % r.hops)
            r = b.get(s.url("app", "/b%d" % i, proxy=1))
            self.assertEqual(r.status, 200, "round %d: %r %r\n%s" % (
                i, r.status, r.header("Location"), s.log_text()))
            self.assertEqual(json.loads(r.body)["path"], "/b%d" % i)
            self.assertTrue(echo_headers(r).get("x-pomerium-jwt-assertion"))
        # Proxy B served those requests itself.
        self.assertTrue(s.proxies[1].find("http-request", path="/b0", **{"response-code": 200}))

    def test_grpc_and_storage_metrics_of_each_process(self):
        s = self.split
        db = s.databrokers[0]
        stored = dict(operation="put", result="success", backend="memory", service="databroker")
        served_puts = dict(service="databroker", grpc_service="databroker.DataBrokerService",
                           grpc_method="Put", grpc_server_status="OK")
        before = scrape(db)
        b, r = s.login("alice", path="/metrics-login")
        self.assertEqual(r.status, 200, "hops: %r" % r.hops)
        after = scrape(db)
        # The sign-in stored its session and user through the databroker's
        # gRPC service into its storage.
        count = "pomerium_storage_operation_duration_ms_count"
        self.assertGreater(metric(after, count, **stored), metric(before, count, **stored))
        requests = "pomerium_grpc_server_requests_total"
        self.assertGreater(metric(after, requests, **served_puts),
                           metric(before, requests, **served_puts))
        self.assertGreater(metric(after, "pomerium_storage_operation_duration_ms_sum", **stored), 0)
        # The authenticate process made those calls.
        self.assertGreaterEqual(
            metric(scrape(s.authenticate), "pomerium_grpc_client_requests_total",
                   service="authenticate", grpc_service="databroker.DataBrokerService",
                   grpc_method="Put", grpc_client_status="OK"), 1)

        check = dict(grpc_service="gatehouse.authorize.v1.Authorize", grpc_method="Check")

        def served_checks():
            return sum(metric(scrape(a), requests, service="authorize", grpc_server_status="OK",
                              **check) for a in s.authorizers)

        def proxy_checks(name="pomerium_grpc_client_requests_total"):
            return metric(scrape(s.proxies[0]), name, service="proxy", grpc_client_status="OK",
                          **check)

        served, called = served_checks(), proxy_checks()
        n = 7
        for i in range(n):
            r = b.get(s.url("app", "/m%d" % i))
            self.assertEqual(r.status, 200, "request %d: %r" % (i, r.header("Location")))
        # One Check per proxied request, counted on both sides; the
        # histogram's count agrees with the counter.
        self.assertEqual(served_checks() - served, n)
        self.assertEqual(proxy_checks() - called, n)
        self.assertEqual(proxy_checks("pomerium_grpc_client_request_duration_ms_count"),
                         proxy_checks())

        # Each process has the families of what it serves and calls only.
        proxy = scrape(s.proxies[0])
        self.assertEqual(families(proxy, "pomerium_grpc_server_"), set())
        self.assertEqual(families(proxy, "pomerium_storage_"), set())
        self.assertIn("pomerium_grpc_client_request_duration_ms_bucket",
                      families(proxy, "pomerium_grpc"))
        dbm = scrape(db)
        self.assertEqual(families(dbm, "pomerium_grpc_client_"), set())
        # Authorize replicas read sessions from the databroker: their change
        # stream started with a SyncLatest.
        authorize = scrape(s.authorizers[0])
        self.assertEqual(families(authorize, "pomerium_storage_"), set())
        self.assertGreaterEqual(
            metric(authorize, "pomerium_grpc_client_requests_total", service="authorize",
                   grpc_service="databroker.DataBrokerService", grpc_method="SyncLatest",
                   grpc_client_status="OK"), 1)

    def test_ping_on_both_proxies(self):
        for i in range(2):
            r = self.split.browser().get(self.split.url("app", "/ping", proxy=i))
            self.assertEqual(r.status, 200)


class SplitWrongSharedSecret(unittest.TestCase):
    def test_proxy_with_another_shared_secret_gets_503_and_the_refusal_is_logged(self):
        upstream = h.Upstream()
        self.addCleanup(upstream.close)
        s = h.start_split(self, upstream)
        b, r = s.login("alice")
        self.assertEqual(r.status, 200)

        # A third proxy whose shared secret differs from everyone else's.
        rogue_port = h.free_port()
        cfg = s.process_config("proxy", address="127.0.0.1:%d" % rogue_port,
                               grpc_address="127.0.0.1:0", shared_secret=h.random_secret())
        rogue = h.Gatehouse(cfg)
        self.addCleanup(rogue.cleanup)
        rogue.start()
        mark = s.authorizers[0].mark()
        t0 = time.monotonic()
        r = b.get("https://app.localhost:%d/rogue" % rogue_port)
        elapsed = time.monotonic() - t0
        self.assertEqual(r.status, 503, r.body[:500])
        self.assertIsNone(r.header("Location"))
        self.assertLess(elapsed, 5)
        self.assertEqual(len(upstream.requests), 1)  # alice's sign-in only
        # The authorize process logs why it refused the call, once per peer.
        refusal = s.authorizers[0].wait_for(
            after=mark, level="warn",
            message=None, reason=lambda v: v is not None and "signature" in v)
        self.assertIn("shared", refusal["message"])
        # The proxy's access log says what failed, too.
        line = rogue.wait_for("http-request", path="/rogue")
        self.assertEqual(line["response-code"], 503)
        self.assertIn("unauthenticated", line["response-code-details"])
        self.assertIn("shared_secret", line["response-code-details"])
        self.assertEqual(rogue.stop(), 0)

        # An authorize process with another shared secret: the databroker
        # refuses its sync, and it logs why.
        rogue_az = start_rogue_authorize(self, s)
        failed = rogue_az.wait_for("databroker sync: snapshot failed")
        self.assertIn("signature", failed["error"])
        self.assertEqual(rogue_az.stop(), 0)


def start_rogue_authorize(case, split, health_port=None):
    cfg = split.process_config("authorize", grpc_address="127.0.0.1:%d" % h.free_port(),
                               shared_secret=h.random_secret())
    if health_port:
        cfg["health_check_addr"] = "127.0.0.1:%d" % health_port
    g = h.Gatehouse(cfg)
    case.addCleanup(g.cleanup)
    g.start()
    return g


class SplitWrongSharedSecretGaps(unittest.TestCase):
    """What an operator would also expect to see with a wrong secret."""

    def test_databroker_logs_the_refusal_and_the_refused_authorize_is_not_ready(self):
        upstream = h.Upstream()
        self.addCleanup(upstream.close)
        s = h.start_split(self, upstream)
        health_port = h.free_port()
        mark = s.databrokers[0].mark()
        rogue_az = start_rogue_authorize(self, s, health_port)
        rogue_az.wait_for("databroker sync: snapshot failed")
        r = h.http_request(health_port, "127.0.0.1", "/readyz")
        self.assertEqual(rogue_az.stop(), 0)
        with s.databrokers[0]._cond:
            logged = [l for l in s.databrokers[0].lines[mark:] if l.get("level") == "warn"]
        self.assertTrue(logged, "the databroker logged no refusal:\n" +
                        s.databrokers[0].log_text(10))
        self.assertEqual(r.status, 503, r.body)


class SplitHealthAndDrain(unittest.TestCase):
    def test_readyz_and_sigterm_exit_0(self):
        upstream = h.Upstream()
        self.addCleanup(upstream.close)
        s = h.SplitDeployment(upstream)
        self.addCleanup(s.cleanup)
        idp = h.start_idp(self, clients=[s.idp_client()], users=h.LOGIN_USERS)
        s.idp = idp
        health = {}
        s.start_databroker(0)
        health["authorize"] = h.free_port()
        s.start_authorize(0, health_check_addr="127.0.0.1:%d" % health["authorize"])
        s.start_authenticate()
        health["proxy"] = h.free_port()
        s.start_proxy(0, health_check_addr="127.0.0.1:%d" % health["proxy"])
        for name, port in health.items():
            r = h.http_request(port, "127.0.0.1", "/readyz")
            self.assertEqual(r.status, 200, "%s: %r" % (name, r.body))
            self.assertEqual(json.loads(r.body)["status"], "RUNNING", r.body)

        # A request in flight while every process gets SIGTERM completes.
        b, r = s.login("alice")
        self.assertEqual(r.status, 200)
        upstream.release.clear()
        import threading
        result = {}
        t = threading.Thread(target=lambda: result.update(r=b.get(s.url("app", "/slow"))))
        t.start()
        self.assertTrue(upstream.arrived.wait(10))
        for g in s.processes():
            g.signal(signal.SIGTERM)
        time.sleep(0.3)
        upstream.release.set()
        t.join(20)
        self.assertEqual(result["r"].status, 200)
        for g in s.processes():
            rc = g.wait_exit(timeout=30)
            self.assertEqual(rc, 0, "%s exited %r:\n%s" % (g.services, rc, g.log_text()))


if __name__ == "__main__":
    unittest.main()
