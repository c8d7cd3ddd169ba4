"""A real HTTP server on 127.0.0.1 (ThreadingHTTPServer) serving bytes with Range support,
and the ability to cut the connection mid-transfer or ignore Range, like flaky mirrors do."""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class ServerState:
    files: dict[str, bytes] = field(default_factory=dict)
    cut_after: int | None = None  # close the socket after sending this many body bytes (once per request)
    cuts_left: int = 0  # how many requests get cut
    ignore_range: bool = False
    requests: list[dict] = field(default_factory=list)
    bytes_sent: int = 0
    throttle: float = 0.0  # seconds to sleep per 64 KiB chunk


class _Handler(BaseHTTPRequestHandler):
    state: ServerState

    def log_message(self, *a):  # keep test output clean
        pass

    def do_GET(self):
        st = self.state
        st.requests.append({"path": self.path, "range": self.headers.get("Range")})
        data = st.files.get(self.path)
        if data is None:
            self.send_error(404)
            return
        start = 0
        rng = self.headers.get("Range")
        if rng and not st.ignore_range:
            m = re.match(r"bytes=(\d+)-$", rng)
            start = int(m.group(1))
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        limit = len(body)
        if st.cuts_left > 0 and st.cut_after is not None:
            st.cuts_left -= 1
            limit = min(limit, st.cut_after)
        import time

        sent = 0
        while sent < limit:
            chunk = body[sent:min(limit, sent + 65536)]
            try:
                self.wfile.write(chunk)
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                return
            sent += len(chunk)
            st.bytes_sent += len(chunk)
            if st.throttle:
                time.sleep(st.throttle)
        if limit < len(body):
            self.close_connection = True
            import socket

            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


@pytest.fixture
def http_server():
    state = ServerState()
    handler = type("H", (_Handler,), {"state": state})
    srv = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    srv.daemon_threads = True
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    state.base = f"http://127.0.0.1:{srv.server_address[1]}"  # type: ignore[attr-defined]
    yield state
    srv.shutdown()
    srv.server_close()
