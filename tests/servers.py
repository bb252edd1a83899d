"""Real HTTP servers on 127.0.0.1 for the network tests: well-behaved, scripted and hostile ones.

Nothing is mocked: the pipeline's client talks to these over loopback sockets.
"""

from __future__ import annotations

import functools
import gzip
import socket
import sys
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class Scripted(BaseHTTPRequestHandler):
    """Answers each GET with the next step of the server's script: (status, headers, body, delay, cut).
    `cut` announces that many more bytes in Content-Length than are sent (a body cut short)."""

    protocol_version = "HTTP/1.0"

    def do_GET(self):  # noqa: N802 (the name http.server calls)
        self.server.requests.append((self.path, dict(self.headers)))
        play(self, self.server.script(self.path, len(self.server.requests)))

    def log_message(self, *args):
        pass


def play(handler: BaseHTTPRequestHandler, step) -> None:
    """Answer with one script step: (status, headers, body, delay, cut)."""
    status, headers, body, delay, cut = step
    if delay:
        time.sleep(delay)
    handler.send_response(status)
    for key, value in headers.items():
        handler.send_header(key, value)
    if "Content-Length" not in headers:
        handler.send_header("Content-Length", str(len(body) + cut))
    handler.end_headers()
    handler.wfile.write(body)
    handler.wfile.flush()


def ok(body: bytes, content_type: str = "application/json"):
    return 200, {"Content-Type": content_type}, body, 0, 0


class QuietServer(ThreadingHTTPServer):
    """A loopback server whose request threads say nothing when the client went away (a timeout, a refused
    answer: what the hostile tests provoke): a thread that outlives its test would otherwise print a
    traceback into a later test's captured stderr."""

    daemon_threads = True

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


@contextmanager
def serve(handler, **attributes):
    server = QuietServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    server.requests = []
    for key, value in attributes.items():
        setattr(server, key, value)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def serve_folder(folder: Path):
    """A static file server for `folder`, recording the paths asked for."""

    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(folder), **kwargs)

        def do_GET(self):  # noqa: N802
            self.server.requests.append((self.path, dict(self.headers)))
            return super().do_GET()

        def log_message(self, *args):
            pass

    with serve(Handler) as (url, server):
        yield url, server


class _Raw:
    """A TCP server whose connection handler is a plain function of the socket (for misbehaviour that
    http.server cannot express: silence, endless bodies, one byte at a time)."""

    def __init__(self, behaviour):
        self.behaviour = behaviour
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.stop = threading.Event()
        self.connections = 0
        self.bytes_sent = 0
        self.paths: list[str] = []

    def serve(self):
        self.sock.settimeout(0.05)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            threading.Thread(target=self._run, args=(conn,), daemon=True).start()

    def _run(self, conn):
        try:
            conn.settimeout(10)
            request = _read_request(conn)
            parts = request.split(b" ", 2)
            path = parts[1].decode("latin-1").split("?")[0] if len(parts) > 1 else "/"
            self.paths.append(path)
            self.behaviour(conn, self, path)
        except OSError:
            pass
        finally:
            conn.close()


def _read_request(conn) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data and len(data) < 65536:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


@contextmanager
def serve_raw(behaviour):
    getattr(behaviour, "prepare", lambda: None)()  # (what the behaviour sends, made before it is asked for)
    server = _Raw(behaviour)
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.sock.getsockname()[1]}", server
    finally:
        server.stop.set()
        thread.join(timeout=2)
        server.sock.close()


def _send(conn, server, data: bytes) -> None:
    conn.sendall(data)
    server.bytes_sent += len(data)


def stall(conn, server, path=None):
    """Accept, read the request, answer nothing until the client gives up."""
    while not server.stop.is_set():
        if not conn.recv(1):  # returns when the client closes
            return


def endless(conn, server, path=None):
    """200 with no Content-Length, then bytes for ever (until the client stops reading)."""
    _send(conn, server, b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n")
    block = b"x" * 65536
    while not server.stop.is_set():
        _send(conn, server, block)


def endless_chunked(conn, server, path=None):
    """200, chunked transfer encoding, chunks for ever."""
    _send(conn, server, b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
    block = b"[" * 32768
    while not server.stop.is_set():
        _send(conn, server, b"%x\r\n%s\r\n" % (len(block), block))


def slow_body(conn, server, path=None):
    """Headers at once, then one byte every 50 ms for ever: no single read ever times out."""
    _send(conn, server, b"HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\nConnection: close\r\n\r\n")
    while not server.stop.is_set():
        _send(conn, server, b"{")
        time.sleep(0.05)


def drip(conn, server, path=None):
    """Headers at once without a length, then one byte every 50 ms for ever (20 bytes per second)."""
    _send(conn, server, b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
    while not server.stop.is_set():
        _send(conn, server, b"{")
        time.sleep(0.05)


def steady(conn, server, path=None):
    """Headers at once without a length, then 64 KiB every 50 ms (about 1.3 MB/s) for ever: fast enough
    for any speed rule, endless enough for a deadline."""
    _send(conn, server, b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
    while not server.stop.is_set():
        _send(conn, server, b" " * 65536)
        time.sleep(0.05)


def slow_headers(conn, server, path=None):
    """The status line and then header bytes one at a time, every 50 ms, for ever (a slow-loris server)."""
    for byte in b"HTTP/1.1 200 OK\r\n":
        _send(conn, server, bytes([byte]))
        time.sleep(0.05)
    while not server.stop.is_set():
        for byte in b"X-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n":
            _send(conn, server, bytes([byte]))
            time.sleep(0.05)


@functools.cache
def _zeros_gzipped(size: int) -> bytes:
    """`size` zero bytes gzipped, as many gzip members of a MiB each (one compressed, then repeated: a few KB
    per 200 MiB, and no second of compression); HTTP clients inflate every member of a gzip body."""
    member, (count, rest) = gzip.compress(b"\0" * 2**20, compresslevel=9), divmod(size, 2**20)
    return member * count + (gzip.compress(b"\0" * rest, compresslevel=9) if rest else b"")


def gzip_bomb(size: int):
    """A behaviour: 200 with a gzip body that inflates to `size` zero bytes."""

    def behaviour(conn, server, path=None):
        body = _zeros_gzipped(size)
        _send(
            conn,
            server,
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
            b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body),
        )
        _send(conn, server, body)

    behaviour.prepare = lambda: _zeros_gzipped(size)
    return behaviour


def routed(files: dict[str, bytes], otherwise):
    """A behaviour: the URL paths in `files` are answered normally, every other one by `otherwise`."""

    def behaviour(conn, server, path=None):
        body = files.get(path)
        if body is None:
            return otherwise(conn, server, path)
        _send(conn, server, b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body))
        _send(conn, server, body)

    return behaviour


def answer(status: int, headers: dict[str, str], body: bytes = b""):
    """A behaviour: one fixed answer (for headers http.server would not send as they are)."""

    def behaviour(conn, server, path=None):
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        _send(conn, server, f"HTTP/1.1 {status} X\r\n{head}Connection: close\r\n\r\n".encode("latin-1") + body)

    return behaviour


def closed_port() -> str:
    """The URL of a port on 127.0.0.1 where nothing listens (bound, then closed)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}"
