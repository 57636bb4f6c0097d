#!/usr/bin/env python3
"""The demo's upstream: an HTML page that shows the request as the
upstream received it through Gatehouse (method, path, headers)."""
import html
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        rows = "".join(
            f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
            for k, v in self.headers.items()
        )
        body = f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<title>Gatehouse demo app</title>
<style>body{{font-family:system-ui,sans-serif;margin:3rem;color:#1d2330}}
th{{text-align:left;padding-right:1rem;color:#4a5263}}td{{font-family:monospace}}</style></head>
<body><h1>Hello from behind Gatehouse</h1>
<p>This page is served by the demo upstream. It received
<code>{html.escape(self.command)} {html.escape(self.path)}</code> with these headers:</p>
<table>{rows}</table></body></html>""".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_HEAD = do_GET

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8081
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
