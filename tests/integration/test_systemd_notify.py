"""The service manager's readiness protocol (Type=notify): READY=1 once the
listeners serve, RELOADING=1 then READY=1 around a SIGHUP reload, and
STOPPING=1 when SIGTERM starts the drain; nothing breaks without
NOTIFY_SOCKET, or with one that nobody reads.
"""

import os
import signal
import socket
import tempfile
import time
import unittest

from harness import GatehouseTestCase, config, http_request, route


class NotifySocket:
    def __init__(self, abstract=False):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if abstract:
            name = "gatehouse-notify-%d-%d" % (os.getpid(), time.monotonic_ns())
            self.sock.bind("\0" + name)
            self.env_value = "@" + name
        else:
            self.dir = tempfile.mkdtemp(prefix="gatehouse-notify-")
            self.env_value = os.path.join(self.dir, "notify.sock")
            self.sock.bind(self.env_value)
        self.sock.settimeout(15)

    def next(self):
        data = self.sock.recv(4096).decode()
        return dict(line.split("=", 1) for line in data.splitlines())

    def close(self):
        self.sock.close()


class SystemdNotifyTest(GatehouseTestCase):
    def start_with_socket(self, abstract=False):
        notify = NotifySocket(abstract)
        self.addCleanup(notify.close)
        up = self.upstream()
        g = self.start_gatehouse(config([route("http://app.localhost", up.url)]),
                                 env={"NOTIFY_SOCKET": notify.env_value})
        return notify, g

    def test_ready_reloading_and_stopping(self):
        notify, g = self.start_with_socket()
        self.assertEqual(notify.next(), {"READY": "1"})
        # Ready means serving.
        self.assertEqual(http_request(g.port, "app.localhost", "/").status, 200)

        g.proc.send_signal(signal.SIGHUP)
        reloading = notify.next()
        self.assertEqual(reloading["RELOADING"], "1")
        # CLOCK_MONOTONIC in microseconds, as systemd compares it with its own.
        self.assertLess(abs(int(reloading["MONOTONIC_USEC"]) - time.monotonic_ns() // 1000),
                        30 * 1000 * 1000)
        self.assertEqual(notify.next(), {"READY": "1"})

        g.proc.send_signal(signal.SIGTERM)
        self.assertEqual(notify.next(), {"STOPPING": "1"})
        self.assertEqual(g.proc.wait(timeout=30), 0)

    def test_abstract_socket(self):
        notify, _ = self.start_with_socket(abstract=True)
        self.assertEqual(notify.next(), {"READY": "1"})

    def test_a_socket_nobody_reads_or_a_bad_value_is_harmless(self):
        up = self.upstream()
        for value in ("/nonexistent/notify.sock", "relative/path", "@"):
            g = self.start_gatehouse(config([route("http://app.localhost", up.url)]),
                                     env={"NOTIFY_SOCKET": value})
            self.assertEqual(http_request(g.port, "app.localhost", "/").status, 200)
            g.proc.send_signal(signal.SIGHUP)
            g.wait_for("config reloaded")


if __name__ == "__main__":
    unittest.main()
