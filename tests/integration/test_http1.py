"""HTTP/1.x on the wire: framing attacks answered with 400 and a closed
connection, header limits, pipelining, keep-alive, HTTP/1.0, HEAD and
100-continue."""

import hashlib
import os
import tempfile
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

    def test_smuggled_request_after_a_rejected_one_is_not_served(self):
        before = len(self.a.requests)
        raw = self.raw()
        raw.send(b"POST /x HTTP/1.1\r\nHost: app.test\r\nContent-Length: 40\r\n"
                 b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
                 b"GET /smuggled HTTP/1.1\r\nHost: app.test\r\n\r\n")
        self.assertEqual(raw.read_response().status, 400)
        self.assertTrue(raw.closed_by_peer())
        self.assertEqual(len(self.a.requests), before)

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
