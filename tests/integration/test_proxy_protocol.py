"""use_proxy_protocol: behind a layer-4 balancer every connection opens with
a PROXY protocol header (v1 or v2) naming the client. The client it names
is the one the upstream sees in X-Forwarded-For and the access log shows;
a connection without a header is closed; a header split across packets,
or followed at once by a TLS handshake, works.
"""

import json
import socket
import ssl
import struct
import time
import unittest

from harness import GatehouseTestCase, config, curl, header, route


def v1(src, dst, sport, dport, family="TCP4"):
    return ("PROXY %s %s %s %d %d\r\n" % (family, src, dst, sport, dport)).encode()


def v2_ipv4(src, dst, sport, dport, tlvs=b""):
    block = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!HH", sport, dport)
    block += tlvs
    return b"\r\n\r\n\x00\r\nQUIT\n" + bytes([0x21, 0x11]) + struct.pack("!H", len(block)) + block


def v2_local():
    return b"\r\n\r\n\x00\r\nQUIT\n" + bytes([0x20, 0x00, 0x00, 0x00])


def http_get(sock, host):
    sock.sendall(("GET /echo HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % host).encode())
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, body


class ProxyProtocolTest(GatehouseTestCase):
    def start(self, tls=False):
        up = self.upstream("A")
        g = self.start_gatehouse(config([route("http://app.localhost", up.url)], tls=tls,
                                        use_proxy_protocol=True))
        return g

    def connect(self, g):
        return socket.create_connection(("127.0.0.1", g.port), timeout=10)

    def assertClosed(self, s):
        # Closed with the request unread: a FIN, or a reset.
        try:
            self.assertEqual(s.recv(100), b"")
        except ConnectionResetError:
            pass

    def echo(self, body):
        return json.loads(body)

    def test_v1_names_the_client(self):
        g = self.start()
        with self.connect(g) as s:
            s.sendall(v1("203.0.113.9", "127.0.0.1", 40000, g.port))
            status, body = http_get(s, "app.localhost")
        self.assertEqual(status, 200)
        echo = self.echo(body)
        self.assertEqual(header(echo, "x-forwarded-for"), ["203.0.113.9"])
        rid = header(echo, "x-request-id")[0]
        self.assertEqual(g.access_log(rid)["forwarded-for"], "203.0.113.9")

    def test_v2_with_tlvs_and_a_header_split_across_packets(self):
        g = self.start()
        header_bytes = v2_ipv4("198.51.100.23", "127.0.0.1", 1234, g.port,
                               tlvs=b"\x04\x00\x02xy")  # PP2_TYPE_NOOP
        with self.connect(g) as s:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            s.sendall(header_bytes[:7])
            time.sleep(0.05)
            s.sendall(header_bytes[7:])
            status, body = http_get(s, "app.localhost")
        self.assertEqual(status, 200)
        self.assertEqual(header(self.echo(body), "x-forwarded-for"), ["198.51.100.23"])

    def test_v1_ipv6_client(self):
        g = self.start()
        with self.connect(g) as s:
            s.sendall(v1("2001:db8::5", "::1", 40000, 443, family="TCP6"))
            status, body = http_get(s, "app.localhost")
        self.assertEqual(status, 200)
        self.assertEqual(header(self.echo(body), "x-forwarded-for"), ["2001:db8::5"])

    def test_local_command_keeps_the_connections_own_address(self):
        # What balancers send for their own health checks.
        g = self.start()
        with self.connect(g) as s:
            s.sendall(v2_local())
            status, body = http_get(s, "app.localhost")
        self.assertEqual(status, 200)
        self.assertEqual(header(self.echo(body), "x-forwarded-for"), ["127.0.0.1"])

    def test_curl_haproxy_protocol(self):
        g = self.start()
        r = curl("http://app.localhost:%d/echo" % g.port, "--haproxy-protocol")
        self.assertStatus(r, 200)
        self.assertEqual(header(r.json(), "x-forwarded-for"), ["127.0.0.1"])

    def test_tls_after_the_header(self):
        g = self.start(tls=True)
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        raw = self.connect(g)
        raw.sendall(v2_ipv4("192.0.2.44", "127.0.0.1", 5555, g.port))
        with ctx.wrap_socket(raw, server_hostname="app.localhost") as s:
            status, body = http_get(s, "app.localhost")
        self.assertEqual(status, 200)
        self.assertEqual(header(self.echo(body), "x-forwarded-for"), ["192.0.2.44"])

    def test_a_connection_without_a_header_is_closed(self):
        g = self.start()
        with self.connect(g) as s:
            s.sendall(b"GET /echo HTTP/1.1\r\nHost: app.localhost\r\n\r\n")
            self.assertClosed(s)
        g.wait_for("connection refused: use_proxy_protocol is on")
        # Garbage after a valid-looking start, and a header that never ends.
        with self.connect(g) as s:
            s.sendall(b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\nGET / HTTP/1.1\r\n\r\n")
            self.assertClosed(s)
        with self.connect(g) as s:
            s.sendall(b"PROXY TCP4 " + b"1" * 200)
            self.assertClosed(s)
        # The listener still serves.
        with self.connect(g) as s:
            s.sendall(v1("203.0.113.1", "127.0.0.1", 1, 2))
            self.assertEqual(http_get(s, "app.localhost")[0], 200)

    def test_off_by_default(self):
        up = self.upstream("A")
        g = self.start_gatehouse(config([route("http://app.localhost", up.url)]))
        with self.connect(g) as s:
            s.sendall(v1("203.0.113.9", "127.0.0.1", 40000, g.port))
            status, _ = http_get(s, "app.localhost")
        # Without the setting the header is just a malformed request.
        self.assertEqual(status, 400)


if __name__ == "__main__":
    unittest.main()
