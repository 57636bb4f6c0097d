"""Upstreams: load spreading, dead endpoints, failures and timeouts, HTTPS
upstreams with a custom CA and client certificates, WebSockets and an h2c
gRPC-style upstream with trailers."""

import asyncio
import base64
import os
import shutil
import ssl
import tempfile
import time
import unittest

from harness import (Client, ClassGatehouse, GatehouseTestCase, H2cGrpcServer, Pki, Raw, RawUpstream,
                     WebSocketEcho, config, curl, dead_port, grpc_frame, h2_request, header,
                     read_file, route)


class LoadBalancingTest(ClassGatehouse):
    @classmethod
    def setUpUpstreams(cls):
        cls.a = cls.class_upstream("A")
        cls.b = cls.class_upstream("B")
        cls.dead1, cls.dead1_port = dead_port()
        cls.dead2, cls.dead2_port = dead_port()
        cls.addClassCleanup(cls.dead1.close)
        cls.addClassCleanup(cls.dead2.close)

    @classmethod
    def make_config(cls):
        dead1 = "http://127.0.0.1:%d" % cls.dead1_port
        dead2 = "http://127.0.0.1:%d" % cls.dead2_port
        return config([
            route("https://weighted.test", [cls.a.url + ",3", cls.b.url + ",1"]),
            route("https://failover.test", [dead1, cls.a.url, dead2]),
            route("https://dead.test", dead1),
        ])

    def test_weights_spread_requests(self):
        c = Client(self.port, "weighted.test")
        self.addCleanup(c.close)
        counts = {"A": 0, "B": 0}
        n = 400
        for i in range(n):
            r = c.get("/w/%d" % i)
            self.assertEqual(r.status, 200)
            counts[r.json()["server"]] += 1
        # Binomial(400, 0.75): mean 300, sd 8.7; the bounds are 5 sd.
        self.assertGreater(counts["A"], 256, counts)
        self.assertLess(counts["A"], 344, counts)
        self.assertEqual(counts["A"] + counts["B"], n)

    def test_dead_endpoints_are_skipped_without_a_failed_request(self):
        ids = []
        for i in range(40):
            # A new connection each time, so that nothing is reused.
            r = curl("http://failover.test:%d/f/%d" % (self.port, i))
            self.assertStatus(r, 200)
            self.assertEqual(r.json()["server"], "A")
            ids.append(header(r.json(), "x-request-id")[0])
        for request_id in ids:
            line = self.gatehouse.access_log(request_id)
            self.assertEqual(line["response-code"], 200)
            self.assertEqual(line["upstream"], self.a.url)

    def test_dead_upstream_is_502_html(self):
        r = curl("http://dead.test:%d/x" % self.port)
        self.assertStatus(r, 502)
        self.assertTrue(r.header("content-type").startswith("text/html"))
        self.assertIn("502", r.text)
        self.assertIn(r.header("x-request-id"), r.text)
        line = self.gatehouse.access_log(r.header("x-request-id"))
        self.assertEqual(line["response-code"], 502)

    def test_dead_upstream_is_502_json(self):
        r = curl("http://dead.test:%d/x" % self.port, "-H", "Accept: application/json")
        self.assertStatus(r, 502)
        self.assertEqual(r.header("content-type"), "application/json")
        body = r.json()
        self.assertEqual(body["status"], 502)
        self.assertEqual(body["error"], "Bad Gateway")
        self.assertEqual(body["request_id"], r.header("x-request-id"))


class TimeoutTest(ClassGatehouse):
    @classmethod
    def setUpUpstreams(cls):
        cls.slow = cls.class_upstream("SLOW")

    @classmethod
    def make_config(cls):
        return config([route("https://slow.test", cls.slow.url, timeout="500ms")])

    def test_upstream_timeout_is_504(self):
        start = time.monotonic()
        r = curl("http://slow.test:%d/slow" % self.port, "-H", "Accept: application/json")
        elapsed = time.monotonic() - start
        self.assertStatus(r, 504)
        self.assertEqual(r.json()["status"], 504)
        self.assertEqual(r.json()["error"], "Gateway Timeout")
        self.assertTrue(self.slow.arrived.is_set())
        self.assertGreaterEqual(elapsed, 0.45)
        self.assertLess(elapsed, 5)
        line = self.gatehouse.access_log(r.json()["request_id"])
        self.assertEqual(line["response-code"], 504)

    def test_fast_answer_within_the_timeout(self):
        r = curl("http://slow.test:%d/fast" % self.port)
        self.assertStatus(r, 200)


GOOD = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


class MisbehavingUpstreamTest(GatehouseTestCase):
    """Responses that must not reach the client as if they were fine."""

    def proxy_to(self, upstream):
        self.addCleanup(upstream.close)
        return self.start_gatehouse(config([route("https://app.test", upstream.url)]))

    def get(self, g, path="/", *args, **kwargs):
        return curl("http://app.test:%d%s" % (g.port, path), *args, **kwargs)

    def test_malformed_response_is_502_and_the_connection_is_dropped(self):
        bad_responses = [
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"2\r\nok\r\n0\r\n\r\n",
            b"HTTP/1.1 2x0 OK\r\nContent-Length: 2\r\n\r\nok",
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok!",
            b"HTTP/1.1 200 OK\r\nBad Header\r\n\r\n",
            b"NOT HTTP AT ALL\r\n\r\n",
        ]
        for bad in bad_responses:
            with self.subTest(bad=bad):
                up = RawUpstream([bad, GOOD])
                g = self.proxy_to(up)
                r = self.get(g, "/", "-H", "Accept: application/json")
                self.assertStatus(r, 502)
                self.assertEqual(r.json()["status"], 502)
                r = self.get(g)
                self.assertStatus(r, 200)
                self.assertEqual(r.body, b"ok")
                # The connection that carried the bad response was not reused.
                self.assertEqual(up.connections, 2)
                self.assertEqual(g.stop(), 0)

    def test_unrequested_switching_protocols_is_502(self):
        up = RawUpstream([b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                          b"Connection: Upgrade\r\n\r\n"])
        g = self.proxy_to(up)
        r = self.get(g, "/", "-H", "Connection: Upgrade", "-H", "Upgrade: websocket")
        self.assertStatus(r, 502)
        # The route does not allow websockets: the upgrade was not forwarded.
        self.assertNotIn("upgrade", up.requests[0].lower())

    def test_truncated_body_cuts_the_client_connection(self):
        up = RawUpstream([b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part"],
                         close=True)
        g = self.proxy_to(up)
        r = self.get(g)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.returncode, 18, r.stderr)  # curl: partial file
        self.assertEqual(r.body, b"only part")

    def test_bytes_after_a_complete_response_never_answer_another_request(self):
        # A second, unrequested response that arrives a moment after the
        # first (what a header injected into an upstream's answer can make
        # it send) must not be taken as the answer to the next request on
        # that pooled connection, however soon that request comes.
        injected = b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\ninjected"
        up = RawUpstream([(GOOD, 0.05, injected), GOOD])
        g = self.proxy_to(up)
        c = Client(g.port, "app.test")
        self.addCleanup(c.close)
        r = c.get("/first")
        self.assertEqual((r.status, r.body), (200, b"ok"))
        time.sleep(0.2)
        r = c.get("/second")
        self.assertEqual((r.status, r.body), (200, b"ok"))
        self.assertEqual(up.connections, 2)
        self.assertEqual(len(up.requests), 2)

    def test_upstream_closing_idle_connections_causes_no_errors(self):
        # The upstream closes after every response without announcing it:
        # a pooled connection is found dead, and the request is retried.
        up = RawUpstream([GOOD], close=True)
        g = self.proxy_to(up)
        c = Client(g.port, "app.test")
        self.addCleanup(c.close)
        for i in range(20):
            r = c.get("/r%d" % i)
            self.assertEqual((r.status, r.body), (200, b"ok"))
        self.assertEqual(up.connections, 20)

    def test_body_on_a_204_does_not_leak_into_the_next_response(self):
        up = RawUpstream([b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n"
                          b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nforged",
                          GOOD])
        g = self.proxy_to(up)
        c = Client(g.port, "app.test")
        self.addCleanup(c.close)
        r = c.get("/first")
        self.assertEqual((r.status, r.body), (204, b""))
        r = c.get("/second")
        self.assertEqual((r.status, r.body), (200, b"ok"))
        self.assertEqual(len(up.requests), 2)

    def test_huge_response_head_is_502(self):
        up = RawUpstream([b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * (300 * 1024) +
                          b"\r\nContent-Length: 2\r\n\r\nok"])
        g = self.proxy_to(up)
        self.assertStatus(self.get(g), 502)

    def test_repeated_response_headers_stay_separate(self):
        up = RawUpstream([b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nSet-Cookie: a=1; Path=/\r\n"
                          b"Set-Cookie: b=2; Expires=Wed, 21 Oct 2037 07:28:00 GMT\r\n\r\nok"])
        g = self.proxy_to(up)
        r = self.get(g)
        self.assertEqual(r.header_all("set-cookie"),
                         ["a=1; Path=/", "b=2; Expires=Wed, 21 Oct 2037 07:28:00 GMT"])

    def test_204_and_304_through_the_proxy(self):
        up = self.upstream()
        g = self.start_gatehouse(config([route("https://app.test", up.url)]))
        c = Client(g.port, "app.test")
        self.addCleanup(c.close)
        for code in (204, 304, 201, 404, 500):
            r = c.get("/status/%d" % code)
            self.assertEqual(r.status, code)
            if code in (204, 304):
                self.assertEqual(r.body, b"")

    def test_response_delimited_by_close(self):
        up = RawUpstream([b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close"],
                         close=True)
        g = self.proxy_to(up)
        r = self.get(g)
        self.assertStatus(r, 200)
        self.assertEqual(r.body, b"until close")
        self.assertEqual(r.header("transfer-encoding"), "chunked")
        r = self.get(g, "/", "--http1.0")
        self.assertEqual(r.body, b"until close")

    def test_early_response_to_a_large_upload_is_forwarded(self):
        # An upstream that answers (413 here) before reading a large request
        # body and closes makes the body write fail; its answer is still the
        # one the client must get, not a 502.
        up = RawUpstream([b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 8\r\n"
                          b"Connection: close\r\n\r\ntoo big\n"], close=True, read_body=False)
        g = self.proxy_to(up)
        r = self.get(g, "/upload", "--data-binary", "@-", "-H", "Expect:",
                     input=b"x" * (16 * 1024 * 1024))
        self.assertStatus(r, 413)
        self.assertEqual(r.body, b"too big\n")

    def test_hop_by_hop_response_headers_are_removed(self):
        up = RawUpstream([b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: X-Private\r\n"
                          b"X-Private: secret\r\nKeep-Alive: timeout=5\r\nX-Public: yes\r\n\r\nok"])
        g = self.proxy_to(up)
        r = self.get(g)
        self.assertStatus(r, 200)
        self.assertIsNone(r.header("x-private"))
        self.assertIsNone(r.header("keep-alive"))
        self.assertEqual(r.header("x-public"), "yes")


class UpstreamIdleTimeoutTest(GatehouseTestCase):
    def test_stalled_body_is_cut_after_the_idle_timeout(self):
        # Head and part of the body, then nothing (the connection stays open).
        up = RawUpstream([b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial"])
        self.addCleanup(up.close)
        g = self.start_gatehouse(config([route("https://app.test", up.url, timeout="30s",
                                               idle_timeout="500ms")]))
        start = time.monotonic()
        r = curl("http://app.test:%d/" % g.port)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.returncode, 18, r.stderr)
        self.assertEqual(r.body, b"partial")
        self.assertLess(time.monotonic() - start, 5)

    def test_default_upstream_timeout(self):
        slow = self.upstream("SLOW")
        g = self.start_gatehouse(config([route("https://app.test", slow.url)],
                                        default_upstream_timeout="300ms"))
        start = time.monotonic()
        r = curl("http://app.test:%d/slow" % g.port)
        self.assertStatus(r, 504)
        self.assertLess(time.monotonic() - start, 5)


class UpstreamTlsTest(ClassGatehouse):
    @classmethod
    def setUpUpstreams(cls):
        cls.tmp = tempfile.mkdtemp(prefix="gatehouse-pki-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.pki = Pki(os.path.join(cls.tmp, "ca"))
        cls.other_pki = Pki(os.path.join(cls.tmp, "other-ca"))
        # Requires a client certificate; its certificate names the IP too.
        cls.mtls = cls.class_upstream("MTLS", tls=cls.pki.server_context(
            "upstream.test", ["upstream.test", "IP:127.0.0.1"], require_client_cert=True))
        # Only a DNS name: reachable by IP only with tls_server_name.
        cls.named = cls.class_upstream("NAMED", tls=cls.pki.server_context(
            "named.test", ["named.test"]))
        cls.client_cert, cls.client_key = cls.pki.issue("gatehouse-client", client=True)
        cls.stranger_cert, cls.stranger_key = cls.other_pki.issue("stranger", client=True)

    @classmethod
    def make_config(cls):
        ca = cls.pki.ca_cert
        client = {"tls_client_cert_file": cls.client_cert, "tls_client_key_file": cls.client_key}
        b64 = lambda path: base64.b64encode(read_file(path).encode()).decode()
        return config([
            route("https://mtls.test", cls.mtls.url, tls_custom_ca_file=ca, **client),
            route("https://mtls-inline.test", cls.mtls.url, tls_custom_ca=b64(ca),
                  tls_client_cert=b64(cls.client_cert), tls_client_key=b64(cls.client_key)),
            route("https://no-client-cert.test", cls.mtls.url, tls_custom_ca_file=ca),
            route("https://wrong-client-cert.test", cls.mtls.url, tls_custom_ca_file=ca,
                  tls_client_cert_file=cls.stranger_cert, tls_client_key_file=cls.stranger_key),
            route("https://wrong-ca.test", cls.mtls.url, tls_custom_ca_file=cls.other_pki.ca_cert,
                  **client),
            route("https://system-ca.test", cls.mtls.url, **client),
            route("https://skip-verify.test", cls.mtls.url, tls_skip_verify=True, **client),
            route("https://named.test", cls.named.url, tls_custom_ca_file=ca,
                  tls_server_name="named.test"),
            route("https://named-by-ip.test", cls.named.url, tls_custom_ca_file=ca),
        ])

    def get(self, host, *args):
        return curl("http://%s:%d/x" % (host, self.port), *args)

    def test_custom_ca_and_client_certificate(self):
        for host in ("mtls.test", "mtls-inline.test"):
            r = self.get(host)
            self.assertStatus(r, 200)
            echo = r.json()
            self.assertEqual(echo["server"], "MTLS")
            self.assertEqual(echo["client_cert"], "gatehouse-client")
            self.assertEqual(header(echo, "x-forwarded-proto"), ["http"])

    def test_upstream_connection_is_reused(self):
        first = self.get("mtls.test").json()
        second = self.get("mtls.test").json()
        self.assertEqual(first["peer_port"], second["peer_port"])

    def test_missing_or_untrusted_client_certificate_is_502(self):
        for host in ("no-client-cert.test", "wrong-client-cert.test"):
            before = len(self.mtls.requests)
            r = self.get(host, "-H", "Accept: application/json")
            self.assertStatus(r, 502)
            self.assertEqual(r.json()["status"], 502)
            self.assertEqual(len(self.mtls.requests), before)

    def test_upstream_certificate_from_another_ca_is_502(self):
        for host in ("wrong-ca.test", "system-ca.test"):
            before = len(self.mtls.requests)
            self.assertStatus(self.get(host), 502)
            self.assertEqual(len(self.mtls.requests), before)

    def test_skip_verify(self):
        r = self.get("skip-verify.test")
        self.assertStatus(r, 200)
        self.assertEqual(r.json()["client_cert"], "gatehouse-client")

    def test_tls_server_name(self):
        r = self.get("named.test")
        self.assertStatus(r, 200)
        self.assertEqual(r.json()["sni"], "named.test")
        # By IP the name in the certificate does not match.
        self.assertStatus(self.get("named-by-ip.test"), 502)


class WebSocketTest(ClassGatehouse):
    @classmethod
    def setUpUpstreams(cls):
        cls.ws = WebSocketEcho()
        cls.addClassCleanup(cls.ws.close)

    @classmethod
    def make_config(cls):
        url = "http://127.0.0.1:%d" % cls.ws.port
        return config([
            route("https://ws.test", url, allow_websockets=True),
            route("https://nows.test", url),
            route("https://ws-idle.test", url, allow_websockets=True, idle_timeout="500ms"),
        ], tls=True)

    def run_client(self, host, messages):
        import websockets
        ctx = ssl._create_unverified_context()

        async def talk():
            uri = "wss://%s:%d/chat?room=1" % (host, self.port)
            async with websockets.connect(uri, ssl=ctx, host="127.0.0.1", port=self.port,
                                          open_timeout=10, close_timeout=5) as ws:
                replies = []
                for m in messages:
                    await ws.send(m)
                    replies.append(await asyncio.wait_for(ws.recv(), 10))
                return replies
        return asyncio.run(talk())

    def test_echo_through_the_proxy(self):
        before = len(self.ws.connections)
        messages = ["hello", b"\x00\x01binary\xff", "x" * 100000]
        self.assertEqual(self.run_client("ws.test", messages), messages)
        self.assertEqual(len(self.ws.connections), before + 1)
        conn = self.ws.connections[-1]
        self.assertEqual(conn["path"], "/chat?room=1")
        names = {k.lower(): v for k, v in conn["headers"]}
        self.assertEqual(names["host"], "127.0.0.1:%d" % self.ws.port)
        self.assertEqual(names["x-forwarded-proto"], "https")
        line = self.gatehouse.wait_for("http-request", authority="ws.test:%d" % self.port)
        self.assertEqual(line["response-code"], 101)

    def test_frame_sent_with_the_upgrade_request_reaches_the_upstream(self):
        # A client may send its first frame right behind the request: those
        # bytes belong to the tunnel, not to a next HTTP request.
        raw = Raw(self.port, tls=True, server_name="ws.test")
        self.addCleanup(raw.close)
        mask = b"\x01\x02\x03\x04"
        payload = b"early"
        frame = bytes([0x81, 0x80 | len(payload)]) + mask + bytes(
            b ^ mask[i % 4] for i, b in enumerate(payload))
        raw.send(b"GET /early HTTP/1.1\r\nHost: ws.test\r\nUpgrade: websocket\r\n"
                 b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                 b"Sec-WebSocket-Version: 13\r\n\r\n" + frame)
        r = raw.read_response(head_request=True)
        self.assertEqual(r.status, 101)
        self.assertEqual(r.header("sec-websocket-accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        self.assertEqual(raw._take(2 + len(payload)), bytes([0x81, len(payload)]) + payload)

    def test_idle_tunnel_is_closed_after_the_route_idle_timeout(self):
        import websockets
        ctx = ssl._create_unverified_context()

        async def talk():
            uri = "wss://ws-idle.test:%d/idle" % self.port
            async with websockets.connect(uri, ssl=ctx, host="127.0.0.1", port=self.port,
                                          open_timeout=10, ping_interval=None) as ws:
                await ws.send("still here")
                self.assertEqual(await asyncio.wait_for(ws.recv(), 10), "still here")
                start = time.monotonic()
                await asyncio.wait_for(ws.wait_closed(), 10)
                return time.monotonic() - start
        elapsed = asyncio.run(talk())
        self.assertLess(elapsed, 5)

    def test_not_upgraded_without_allow_websockets(self):
        import websockets
        before = len(self.ws.connections)
        with self.assertRaises(websockets.exceptions.InvalidStatusCode) as caught:
            self.run_client("nows.test", ["hello"])
        self.assertNotEqual(caught.exception.status_code, 101)
        self.assertEqual(len(self.ws.connections), before)


class TlsHttp2UpstreamTest(ClassGatehouse):
    """An HTTPS upstream that offers only h2 by ALPN (gRPC over TLS)."""

    @classmethod
    def setUpUpstreams(cls):
        cls.tmp = tempfile.mkdtemp(prefix="gatehouse-h2tls-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.pki = Pki(os.path.join(cls.tmp, "ca"))
        cls.h2 = H2cGrpcServer(cls.pki.server_context("grpc.internal"))
        cls.addClassCleanup(cls.h2.close)

    @classmethod
    def make_config(cls):
        return config([route("https://grpc-tls.test", "https://127.0.0.1:%d" % cls.h2.port,
                             tls_custom_ca_file=cls.pki.ca_cert,
                             tls_server_name="grpc.internal")], tls=True)

    def test_http2_and_trailers_to_an_https_upstream_that_offers_h2(self):
        for client in ("--http2", "--http1.1"):
            r = curl("https://grpc-tls.test:%d/pkg.Echo/Say" % self.port, client,
                     "-H", "content-type: application/grpc", "-H", "te: trailers",
                     "--data-binary", "@-", input=grpc_frame(b"tls"))
            self.assertStatus(r, 200)
            self.assertEqual(r.header("x-upstream"), "h2c")
            self.assertEqual(r.body, grpc_frame(b"echo:tls"))
            if client == "--http2":
                self.assertEqual(r.trailer("grpc-status"), "0")
        req = dict(self.h2.requests[-1]["headers"])
        self.assertEqual(req[":scheme"], "https")
        self.assertEqual(req[":path"], "/pkg.Echo/Say")


class H2cGrpcTest(ClassGatehouse):
    @classmethod
    def setUpUpstreams(cls):
        cls.h2c = H2cGrpcServer()
        cls.addClassCleanup(cls.h2c.close)

    @classmethod
    def make_config(cls):
        cls.dead, cls.dead_port = dead_port()
        cls.addClassCleanup(cls.dead.close)
        return config([route("https://grpc.test", "h2c://127.0.0.1:%d" % cls.h2c.port),
                       route("https://grpc-dead.test", "h2c://127.0.0.1:%d" % cls.dead_port),
                       route("https://grpc-h1.test", "h2c://127.0.0.1:%d" % cls.h2c.port)],
                      tls=True)

    def test_http1_client_to_an_h2c_upstream(self):
        r = curl("https://grpc-h1.test:%d/pkg.Echo/Say" % self.port, "--http1.1",
                 "-H", "content-type: application/grpc", "--data-binary", "@-",
                 input=grpc_frame(b"h1"))
        self.assertStatus(r, 200)
        self.assertEqual(r.body, grpc_frame(b"echo:h1"))

    def test_dead_h2c_upstream_is_502(self):
        r = h2_request(self.port, "grpc-dead.test:%d" % self.port, "/pkg.Echo/Say", method="POST",
                       headers=self.GRPC_HEADERS, body=grpc_frame(b"x"))
        self.assertEqual(r.status, 502)

    GRPC_HEADERS = [("content-type", "application/grpc"), ("te", "trailers")]

    def test_trailers_with_python_h2_client(self):
        r = h2_request(self.port, "grpc.test:%d" % self.port, "/pkg.Echo/Say", method="POST",
                       headers=self.GRPC_HEADERS, body=grpc_frame(b"ping"))
        self.assertEqual(r.alpn, "h2")
        self.assertIsNone(r.reset)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("content-type"), "application/grpc")
        self.assertEqual(r.body, grpc_frame(b"echo:ping"))
        self.assertEqual(r.trailer("grpc-status"), "0")
        self.assertEqual(r.trailer("grpc-message"), "ok")
        req = dict(self.h2c.requests[-1]["headers"])
        self.assertEqual(req[":path"], "/pkg.Echo/Say")
        self.assertEqual(req[":method"], "POST")
        self.assertEqual(req["content-type"], "application/grpc")
        self.assertEqual(self.h2c.requests[-1]["body"], grpc_frame(b"ping"))

    def test_trailers_with_curl(self):
        r = curl("https://grpc.test:%d/pkg.Echo/Say" % self.port, "--http2",
                 "-H", "content-type: application/grpc", "-H", "te: trailers",
                 "--data-binary", "@-", input=grpc_frame(b"curl"))
        self.assertStatus(r, 200)
        self.assertEqual(r.http_version, "2")
        self.assertEqual(r.body, grpc_frame(b"echo:curl"))
        self.assertEqual(r.trailer("grpc-status"), "0")

    def test_several_requests_share_the_upstream_connection(self):
        connections = None
        for i in range(3):
            r = h2_request(self.port, "grpc.test:%d" % self.port, "/pkg.Echo/Say", method="POST",
                           headers=self.GRPC_HEADERS, body=grpc_frame(b"n%d" % i))
            self.assertEqual(r.body, grpc_frame(b"echo:n%d" % i))
            self.assertEqual(r.trailer("grpc-status"), "0")
            if connections is None:
                connections = self.h2c.connections
        self.assertEqual(self.h2c.connections, connections)


if __name__ == "__main__":
    unittest.main()
