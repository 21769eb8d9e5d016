"""The fake over real HTTP/1.1 on loopback, with keep-alive, from the stdlib only."""

from __future__ import annotations

import contextlib
import select
import socket
import socketserver
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Optional, Set, Tuple

from ._fake import FakeUserProfiles

# How often an idle server loop and a stalled answer look up: short enough that
# stop() and a client that gives up are noticed at once.
_POLL = 0.01


class _Handler(BaseHTTPRequestHandler):
    """Carries each request to the fake and its reply back to the socket."""

    protocol_version = "HTTP/1.1"
    # The headers and the body leave in two writes; with Nagle's algorithm on,
    # the body waits for the client's delayed ACK, about 40 ms per keep-alive
    # request.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Log nothing: a line per request on stderr drowns the test output."""

    def _serve(self) -> None:
        reply = self.server.fake.handle(
            self.command,
            self.path,
            dict(self.headers.items()),
            self._read_body,
            wait=self._wait,
        )
        if reply.drop:
            self.close_connection = True
            return

        headers, body = reply.wire()
        self.send_response(reply.status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        if reply.truncate:
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

    def _read_body(self) -> bytes:
        length = self.headers.get("content-length", "")
        return self.rfile.read(int(length)) if length.isdigit() else b""

    def _wait(self, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return True
            if self.server.stopping.wait(min(left, _POLL)) or self._client_left():
                return False

    def _client_left(self) -> bool:
        # A readable socket with nothing to peek at has been closed by the
        # client, which gave up waiting.
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and not self.connection.recv(1, socket.MSG_PEEK)
        except OSError:
            return True


class _Server(ThreadingHTTPServer):
    """A threading HTTP server that can close its open connections."""

    daemon_threads = True
    # The default backlog of 5 overflows when a pool of threads connects at
    # once; the kernel then drops the extra handshakes, and each client waits
    # a second for its retransmission, past a short connect timeout.
    request_queue_size = 64

    def __init__(self, address: Tuple[str, int], fake: FakeUserProfiles) -> None:
        self.fake = fake
        self.stopping = threading.Event()
        self._open: Set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks up the host's full name, which can hang
        # on a machine without DNS, for a name nothing here uses.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]  # type: ignore[assignment]

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            refused = self.stopping.is_set()
            if not refused:
                self._open.add(request)
        if refused:
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """End stalls and close every open connection, idle keep-alive included."""
        self.stopping.set()
        with self._open_lock:
            connections = list(self._open)
        for connection in connections:
            # Already closed by the client: nothing left to wake up.
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-answer is part of what this server is for.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class EmulatorServer:
    """Serve a `FakeUserProfiles` over HTTP/1.1 on loopback, with keep-alive.

    Example::

        with EmulatorServer() as server:
            client = Client(api_key="test", base_url=server.url)
            client.user_profiles.create(external_id="u1")
            assert len(server.fake.profiles) == 1

    Args:
        fake: The fake to serve; a fresh one by default.
        host: The address to listen on, an IPv4 address.
        port: The port to listen on; 0 picks a free one, read it from `port`
            or `url` once started.

    Attributes:
        fake: The fake being served.
        host: The address listened on.
        port: The port listened on, known once started.

    Note:
        Request bodies are read by their ``Content-Length``, as the SDK and
        requests send them; a chunked request body is not read.
    """

    def __init__(
        self,
        fake: Optional[FakeUserProfiles] = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.fake = FakeUserProfiles() if fake is None else fake
        self.host = host
        self.port = port
        self._server: Optional[_Server] = None
        self._thread: Optional[threading.Thread] = None

    def __repr__(self) -> str:
        running = "running" if self._server is not None else "stopped"
        return f"EmulatorServer(host={self.host!r}, port={self.port}, {running})"

    @property
    def url(self) -> str:
        """The base URL to give the client, such as ``http://127.0.0.1:8123``.

        Raises:
            RuntimeError: The port is 0 and the server was never started.
        """
        if self.port == 0:
            raise RuntimeError("The port is not known yet: call start() first.")
        return f"http://{self.host}:{self.port}"

    def start(self) -> EmulatorServer:
        """Listen and serve in a background thread; return the server itself.

        Raises:
            RuntimeError: The server is already running.
            OSError: The address cannot be bound.
        """
        if self._server is not None:
            raise RuntimeError("The emulator is already running.")

        server = _Server((self.host, self.port), self.fake)
        self.port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": _POLL},
            name=f"user-profiles-emulator-{self.port}",
            daemon=True,
        )
        self._server = server
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close every connection; a stopped server is left as is.

        Stalled answers end at once, and clients on idle keep-alive connections
        see them closed.
        """
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return

        self._server = self._thread = None
        server.shutdown()
        server.close_connections()
        server.server_close()
        thread.join()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
