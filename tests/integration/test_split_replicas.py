"""Replicas of the services that browsers reach: two authenticate processes
on one address (SO_REUSEPORT, so the kernel spreads new connections over
them as a layer-4 balancer would) and two proxies, on two databrokers,
two authorize replicas and one PostgreSQL. Each kind is killed with
SIGKILL in turn: sign-in keeps working through the other authenticate
replica, and signed-in users keep working through the other proxy, with
the failed requests counted and reported.
"""

import sys
import time
import unittest

import harness as h

RATE = 20


def report(*args):
    print(*args, file=sys.stderr, flush=True)


def served(g):
    return len(g.find("http-request"))


class SplitReplicas(unittest.TestCase):
    def setUp(self):
        self.pg = h.start_postgres(self)
        self.upstream = h.Upstream()
        self.addCleanup(self.upstream.close)
        s = self.split = h.start_split(self, self.upstream, databrokers=2, authorizers=2,
                                       proxies=2, postgres=self.pg)
        # The second authenticate replica shares the first one's address.
        self.auth2 = s._start("authenticate", True,
                              address="127.0.0.1:%d" % s.authenticate_port,
                              grpc_address="127.0.0.1:0")
        self.addCleanup(self.auth2.cleanup)

        def stop_auth2():
            if self.auth2.returncode is None:
                self.assertEqual(self.auth2.stop(), 0, self.auth2.log_text())
        self.addCleanup(stop_auth2)

    def fresh_login(self, user="alice", host="app", proxy=0):
        b, r = self.split.login(user, host=host, path="/fresh", proxy=proxy)
        return r

    def test_authenticate_replica_killed(self):
        s = self.split
        first = s.authenticate
        for i in range(6):
            r = self.fresh_login("alice" if i % 2 == 0 else "bob", "app" if i % 2 == 0 else "any",
                                 proxy=i % 2)
            self.assertEqual(r.status, 200, "hops: %r\n%s" % (r.hops, s.log_text()))
        # Both replicas answered sign-ins (new connections are spread over
        # the two listening sockets).
        self.assertGreater(served(first), 0)
        self.assertGreater(served(self.auth2), 0)

        first.proc.kill()
        first.proc.wait()
        t0 = time.monotonic()
        statuses = [self.fresh_login("bob", "any", proxy=i % 2).status for i in range(6)]
        report("sign-ins after one authenticate replica was killed: %r in %.1fs" % (
            statuses, time.monotonic() - t0))
        self.assertEqual(statuses, [200] * 6, s.log_text())

    def test_proxy_replica_killed_under_load(self):
        s = self.split
        browser, r = s.login("alice", proxy=0)
        self.assertEqual(r.status, 200, "hops: %r" % r.hops)
        # The session made through proxy 0 loads proxy 1.
        load = h.SteadyLoad(browser, lambda n: s.url("app", "/load/%d" % n, proxy=1), rate=RATE)
        self.addCleanup(load.stop)
        load.start()
        load.wait_count(2 * RATE)
        t_kill = time.monotonic()
        s.proxies[0].proc.kill()
        s.proxies[0].proc.wait()
        load.wait_count(load.count() + 3 * RATE)
        # A new sign-in goes through the surviving proxy.
        r = self.fresh_login("bob", "any", proxy=1)
        self.assertEqual(r.status, 200, "hops: %r\n%s" % (r.hops, s.log_text()))
        results = load.stop()
        after = [x for x in results if x[0] >= t_kill]
        bad = [x for x in after if x[2] != 200]
        report("proxy SIGKILL: %d requests to the other proxy after it, non-200: %d" % (
            len(after), len(bad)))
        self.assertGreater(len(after), 2 * RATE)
        self.assertEqual(bad, [])


if __name__ == "__main__":
    unittest.main()
