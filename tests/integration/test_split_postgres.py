"""Split mode on PostgreSQL: two databroker replicas on one PostgreSQL 15
server. A replica killed under load (clients move to the other, no session
lost, sign-in still works); PostgreSQL restarted (sign-in fails cleanly
with a 503 while it is down, signed-in users keep working, everything
recovers without restarting a Gatehouse process)."""

import sys
import time
import unittest

import harness as h

RATE = 20


def report(*args):
    print(*args, file=sys.stderr, flush=True)


class SplitOnPostgres(unittest.TestCase):
    def setUp(self):
        self.pg = h.start_postgres(self)
        self.upstream = h.Upstream()
        self.addCleanup(self.upstream.close)
        self.split = h.start_split(self, self.upstream, databrokers=2, authorizers=2,
                                   postgres=self.pg)
        self.browser, r = self.split.login("alice")
        self.assertEqual(r.status, 200, "hops: %r\n%s" % (r.hops, self.split.log_text()))

    def load(self, tag):
        s = self.split
        load = h.SteadyLoad(self.browser, lambda n: s.url("app", "/%s/%d" % (tag, n)), rate=RATE)
        self.addCleanup(load.stop)
        return load.start()

    def fresh_login(self, user, host):
        """A new browser signs in; returns (final response, seconds)."""
        t0 = time.monotonic()
        b, r = self.split.login(user, host=host, path="/fresh")
        return b, r, time.monotonic() - t0

    def test_databroker_replica_killed_under_load(self):
        s = self.split
        # Sessions are in PostgreSQL, shared by both replicas.
        rows = self.pg.sql("SELECT count(*) FROM pg_stat_activity WHERE datname = 'gatehouse'")
        report("postgres connections from gatehouse: %s" % rows.strip())
        load = self.load("dbkill")
        load.wait_count(2 * RATE)
        t_kill = time.monotonic()
        s.databrokers[0].proc.kill()
        s.databrokers[0].proc.wait()
        load.wait_count(load.count() + 3 * RATE)

        # A new sign-in (bob) during the load, and one more for alice in
        # another browser, go through the surviving replica.
        b2, r, took = self.fresh_login("bob", "any")
        self.assertEqual(r.status, 200, "hops: %r\n%s" % (r.hops, s.log_text()))
        report("sign-in after the databroker kill: %.2fs" % took)
        b3, r, _ = self.fresh_login("alice", "app")
        self.assertEqual(r.status, 200, "hops: %r" % r.hops)
        # The new session works on the other proxy path too (read-your-writes
        # across the authorize replicas).
        for i in range(5):
            self.assertEqual(b2.get(s.url("any", "/bob/%d" % i)).status, 200)
        load.wait_count(load.count() + 2 * RATE)
        results = load.stop()
        after = [r for r in results if r[0] >= t_kill]
        bad = [r for r in after if r[2] != 200]
        report("databroker SIGKILL: %d requests after, non-200: %d %r" % (
            len(after), len(bad), [(r[2], r[5]) for r in bad][:10]))
        self.assertEqual(bad, [])

        # The databroker comes back; once its clients (authenticate and both
        # authorize replicas at least) have reconnected, the other one goes.
        before = h.tcp_clients(s.db_ports[1])
        s.start_databroker(0)
        t0 = time.monotonic()
        h.wait_tcp_clients(s.db_ports[0], min(before, 3))
        report("clients reconnected to the restarted databroker in %.2fs (%d connections "
               "to the other)" % (time.monotonic() - t0, before))
        s.databrokers[1].stop()
        b4, r, took = self.fresh_login("bob", "any")
        self.assertEqual(r.status, 200, "hops: %r\n%s" % (r.hops, s.log_text()))
        self.assertEqual(self.browser.get(s.url("app", "/end")).status, 200)

    def test_postgres_restarted(self):
        s = self.split
        load = self.load("pg")
        load.wait_count(RATE)
        t_down = time.monotonic()
        self.pg.stop(mode="fast")
        load.wait_count(load.count() + RATE)

        # A new sign-in fails cleanly: the callback answers 503, no loop.
        b, r, took = self.fresh_login("bob", "any")
        report("sign-in while PostgreSQL is down: %d after %d hops, %.2fs; last %s" % (
            r.status, len(r.hops), took, r.hops[-1].url[:80]))
        self.assertEqual(r.status, 503, "hops: %r\n%s" % (r.hops, r.body[:300]))
        self.assertTrue(r.url.startswith(s.authenticate_url + "/oauth2/callback"), r.url)
        self.assertIsNone(r.header("Location"))
        self.assertLess(len(r.hops), 15)
        self.assertLess(took, 10)

        # Signed-in users keep working while it is down.
        load.wait_count(load.count() + 2 * RATE)
        t_up = time.monotonic()
        self.pg.start()
        report("PostgreSQL down for %.1fs" % (t_up - t_down))

        # Everything recovers with no Gatehouse process restarted.
        t0 = time.monotonic()
        attempts = []
        while True:
            b, r, _ = self.fresh_login("bob", "any")
            attempts.append(r.status)
            if r.status == 200:
                break
            self.assertEqual(r.status, 503, "hops: %r" % r.hops)
            self.assertLess(time.monotonic() - t0, 30, "%r\n%s" % (attempts, s.log_text()))
            time.sleep(0.5)
        report("sign-in works again %.2fs after PostgreSQL is back (attempts %r)" % (
            time.monotonic() - t0, attempts))
        for i in range(3):
            self.assertEqual(b.get(s.url("any", "/bob/%d" % i)).status, 200)
        load.wait_count(load.count() + RATE)
        results = load.stop()
        bad = [r for r in results if r[2] != 200]
        report("PostgreSQL restart: %d requests of a signed-in user, non-200: %d %r" % (
            len(results), len(bad), [(r[2], r[5]) for r in bad][:10]))
        self.assertEqual(bad, [])
        for g in s.processes():
            self.assertIsNone(g.proc.poll(), "%s exited" % g.services)
        # The new session is in PostgreSQL.
        count = int(self.pg.sql("SELECT count(*) FROM pg_tables WHERE schemaname NOT IN "
                                "('pg_catalog', 'information_schema')").strip())
        self.assertGreater(count, 0)


if __name__ == "__main__":
    unittest.main()
