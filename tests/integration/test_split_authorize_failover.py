"""Split mode: two authorize replicas behind authorize_service_urls. A
signed-in client keeps a steady load (20 requests/s) while a replica is
stopped (SIGTERM) or killed (SIGKILL); with every replica down the proxy
answers 503 at once (no hang, no sign-in redirect) and recovers when one
comes back. The upstream never sees a request that was not allowed."""

import json
import sys
import time
import unittest

import harness as h

RATE = 20


def report(*args):
    print(*args, file=sys.stderr, flush=True)


class AuthorizeFailover(unittest.TestCase):
    def setUp(self):
        self.upstream = h.Upstream()
        self.addCleanup(self.upstream.close)
        self.split = h.start_split(self, self.upstream, authorizers=2)
        self.browser, r = self.split.login("alice")
        self.assertEqual(r.status, 200, "hops: %r" % r.hops)

    def load(self, tag):
        s = self.split
        load = h.SteadyLoad(self.browser, lambda n: s.url("app", "/%s/%d" % (tag, n)), rate=RATE)
        self.addCleanup(load.stop)
        return load.start()

    def assert_only_allowed_requests_forwarded(self, tag, results):
        """Every request the upstream saw got a 200 to the client, carried
        alice's identity JWT, and every 200 reached the upstream."""
        prefix = "/%s/" % tag
        seen = [r for r in self.upstream.requests if r["path"].startswith(prefix)]
        ok = {"%s%d" % (prefix, r[1]) for r in results if r[2] == 200}
        self.assertEqual(sorted(r["path"] for r in seen), sorted(ok))
        for r in seen:
            headers = {k.lower(): v for k, v in r["headers"]}
            jwt = headers.get("x-pomerium-jwt-assertion")
            self.assertTrue(jwt, r)
            self.assertEqual(h.jwt_parts(jwt)[1]["email"], "alice@example.com")

    def switch(self, tag, act, after_requests=5 * RATE):
        """Steady load; `act()` after 2 s; then `after_requests` more.
        Returns (non-200 results after the act, number after the act)."""
        load = self.load(tag)
        load.wait_count(2 * RATE)
        t_act = time.monotonic()
        act()
        load.wait_count(load.count() + after_requests)
        results = load.stop()
        before = [r for r in results if r[0] + r[3] < t_act]
        after = [r for r in results if r[0] + r[3] >= t_act]
        self.assertEqual(h.SteadyLoad.statuses(before), {200: len(before)}, before[-5:])
        bad = [r for r in after if r[2] != 200]
        report("%s: %d requests after the switch, non-200: %d %r; statuses %r; slowest %.3fs" % (
            tag, len(after), len(bad), [(r[2], r[5]) for r in bad][:10],
            h.SteadyLoad.statuses(after), max(r[3] for r in after)))
        for r in bad:
            self.assertEqual(r[2], 503, r)  # fail closed: an error page, never a redirect
            self.assertIsNone(r[4], r)
        self.assert_only_allowed_requests_forwarded(tag, results)
        return bad, after

    def test_replica_stopped_and_killed_under_load(self):
        s = self.split
        # SIGTERM: the replica drains its calls; the proxy moves on.
        bad, after = self.switch("term", lambda: self.assertEqual(s.authorizers[0].stop(), 0))
        self.assertLessEqual(len(bad), max(2, len(after) * 3 // 100))

        # Back with both replicas, then SIGKILL the other one.
        s.start_authorize(0)
        self.wait_for_200("/back")
        # The proxy has reconnected to the restarted replica (round robin
        # sends it every other call from then on).
        h.wait_tcp_clients(s.authorize_ports[0])
        bad, after = self.switch("kill", lambda: (s.authorizers[1].proc.kill(),
                                                  s.authorizers[1].proc.wait()))
        self.assertLessEqual(len(bad), max(2, len(after) * 3 // 100))
        # The survivor served every request after the switch.
        self.assertEqual(s.authorizers[0].proc.poll(), None)

    def test_replica_killed_under_concurrent_load(self):
        """Four clients as fast as they can: calls in flight on the killed
        replica are the only ones that may fail (503, never forwarded)."""
        s = self.split
        browsers = [self.browser] + [s.login("alice", browser=s.browser())[0] for _ in range(3)]
        loads = []
        for i, b in enumerate(browsers):
            load = h.SteadyLoad(b, lambda n, i=i: s.url("app", "/fast%d/%d" % (i, n)), rate=500)
            self.addCleanup(load.stop)
            loads.append(load.start())
        time.sleep(1.5)
        t_kill = time.monotonic()
        s.authorizers[0].proc.kill()
        s.authorizers[0].proc.wait()
        time.sleep(3)
        results = []
        for i, load in enumerate(loads):
            done = load.stop()
            self.assert_only_allowed_requests_forwarded("fast%d" % i, done)
            results += done
        # Requests that ended before the kill; the others were in flight or later.
        before = [r for r in results if r[0] + r[3] < t_kill]
        after = [r for r in results if r[0] + r[3] >= t_kill]
        bad = [r for r in after if r[2] != 200]
        window = [r for r in after if r[0] < t_kill + 0.5]
        report("concurrent load (4 clients): %d requests before the kill, %d after "
               "(%d in its first 0.5 s); non-200: %d %r" % (
                   len(before), len(after), len(window), len(bad),
                   h.SteadyLoad.statuses(bad)))
        self.assertEqual(h.SteadyLoad.statuses(before), {200: len(before)})
        for r in bad:
            self.assertEqual(r[2], 503, r)
            self.assertIsNone(r[4], r)
        self.assertLessEqual(len(bad), max(4, len(after) // 100))

    def wait_for_200(self, path, timeout=20):
        t0 = time.monotonic()
        statuses = []
        while time.monotonic() - t0 < timeout:
            r = self.browser.get(self.split.url("app", path))
            statuses.append(r.status)
            if r.status == 200:
                return time.monotonic() - t0, statuses
            time.sleep(0.05)
        self.fail("no 200 within %ss: %r\n%s" % (timeout, statuses[-10:], self.split.log_text()))

    def test_every_replica_down_is_a_quick_503_and_one_back_recovers(self):
        s = self.split
        for g in s.authorizers:
            g.proc.kill()
            g.proc.wait()
        seen_before = len(self.upstream.requests)
        anonymous = s.browser()
        api = s.browser(headers={"Accept": "application/json"})
        slowest = 0
        for i, client in enumerate([self.browser] * 10 + [anonymous] * 3 + [api] * 3):
            t0 = time.monotonic()
            r = client.get(s.url("app", "/down/%d" % i))
            elapsed = time.monotonic() - t0
            slowest = max(slowest, elapsed)
            self.assertEqual(r.status, 503, r.body[:300])
            self.assertIsNone(r.header("Location"))
            self.assertLess(elapsed, 2.0)
        # A browser gets an HTML error page; nothing reached the upstream.
        r = self.browser.get(s.url("app", "/down/page"))
        self.assertIn("text/html", r.header("Content-Type") or "")
        self.assertEqual(len(self.upstream.requests), seen_before)
        line = s.proxies[0].wait_for("http-request", path="/down/page")
        self.assertIn("authorize", line.get("response-code-details", ""))
        report("all authorize replicas down: 503s, slowest %.3fs" % slowest)

        # One replica comes back on its port: the proxy recovers by itself.
        t0 = time.monotonic()
        s.start_authorize(1)
        started = time.monotonic() - t0
        took, statuses = self.wait_for_200("/recovered")
        report("authorize restarted (start %.2fs): first 200 %.2fs after it was up, "
               "statuses before: %r" % (started, took, statuses[:-1][-10:]))
        self.assertLess(took, 5)
        r = self.browser.get(s.url("app", "/recovered/again"))
        self.assertEqual(r.status, 200)
        self.assertEqual(json.loads(r.body)["path"], "/recovered/again")


if __name__ == "__main__":
    unittest.main()
