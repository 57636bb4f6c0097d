"""Shared harness for the integration tests: the real gatehouse binary
against real peers (curl, Python HTTP/TLS/WebSocket/HTTP/2 servers).

Everything binds port 0 and reads the port back; nothing sleeps to wait for
something that can be awaited (log lines, events, socket reads).
"""

import asyncio
import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse
import weakref
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_TIMEOUT = 15


def gatehouse_bin():
    path = os.environ.get("GATEHOUSE_BIN") or os.path.join(HERE, "..", "..", "build", "debug",
                                                           "src", "gatehouse")
    return os.path.abspath(path)


def minimal_env(extra=None):
    """The environment for a gatehouse process: every config key can be set
    from an upper-case variable, so only what a test asks for is passed."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
    if extra:
        env.update(extra)
    return env


# ---------------------------------------------------------------------------
# Configuration helpers. JSON is YAML, so a dict can be written as the config.

def config(routes=(), tls=False, **options):
    c = {"address": "127.0.0.1:0", "workers": 1, "routes": list(routes)}
    if not tls:
        c["insecure_server"] = True
    c.update(options)
    return c


def route(from_, to=None, **keys):
    """A public route (only public routes are forwarded without a policy)."""
    r = {"from": from_, "allow_public_unauthenticated_access": True}
    if to is not None:
        r["to"] = to
    r.update(keys)
    return r


def dead_port():
    """A port that refuses connections: bound, never listening. The socket is
    returned so that the port stays reserved while the test runs."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    return s, s.getsockname()[1]


# ---------------------------------------------------------------------------
# The gatehouse process.

# Every Gatehouse this process started, so that a failed assertion can show
# what the proxy logged about it.
_LIVE_GATEHOUSES = weakref.WeakSet()


def _recent_gatehouse_logs(last=20):
    out = []
    for g in list(_LIVE_GATEHOUSES):
        if g.proc is not None and g.proc.poll() is None:
            out.append("\n--- gatehouse %s log (last %d lines):\n%s" % (g.dir, last, g.log_text(last)))
    return "".join(out)


class Gatehouse:
    """One gatehouse process with its config in a temp dir.

    stdout (JSON lines) is collected into `lines` by a reader thread;
    `wait_for` blocks on a condition until a matching line arrives.
    """

    def __init__(self, cfg=None, env=None, args=None, config_name="config.yaml", workdir=None):
        self.dir = workdir or tempfile.mkdtemp(prefix="gatehouse-it-")
        self._own_dir = workdir is None
        self.config_path = os.path.join(self.dir, config_name)
        if cfg is not None:
            self.write_config(cfg)
        self.env = minimal_env(env)
        self.args = args
        self.lines = []
        self.stderr_lines = []
        self._cond = threading.Condition()
        self.proc = None
        self.ports = {}
        self.returncode = None
        _LIVE_GATEHOUSES.add(self)

    # -- config ------------------------------------------------------------
    def write_config(self, cfg):
        """Replaces the config file atomically (as editors and Kubernetes do)."""
        text = cfg if isinstance(cfg, str) else json.dumps(cfg, indent=1)
        tmp = self.config_path + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, self.config_path)

    def path(self, name):
        return os.path.join(self.dir, name)

    # -- process -----------------------------------------------------------
    def start(self, wait=True, timeout=DEFAULT_TIMEOUT):
        args = self.args if self.args is not None else ["--config", self.config_path]
        if not os.access(gatehouse_bin(), os.X_OK):
            raise AssertionError("no gatehouse binary at %s (set GATEHOUSE_BIN)" % gatehouse_bin())
        self.proc = subprocess.Popen([gatehouse_bin()] + list(args), stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=self.env, cwd=self.dir)
        self._readers = [
            threading.Thread(target=self._read, args=(self.proc.stdout, True), daemon=True),
            threading.Thread(target=self._read, args=(self.proc.stderr, False), daemon=True),
        ]
        for t in self._readers:
            t.start()
        if wait:
            self.wait_for("gatehouse started", timeout=timeout)
            for line in self.find("listening"):
                self.ports[line["kind"]] = int(line["address"].rsplit(":", 1)[1])
        return self

    def _read(self, pipe, is_stdout):
        for raw in iter(pipe.readline, b""):
            text = raw.decode("utf-8", "replace").rstrip("\n")
            if is_stdout:
                try:
                    item = json.loads(text)
                    if not isinstance(item, dict):
                        item = {"message": None, "raw": text}
                except ValueError:
                    item = {"message": None, "raw": text}
            with self._cond:
                (self.lines if is_stdout else self.stderr_lines).append(item if is_stdout else text)
                self._cond.notify_all()
        pipe.close()
        with self._cond:
            self._cond.notify_all()

    @property
    def port(self):
        return self.ports.get("https") or self.ports.get("http")

    @property
    def pid(self):
        return self.proc.pid

    def find(self, message=None, **fields):
        with self._cond:
            return [l for l in self.lines if _line_matches(l, message, fields)]

    def wait_for(self, message=None, timeout=DEFAULT_TIMEOUT, after=0, **fields):
        """The first line at index >= `after` with this message and fields.
        Raises AssertionError (with the log) on timeout or process exit."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for line in self.lines[after:]:
                    if _line_matches(line, message, fields):
                        return line
                exited = self.proc.poll() is not None and all(
                    not t.is_alive() for t in self._readers)
                left = deadline - time.monotonic()
                if exited or left <= 0:
                    raise AssertionError(
                        "no log line %r %r (%s); log:\n%s" %
                        (message, fields, "process exited" if exited else "timeout", self.log_text()))
                self._cond.wait(min(left, 0.5))

    def mark(self):
        """The index of the next log line, for wait_for(after=...)."""
        with self._cond:
            return len(self.lines)

    def access_log(self, request_id, timeout=DEFAULT_TIMEOUT):
        return self.wait_for("http-request", timeout=timeout, **{"request-id": request_id})

    def log_text(self, last=60):
        with self._cond:
            out = [json.dumps(l) if l.get("raw") is None else l["raw"] for l in self.lines[-last:]]
            out += ["stderr: " + l for l in self.stderr_lines[-last:]]
        return "\n".join(out)

    def signal(self, sig):
        self.proc.send_signal(sig)

    def reload_with_sighup(self, timeout=DEFAULT_TIMEOUT):
        mark = self.mark()
        self.signal(signal.SIGHUP)
        return self.wait_for("config reloaded", after=mark, timeout=timeout)

    def stop(self, timeout=20):
        """SIGTERM, then the exit code (the process is killed after `timeout`)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.returncode = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            self.returncode = "killed after %ss" % timeout
        for t in self._readers:
            t.join(5)
        return self.returncode

    def wait_exit(self, timeout=DEFAULT_TIMEOUT):
        self.returncode = self.proc.wait(timeout=timeout)
        for t in self._readers:
            t.join(5)
        return self.returncode

    def vm_hwm_kb(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        raise AssertionError("no VmHWM in /proc/%d/status" % self.proc.pid)

    def cleanup(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self._own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)


def _line_matches(line, message, fields):
    if message is not None and line.get("message") != message:
        return False
    for k, v in fields.items():
        if callable(v):
            if not v(line.get(k)):
                return False
        elif line.get(k) != v:
            return False
    return True


# ---------------------------------------------------------------------------
# Test base class.

class GatehouseTestCase(unittest.TestCase):
    """Starts gatehouse processes and upstreams that are stopped after the
    test; every gatehouse must exit 0 on SIGTERM."""

    maxDiff = 4000

    def start_gatehouse(self, cfg=None, env=None, args=None, wait=True, **kw):
        g = Gatehouse(cfg, env=env, args=args, **kw)
        self.addCleanup(g.cleanup)
        g.start(wait=wait)
        if wait:
            self.addCleanup(self._stop_and_check, g)
        return g

    def _stop_and_check(self, g):
        if g.returncode is not None:
            return
        rc = g.stop()
        self.assertEqual(rc, 0, "gatehouse did not exit 0 on SIGTERM; log:\n" + g.log_text())

    def upstream(self, name="echo", **kw):
        u = Upstream(name, **kw)
        self.addCleanup(u.close)
        return u

    def assertStatus(self, response, status):
        if response.status != status:
            self.fail("%r != %r: body: %r%s" % (response.status, status, response.body[:2000],
                                               _recent_gatehouse_logs()))


class ClassGatehouse(GatehouseTestCase):
    """One gatehouse and set of upstreams shared by the tests of a class:
    subclasses define `make_config(cls)` after creating their upstreams in
    `setUpUpstreams(cls)`."""

    gatehouse = None

    @classmethod
    def setUpUpstreams(cls):
        pass

    @classmethod
    def setUpClass(cls):
        cls.setUpUpstreams()
        cls.gatehouse = Gatehouse(cls.make_config())
        cls.addClassCleanup(cls.gatehouse.cleanup)
        cls.gatehouse.start()

    @classmethod
    def class_upstream(cls, name="echo", **kw):
        u = Upstream(name, **kw)
        cls.addClassCleanup(u.close)
        return u

    @classmethod
    def tearDownClass(cls):
        rc = cls.gatehouse.stop()
        if rc != 0:
            raise AssertionError("gatehouse did not exit 0 on SIGTERM: %r; log:\n%s" %
                                 (rc, cls.gatehouse.log_text()))

    @property
    def port(self):
        return self.gatehouse.port


# ---------------------------------------------------------------------------
# Upstreams.

_BLOCK = hashlib.sha256(b"gatehouse").digest() * (1 << 15)  # 1 MiB, fixed


def pattern_chunks(size, chunk=1 << 20):
    """The bytes of a body of `size` bytes, in pieces (the same every time)."""
    sent = 0
    while sent < size:
        n = min(chunk, size - sent)
        yield _BLOCK[:n]
        sent += n


def pattern_sha256(size):
    h = hashlib.sha256()
    for piece in pattern_chunks(size):
        h.update(piece)
    return h.hexdigest()


class _UpstreamHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "it-upstream"
    # The head and the body are separate writes: without TCP_NODELAY every
    # keep-alive response would wait for a delayed ACK.
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def setup(self):
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(10)
            try:
                self.request.do_handshake()
            except (ssl.SSLError, OSError) as e:
                self.server.owner.tls_failures.append(str(e))
                raise
            self.request.settimeout(None)
        super().setup()

    # Every method is handled the same way.
    def do_GET(self):
        self._handle()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = do_GET

    def _read_body(self, sink):
        te = self.headers.get("Transfer-Encoding", "")
        if "chunked" in te.lower():
            while True:
                size_line = self.rfile.readline(1024)
                size = int(size_line.split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return
                left = size
                while left:
                    data = self.rfile.read(min(left, 1 << 20))
                    if not data:
                        raise ConnectionError("body cut off")
                    sink(data)
                    left -= len(data)
                self.rfile.readline(16)
        length = int(self.headers.get("Content-Length") or 0)
        while length:
            data = self.rfile.read(min(length, 1 << 20))
            if not data:
                raise ConnectionError("body cut off")
            sink(data)
            length -= len(data)

    def _handle(self):
        owner = self.server.owner
        body = bytearray()
        digest = hashlib.sha256()
        count = [0]
        keep = not self.path.split("?")[0].endswith("/upload")

        def sink(data):
            digest.update(data)
            count[0] += len(data)
            if keep:
                body.extend(data)

        self._read_body(sink)
        info = {
            "server": owner.name,
            "method": self.command,
            "path": self.path,
            "version": self.request_version,
            "headers": [[k, v] for k, v in self.headers.items()],
            "body": bytes(body).decode("latin-1"),
            "body_length": count[0],
            "body_sha256": digest.hexdigest(),
            "peer_port": self.client_address[1],
            "client_cert": None,
            "sni": None,
        }
        if isinstance(self.request, ssl.SSLSocket):
            cert = self.request.getpeercert()
            if cert:
                info["client_cert"] = dict(x[0] for x in cert["subject"]).get("commonName")
            info["sni"] = owner.last_sni
        owner.record(info)
        path = self.path.split("?")[0]

        m = re.search(r"/big/(\d+)$", path)
        if m:
            size = int(m.group(1))
            chunked = "chunked" in self.path
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            if chunked:
                self.send_header("Transfer-Encoding", "chunked")
            else:
                self.send_header("Content-Length", str(size))
            self.end_headers()
            if self.command == "HEAD":
                return
            for piece in pattern_chunks(size, 64 * 1024):
                if chunked:
                    self.wfile.write(b"%x\r\n" % len(piece) + piece + b"\r\n")
                else:
                    self.wfile.write(piece)
                owner.big_written += len(piece)
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
            return
        if path.endswith("/slow"):
            owner.arrived.set()
            if not owner.release.wait(30):
                return
            return self._send(200, b"slow done\n", "text/plain")
        m = re.search(r"/status/(\d+)$", path)
        if m:
            code = int(m.group(1))
            return self._send(code, b"" if code in (204, 304) else b"status\n", "text/plain")
        if path.endswith("/location"):
            # An absolute Location pointing at the upstream itself, for
            # rewrite_response_headers.
            query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
            return self._send(302, b"", "text/plain",
                              [("Location", query.get("to", ["http://internal.example/x"])[0])])
        if path.endswith("/trailers"):
            # A chunked response that ends with trailer fields.
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Trailer", "X-Checksum")
            self.end_headers()
            self.wfile.write(b"5\r\nhello\r\n6\r\n world\r\n0\r\nX-Checksum: abc\r\n\r\n")
            return
        if path.endswith("/pomerium-headers"):
            return self._send(200, b"ok", "text/plain",
                              [("X-Pomerium-Jwt-Assertion", "from-upstream"), ("X-Kept", "yes")])
        payload = json.dumps(info).encode()
        self._send(200, payload, "application/json")

    def _send(self, status, payload, ctype, extra=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        if status not in (204, 304):
            self.send_header("Content-Length", str(len(payload)))
        self.send_header("X-Upstream", self.server.owner.name)
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, owner, ssl_context):
        self.owner = owner
        self.ssl_context = ssl_context
        super().__init__(("127.0.0.1", 0), _UpstreamHandler)

    def get_request(self):
        sock, addr = super().get_request()
        if self.ssl_context is not None:
            # The handshake runs in the handler thread, not in the accept loop.
            sock = self.ssl_context.wrap_socket(sock, server_side=True,
                                                do_handshake_on_connect=False)
        return sock, addr

    def handle_error(self, request, client_address):
        pass


class Upstream:
    """A threaded HTTP/1.1 upstream on port 0.

    Paths (matched at the end, so that rewrites can prefix them):
      .../big/N[?chunked]  N bytes of the fixed pattern (pattern_sha256(N))
      .../upload           reads the body, answers its length and sha256 only
      .../slow             sets `arrived`, answers once `release` is set
      .../status/N         answers status N
      .../location?to=URL  302 with that Location
      .../trailers         a chunked body "hello world" ending in a trailer field
      anything else        JSON echo of method, path, headers and body
    """

    def __init__(self, name="echo", tls=None):
        self.name = name
        self.requests = []
        self.tls_failures = []
        self.big_written = 0  # bytes of .../big bodies written so far
        self.last_sni = None
        self.arrived = threading.Event()
        self.release = threading.Event()
        self._lock = threading.Lock()
        ctx = None
        if tls is not None:
            ctx = tls
            ctx.sni_callback = self._on_sni
        self.server = _Server(self, ctx)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1},
                                       daemon=True)
        self.thread.start()

    def _on_sni(self, sslobj, name, ctx):
        self.last_sni = name

    def record(self, info):
        with self._lock:
            self.requests.append(info)

    @property
    def url(self):
        scheme = "https" if self.server.ssl_context is not None else "http"
        return "%s://127.0.0.1:%d" % (scheme, self.port)

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def header(echo, name):
    """All values of a header in an echo, in order."""
    return [v for k, v in echo["headers"] if k.lower() == name.lower()]


# ---------------------------------------------------------------------------
# PKI generated with the openssl CLI.

class Pki:
    """A test CA in `directory` that issues EC P-256 certificates."""

    def __init__(self, directory):
        self.dir = directory
        os.makedirs(directory, exist_ok=True)
        self.ca_cert = os.path.join(directory, "ca.crt")
        self.ca_key = os.path.join(directory, "ca.key")
        self._serial = int.from_bytes(os.urandom(6), "big")
        _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                 "-nodes", "-keyout", self.ca_key, "-out", self.ca_cert, "-days", "2",
                 "-subj", "/CN=Gatehouse Integration Test CA",
                 "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign")

    def issue(self, name, sans=(), client=False):
        """Returns (cert_path, key_path) for CN `name` with the given SANs
        ("DNS:x" / "IP:y"; a bare name is DNS)."""
        base = os.path.join(self.dir, re.sub(r"[^A-Za-z0-9.-]", "_", name))
        key, csr, crt, ext = base + ".key", base + ".csr", base + ".crt", base + ".ext"
        alt = [s if ":" in s else "DNS:" + s for s in (sans or [name])]
        with open(ext, "w") as f:
            f.write("basicConstraints=CA:FALSE\n")
            f.write("extendedKeyUsage=%s\n" % ("clientAuth" if client else "serverAuth"))
            if alt:
                f.write("subjectAltName=%s\n" % ",".join(alt))
        _openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                 "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=" + name)
        self._serial += 1
        _openssl("x509", "-req", "-in", csr, "-CA", self.ca_cert, "-CAkey", self.ca_key,
                 "-set_serial", str(self._serial), "-days", "2", "-out", crt, "-extfile", ext)
        return crt, key

    def server_context(self, name, sans=(), require_client_cert=False):
        crt, key = self.issue(name, sans)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(crt, key)
        if require_client_cert:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(self.ca_cert)
        return ctx


def _openssl(*args):
    r = subprocess.run(["openssl"] + list(args), capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("openssl %s failed: %s" % (" ".join(args), r.stderr))


def read_file(path):
    with open(path) as f:
        return f.read()


# ---------------------------------------------------------------------------
# curl.

class CurlResult:
    def __init__(self, proc, info, header_blocks, body):
        self.proc = proc
        self.returncode = proc.returncode
        self.stderr = proc.stderr
        self.info = info
        self.status = info.get("http_code", 0) if info else 0
        self.http_version = info.get("http_version") if info else None
        self.header_blocks = [b for b in header_blocks if b[0].startswith("HTTP/")]
        self.headers = self.header_blocks[-1][1] if self.header_blocks else []
        # curl writes HTTP/2 trailers as a block without a status line.
        self.trailers = []
        for status_line, fields in header_blocks:
            if not status_line.startswith("HTTP/") and ":" in status_line:
                k, v = status_line.split(":", 1)
                self.trailers += [(k.strip(), v.strip())] + fields
        self.body = body

    def header(self, name):
        values = [v for k, v in self.headers if k.lower() == name.lower()]
        return values[0] if values else None

    def header_all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def trailer(self, name):
        values = [v for k, v in self.trailers if k.lower() == name.lower()]
        return values[0] if values else None

    def json(self):
        return json.loads(self.body)

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def __repr__(self):
        return "CurlResult(status=%r, rc=%r, stderr=%r)" % (self.status, self.returncode, self.stderr)


def parse_header_blocks(raw):
    blocks = []
    text = raw.decode("latin-1")
    for block in re.split(r"\r?\n\r?\n", text):
        lines = [l for l in block.split("\r\n") if l] if "\r\n" in block else [
            l for l in block.split("\n") if l]
        if not lines:
            continue
        status_line = lines[0]
        fields = []
        for l in lines[1:]:
            if ":" in l:
                k, v = l.split(":", 1)
                fields.append((k.strip(), v.strip()))
        blocks.append((status_line, fields))
    return blocks


def curl(url, *args, cacert=None, insecure=True, timeout=30, input=None, resolve=True,
         body_file=None):
    """Runs curl against 127.0.0.1 for `url` (its host is resolved there with
    --resolve). Returns a CurlResult; curl's exit code is in returncode."""
    parsed = urllib.parse.urlsplit(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    with tempfile.TemporaryDirectory(prefix="curl-") as d:
        hfile = os.path.join(d, "headers")
        bfile = body_file or os.path.join(d, "body")
        cmd = ["curl", "-sS", "--max-time", str(timeout), "-D", hfile, "-o", bfile,
               "-w", "%{json}"]
        if resolve:
            cmd += ["--resolve", "%s:%d:127.0.0.1" % (parsed.hostname, port)]
        if parsed.scheme == "https":
            if cacert:
                cmd += ["--cacert", cacert]
            elif insecure:
                cmd += ["-k"]
        cmd += list(args) + [url]
        proc = subprocess.run(cmd, capture_output=True, input=input, timeout=timeout + 10)
        try:
            info = json.loads(proc.stdout.decode())
        except ValueError:
            info = {}
        blocks = []
        if os.path.exists(hfile):
            with open(hfile, "rb") as f:
                blocks = parse_header_blocks(f.read())
        body = b""
        if body_file is None and os.path.exists(bfile):
            with open(bfile, "rb") as f:
                body = f.read()
        return CurlResult(proc, info, blocks, body)


# ---------------------------------------------------------------------------
# http.client with the connection going to 127.0.0.1 whatever the Host.

class Client:
    """A keep-alive HTTP/1.1 client to 127.0.0.1:port that sends `host` as
    Host (and as SNI with tls=True, without verifying the certificate unless
    `cafile` is given)."""

    def __init__(self, port, host, tls=False, cafile=None, timeout=DEFAULT_TIMEOUT):
        self.host = host
        if tls:
            ctx = ssl.create_default_context(cafile=cafile) if cafile else \
                ssl._create_unverified_context()
            conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=timeout, context=ctx)
            conn.server_hostname = host

            def connect(conn=conn, ctx=ctx):
                sock = socket.create_connection(("127.0.0.1", port), timeout)
                conn.sock = ctx.wrap_socket(sock, server_hostname=host.split(":")[0])
            conn.connect = connect
        else:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        self.conn = conn

    def request(self, method, path, body=None, headers=None):
        h = {"Host": self.host}
        h.update(headers or {})
        self.conn.request(method, path, body=body, headers=h)
        r = self.conn.getresponse()
        data = r.read()
        return Response(r.status, r.getheaders(), data, r)

    def get(self, path, headers=None):
        return self.request("GET", path, headers=headers)

    def close(self):
        self.conn.close()


def http_request(port, host, path, method="GET", body=None, headers=None, tls=False):
    c = Client(port, host, tls=tls)
    try:
        return c.request(method, path, body=body, headers=headers)
    finally:
        c.close()


class Response:
    def __init__(self, status, headers, body, raw=None, reason="", version=""):
        self.status = status
        self.headers = list(headers)
        self.body = body
        self.raw = raw
        self.reason = reason
        self.version = version

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def header_all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def json(self):
        return json.loads(self.body)

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def __repr__(self):
        return "Response(%r, %r, %r)" % (self.status, self.headers, self.body[:200])


# ---------------------------------------------------------------------------
# Raw sockets, for what well-behaved clients never send.

class Raw:
    def __init__(self, port, tls=False, server_name=None, timeout=DEFAULT_TIMEOUT):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout)
        if tls:
            ctx = ssl._create_unverified_context()
            self.sock = ctx.wrap_socket(self.sock, server_hostname=server_name)
        self.buf = bytearray()
        self.eof = False

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self):
        try:
            data = self.sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            data = b""
        except ssl.SSLError:
            data = b""
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def read_until(self, marker):
        start = 0
        while True:
            i = self.buf.find(marker, start)
            if i >= 0:
                break
            start = max(0, len(self.buf) - len(marker) + 1)
            if not self._fill():
                raise AssertionError("connection closed before %r; got %r" % (marker,
                                                                            bytes(self.buf)))
        i += len(marker)
        out = bytes(self.buf[:i])
        del self.buf[:i]
        return out

    def _take(self, n):
        while len(self.buf) < n:
            if not self._fill():
                raise AssertionError("connection closed in body; have %d of %d" % (len(self.buf), n))
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def read_response(self, head_request=False):
        """One HTTP/1.x response (interim 1xx responses are returned too)."""
        head = self.read_until(b"\r\n\r\n").decode("latin-1")
        lines = head.split("\r\n")
        version, status, reason = (lines[0].split(" ", 2) + [""])[:3]
        headers = []
        for l in lines[1:]:
            if l:
                k, v = l.split(":", 1)
                headers.append((k.strip(), v.strip()))
        r = Response(int(status), headers, b"", reason=reason, version=version)
        status = int(status)
        if head_request or status < 200 or status in (204, 304):
            return r
        if (r.header("Transfer-Encoding") or "").lower() == "chunked":
            body = []
            while True:
                size = int(self.read_until(b"\r\n").split(b";")[0].strip(), 16)
                if size == 0:
                    while self.read_until(b"\r\n") != b"\r\n":
                        pass
                    break
                body.append(self._take(size))
                self._take(2)
            r.body = b"".join(body)
        elif r.header("Content-Length") is not None:
            r.body = self._take(int(r.header("Content-Length")))
        else:
            while self._fill():
                pass
            r.body = bytes(self.buf)
            self.buf = bytearray()
        return r

    def closed_by_peer(self, timeout=5):
        """True if the peer closes the connection within `timeout` with no
        more bytes; False if it stays open. Any unread bytes fail the check."""
        self.sock.settimeout(timeout)
        try:
            while self._fill():
                pass
            return self.buf == b""
        except socket.timeout:
            return False

    def close(self):
        self.sock.close()


# ---------------------------------------------------------------------------
# WebSocket echo upstream (websockets 10, asyncio in its own thread).

class WebSocketEcho:
    def __init__(self):
        import websockets
        self.connections = []
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

        async def start():
            return await websockets.serve(self._handler, "127.0.0.1", 0)
        self.server = asyncio.run_coroutine_threadsafe(start(), self.loop).result(10)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _handler(self, ws, *unused):
        import websockets
        self.connections.append({"path": ws.path, "headers": list(ws.request_headers.raw_items())})
        try:
            async for message in ws:
                await ws.send(message)
        except websockets.exceptions.ConnectionClosed:
            pass  # a test client that hung up without a close frame

    def close(self):
        async def stop():
            self.server.close()
            await self.server.wait_closed()
        try:
            asyncio.run_coroutine_threadsafe(stop(), self.loop).result(10)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)


# ---------------------------------------------------------------------------
# HTTP/2: an h2c gRPC-style upstream and a small client.

def grpc_frame(payload):
    return b"\x00" + len(payload).to_bytes(4, "big") + payload


class H2cGrpcServer:
    """HTTP/2 with prior knowledge, or over TLS when given an ssl context (it
    then offers only "h2" by ALPN, so a client that does not negotiate
    HTTP/2 gets nothing). Every request is answered with HEADERS (:status
    200, content-type application/grpc), one DATA frame holding a gRPC
    message that echoes the request body's message, then trailers
    grpc-status: 0 and grpc-message: ok."""

    def __init__(self, tls_context=None):
        self.tls_context = tls_context
        if tls_context is not None:
            tls_context.set_alpn_protocols(["h2"])
        self.requests = []
        self.connections = 0
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self._closing = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self._closing:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, sock):
        import h2.config
        import h2.connection
        import h2.events
        conn = h2.connection.H2Connection(
            config=h2.config.H2Configuration(client_side=False, header_encoding="utf-8"))
        streams = {}
        try:
            if self.tls_context is not None:
                sock = self.tls_context.wrap_socket(sock, server_side=True)
                if sock.selected_alpn_protocol() != "h2":
                    return
            conn.initiate_connection()
            sock.sendall(conn.data_to_send())
            while True:
                data = sock.recv(65536)
                if not data:
                    return
                for ev in conn.receive_data(data):
                    if isinstance(ev, h2.events.RequestReceived):
                        streams[ev.stream_id] = {"headers": list(ev.headers), "body": b""}
                    elif isinstance(ev, h2.events.DataReceived):
                        streams[ev.stream_id]["body"] += ev.data
                        conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                    elif isinstance(ev, h2.events.StreamEnded):
                        req = streams.pop(ev.stream_id)
                        self.requests.append(req)
                        message = req["body"][5:] if len(req["body"]) >= 5 else b""
                        conn.send_headers(ev.stream_id, [(":status", "200"),
                                                         ("content-type", "application/grpc"),
                                                         ("x-upstream", "h2c")])
                        conn.send_data(ev.stream_id, grpc_frame(b"echo:" + message))
                        conn.send_headers(ev.stream_id, [("grpc-status", "0"),
                                                         ("grpc-message", "ok")], end_stream=True)
                    elif isinstance(ev, h2.events.ConnectionTerminated):
                        return
                out = conn.data_to_send()
                if out:
                    sock.sendall(out)
        except (OSError, Exception):
            return
        finally:
            sock.close()

    def close(self):
        self._closing = True
        self.sock.close()


class H2Response:
    def __init__(self):
        self.headers = []
        self.body = b""
        self.trailers = []
        self.reset = None
        self.alpn = None
        self.goaway = None  # last_stream_id of a GOAWAY, if one came

    @property
    def status(self):
        return int(dict(self.headers).get(":status", 0))

    def header(self, name):
        for k, v in self.headers:
            if k == name.lower():
                return v
        return None

    def trailer(self, name):
        for k, v in self.trailers:
            if k == name.lower():
                return v
        return None


def h2_request(port, authority, path, method="GET", headers=(), body=b"", server_name=None,
               timeout=DEFAULT_TIMEOUT, strict=True):
    """One HTTP/2 request over TLS with ALPN h2 (certificate not verified).
    With strict=False the request headers are sent exactly as given (for
    malformed requests); `authority` None leaves out :authority."""
    import h2.config
    import h2.connection
    import h2.events
    ctx = ssl._create_unverified_context()
    ctx.set_alpn_protocols(["h2"])
    raw = socket.create_connection(("127.0.0.1", port), timeout)
    sock = ctx.wrap_socket(raw, server_hostname=server_name or (authority or "").split(":")[0]
                           or None)
    result = H2Response()
    result.alpn = sock.selected_alpn_protocol()
    if result.alpn != "h2":
        sock.close()
        return result
    conn = h2.connection.H2Connection(config=h2.config.H2Configuration(
        client_side=True, header_encoding="utf-8", validate_outbound_headers=strict,
        normalize_outbound_headers=strict))
    conn.initiate_connection()
    # h2 4.1 refuses every frame after a GOAWAY, but streams up to its
    # last_stream_id are still answered (RFC 9113 section 6.8), as in a
    # graceful shutdown: keep the connection open for them.
    from hyperframe.frame import GoAwayFrame
    receive_goaway = conn._frame_dispatch_table[GoAwayFrame]

    def on_goaway(frame):
        frames, events = receive_goaway(frame)
        if frame.error_code == 0 and frame.last_stream_id >= 1:
            conn.state_machine.state = h2.connection.ConnectionState.CLIENT_OPEN
        return frames, events
    conn._frame_dispatch_table[GoAwayFrame] = on_goaway
    req = [(":method", method), (":scheme", "https")]
    if authority is not None:
        req.append((":authority", authority))
    req += [(":path", path)] + list(headers)
    sid = conn.get_next_available_stream_id()
    conn.send_headers(sid, req, end_stream=not body)
    if body:
        conn.send_data(sid, body, end_stream=True)
    sock.sendall(conn.data_to_send())
    try:
        done = False
        while not done:
            data = sock.recv(65536)
            if not data:
                break
            for ev in conn.receive_data(data):
                if isinstance(ev, h2.events.ResponseReceived) and ev.stream_id == sid:
                    result.headers = list(ev.headers)
                elif isinstance(ev, h2.events.DataReceived) and ev.stream_id == sid:
                    result.body += ev.data
                    conn.acknowledge_received_data(ev.flow_controlled_length, sid)
                elif isinstance(ev, h2.events.TrailersReceived) and ev.stream_id == sid:
                    result.trailers = list(ev.headers)
                elif isinstance(ev, h2.events.StreamEnded) and ev.stream_id == sid:
                    done = True
                elif isinstance(ev, h2.events.StreamReset) and ev.stream_id == sid:
                    result.reset = ev.error_code
                    done = True
                elif isinstance(ev, h2.events.ConnectionTerminated):
                    # GOAWAY: a stream at or below last_stream_id is still
                    # answered, so keep reading until it ends.
                    result.goaway = ev.last_stream_id
                    if ev.last_stream_id is None or ev.last_stream_id < sid:
                        done = True
            out = conn.data_to_send()
            if out:
                sock.sendall(out)
    finally:
        try:
            conn.close_connection()
            sock.sendall(conn.data_to_send())
        except Exception:
            pass
        sock.close()
    return result


# ---------------------------------------------------------------------------
# A raw upstream, for responses no real server library would send.

class RawUpstream:
    """Reads each request head (and a Content-Length body unless
    read_body=False) and answers with the next item of `responses` (bytes;
    the last one repeats). An item may also be (bytes, seconds, bytes): the
    first part, a pause, then the rest. With close=True the connection is
    closed after every answer, without saying so in the response."""

    def __init__(self, responses, close=False, read_body=True):
        self.responses = list(responses)
        self.close_after = close
        self.read_body = read_body
        self.connections = 0
        self.requests = []
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.url = "http://127.0.0.1:%d" % self.port
        self._lock = threading.Lock()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _next_response(self, head):
        with self._lock:
            self.requests.append(head)
            if len(self.responses) > 1:
                return self.responses.pop(0)
            return self.responses[0]

    def _serve(self, conn):
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buf = b""
        try:
            while True:
                while b"\r\n\r\n" not in buf:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                head, buf = buf.split(b"\r\n\r\n", 1)
                m = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
                length = int(m.group(1)) if m and self.read_body else 0
                while len(buf) < length:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                buf = buf[length:]
                response = self._next_response(head.decode("latin-1"))
                if isinstance(response, tuple):
                    first, pause, rest = response
                    conn.sendall(first)
                    time.sleep(pause)
                    conn.sendall(rest)
                else:
                    conn.sendall(response)
                if self.close_after:
                    return
        except OSError:
            return
        finally:
            conn.close()

    def close(self):
        self.sock.close()


# ---------------------------------------------------------------------------
# The test OpenID Connect provider (tests/support/idp/server.mjs, on the
# oidc-provider package) and clients that sign in through it.

IDP_DIR = os.path.abspath(os.path.join(HERE, "..", "support", "idp"))
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


_PORTS_HANDED_OUT = set()


def free_port():
    """A port that was free a moment ago (bound to 0, read, closed), for a
    server whose URL must be known before it starts. Never the same port
    twice in one test process: the kernel may offer a closed port again
    before the server it was picked for has bound it."""
    while True:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        if port not in _PORTS_HANDED_OUT:
            _PORTS_HANDED_OUT.add(port)
            return port


def node_bin():
    path = shutil.which("node") or shutil.which("nodejs")
    if not path:
        raise AssertionError("no node on PATH (scripts/install-deps.sh installs it)")
    return path


def idp_user(password, email=None, name=None, groups=(), email_verified=True, **claims):
    """A user entry for Idp(users={login: idp_user(...)}); extra keyword
    arguments become extra claims in the ID token and userinfo."""
    u = {"password": password, "email_verified": email_verified, "groups": list(groups)}
    if email is not None:
        u["email"] = email
    if name is not None:
        u["name"] = name
    u.update(claims)
    return u


def idp_client(client_id, client_secret, redirect_uris, pkce=False, **metadata):
    """A client entry for Idp(clients=[...]): client_secret_basic, grant types
    authorization_code and refresh_token unless `metadata` says otherwise;
    pkce=True makes PKCE required for this client."""
    c = {"client_id": client_id, "client_secret": client_secret,
         "redirect_uris": list(redirect_uris)}
    if pkce:
        c["pkce"] = True
    c.update(metadata)
    return c


class Idp:
    """One tests/support/idp/server.mjs process with a generated config.

    tls: None (http), a Pki (a certificate for 127.0.0.1 and localhost is
    issued and the CA becomes `cafile`) or a (cert, key) pair. The port is
    picked by the server unless given; restart() reuses it, so the issuer
    does not change. State (keys, sessions, grants, tokens) is kept in the
    work directory across restarts unless restart(keep_state=False).
    """

    def __init__(self, clients=(), users=None, tls=None, cafile=None, port=0, host="127.0.0.1",
                 issuer=None, access_token_ttl=None, id_token_ttl=None, refresh_token_ttl=None,
                 pkce_advertise=True, pkce_required=False, consent="auto",
                 refresh_tokens="always", rotate_refresh_tokens=None, test_control=True,
                 extra=None, workdir=None):
        self.dir = workdir or tempfile.mkdtemp(prefix="gatehouse-idp-")
        self._own_dir = workdir is None
        self.host = host
        self.port = port
        self.cafile = cafile
        cfg = {
            "clients": list(clients),
            "users": users if users is not None else {
                "alice": idp_user("alice-password", "alice@example.com", "Alice Example",
                                  ["admins", "users"])},
            "pkce": {"advertise": pkce_advertise, "required": pkce_required},
            "consent": consent,
            "refresh_tokens": refresh_tokens,
            "test_control": test_control,
            "state_dir": os.path.join(self.dir, "state"),
        }
        if issuer:
            cfg["issuer"] = issuer
        for key, value in (("access_token_ttl", access_token_ttl),
                           ("id_token_ttl", id_token_ttl),
                           ("refresh_token_ttl", refresh_token_ttl),
                           ("rotate_refresh_tokens", rotate_refresh_tokens)):
            if value is not None:
                cfg[key] = value
        if tls is not None:
            if isinstance(tls, Pki):
                cert, key = tls.issue("idp", sans=["IP:127.0.0.1", "DNS:localhost",
                                                   "DNS:idp.localhost"])
                self.cafile = self.cafile or tls.ca_cert
            else:
                cert, key = tls
            cfg["tls"] = {"cert": cert, "key": key}
        cfg.update(extra or {})
        self.config = cfg
        self.config_path = os.path.join(self.dir, "idp.json")
        with open(self.config_path, "w") as f:
            json.dump(cfg, f, indent=1)
        self.issuer = None
        self.proc = None
        self.lines = []
        self.stderr_lines = []
        self._cond = threading.Condition()

    # -- process -----------------------------------------------------------
    def start(self, timeout=DEFAULT_TIMEOUT):
        with self._cond:
            self.lines, self.stderr_lines = [], []
        cmd = [node_bin(), os.path.join(IDP_DIR, "server.mjs"), "--port", str(self.port),
               "--host", self.host, "--config", self.config_path]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     cwd=self.dir)
        self._readers = [
            threading.Thread(target=self._read, args=(self.proc.stdout, True), daemon=True),
            threading.Thread(target=self._read, args=(self.proc.stderr, False), daemon=True),
        ]
        for t in self._readers:
            t.start()
        line = self.wait_for("listening", timeout=timeout)
        self.issuer = line["issuer"]
        self.port = int(line["port"])
        return self

    def _read(self, pipe, is_stdout):
        for raw in iter(pipe.readline, b""):
            text = raw.decode("utf-8", "replace").rstrip("\n")
            item = text
            if is_stdout:
                try:
                    item = json.loads(text)
                except ValueError:
                    item = {"message": None, "raw": text}
            with self._cond:
                (self.lines if is_stdout else self.stderr_lines).append(item)
                self._cond.notify_all()
        pipe.close()
        with self._cond:
            self._cond.notify_all()

    def wait_for(self, message=None, timeout=DEFAULT_TIMEOUT, after=0, **fields):
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for line in self.lines[after:]:
                    if isinstance(line, dict) and _line_matches(line, message, fields):
                        return line
                exited = self.proc.poll() is not None and all(
                    not t.is_alive() for t in self._readers)
                left = deadline - time.monotonic()
                if exited or left <= 0:
                    raise AssertionError("idp: no line %r %r (%s); log:\n%s" % (
                        message, fields, "process exited" if exited else "timeout",
                        self.log_text()))
                self._cond.wait(min(left, 0.5))

    def log_text(self, last=60):
        with self._cond:
            out = [json.dumps(l) for l in self.lines[-last:]]
            out += ["stderr: " + l for l in self.stderr_lines[-last:]]
        return "\n".join(out)

    def stop(self, timeout=10):
        """SIGTERM; returns the exit code (0 expected)."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        for t in self._readers:
            t.join(5)
        return rc

    def kill(self):
        """SIGKILL, as a crash."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
            for t in self._readers:
                t.join(5)

    def restart(self, keep_state=True, timeout=DEFAULT_TIMEOUT):
        """Stops and starts again on the same port (and issuer)."""
        self.stop()
        if not keep_state:
            shutil.rmtree(self.config["state_dir"], ignore_errors=True)
        return self.start(timeout=timeout)

    def cleanup(self):
        self.kill()
        if self._own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    # -- URLs ----------------------------------------------------------------
    def url(self, path=""):
        return self.issuer + path

    @property
    def discovery_url(self):
        return self.url("/.well-known/openid-configuration")

    def _call(self, method, path, body=None):
        import urllib.request
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url(path), data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        ctx = None
        if self.issuer.startswith("https:"):
            ctx = ssl.create_default_context(cafile=self.cafile) if self.cafile else \
                ssl._create_unverified_context()
        with urllib.request.urlopen(req, timeout=DEFAULT_TIMEOUT, context=ctx) as r:
            return json.loads(r.read() or b"null")

    def discovery(self):
        return self._call("GET", "/.well-known/openid-configuration")

    def jwks(self):
        return self._call("GET", "/jwks")

    def gatehouse_options(self, client=0, **extra):
        """Gatehouse config keys for signing in with client number `client`
        (or the client with that client_id): idp_provider oidc,
        idp_provider_url, idp_client_id, idp_client_secret, and
        certificate_authority_file when the provider serves TLS with a test CA."""
        clients = self.config["clients"]
        c = next(c for c in clients if c["client_id"] == client) if isinstance(client, str) \
            else clients[client]
        opts = {"idp_provider": "oidc", "idp_provider_url": self.issuer,
                "idp_client_id": c["client_id"], "idp_client_secret": c["client_secret"]}
        if self.issuer.startswith("https:") and self.cafile:
            opts["certificate_authority_file"] = self.cafile
        opts.update(extra)
        return opts

    # -- test control (config "test_control": true) --------------------------
    def stats(self):
        """{requests: {path: n}, token: {grant_type: n successful},
        token_errors: [...], token_requests: [{grant_type, client_id,
        client_auth, code_verifier, status}], authorizations: [query params],
        logins: n, failed_logins: n}"""
        return self._call("GET", "/__test/stats")

    def reset_stats(self):
        self._call("POST", "/__test/reset", {})

    def last_authorization(self):
        """The query parameters of the last authorization request."""
        auths = self.stats()["authorizations"]
        if not auths:
            raise AssertionError("the IdP has seen no authorization request")
        return auths[-1]

    def token_count(self, grant_type):
        return self.stats()["token"].get(grant_type, 0)

    def set_user(self, login, **fields):
        """Merges fields (password or claims) into a user entry; claims that
        were not in any user entry at start are not released."""
        return self._call("POST", "/__test/users/" + urllib.parse.quote(login, safe=""), fields)

    def revoke(self, login=None):
        """Destroys the grants (and so every token) of `login`, or of everyone."""
        q = "?login=" + urllib.parse.quote(login) if login else ""
        return self._call("POST", "/__test/revoke" + q, {})["grants"]

    def clear_sessions(self):
        """Forgets every IdP sign-in session: the next login shows the form."""
        return self._call("POST", "/__test/sessions/clear", {})["sessions"]

    def fault(self, path, status=503, body=None, count=1):
        """The next `count` requests to `path` (e.g. "/token") get `status`
        with JSON `body` (default {"error": "temporarily_unavailable"})."""
        f = {"path": path, "status": status, "count": count}
        if body is not None:
            f["body"] = body
        self._call("POST", "/__test/fault", f)


def start_idp(case, **kw):
    """Starts an Idp(**kw) for a test (case is a TestCase: stopped after the
    test) or for a class (case is a TestCase class: stopped after the
    class). The provider must exit 0 on SIGTERM."""
    idp = Idp(**kw)
    cleanup = case.addClassCleanup if isinstance(case, type) else case.addCleanup

    def stop():
        rc = idp.stop()
        if rc not in (0, None):
            raise AssertionError("the IdP exited %r; log:\n%s" % (rc, idp.log_text()))
    cleanup(idp.cleanup)
    idp.start()
    cleanup(stop)
    return idp


class Hop:
    """One request of a followed chain: method, url, status, location
    (absolute, or None) and the BrowserResponse."""

    def __init__(self, method, response):
        self.method = method
        self.url = response.url
        self.status = response.status
        loc = response.header("Location")
        self.location = urllib.parse.urljoin(response.url, loc) if loc else None
        self.response = response

    def __repr__(self):
        return "Hop(%s %s -> %d %s)" % (self.method, self.url, self.status, self.location or "")


class BrowserResponse(Response):
    """A Response (status, headers with every Set-Cookie, body, header(),
    json(), text) that also has `url` and, when followed, `hops`."""

    def __init__(self, r):
        raw_headers = getattr(r.raw, "headers", None)
        if raw_headers is not None and hasattr(raw_headers, "iteritems"):
            items = list(raw_headers.iteritems())
        elif raw_headers is not None:
            items = list(raw_headers.items())
        else:
            items = list(r.headers.items())
        super().__init__(r.status_code, items, r.content, r, r.reason or "")
        self.url = r.url
        self.hops = []


from html.parser import HTMLParser as _HTMLParser  # noqa: E402


class _FormParser(_HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms = []
        self._open = None
        self.outside = []  # (form_id, tag, attrs) of controls with form="..."

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._open = {"id": a.get("id"), "action": a.get("action") or "",
                          "method": (a.get("method") or "get").lower(), "controls": []}
            self.forms.append(self._open)
        elif tag in ("input", "button", "select", "textarea"):
            if a.get("form"):
                self.outside.append((a["form"], tag, a))
            elif self._open is not None:
                self._open["controls"].append((tag, a))

    def handle_endtag(self, tag):
        if tag == "form":
            self._open = None


class Form:
    """An HTML form: id, method, absolute action, fields (name -> value of
    its inputs, including hidden ones) and submit (name, value) of its
    first named submit button, if any."""

    def __init__(self, base_url, spec, outside):
        self.id = spec["id"]
        self.method = spec["method"]
        self.action = urllib.parse.urljoin(base_url, spec["action"]) if spec["action"] else base_url
        self.fields = {}
        self.submit = None
        controls = spec["controls"] + [(t, a) for fid, t, a in outside if fid == self.id]
        for tag, a in controls:
            kind = (a.get("type") or ("submit" if tag == "button" else "text")).lower()
            name = a.get("name")
            if kind == "submit":
                if name and self.submit is None:
                    self.submit = (name, a.get("value") or "")
            elif name and (kind not in ("checkbox", "radio") or "checked" in a):
                self.fields[name] = a.get("value") or ""

    def __repr__(self):
        return "Form(%r %s %s %r)" % (self.id, self.method, self.action, self.fields)


def parse_forms(response):
    p = _FormParser()
    p.feed(response.text)
    return [Form(response.url, spec, p.outside) for spec in p.forms]


class BrowserClient:
    """A browserless browser on `requests`: a cookie jar, `Accept: text/html`
    by default, host names ending in one of `map_suffixes` (and "localhost")
    connected to 127.0.0.1 (name resolution is replaced inside this client
    only; TLS SNI and certificate checks still use the real name), TLS
    verified against `cafile` (or not verified without one). Redirects are
    followed only on request, hop by hop."""

    def __init__(self, cafile=None, map_suffixes=(".localhost", ".test"), headers=None,
                 timeout=DEFAULT_TIMEOUT):
        import requests
        import requests.adapters
        from urllib3.connection import HTTPConnection, HTTPSConnection
        from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

        suffixes = tuple(s.lower() for s in map_suffixes)

        def resolve(host):
            h = (host or "").lower().rstrip(".")
            if h == "localhost" or h.endswith(suffixes):
                return "127.0.0.1"
            return None

        class MappedMixin:
            def _new_conn(self):
                ip = resolve(self._dns_host)
                if ip is None:
                    return super()._new_conn()
                saved = self._dns_host
                self._dns_host = ip
                try:
                    return super()._new_conn()
                finally:
                    self._dns_host = saved

        class MappedHTTP(MappedMixin, HTTPConnection):
            pass

        class MappedHTTPS(MappedMixin, HTTPSConnection):
            pass

        class Pool(HTTPConnectionPool):
            ConnectionCls = MappedHTTP

        class SPool(HTTPSConnectionPool):
            ConnectionCls = MappedHTTPS

        class Adapter(requests.adapters.HTTPAdapter):
            def init_poolmanager(self, *a, **kw):
                super().init_poolmanager(*a, **kw)
                self.poolmanager.pool_classes_by_scheme = {"http": Pool, "https": SPool}

        self.session = requests.Session()
        self.session.trust_env = False  # no proxies or netrc from the environment
        self.session.mount("http://", Adapter())
        self.session.mount("https://", Adapter())
        if cafile:
            self.session.verify = cafile
        else:
            self.session.verify = False
            import urllib3
            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        self.session.headers.update({
            "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) GatehouseTestBrowser/1.0",
            "Accept": BROWSER_ACCEPT,
            "Accept-Language": "en",
        })
        self.session.headers.update(headers or {})
        self.timeout = timeout

    @property
    def cookies(self):
        """The requests cookie jar (RequestsCookieJar)."""
        return self.session.cookies

    def cookie(self, name, domain=None):
        for c in self.session.cookies:
            if c.name == name and (domain is None or c.domain.lstrip(".") == domain):
                return c.value
        return None

    def close(self):
        self.session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def request(self, method, url, follow=False, headers=None, data=None, stop_before=None,
                **kw):
        """One request, or with follow=True the redirect chain (the result
        then has `hops`; `headers` are sent at every hop, as a script's
        fetch() does). `stop_before` (a URL prefix, or a function of the
        next URL) ends the chain at the redirect that would go there."""
        r = BrowserResponse(self.session.request(method, url, headers=headers, data=data,
                                                 allow_redirects=False, timeout=self.timeout,
                                                 **kw))
        if not follow:
            return r
        return self._follow(method, r, max_hops=30, headers=headers, stop_before=stop_before)

    def get(self, url, follow=False, headers=None, **kw):
        return self.request("GET", url, follow=follow, headers=headers, **kw)

    def post(self, url, data=None, follow=False, headers=None, **kw):
        return self.request("POST", url, follow=follow, headers=headers, data=data, **kw)

    def _follow(self, method, r, max_hops, hops=None, headers=None, stop_before=None):
        hops = hops if hops is not None else []
        hops.append(Hop(method, r))
        if isinstance(stop_before, str):
            prefix = stop_before
            stop_before = lambda url: url.startswith(prefix)  # noqa: E731
        while r.status in (301, 302, 303, 307, 308) and r.header("Location"):
            if stop_before is not None and stop_before(hops[-1].location):
                break
            if len(hops) >= max_hops:
                raise AssertionError("more than %d hops: %r" % (max_hops, hops))
            if r.status not in (307, 308):
                method = "GET"
            r = BrowserResponse(self.session.request(method, hops[-1].location, headers=headers,
                                                     allow_redirects=False,
                                                     timeout=self.timeout))
            hops.append(Hop(method, r))
        r.hops = hops
        return r

    def forms(self, response):
        return parse_forms(response)

    def form(self, response, form_id):
        for f in parse_forms(response):
            if f.id == form_id:
                return f
        return None

    def submit(self, form, fields=None, follow=True, hops=None, stop_before=None):
        """Submits a Form (its fields updated with `fields`), following
        redirects (see request() for stop_before)."""
        values = dict(form.fields)
        if form.submit:
            values[form.submit[0]] = form.submit[1]
        values.update(fields or {})
        if form.method == "post":
            r = BrowserResponse(self.session.post(form.action, data=values,
                                                  allow_redirects=False, timeout=self.timeout))
            method = "POST"
        else:
            r = BrowserResponse(self.session.get(form.action, params=values,
                                                 allow_redirects=False, timeout=self.timeout))
            method = "GET"
        if not follow:
            return r
        return self._follow(method, r, max_hops=30, hops=hops, stop_before=stop_before)

    def login(self, url, username, password, max_forms=4, headers=None, stop_before=None):
        """GETs `url` and follows it hop by hop, filling the IdP's sign-in
        form (and consent form) when it lands on them, until a response
        that is neither a redirect nor an IdP form (a repeated sign-in form
        after a wrong password is returned as it is), or until the redirect
        to a URL matching `stop_before` (see request()). Returns the final
        BrowserResponse; `.hops` lists every request in order."""
        r = self._follow("GET", BrowserResponse(self.session.get(
            url, headers=headers, allow_redirects=False, timeout=self.timeout)), max_hops=30,
            stop_before=stop_before)
        hops = r.hops
        submitted_login = False
        for _ in range(max_forms):
            login_form = self.form(r, "login-form")
            consent_form = self.form(r, "consent-form")
            if login_form is not None and not submitted_login:
                submitted_login = True
                r = self.submit(login_form, {"login": username, "password": password}, hops=hops,
                                stop_before=stop_before)
            elif consent_form is not None:
                r = self.submit(consent_form, hops=hops, stop_before=stop_before)
            else:
                break
        r.hops = hops
        return r

    def logout(self, url, confirm=True):
        """GETs `url` (a sign-out URL) following redirects, and confirms the
        IdP's sign-out form when it lands on it."""
        r = self.get(url, follow=True)
        hops = r.hops
        f = self.form(r, "op.logoutForm")
        if f is not None and confirm:
            r = self.submit(f, hops=hops)
        r.hops = hops
        return r


def browser_login(url, username, password, expect_text=None,
                  host_rules="MAP *.localhost 127.0.0.1, MAP *.test 127.0.0.1",
                  timeout=60):
    """Signs in with headless Chromium (tests/support/idp/browser_login.mjs):
    opens `url`, fills the IdP's sign-in form, and waits until it is back on
    `url`'s host (and `expect_text` shows, if given). Returns the script's
    JSON result: ok, final_url, status, title, body_excerpt, navigations
    ([{url, status}]), error (when not ok). Certificates are not verified
    (Chromium takes no CA file; the Python clients check them)."""
    cmd = [node_bin(), os.path.join(IDP_DIR, "browser_login.mjs"), "--url", url,
           "--username", username, "--password", password, "--timeout",
           str(int(timeout * 1000)), "--host-rules", host_rules]
    if expect_text is not None:
        cmd += ["--expect", expect_text]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout + 30)
    for line in reversed(proc.stdout.splitlines()):
        try:
            result = json.loads(line)
        except ValueError:
            continue
        result.setdefault("stderr", proc.stderr[-4000:])
        return result
    raise AssertionError("browser_login.mjs printed no result (exit %d): %s%s" %
                         (proc.returncode, proc.stdout[-2000:], proc.stderr[-4000:]))


# ---------------------------------------------------------------------------
# Gatehouse with sign-in through the test IdP.

def random_secret():
    """A shared_secret / cookie_secret value: base64 of 32 random bytes."""
    import base64
    return base64.b64encode(os.urandom(32)).decode()


LOGIN_CLIENT_ID = "gatehouse"
LOGIN_CLIENT_SECRET = "gatehouse-client-secret"
LOGIN_USERS = {
    "alice": idp_user("alice-password", "alice@example.com", "Alice Example",
                      ["admins", "users"]),
    "bob": idp_user("bob-password", "bob@example.com", "Bob Example", ["users"]),
}


def login_idp_client(ports, client_id=LOGIN_CLIENT_ID, client_secret=LOGIN_CLIENT_SECRET,
                     extra_logout_uris=(), **metadata):
    """The IdP client for Gatehouse processes on `ports` (one port or a
    list): the authenticate host's /oauth2/callback as redirect URI, its
    signed-out page (and `extra_logout_uris`) as post-logout redirects."""
    ports = [ports] if isinstance(ports, int) else list(ports)
    return idp_client(
        client_id, client_secret,
        ["https://authenticate.localhost:%d/oauth2/callback" % p for p in ports],
        post_logout_redirect_uris=["https://authenticate.localhost:%d/.pomerium/signed_out" % p
                                   for p in ports] + list(extra_logout_uris),
        **metadata)


# GATEHOUSE_SPLIT=1 runs every LoginSite (the sign-in and authorize suites) as
# separate processes that talk gRPC instead of one; ctest runs those suites
# both ways.
SPLIT_MODE = os.environ.get("GATEHOUSE_SPLIT") == "1"


class LoginSite:
    """One Gatehouse process with sign-in through an Idp, on a fixed port
    (the authenticate URL names it): https://authenticate.localhost:PORT
    and route hosts NAME.localhost:PORT, with a certificate from a test
    CA for every host in `hosts`.

    routes: a list of route dicts, or None for the default set:
      app.localhost, other.localhost, a.localhost (depends_on b.localhost),
      b.localhost -> `upstream`, allow_any_authenticated_user;
      public.localhost -> `upstream`, public.
    extra_routes: routes put before those.
    Call start() after the Idp is running (its issuer is in the config)."""

    HOSTS = ("authenticate", "app", "other", "a", "b", "public", "special")

    def __init__(self, idp, upstream, port=None, pki=None, routes=None, extra_routes=(),
                 shared_secret=None, cookie_secret=None, client_id=LOGIN_CLIENT_ID, hosts=HOSTS,
                 **options):
        self.idp = idp
        self.upstream = upstream
        self.port = port or free_port()
        self.dir = tempfile.mkdtemp(prefix="gatehouse-login-")
        self.pki = pki or Pki(os.path.join(self.dir, "pki"))
        self.cert = self.pki.issue("gatehouse-login", sans=["DNS:%s.localhost" % h for h in hosts])
        self.shared_secret = shared_secret or random_secret()
        self.cookie_secret = cookie_secret or random_secret()
        self.client_id = client_id
        self.routes = list(extra_routes) + (routes if routes is not None else
                                            self.default_routes())
        self.options = options
        self.gatehouse = None
        self.backends = []  # split mode: the databroker and authorize processes

    def url(self, host, path="/"):
        """https://HOST.localhost:PORT/PATH for a short host name."""
        return "https://%s.localhost:%d%s" % (host, self.port, path)

    @property
    def authenticate_url(self):
        return self.url("authenticate", "")

    def default_routes(self):
        up = self.upstream.url

        def protected(host, **keys):
            r = {"from": self.url(host, ""), "to": up, "allow_any_authenticated_user": True}
            r.update(keys)
            return r
        return [
            protected("app"),
            protected("other"),
            protected("a", depends_on=["b.localhost"]),
            protected("b"),
            {"from": self.url("public", ""), "to": up,
             "allow_public_unauthenticated_access": True},
        ]

    def make_config(self):
        cert, key = self.cert
        opts = {
            "address": "127.0.0.1:%d" % self.port,
            "certificates": [{"cert": cert, "key": key}],
            "authenticate_service_url": self.authenticate_url,
            "shared_secret": self.shared_secret,
            "cookie_secret": self.cookie_secret,
        }
        opts.update(self.idp.gatehouse_options(self.client_id))
        opts.update(self.options)
        return config(self.routes, tls=True, **opts)

    def start(self):
        workdir = os.path.join(self.dir, "gatehouse")
        os.makedirs(workdir, exist_ok=True)
        if SPLIT_MODE:
            return self._start_split(workdir)
        self.gatehouse = Gatehouse(self.make_config(), workdir=workdir)
        self.gatehouse.start()
        return self

    def _start_split(self, workdir):
        """GATEHOUSE_SPLIT=1: the same site as separate processes that talk
        gRPC: a databroker, an authorize and, on the site's port, the proxy
        with authenticate. They read one config file (each learns its
        services and gRPC address from the environment), so a test that
        rewrites `self.gatehouse`'s config reloads all three."""
        db_port, authorize_port = free_port(), free_port()
        cfg = self.make_config()
        cfg.update({
            "databroker_service_url": "http://127.0.0.1:%d" % db_port,
            "authorize_service_url": "http://127.0.0.1:%d" % authorize_port,
            "grpc_insecure": True,
        })
        self.gatehouse = Gatehouse(cfg, workdir=workdir,
                                   env={"SERVICES": "proxy,authenticate",
                                        "GRPC_ADDRESS": "127.0.0.1:0"})
        for services, port in (("databroker", db_port), ("authorize", authorize_port)):
            d = os.path.join(self.dir, services)
            os.makedirs(d, exist_ok=True)
            g = Gatehouse(None, workdir=d, args=["--config", self.gatehouse.config_path],
                          env={"SERVICES": services, "GRPC_ADDRESS": "127.0.0.1:%d" % port})
            g.start()
            self.backends.append(g)
            if g.ports.get("grpc") != port:
                raise AssertionError("the %s process does not serve gRPC on %d:\n%s" %
                                     (services, port, g.log_text()))
        self.gatehouse.start()
        # The site's process must not serve gRPC itself: its decisions and
        # sessions come from the two above.
        if "grpc" in self.gatehouse.ports:
            raise AssertionError("the proxy process serves gRPC:\n" + self.gatehouse.log_text())
        return self

    def stop(self):
        """SIGTERM (the proxy first in split mode); raises unless every
        Gatehouse process exits 0."""
        for g in [self.gatehouse] + list(reversed(self.backends)):
            if g is None or g.returncode is not None:
                continue
            rc = g.stop()
            if rc != 0:
                raise AssertionError("gatehouse did not exit 0 on SIGTERM: %r; log:\n%s" %
                                     (rc, g.log_text()))

    def cleanup(self):
        for g in [self.gatehouse] + self.backends:
            if g is not None:
                g.cleanup()
        shutil.rmtree(self.dir, ignore_errors=True)

    def browser(self, **kw):
        """A BrowserClient that trusts this site's CA."""
        return BrowserClient(cafile=self.pki.ca_cert, **kw)


def start_login_site(case, idp, upstream, **kw):
    """Starts a LoginSite(idp, upstream, **kw) for a test (case is a
    TestCase) or a class (case is a TestCase class); Gatehouse must exit 0
    on SIGTERM when it is stopped afterwards."""
    site = LoginSite(idp, upstream, **kw)
    cleanup = case.addClassCleanup if isinstance(case, type) else case.addCleanup
    cleanup(site.cleanup)
    site.start()
    cleanup(site.stop)
    return site


class LoginTestCase(unittest.TestCase):
    """One Idp (users alice and bob) and one LoginSite shared by the tests
    of a class. Subclasses may set `idp_options` (Idp keyword arguments),
    `site_options` (LoginSite keyword arguments: routes, extra config keys;
    "PORT" in strings becomes the port), `extra_routes(cls)` (routes put
    first; the upstream is `cls.upstream`), `extra_client_ids` (more IdP
    clients, each with the secret CLIENT_ID + "-secret", e.g. for per-route
    idp_client_id) and `extra_ports` (how many more ports the IdP clients
    accept, for more Gatehouse processes started by the tests:
    `cls.more_ports`)."""

    maxDiff = 4000
    idp_options = {}
    site_options = {}
    extra_ports = 0
    extra_logout_uris = ()
    extra_client_ids = ()

    @classmethod
    def extra_routes(cls):
        return []

    @classmethod
    def setUpClass(cls):
        cls.port = free_port()
        cls.more_ports = [free_port() for _ in range(cls.extra_ports)]
        cls.upstream = Upstream("app")
        cls.addClassCleanup(cls.upstream.close)
        logout_uris = [u.replace("PORT", str(cls.port)) for u in cls.extra_logout_uris]
        kw = {"users": LOGIN_USERS}
        kw.update(cls.idp_options)
        ports = [cls.port] + cls.more_ports
        clients = [login_idp_client(ports, extra_logout_uris=logout_uris)]
        clients += [login_idp_client(ports, client_id=c, client_secret=c + "-secret",
                                     extra_logout_uris=logout_uris)
                    for c in cls.extra_client_ids]
        cls.idp = start_idp(cls, clients=clients, **kw)
        cls.site = start_login_site(cls, cls.idp, cls.upstream, port=cls.port,
                                    extra_routes=cls.extra_routes(),
                                    **cls.resolved_site_options())
        cls.gatehouse = cls.site.gatehouse

    @classmethod
    def resolved_site_options(cls):
        """site_options with "PORT" in string values replaced by the port."""
        def fill(v):
            if isinstance(v, str):
                return v.replace("PORT", str(cls.port))
            if isinstance(v, list):
                return [fill(x) for x in v]
            if isinstance(v, dict):
                return {k: fill(x) for k, x in v.items()}
            return v
        return fill(dict(cls.site_options))

    def url(self, host, path="/"):
        return self.site.url(host, path)

    def browser(self, **kw):
        b = self.site.browser(**kw)
        self.addCleanup(b.close)
        return b

    def api_client(self, **kw):
        """A client that asks for JSON (no text/html in Accept)."""
        headers = {"Accept": "application/json"}
        headers.update(kw.pop("headers", {}))
        return self.browser(headers=headers, **kw)

    def signed_in(self, url=None, user="alice", browser=None):
        """A browser signed in through `url` (app.localhost/ by default);
        returns (browser, final response), the final response a 200."""
        browser = browser or self.browser()
        url = url or self.url("app", "/signed-in")
        r = browser.login(url, user, LOGIN_USERS[user]["password"])
        self.assertEqual(r.status, 200, "login through %s: %r\n%s\n%s" % (
            url, r.hops, r.text[:1000], self.gatehouse.log_text(20)))
        return browser, r

    def upstream_seen(self, path):
        """The upstream's record of the last request whose path is `path`."""
        for info in reversed(self.upstream.requests):
            if info["path"] == path:
                return info
        return None


def jwt_parts(token):
    """(header, payload) of a compact JWS, unverified."""
    import base64

    def part(s):
        return json.loads(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))
    h, p, _ = token.split(".")
    return part(h), part(p)


def url_query(url):
    """The query of `url` as a dict (last value wins)."""
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query,
                                       keep_blank_values=True))


def set_cookie(response, name):
    """The attributes of the Set-Cookie for `name` in a response, as a dict
    (lower-case attribute names; "value" is the cookie's value), or None."""
    for header in response.header_all("Set-Cookie"):
        pieces = [p.strip() for p in header.split(";")]
        n, _, v = pieces[0].partition("=")
        if n != name:
            continue
        out = {"value": v}
        for p in pieces[1:]:
            k, _, val = p.partition("=")
            out[k.lower()] = val if _ else True
        return out
    return None


def set_cookie_names(response):
    return [h.split("=", 1)[0].strip() for h in response.header_all("Set-Cookie")]


# ---------------------------------------------------------------------------
# Authorization: users with different emails, groups and claims, a session
# per user signed in once per class, and an independent check of the
# identity JWT (PyJWT with cryptography) against Gatehouse's JWKS.

AUTHZ_USERS = {
    "alice": idp_user("alice-password", "alice@example.com", "Alice Example",
                      ["admins", "users"], department="sales"),
    "bob": idp_user("bob-password", "bob@corp.example", "Bob Corp", ["users"],
                    department="support"),
    "carol": idp_user("carol-password", "carol@example.com", "Carol Example", [],
                      department="eng"),
}
# A user without a groups claim at all.
AUTHZ_USERS["dave"] = {"password": "dave-password", "email": "dave@example.com",
                       "email_verified": True, "name": "Dave Example"}


class AuthorizeTestCase(LoginTestCase):
    """A LoginTestCase with AUTHZ_USERS (alice, bob, carol, dave) and the
    route hosts of `route_hosts` (short names, NAME.localhost) covered by
    the site's certificate. `extra_routes(cls)` builds the routes, with
    `cls.route(host, **keys)` for a route to the upstream. Each user signs
    in once per class (`session(user)`, the session cookie's value); a
    session works on every route host, so `as_user()` sends it as the
    cookie to any of them."""

    route_hosts = ()
    users = AUTHZ_USERS
    idp_options = {"users": AUTHZ_USERS}

    @classmethod
    def setUpClass(cls):
        cls._sessions = {}
        super().setUpClass()

    @classmethod
    def resolved_site_options(cls):
        opts = super().resolved_site_options()
        opts.setdefault("hosts", tuple(LoginSite.HOSTS) + tuple(cls.route_hosts))
        return opts

    @classmethod
    def host_url(cls, host, path=""):
        return "https://%s.localhost:%d%s" % (host, cls.port, path)

    @classmethod
    def route(cls, host, **keys):
        r = {"from": cls.host_url(host), "to": cls.upstream.url}
        r.update(keys)
        return r

    def session(self, user):
        """The session cookie of `user`, who signs in (once per class)
        through app.localhost with the browserless client."""
        token = self._sessions.get(user)
        if token is None:
            browser = self.site.browser()
            try:
                r = browser.login(self.url("app", "/signed-in"), user,
                                  self.users[user]["password"])
                self.assertEqual(r.status, 200, "login of %s: %r\n%s\n%s" % (
                    user, r.hops, r.text[:1000], self.gatehouse.log_text(20)))
                token = browser.cookie("_pomerium", "app.localhost")
                self.assertTrue(token, "no session cookie after the login of %s" % user)
            finally:
                browser.close()
            type(self)._sessions[user] = token
        return token

    def as_user(self, user, host, path="/", method="GET", headers=None, data=None,
                accept=None, **kw):
        """`method` https://HOST.localhost:PORT/PATH with `user`'s session
        cookie (no cookie for user None); a browser Accept unless `accept`."""
        h = dict(headers or {})
        if accept is not None:
            h["Accept"] = accept
        browser = self.browser()
        cookies = kw.pop("cookies", {})
        if user is not None:
            cookies = dict(cookies, _pomerium=self.session(user))
        return browser.request(method, self.host_url(host, path), headers=h, data=data,
                               cookies=cookies, **kw)

    def echo_as(self, user, host, path="/", **kw):
        """The upstream's echo of a request that must be allowed."""
        r = self.as_user(user, host, path, **kw)
        self.assertEqual(r.status, 200, "%s on %s%s: %s" % (user, host, path, r.text[:500]))
        self.assertEqual(r.header("X-Upstream"), self.upstream.name, r.headers)
        return r.json()

    def jwks(self, host="app"):
        r = self.browser().get(self.host_url(host, "/.well-known/pomerium/jwks.json"))
        self.assertEqual(r.status, 200, r.text)
        return r.json()


def jwk_thumbprint(jwk):
    """The RFC 7638 SHA-256 thumbprint of a public JWK, in hex (Pomerium's kid)."""
    members = {"EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n"),
               "OKP": ("crv", "kty", "x")}[jwk["kty"]]
    canonical = json.dumps({k: jwk[k] for k in members}, separators=(",", ":"), sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def verify_identity_jwt(token, jwks, audience, issuer=None, algorithms=("ES256", "RS256")):
    """Verifies a compact JWS with PyJWT against a JWKS document (the key
    named by the header's kid): signature, exp, aud and, if given, iss.
    Returns (header, payload); raises AssertionError otherwise."""
    import jwt as pyjwt
    header_ = pyjwt.get_unverified_header(token)
    keys = [k for k in jwks.get("keys", []) if k.get("kid") == header_.get("kid")]
    if len(keys) != 1:
        raise AssertionError("kid %r is not (once) in the JWKS %r" % (header_.get("kid"), jwks))
    key = pyjwt.PyJWK(keys[0], algorithm=header_.get("alg"))
    options = {"require": ["exp", "iat", "aud", "iss"]}
    try:
        payload = pyjwt.decode(token, key.key, algorithms=list(algorithms), audience=audience,
                               issuer=issuer, options=options, leeway=5)
    except pyjwt.PyJWTError as e:
        raise AssertionError("the JWT does not verify: %s: %s" % (type(e).__name__, e))
    return header_, payload


def generate_signing_key(kind="ec"):
    """A new signing key: (Pomerium's signing_key value, base64 of the PEM;
    the PEM text; the public JWK, coordinates at full length). kind "ec" is
    P-256, "rsa" is RSA 2048."""
    import base64
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    import jwt as pyjwt
    if kind == "ec":
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption()).decode()
        # RFC 7518 §6.2.1.2: each coordinate is the full 32 bytes. PyJWT
        # before 2.8 drops leading zero bytes (about one key in a hundred),
        # which changes the thumbprint, so the JWK is built here.
        numbers = key.public_key().public_numbers()
        jwk = {"kty": "EC", "crv": "P-256",
               "x": base64.urlsafe_b64encode(numbers.x.to_bytes(32, "big")).decode().rstrip("="),
               "y": base64.urlsafe_b64encode(numbers.y.to_bytes(32, "big")).decode().rstrip("=")}
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
        jwk = json.loads(pyjwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return base64.b64encode(pem.encode()).decode(), pem, jwk


# ---------------------------------------------------------------------------
# PostgreSQL 15 and split deployments (databroker, authorize, authenticate
# and proxy in separate processes).

PG_BIN = "/usr/lib/postgresql/15/bin"


class PostgresServer:
    """A throwaway PostgreSQL 15 server: initdb in a fresh directory (owned
    by the `postgres` user when running as root: the server refuses to run
    as root), on a free loopback port, fsync off. stop() and start() keep
    the data and the port, so clients can reconnect to the same URL."""

    def __init__(self, database="gatehouse"):
        self.dir = tempfile.mkdtemp(prefix="gatehouse-pg-")
        self.database = database
        self.port = None
        self.running = False
        self._initialised = False
        if os.geteuid() == 0:
            import pwd
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)

    def _as_postgres(self, args):
        return (["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []) + list(args)

    def _run(self, args, what):
        proc = subprocess.run(self._as_postgres(args), capture_output=True, text=True, timeout=90)
        if proc.returncode != 0:
            raise AssertionError("%s failed (%d): %s%s\nserver log:\n%s" % (
                what, proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:],
                self.log_text()))
        return proc.stdout

    def log_text(self, last=40):
        try:
            with open(os.path.join(self.dir, "server.log")) as f:
                return "".join(f.readlines()[-last:])
        except OSError:
            return ""

    def start(self):
        if not self._initialised:
            self._run([PG_BIN + "/initdb", "-D", self.dir + "/data", "-A", "trust", "-U",
                       "postgres", "--no-sync", "-E", "UTF8", "--locale=C"], "initdb")
            self.port = free_port()
        options = "-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off -c max_connections=200" \
            % (self.port, self.dir)
        self._run([PG_BIN + "/pg_ctl", "-D", self.dir + "/data", "-l", self.dir + "/server.log",
                   "-w", "-t", "60", "-o", options, "start"], "pg_ctl start")
        self.running = True
        if not self._initialised:
            self._initialised = True
            self.sql("CREATE DATABASE \"%s\"" % self.database, database="postgres")
        return self

    def stop(self, mode="fast"):
        """pg_ctl stop -m MODE (fast: clients are disconnected, data kept)."""
        if not self.running:
            return
        self.running = False
        self._run([PG_BIN + "/pg_ctl", "-D", self.dir + "/data", "-m", mode, "-w", "stop"],
                  "pg_ctl stop")

    def sql(self, statement, database=None):
        return self._run([PG_BIN + "/psql", "-h", "127.0.0.1", "-p", str(self.port), "-U",
                          "postgres", "-d", database or self.database, "-v", "ON_ERROR_STOP=1",
                          "-At", "-c", statement], "psql")

    @property
    def url(self):
        return "postgres://postgres@127.0.0.1:%d/%s?connect_timeout=2" % (self.port,
                                                                          self.database)

    def cleanup(self):
        try:
            self.stop(mode="immediate")
        except AssertionError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


def start_postgres(case, **kw):
    """Starts a PostgresServer for a test (case is a TestCase) or a class
    (case is a TestCase class); removed afterwards."""
    pg = PostgresServer(**kw)
    cleanup = case.addClassCleanup if isinstance(case, type) else case.addCleanup
    cleanup(pg.cleanup)
    pg.start()
    return pg


class SplitDeployment:
    """Gatehouse as separate processes that talk gRPC, all from one config
    shape with `services` set per process:

      databroker  x `databrokers`  grpc_address 127.0.0.1:db_ports[i]
      authorize   x `authorizers`  grpc_address 127.0.0.1:authorize_ports[i]
      authenticate                 address 127.0.0.1:authenticate_port
      proxy       x `proxies`      address 127.0.0.1:proxy_ports[i]

    Every port is picked up front, since the URLs in the shared config name
    them: databroker_service_urls and authorize_service_urls list every
    replica, authenticate_service_url is https://authenticate.localhost:PORT.
    `postgres` (a PostgresServer) puts the databroker on PostgreSQL; without
    it the databroker keeps records in memory. `routes` default to
    app.localhost (alice only) and any.localhost (any signed-in user) to
    `upstream`. Use idp_client() for the Idp, then start(idp).
    Without `grpc_pki` the service URLs are http:// (grpc_insecure: true)
    and certificates are the self-signed fallback (clients do not verify).
    With a Pki, the service URLs are https://, every process has a
    certificate from it (127.0.0.1, localhost, *.localhost) and trusts its CA
    (certificate_authority_file), and grpc_insecure keeps its default."""

    def __init__(self, upstream, databrokers=1, authorizers=1, proxies=1, postgres=None,
                 routes=None, shared_secret=None, grpc_pki=None, **options):
        self.upstream = upstream
        self.db_ports = [free_port() for _ in range(databrokers)]
        self.authorize_ports = [free_port() for _ in range(authorizers)]
        self.authenticate_port = free_port()
        self.proxy_ports = [free_port() for _ in range(proxies)]
        self.postgres = postgres
        self.shared_secret = shared_secret or random_secret()
        self.cookie_secret = random_secret()
        self.routes = routes
        self.grpc_pki = grpc_pki
        self.grpc_certificate = None
        if grpc_pki is not None:
            self.grpc_certificate = grpc_pki.issue(
                "gatehouse-split", sans=["IP:127.0.0.1", "localhost", "*.localhost"])
        self.options = options
        self.databrokers, self.authorizers, self.proxies = [], [], []
        self.authenticate = None
        self.idp = None
        self._browsers = []

    @property
    def authenticate_url(self):
        return "https://authenticate.localhost:%d" % self.authenticate_port

    def url(self, host="app", path="/", proxy=0):
        return "https://%s.localhost:%d%s" % (host, self.proxy_ports[proxy], path)

    def idp_client(self, **metadata):
        return login_idp_client(self.authenticate_port, **metadata)

    def default_routes(self):
        up = self.upstream.url
        return [
            {"from": "https://app.localhost", "to": up, "pass_identity_headers": True,
             "policy": {"allow": {"and": [{"email": {"is": "alice@example.com"}}]}}},
            {"from": "https://any.localhost", "to": up, "pass_identity_headers": True,
             "allow_any_authenticated_user": True},
        ]

    def base_config(self):
        scheme = "http" if self.grpc_pki is None else "https"
        opts = {
            "shared_secret": self.shared_secret,
            "cookie_secret": self.cookie_secret,
            "authenticate_service_url": self.authenticate_url,
            "databroker_service_urls": ["%s://127.0.0.1:%d" % (scheme, p) for p in self.db_ports],
            "authorize_service_urls": ["%s://127.0.0.1:%d" % (scheme, p)
                                       for p in self.authorize_ports],
            "grpc_client_timeout": "3s",
        }
        if self.grpc_pki is None:
            opts["grpc_insecure"] = True
        else:
            opts["certificate_file"], opts["certificate_key_file"] = self.grpc_certificate
            opts["certificate_authority_file"] = self.grpc_pki.ca_cert
        if self.postgres is not None:
            opts["databroker_storage_type"] = "postgres"
            opts["databroker_storage_connection_string"] = self.postgres.url
        opts.update(self.idp.gatehouse_options())
        opts.update(self.options)
        routes = self.routes if self.routes is not None else self.default_routes()
        return config(routes, tls=True, **opts)

    def process_config(self, services, **extra):
        cfg = self.base_config()
        cfg["services"] = services
        cfg.update(extra)
        return cfg

    def _start(self, services, wait=True, **extra):
        g = Gatehouse(self.process_config(services, **extra))
        g.services = services
        g.start(wait=wait)
        return g

    def start_databroker(self, i, wait=True, **extra):
        g = self._start("databroker", wait, grpc_address="127.0.0.1:%d" % self.db_ports[i],
                        **extra)
        self._put(self.databrokers, i, g)
        return g

    def start_authorize(self, i, wait=True, **extra):
        g = self._start("authorize", wait, grpc_address="127.0.0.1:%d" % self.authorize_ports[i],
                        **extra)
        self._put(self.authorizers, i, g)
        return g

    def start_authenticate(self, wait=True, **extra):
        self.authenticate = self._start("authenticate", wait,
                                        address="127.0.0.1:%d" % self.authenticate_port,
                                        grpc_address="127.0.0.1:0", **extra)
        return self.authenticate

    def start_proxy(self, i, wait=True, **extra):
        g = self._start("proxy", wait, address="127.0.0.1:%d" % self.proxy_ports[i],
                        grpc_address="127.0.0.1:0", **extra)
        self._put(self.proxies, i, g)
        return g

    @staticmethod
    def _put(lst, i, g):
        while len(lst) <= i:
            lst.append(None)
        if lst[i] is not None:
            lst[i].cleanup()
        lst[i] = g

    def start(self, idp):
        self.idp = idp
        for i in range(len(self.db_ports)):
            self.start_databroker(i)
        for i in range(len(self.authorize_ports)):
            self.start_authorize(i)
        self.start_authenticate()
        for i in range(len(self.proxy_ports)):
            self.start_proxy(i)
        return self

    def processes(self):
        return [g for g in self.proxies + [self.authenticate] + self.authorizers +
                self.databrokers if g is not None]

    def stop(self):
        """SIGTERM to every running process (proxies first); returns
        {services:port: exit code} of those stopped."""
        codes = {}
        for g in self.processes():
            if g.proc is not None and g.proc.poll() is None:
                codes["%s@%s" % (g.services, g.config_path)] = g.stop()
        return codes

    def log_text(self, last=30):
        return "\n".join("== %s\n%s" % (g.services, g.log_text(last)) for g in self.processes())

    def cleanup(self):
        for b in self._browsers:
            b.close()
        for g in self.processes():
            g.cleanup()

    def browser(self, **kw):
        """A BrowserClient (closed at cleanup)."""
        b = BrowserClient(**kw)
        self._browsers.append(b)
        return b

    def login(self, user="alice", host="app", path="/", proxy=0, browser=None):
        """Signs `user` in through the IdP; returns (browser, final response)."""
        b = browser or self.browser()
        password = LOGIN_USERS[user]["password"]
        r = b.login(self.url(host, path, proxy), user, password)
        return b, r


def start_split(case, upstream, idp_options=None, **kw):
    """A SplitDeployment(upstream, **kw) and its Idp (users alice and bob),
    both started, for a test (case is a TestCase) or a class. On cleanup
    every Gatehouse process still running must exit 0 on SIGTERM."""
    split = SplitDeployment(upstream, **kw)
    cleanup = case.addClassCleanup if isinstance(case, type) else case.addCleanup
    cleanup(split.cleanup)
    idp = start_idp(case, clients=[split.idp_client()], users=LOGIN_USERS, **(idp_options or {}))

    def stop():
        codes = split.stop()
        bad = {k: v for k, v in codes.items() if v != 0}
        if bad:
            raise AssertionError("split processes did not exit 0 on SIGTERM: %r\n%s" %
                                 (bad, split.log_text()))
    split.start(idp)
    cleanup(stop)
    return split


class SteadyLoad:
    """GETs at a fixed rate from a thread with one BrowserClient (its
    cookies, keep-alive), each to a fresh path (url_for(n)). `results` holds
    one (started_monotonic, n, status or None, elapsed_s, location, error)
    per request; `statuses()` counts them."""

    def __init__(self, browser, url_for, rate=20, headers=None):
        self.browser = browser
        self.url_for = url_for
        self.interval = 1.0 / rate
        self.headers = headers
        self.results = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def _run(self):
        n = 0
        next_at = time.monotonic()
        while not self._stop.is_set():
            t0 = time.monotonic()
            status, location, error = None, None, None
            try:
                r = self.browser.get(self.url_for(n), headers=self.headers)
                status, location = r.status, r.header("Location")
            except Exception as e:  # noqa: BLE001 (a failed request is a result)
                error = "%s: %s" % (type(e).__name__, e)
            with self._lock:
                self.results.append((t0, n, status, time.monotonic() - t0, location, error))
            n += 1
            next_at += self.interval
            delay = next_at - time.monotonic()
            if delay > 0:
                self._stop.wait(delay)
            else:
                next_at = time.monotonic()

    def count(self):
        with self._lock:
            return len(self.results)

    def wait_count(self, n, timeout=30):
        deadline = time.monotonic() + timeout
        while self.count() < n:
            if time.monotonic() > deadline:
                raise AssertionError("load made %d of %d requests" % (self.count(), n))
            time.sleep(0.05)

    def stop(self):
        self._stop.set()
        self._thread.join(30)
        return self.snapshot()

    def snapshot(self, since=None):
        with self._lock:
            return [r for r in self.results if since is None or r[0] >= since]

    @staticmethod
    def statuses(results):
        counts = {}
        for r in results:
            key = r[2] if r[2] is not None else "error"
            counts[key] = counts.get(key, 0) + 1
        return counts


def tcp_clients(port):
    """How many established loopback connections go to `port` (ss)."""
    out = subprocess.run(["ss", "-Htn", "state", "established", "( dport = :%d )" % port],
                         capture_output=True, text=True).stdout
    return len([l for l in out.splitlines() if l.strip()])


def wait_tcp_clients(port, count=1, timeout=15):
    """Waits until at least `count` connections to `port` are established:
    gRPC clients have reconnected to a restarted replica."""
    deadline = time.monotonic() + timeout
    while tcp_clients(port) < count:
        if time.monotonic() > deadline:
            raise AssertionError("%d connections to port %d after %ss, expected %d" %
                                 (tcp_clients(port), port, timeout, count))
        time.sleep(0.05)
    return tcp_clients(port)
