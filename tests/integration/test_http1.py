"""HTTP/1.x on the wire: framing attacks answered with 400 and a closed
connection, header limits, pipelining, keep-alive, HTTP/1.0, HEAD and
100-continue."""

import hashlib
import os
import tempfile
import threading
import time
import unittest

from harness import Client, ClassGatehouse, Raw, config, curl, header, route

BAD_REQUESTS = {
    "content_length_and_chunked":
        b"POST /x HTTP/1.1\r\nHost: app.test\r\nContent-Length: 5\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "two_content_lengths":
        b"POST /x HTTP/1.1\r\nHost: app.test\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"
        b"hello!",
    "transfer_encoding_not_chunked":
        b"POST /x HTTP/1.1\r\nHost: app.test\r\nTransfer-Encoding: gzip\r\n\r\nabc",
    "bare_lf":
        b"GET /x HTTP/1.1\nHost: app.test\n\n",
    "bare_lf_in_one_header":
        b"GET /x HTTP/1.1\r\nHost: app.test\nX-A: b\r\n\r\n",
    "obs_fold":
        b"GET /x HTTP/1.1\r\nHost: app.test\r\nX-A: b\r\n c\r\n\r\n",
    "nul_in_value":
        b"GET /x HTTP/1.1\r\nHost: app.test\r\nX-A: b\x00c\r\n\r\n",
    "space_before_colon":
        b"GET /x HTTP/1.1\r\nHost: app.test\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
    "space_in_host_name":
        b"GET /x HTTP/1.1\r\nHost : app.test\r\n\r\n",
    "missing_host":
        b"GET /x HTTP/1.1\r\nX-A: b\r\n\r\n",
    "two_spaces_in_request_line":
        b"GET  /x HTTP/1.1\r\nHost: app.test\r\n\r\n",
    "control_character_in_target":
        b"GET /x\x01y HTTP/1.1\r\nHost: app.test\r\n\r\n",
    "bad_host":
        b"GET /x HTTP/1.1\r\nHost: app.test/evil\r\n\r\n",
    "userinfo_in_absolute_target":
        b"GET http://user@app.test/x HTTP/1.1\r\nHost: app.test\r\n\r\n",
    "transfer_encoding_chunked_then_identity":
        b"POST /x HTTP/1.1\r\nHost: app.test\r\nTransfer-Encoding: chunked, identity\r\n\r\n"
        b"0\r\n\r\n",
    "transfer_encoding_xchunked":
        b"POST /x HTTP/1.1\r\nHost: app.test\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n",
    "transfer_encoding_on_http10":
        b"POST /x HTTP/1.0\r\nHost: app.test\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "content_length_with_sign":
        b"POST /x HTTP/1.1\r\nHost: app.test\r\nContent-Length: +5\r\n\r\nhello",
    "content_length_hex":
        b"POST /x HTTP/1.1\r\nHost: app.test\r\nContent-Length: 0x5\r\n\r\nhello",
    "content_length_list":
        b"POST /x HTTP/1.1\r\nHost: app.test\r\nContent-Length: 5, 6\r\n\r\nhello!",
    "tab_before_colon":
        b"GET /x HTTP/1.1\r\nHost: app.test\r\nX-A\t: b\r\n\r\n",
    "bare_cr":
        b"GET /x HTTP/1.1\r\nHost: app.test\r\nX-A: b\rX-B: c\r\n\r\n",
    "connect_method":
        b"CONNECT app.test:443 HTTP/1.1\r\nHost: app.test:443\r\n\r\n",
}


class FramingTest(ClassGatehouse):
    @classmethod
    def setUpUpstreams(cls):
        cls.a = cls.class_upstream("A")

    @classmethod
    def make_config(cls):
        return config([route("https://app.test", cls.a.url)])

    def raw(self):
        r = Raw(self.port)
        self.addCleanup(r.close)
        return r

    def assertRejectedAndClosed(self, data, status=400):
        before = len(self.a.requests)
        raw = self.raw()
        raw.send(data)
        r = raw.read_response()
        self.assertEqual(r.status, status, r)
        self.assertTrue(raw.closed_by_peer(), "connection left open after %d" % status)
        self.assertEqual(len(self.a.requests), before, "the request reached the upstream")
        return r

    def test_malformed_requests(self):
        for name, data in BAD_REQUESTS.items():
            with self.subTest(name):
                self.assertRejectedAndClosed(data)

    def test_bad_chunk_size(self):
        self.assertRejectedAndClosed(
            b"POST /x HTTP/1.1\r\nHost: app.test\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"zz\r\nhello\r\n0\r\n\r\n")

    def test_chunk_size_overflow(self):
        self.assertRejectedAndClosed(
            b"POST /x HTTP/1.1\r\nHost: app.test\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"fffffffffffffffff1\r\nhello\r\n0\r\n\r\n")

    def test_rejection_is_json_when_asked_and_has_request_id(self):
        r = self.assertRejectedAndClosed(
            b"GET /x HTTP/1.1\r\nHost: app.test\r\nAccept: application/json\r\n"
            b"X-A: b\r\n c\r\n\r\n")
        # The head is not trusted, so the error page is HTML whatever Accept said,
        # but it still names a request id.
        self.assertTrue(r.header("x-request-id"))

    def test_huge_header_is_431(self):
        big = b"X-Big: " + b"a" * (70 * 1024) + b"\r\n"
        self.assertRejectedAndClosed(b"GET /x HTTP/1.1\r\nHost: app.test\r\n" + big + b"\r\n", 431)

    def test_many_headers_is_431(self):
        many = b"".join(b"X-H%d: v\r\n" % i for i in range(150))
        self.assertRejectedAndClosed(b"GET /x HTTP/1.1\r\nHost: app.test\r\n" + many + b"\r\n", 431)

    def test_headers_below_the_limit_pass(self):
        raw = self.raw()
        big = b"X-Big: " + b"a" * (40 * 1024) + b"\r\n"
        raw.send(b"GET /x HTTP/1.1\r\nHost: app.test\r\n" + big + b"\r\n")
        r = raw.read_response()
        self.assertEqual(r.status, 200)
        self.assertEqual(len(header(r.json(), "x-big")[0]), 40 * 1024)

    def test_unsupported_version(self):
        raw = self.raw()
        raw.send(b"GET /x HTTP/1.2\r\nHost: app.test\r\n\r\n")
        r = raw.read_response()
        self.assertIn(r.status, (400, 505))
        self.assertTrue(raw.closed_by_peer())

    def test_pipelined_requests_are_answered_in_order(self):
        raw = self.raw()
        raw.send(b"GET /first HTTP/1.1\r\nHost: app.test\r\n\r\n"
                 b"POST /second HTTP/1.1\r\nHost: app.test\r\nContent-Length: 4\r\n\r\nbody"
                 b"GET /third HTTP/1.1\r\nHost: app.test\r\n\r\n")
        paths = []
        for _ in range(3):
            r = raw.read_response()
            self.assertEqual(r.status, 200)
            paths.append((r.json()["path"], r.json()["body"]))
        self.assertEqual(paths, [("/first", ""), ("/second", "body"), ("/third", "")])
        self.assertFalse(raw.closed_by_peer(timeout=0.3))

    def test_fifty_pipelined_requests(self):
        raw = self.raw()
        raw.send(b"".join(b"GET /p%d HTTP/1.1\r\nHost: app.test\r\n\r\n" % i for i in range(50)))
        for i in range(50):
            r = raw.read_response()
            self.assertEqual(r.json()["path"], "/p%d" % i)

    def test_smuggled_request_after_a_rejected_one_is_not_served(self):
        before = len(self.a.requests)
        raw = self.raw()
        raw.send(b"POST /x HTTP/1.1\r\nHost: app.test\r\nContent-Length: 40\r\n"
                 b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
                 b"GET /smuggled HTTP/1.1\r\nHost: app.test\r\n\r\n")
        self.assertEqual(raw.read_response().status, 400)
        self.assertTrue(raw.closed_by_peer())
        self.assertEqual(len(self.a.requests), before)

    def test_long_url_is_refused(self):
        before = len(self.a.requests)
        raw = self.raw()
        raw.send(b"GET /" + b"a" * (70 * 1024) + b" HTTP/1.1\r\nHost: app.test\r\n\r\n")
        r = raw.read_response()
        self.assertIn(r.status, (414, 431))
        self.assertEqual(len(self.a.requests), before)

    def test_connection_listed_headers_are_not_forwarded(self):
        raw = self.raw()
        raw.send(b"GET /x HTTP/1.1\r\nHost: app.test\r\nConnection: keep-alive, X-Drop\r\n"
                 b"X-Drop: 1\r\nX-Keep: 2\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\n"
                 b"Proxy-Authorization: Basic eDp5\r\n\r\n")
        echo = raw.read_response().json()
        self.assertEqual(header(echo, "x-drop"), [])
        self.assertEqual(header(echo, "keep-alive"), [])
        self.assertEqual(header(echo, "proxy-authorization"), [])
        self.assertEqual(header(echo, "x-keep"), ["2"])

    def test_connection_close_from_the_client(self):
        raw = self.raw()
        raw.send(b"GET /x HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n")
        r = raw.read_response()
        self.assertEqual(r.status, 200)
        self.assertEqual((r.header("connection") or "").lower(), "close")
        self.assertTrue(raw.closed_by_peer())

    def test_unread_body_of_a_local_answer_is_not_parsed_as_a_request(self):
        before = len(self.a.requests)
        smuggled = b"GET /smuggled HTTP/1.1\r\nHost: app.test\r\n\r\n"
        raw = self.raw()
        raw.send(b"POST /x HTTP/1.1\r\nHost: nowhere.test\r\nContent-Length: %d\r\n\r\n"
                 % len(smuggled) + smuggled + b"GET /real HTTP/1.1\r\nHost: app.test\r\n\r\n")
        self.assertEqual(raw.read_response().status, 404)
        r = raw.read_response()
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json()["path"], "/real")
        self.assertEqual([e["path"] for e in self.a.requests[before:]], ["/real"])

    def test_large_unread_body_of_a_local_answer_closes_the_connection(self):
        raw = self.raw()
        raw.send(b"POST /x HTTP/1.1\r\nHost: nowhere.test\r\nContent-Length: %d\r\n\r\n"
                 % (4 * 1024 * 1024))
        r = raw.read_response()
        self.assertEqual(r.status, 404)
        # Gatehouse will not read 4 MiB it has no use for: it says it closes.
        self.assertEqual((r.header("connection") or "").lower(), "close")

    def test_keep_alive_reuses_both_connections(self):
        c = Client(self.port, "app.test")
        self.addCleanup(c.close)
        first = c.get("/one")
        sock = c.conn.sock
        second = c.get("/two")
        self.assertEqual((first.status, second.status), (200, 200))
        self.assertIsNone(first.header("connection"))
        self.assertIs(c.conn.sock, sock, "client connection was not kept alive")
        # The upstream connection came back from the pool.
        self.assertEqual(first.json()["peer_port"], second.json()["peer_port"])

    def test_http10(self):
        raw = self.raw()
        raw.send(b"GET /old HTTP/1.0\r\nHost: app.test\r\n\r\n")
        r = raw.read_response()
        self.assertEqual(r.version, "HTTP/1.0")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json()["path"], "/old")
        self.assertIsNone(r.header("transfer-encoding"))
        self.assertTrue(raw.closed_by_peer())

    def test_http10_without_host(self):
        # HTTP/1.0 needs no Host; without one there is no route.
        raw = self.raw()
        raw.send(b"GET /old HTTP/1.0\r\n\r\n")
        self.assertEqual(raw.read_response().status, 400)

    def test_http10_keep_alive(self):
        raw = self.raw()
        raw.send(b"GET /a HTTP/1.0\r\nHost: app.test\r\nConnection: keep-alive\r\n\r\n")
        r = raw.read_response()
        self.assertEqual(r.status, 200)
        self.assertEqual((r.header("connection") or "").lower(), "keep-alive")
        raw.send(b"GET /b HTTP/1.0\r\nHost: app.test\r\n\r\n")
        r = raw.read_response()
        self.assertEqual(r.json()["path"], "/b")

    def test_http10_streamed_body_ends_with_the_connection(self):
        raw = self.raw()
        raw.send(b"GET /big/100000?chunked HTTP/1.0\r\nHost: app.test\r\n\r\n")
        r = raw.read_response()
        self.assertEqual(r.status, 200)
        self.assertIsNone(r.header("transfer-encoding"))
        self.assertEqual(len(r.body), 100000)

    def test_head_has_length_and_no_body(self):
        raw = self.raw()
        raw.send(b"HEAD /big/12345 HTTP/1.1\r\nHost: app.test\r\n\r\n"
                 b"GET /after HTTP/1.1\r\nHost: app.test\r\n\r\n")
        head = raw.read_response(head_request=True)
        self.assertEqual(head.status, 200)
        self.assertEqual(head.header("content-length"), "12345")
        after = raw.read_response()
        self.assertEqual(after.status, 200)
        self.assertEqual(after.json()["path"], "/after")
        self.assertEqual(self.a.requests[-2]["method"], "HEAD")

    def test_head_with_curl(self):
        r = curl("http://app.test:%d/big/777" % self.port, "-I")
        self.assertStatus(r, 200)
        self.assertEqual(r.header("content-length"), "777")

    def test_chunked_request_body_is_forwarded(self):
        raw = self.raw()
        raw.send(b"POST /c HTTP/1.1\r\nHost: app.test\r\nTransfer-Encoding: chunked\r\n\r\n"
                 b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n")
        r = raw.read_response()
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json()["body"], "hello world")
        raw.send(b"GET /next HTTP/1.1\r\nHost: app.test\r\n\r\n")
        self.assertEqual(raw.read_response().json()["path"], "/next")

    def test_chunked_request_with_trailers(self):
        raw = self.raw()
        raw.send(b"POST /c HTTP/1.1\r\nHost: app.test\r\nTransfer-Encoding: chunked\r\n\r\n"
                 b"5\r\nhello\r\n0\r\nX-Trailer: t\r\nX-Pomerium-Jwt-Assertion: forged\r\n\r\n")
        r = raw.read_response()
        self.assertEqual(r.status, 200)
        echo = r.json()
        self.assertEqual(echo["body"], "hello")
        # Trailer fields never turn into header fields upstream.
        self.assertEqual(header(echo, "x-trailer"), [])
        self.assertEqual(header(echo, "x-pomerium-jwt-assertion"), [])

    def test_upstream_response_with_trailers(self):
        for _ in range(2):  # the second time over the pooled connection
            r = curl("http://app.test:%d/trailers" % self.port)
            self.assertStatus(r, 200)
            self.assertEqual(r.body, b"hello world")

    def test_100_continue_raw(self):
        raw = self.raw()
        raw.send(b"PUT /up HTTP/1.1\r\nHost: app.test\r\nContent-Length: 11\r\n"
                 b"Expect: 100-continue\r\n\r\n")
        interim = raw.read_response()
        self.assertEqual(interim.status, 100)
        raw.send(b"hello world")
        r = raw.read_response()
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json()["body"], "hello world")
        # The expectation is Gatehouse's to meet, not forwarded.
        self.assertEqual(header(r.json(), "expect"), [])

    def test_100_continue_not_sent_for_a_local_answer(self):
        raw = self.raw()
        raw.send(b"PUT /up HTTP/1.1\r\nHost: nowhere.test\r\nContent-Length: 11\r\n"
                 b"Expect: 100-continue\r\n\r\n")
        r = raw.read_response()
        self.assertEqual(r.status, 404)
        self.assertEqual((r.header("connection") or "").lower(), "close")

    def test_unknown_expectation_is_417(self):
        raw = self.raw()
        raw.send(b"PUT /up HTTP/1.1\r\nHost: app.test\r\nContent-Length: 2\r\n"
                 b"Expect: something-else\r\n\r\nhi")
        self.assertEqual(raw.read_response().status, 417)

    def test_100_continue_with_curl_upload(self):
        data = os.urandom(3 * 1024 * 1024 + 17)
        with tempfile.NamedTemporaryFile() as f:
            f.write(data)
            f.flush()
            r = curl("http://app.test:%d/upload" % self.port, "--data-binary", "@" + f.name,
                     "-H", "Expect: 100-continue", "-H", "Content-Type: application/octet-stream")
        self.assertStatus(r, 200)
        statuses = [block[0] for block in r.header_blocks]
        self.assertTrue(statuses[0].startswith("HTTP/1.1 100"), statuses)
        echo = r.json()
        self.assertEqual(echo["body_length"], len(data))
        self.assertEqual(echo["body_sha256"], hashlib.sha256(data).hexdigest())


if __name__ == "__main__":
    unittest.main()


class ConnectionTimeoutTest(ClassGatehouse):
    """Slow or idle clients do not hold connections."""

    @classmethod
    def setUpUpstreams(cls):
        cls.a = cls.class_upstream("A")

    @classmethod
    def make_config(cls):
        return config([route("https://app.test", cls.a.url)], timeout_read="1s",
                      timeout_idle="1s", workers=2)

    def raw(self):
        r = Raw(self.port)
        self.addCleanup(r.close)
        return r

    def test_slow_head_is_cut_off(self):
        raw = self.raw()
        start = time.monotonic()
        raw.send(b"GET /x HTTP/1.1\r\nHost: app.test\r\nX-Slow: ")
        raw.sock.settimeout(10)
        while raw._fill():
            pass
        elapsed = time.monotonic() - start
        self.assertLess(elapsed, 5)
        self.assertGreater(elapsed, 0.5)
        if raw.buf:
            self.assertRegex(raw.buf, rb"^HTTP/1.1 408 ")

    def test_idle_keep_alive_connection_is_closed(self):
        raw = self.raw()
        raw.send(b"GET /x HTTP/1.1\r\nHost: app.test\r\n\r\n")
        self.assertEqual(raw.read_response().status, 200)
        start = time.monotonic()
        self.assertTrue(raw.closed_by_peer(timeout=10))
        self.assertLess(time.monotonic() - start, 5)

    def test_connection_without_a_byte_is_closed(self):
        raw = self.raw()
        start = time.monotonic()
        self.assertTrue(raw.closed_by_peer(timeout=10))
        self.assertLess(time.monotonic() - start, 5)

    def test_many_concurrent_connections(self):
        results = []

        def one(i):
            c = Client(self.port, "app.test")
            try:
                for j in range(5):
                    r = c.get("/c/%d/%d" % (i, j))
                    results.append((r.status, r.json()["path"]))
            finally:
                c.close()
        threads = [threading.Thread(target=one, args=(i,)) for i in range(40)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        self.assertEqual(len(results), 200)
        self.assertTrue(all(status == 200 for status, _ in results))
        self.assertEqual(len({path for _, path in results}), 200)


class ConfiguredLimitsTest(ClassGatehouse):
    @classmethod
    def setUpUpstreams(cls):
        cls.a = cls.class_upstream("A")

    @classmethod
    def make_config(cls):
        return config([route("https://app.test", cls.a.url)], max_request_headers_kb=8,
                      max_request_headers_count=10, headers_with_underscores_action="drop_header")

    def raw(self):
        r = Raw(self.port)
        self.addCleanup(r.close)
        return r

    def test_configured_header_bytes(self):
        raw = self.raw()
        raw.send(b"GET / HTTP/1.1\r\nHost: app.test\r\nX-Big: " + b"a" * (9 * 1024) + b"\r\n\r\n")
        self.assertEqual(raw.read_response().status, 431)
        raw = self.raw()
        raw.send(b"GET / HTTP/1.1\r\nHost: app.test\r\nX-Big: " + b"a" * (6 * 1024) + b"\r\n\r\n")
        self.assertEqual(raw.read_response().status, 200)

    def test_configured_header_count(self):
        raw = self.raw()
        raw.send(b"GET / HTTP/1.1\r\nHost: app.test\r\n" +
                 b"".join(b"X-H%d: v\r\n" % i for i in range(12)) + b"\r\n")
        self.assertEqual(raw.read_response().status, 431)
        raw = self.raw()
        raw.send(b"GET / HTTP/1.1\r\nHost: app.test\r\n" +
                 b"".join(b"X-H%d: v\r\n" % i for i in range(8)) + b"\r\n")
        self.assertEqual(raw.read_response().status, 200)

    def test_underscore_headers_dropped(self):
        r = curl("http://app.test:%d/" % self.port, "-H", "X_Pomerium_Jwt_Assertion: forged",
                 "-H", "X-Fine: yes")
        self.assertStatus(r, 200)
        names = [k.lower() for k, _ in r.json()["headers"]]
        self.assertNotIn("x_pomerium_jwt_assertion", names)
        self.assertIn("x-fine", names)


class ManyIdleConnectionsTest(ClassGatehouse):
    @classmethod
    def setUpUpstreams(cls):
        cls.a = cls.class_upstream("A")

    @classmethod
    def make_config(cls):
        return config([route("https://app.test", cls.a.url)], workers=2)

    def test_a_thousand_idle_connections(self):
        socks = []
        self.addCleanup(lambda: [s.close() for s in socks])
        for _ in range(1000):
            socks.append(Raw(self.port))
        # Half of them make a request; all are answered.
        for raw in socks[::2]:
            raw.send(b"GET /idle HTTP/1.1\r\nHost: app.test\r\n\r\n")
        for raw in socks[::2]:
            self.assertEqual(raw.read_response().status, 200)
        r = curl("http://app.test:%d/still" % self.port)
        self.assertStatus(r, 200)
        self.assertLess(self.gatehouse.vm_hwm_kb(), 128 * 1024)
