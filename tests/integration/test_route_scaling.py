"""Thousands of routes: every one is served after start, a reload under load
fails no request, and a bad reload names the route's key and keeps the
routes that were serving."""

import http.client
import json
import threading
import time
import unittest

from harness import Client, GatehouseTestCase, config, route

ROUTES = 3000


def many_routes(upstream_url, changed=None, changed_to=None):
    """Hosts of their own, and shared hosts with path, prefix and regex routes."""
    routes = []
    for i in range(ROUTES):
        to = changed_to if i == changed else upstream_url
        if i % 10 == 1:
            routes.append(route("http://shared-%d.test" % (i % 50), to, path="/p/%d" % i))
        elif i % 10 == 4:
            routes.append(route("http://shared-%d.test" % (i % 50), to, prefix="/api/%d/" % i))
        elif i % 100 == 9:
            routes.append(route("http://shared-%d.test" % (i % 50), to, regex="^/re/%d/[0-9]+$" % i))
        else:
            routes.append(route("http://app-%d.test" % i, to))
    return routes


def target(i):
    if i % 10 == 1:
        return "shared-%d.test" % (i % 50), "/p/%d" % i
    if i % 10 == 4:
        return "shared-%d.test" % (i % 50), "/api/%d/x" % i
    if i % 100 == 9:
        return "shared-%d.test" % (i % 50), "/re/%d/42" % i
    return "app-%d.test" % i, "/"


class RouteScalingTest(GatehouseTestCase):
    def setUp(self):
        self.a = self.upstream("A")
        self.b = self.upstream("B")
        self.g = self.start_gatehouse(config(many_routes(self.a.url)))

    def server(self, i):
        host, path = target(i)
        c = Client(self.g.port, host)
        try:
            r = c.get(path)
        finally:
            c.close()
        self.assertEqual(r.status, 200, "%s%s: %r" % (host, path, r.body[:200]))
        return r.json()["server"]

    def test_every_kind_of_route_is_served(self):
        for i in (0, 1, 4, 9, 1009, ROUTES - 1):
            self.assertEqual(self.server(i), "A", i)

    def test_reload_under_load_fails_no_request(self):
        stop = threading.Event()
        failures = []
        done = [0] * 4

        def load(worker):
            conn = http.client.HTTPConnection("127.0.0.1", self.g.port, timeout=10)
            i = worker
            while not stop.is_set():
                host, path = target(i * 7 % ROUTES)
                i += 4
                try:
                    conn.request("GET", path, headers={"Host": host})
                    r = conn.getresponse()
                    r.read()
                    if r.status != 200:
                        failures.append("%s%s: %d" % (host, path, r.status))
                    if r.getheader("Connection", "").lower() == "close":
                        conn.close()
                except (OSError, http.client.HTTPException) as e:
                    failures.append("%s%s: %r" % (host, path, e))
                    conn.close()
                done[worker] += 1
            conn.close()

        threads = [threading.Thread(target=load, args=(w,)) for w in range(4)]
        for t in threads:
            t.start()
        try:
            time.sleep(0.3)
            changed = ROUTES // 2
            mark = self.g.mark()
            self.g.write_config(config(many_routes(self.a.url, changed, self.b.url)))
            line = self.g.wait_for("config reloaded", after=mark)
            self.assertEqual(line["routes"], ROUTES)
            deadline = time.monotonic() + 10
            while self.server(changed) != "B":
                self.assertLess(time.monotonic(), deadline, "the changed route still goes to A")
                time.sleep(0.01)
            time.sleep(0.3)
        finally:
            stop.set()
            for t in threads:
                t.join()
        self.assertEqual(failures, [])
        self.assertGreater(sum(done), 50)
        self.assertEqual(self.server(changed - 1), "A")

    def test_a_change_written_while_a_reload_loads_is_applied(self):
        # The second write lands while the first is being loaded. It has an
        # event of its own, and that event must reload, whatever the files
        # held by the time the first reload was done.
        texts = [json.dumps(config(many_routes(self.a.url, i, self.b.url)), indent=1)
                 for i in (0, 1, 2)]
        mark = self.g.mark()
        self.g.write_config(texts[0])
        load_s = self.g.wait_for("config reloaded", after=mark)["load_ms"] / 1000.0
        self.g.write_config(texts[1])
        time.sleep(0.005 + load_s / 2)
        self.g.write_config(texts[2])
        deadline = time.monotonic() + 10
        while self.server(2) != "B":
            self.assertLess(time.monotonic(), deadline, "the last write was never applied")
            time.sleep(0.02)
        self.assertEqual(self.server(1), "A")
        self.assertEqual(self.server(0), "A")

    def test_bad_reload_names_the_key_and_keeps_the_routes(self):
        routes = many_routes(self.b.url)
        routes[ROUTES - 1]["to"] = "htp://127.0.0.1:1"
        mark = self.g.mark()
        self.g.write_config(config(routes))
        line = self.g.wait_for("config reload failed, keeping the previous configuration",
                               after=mark)
        self.assertIn("routes[%d].to" % (ROUTES - 1), line["error"])
        self.assertEqual(self.server(0), "A")
        self.assertEqual(self.server(ROUTES - 2), "A")


if __name__ == "__main__":
    unittest.main()
