"""Large bodies stream through the proxy in both directions without being
buffered: the bytes arrive intact and Gatehouse's peak memory stays far
below the body size."""

import hashlib
import os
import subprocess
import tempfile
import time
import unittest

from harness import (ClassGatehouse, GatehouseTestCase, Raw, config, curl, pattern_chunks,
                     pattern_sha256, route)

BODY_SIZE = 200 * 1024 * 1024
# Peak resident memory allowed for the whole process, far below BODY_SIZE.
MAX_HWM_KB = 64 * 1024


def download(url, port, *args):
    """curl's output hashed as it arrives: (sha256, length, http_code)."""
    host = url.split("/")[2].split(":")[0]
    cmd = ["curl", "-sS", "-k", "--max-time", "120", "--resolve", "%s:%d:127.0.0.1" % (host, port),
           "-w", "", "-o", "-", "-D", "/dev/null"] + list(args) + [url]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    h = hashlib.sha256()
    n = 0
    while True:
        piece = proc.stdout.read(1 << 20)
        if not piece:
            break
        h.update(piece)
        n += len(piece)
    err = proc.stderr.read()
    return proc.wait(), h.hexdigest(), n, err


class StreamingTest(ClassGatehouse):
    @classmethod
    def setUpUpstreams(cls):
        cls.up = cls.class_upstream("UP")
        cls.tmp = tempfile.TemporaryDirectory(prefix="gatehouse-stream-")
        cls.addClassCleanup(cls.tmp.cleanup)
        cls.body_file = os.path.join(cls.tmp.name, "body")
        with open(cls.body_file, "wb") as f:
            for piece in pattern_chunks(BODY_SIZE):
                f.write(piece)
        cls.body_sha = pattern_sha256(BODY_SIZE)

    @classmethod
    def make_config(cls):
        return config([route("https://app.test", cls.up.url)], tls=True)

    def assertMemoryBounded(self):
        hwm = self.gatehouse.vm_hwm_kb()
        self.assertLess(hwm, MAX_HWM_KB, "peak RSS %d KiB while streaming %d MiB" %
                        (hwm, BODY_SIZE >> 20))

    def test_download_http1(self):
        rc, sha, n, err = download("https://app.test:%d/big/%d" % (self.port, BODY_SIZE), self.port,
                                   "--http1.1")
        self.assertEqual(rc, 0, err)
        self.assertEqual(n, BODY_SIZE)
        self.assertEqual(sha, self.body_sha)
        self.assertMemoryBounded()

    def test_download_http2_chunked_upstream(self):
        rc, sha, n, err = download("https://app.test:%d/big/%d?chunked" % (self.port, BODY_SIZE),
                                   self.port, "--http2")
        self.assertEqual(rc, 0, err)
        self.assertEqual(n, BODY_SIZE)
        self.assertEqual(sha, self.body_sha)
        self.assertMemoryBounded()

    def test_upload_http1(self):
        r = curl("https://app.test:%d/upload" % self.port, "--http1.1", "--data-binary",
                 "@" + self.body_file, "-H", "Content-Type: application/octet-stream", timeout=120)
        self.assertStatus(r, 200)
        echo = r.json()
        self.assertEqual(echo["body_length"], BODY_SIZE)
        self.assertEqual(echo["body_sha256"], self.body_sha)
        self.assertMemoryBounded()

    def test_upload_http2(self):
        r = curl("https://app.test:%d/upload" % self.port, "--http2", "--data-binary",
                 "@" + self.body_file, "-H", "Content-Type: application/octet-stream", timeout=120)
        self.assertStatus(r, 200)
        self.assertEqual(r.http_version, "2")
        echo = r.json()
        self.assertEqual(echo["body_length"], BODY_SIZE)
        self.assertEqual(echo["body_sha256"], self.body_sha)
        self.assertMemoryBounded()

    def test_slow_reader_applies_backpressure(self):
        base = self.up.big_written
        raw = Raw(self.port, tls=True, server_name="app.test")
        self.addCleanup(raw.close)
        raw.send(b"GET /big/%d HTTP/1.1\r\nHost: app.test\r\n\r\n" % BODY_SIZE)
        # Nobody reads: once the socket buffers are full the upstream's writes
        # must block. Sampling the upstream's progress is the only way to see
        # that nothing more happens.
        last, stable_since = -1, time.monotonic()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            written = self.up.big_written - base
            if written != last:
                last, stable_since = written, time.monotonic()
            elif time.monotonic() - stable_since > 0.5:
                break
            time.sleep(0.05)
        self.assertGreater(last, 0)
        self.assertLess(last, 64 * 1024 * 1024, "the upstream was read far ahead of the client")
        self.assertMemoryBounded()
        # Everything still arrives, in order.
        r = raw.read_response()
        self.assertEqual(r.status, 200)
        self.assertEqual(len(r.body), BODY_SIZE)
        self.assertEqual(hashlib.sha256(r.body).hexdigest(), self.body_sha)

    def test_http2_flow_control_applies_backpressure(self):
        import h2.config
        import h2.connection
        import h2.events
        import socket
        import ssl
        base = self.up.big_written
        ctx = ssl._create_unverified_context()
        ctx.set_alpn_protocols(["h2"])
        sock = ctx.wrap_socket(socket.create_connection(("127.0.0.1", self.port), 10),
                               server_hostname="app.test")
        self.addCleanup(sock.close)
        conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        conn.initiate_connection()
        conn.send_headers(1, [(":method", "GET"), (":scheme", "https"),
                              (":authority", "app.test:%d" % self.port),
                              (":path", "/big/%d" % BODY_SIZE)], end_stream=True)
        sock.sendall(conn.data_to_send())
        # The socket is read all the time but no WINDOW_UPDATE is ever sent:
        # only HTTP/2 flow control can hold the response back now.
        sock.settimeout(0.05)
        received = 0
        last, stable_since = -1, time.monotonic()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                data = sock.recv(65536)
                if not data:
                    break
                for ev in conn.receive_data(data):
                    if isinstance(ev, h2.events.DataReceived):
                        received += len(ev.data)
                out = conn.data_to_send()
                if out:
                    sock.sendall(out)
            except (socket.timeout, ssl.SSLWantReadError):
                pass
            written = self.up.big_written - base
            if written != last:
                last, stable_since = written, time.monotonic()
            elif time.monotonic() - stable_since > 0.5:
                break
        self.assertLessEqual(received, 65535)
        self.assertGreater(last, 0)
        self.assertLess(last, 64 * 1024 * 1024, "the upstream was read far ahead of the client")
        self.assertMemoryBounded()
        # Cancel the stream properly (see Http2AbandonedStreamTest for a
        # client that just goes away).
        conn.reset_stream(1)
        conn.close_connection()
        sock.settimeout(5)
        sock.sendall(conn.data_to_send())

    def test_client_going_away_mid_download(self):
        for _ in range(3):
            raw = Raw(self.port, tls=True, server_name="app.test")
            raw.send(b"GET /big/%d HTTP/1.1\r\nHost: app.test\r\n\r\n" % BODY_SIZE)
            raw.read_until(b"\r\n\r\n")
            while len(raw.buf) < 1024 * 1024:
                self.assertTrue(raw._fill())
            raw.close()
        r = curl("https://app.test:%d/after" % self.port)
        self.assertStatus(r, 200)
        self.assertIsNone(self.gatehouse.proc.poll())

    def test_client_going_away_mid_upload(self):
        for _ in range(3):
            raw = Raw(self.port, tls=True, server_name="app.test")
            raw.send(b"POST /upload HTTP/1.1\r\nHost: app.test\r\nContent-Length: %d\r\n\r\n"
                     % BODY_SIZE)
            raw.send(next(pattern_chunks(BODY_SIZE)))
            raw.close()
        r = curl("https://app.test:%d/after" % self.port)
        self.assertStatus(r, 200)
        self.assertIsNone(self.gatehouse.proc.poll())

    def test_chunked_upload_from_a_pipe(self):
        size = 20 * 1024 * 1024 + 5
        data = b"".join(pattern_chunks(size))
        r = curl("https://app.test:%d/upload" % self.port, "--http1.1", "-T", "-", "-X", "POST",
                 input=data, timeout=60)
        self.assertStatus(r, 200)
        echo = r.json()
        self.assertEqual(echo["body_length"], size)
        self.assertEqual(echo["body_sha256"], pattern_sha256(size))
        # It reached the upstream chunked: nobody knew the length in advance.
        self.assertIn(["Transfer-Encoding", "chunked"], [[k, v] for k, v in echo["headers"]])


class Http2AbandonedStreamTest(GatehouseTestCase):
    def test_client_vanishing_during_a_flow_controlled_stream_frees_it(self):
        # A client that stops sending WINDOW_UPDATE and then closes its TCP
        # connection: the stream waiting for flow-control credit must end
        # with the connection, freeing it and its upstream connection, so
        # that SIGTERM does not wait for the drain deadline.
        import h2.config
        import h2.connection
        import h2.events
        import socket
        import ssl
        up = self.upstream("UP")
        g = self.start_gatehouse(config([route("https://app.test", up.url)], tls=True))
        ctx = ssl._create_unverified_context()
        ctx.set_alpn_protocols(["h2"])
        sock = ctx.wrap_socket(socket.create_connection(("127.0.0.1", g.port), 10),
                               server_hostname="app.test")
        conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        conn.initiate_connection()
        conn.send_headers(1, [(":method", "GET"), (":scheme", "https"),
                              (":authority", "app.test:%d" % g.port),
                              (":path", "/big/%d" % BODY_SIZE)], end_stream=True)
        sock.sendall(conn.data_to_send())
        received = 0
        while received < 65535:  # the whole initial window, never acknowledged
            data = sock.recv(65536)
            self.assertTrue(data)
            for ev in conn.receive_data(data):
                if isinstance(ev, h2.events.DataReceived):
                    received += len(ev.data)
        sock.close()
        start = time.monotonic()
        self.assertEqual(g.stop(), 0)
        self.assertFalse(g.find("drain deadline reached"), "the abandoned stream held shutdown")
        self.assertLess(time.monotonic() - start, 5)


    def test_client_vanishing_mid_upload_frees_the_stream(self):
        import h2.config
        import h2.connection
        import socket
        import ssl
        up = self.upstream("UP")
        g = self.start_gatehouse(config([route("https://app.test", up.url)], tls=True))
        ctx = ssl._create_unverified_context()
        ctx.set_alpn_protocols(["h2"])
        sock = ctx.wrap_socket(socket.create_connection(("127.0.0.1", g.port), 10),
                               server_hostname="app.test")
        conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        conn.initiate_connection()
        conn.send_headers(1, [(":method", "POST"), (":scheme", "https"),
                              (":authority", "app.test:%d" % g.port), (":path", "/upload"),
                              ("content-length", str(BODY_SIZE))])
        conn.send_data(1, b"x" * 16000)
        sock.sendall(conn.data_to_send())
        sock.close()
        # A request on a new connection still works, and shutdown is prompt.
        r = curl("https://app.test:%d/after" % g.port, "--http2")
        self.assertStatus(r, 200)
        start = time.monotonic()
        self.assertEqual(g.stop(), 0)
        self.assertFalse(g.find("drain deadline reached"))
        self.assertLess(time.monotonic() - start, 5)


if __name__ == "__main__":
    unittest.main()
