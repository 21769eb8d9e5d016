"""A loopback HTTP/1.1 server that answers the benchmark's calls from bytes made once.

Run as a script, it binds 127.0.0.1 on a free port, prints ``listening on
http://127.0.0.1:PORT`` and serves until it is killed or its standard input
closes, as it does when the process that started it ends in any way. Every
connection gets a thread that parses just enough HTTP (request line,
``content-length``) to find the next request, so the server costs far less than
the clients it measures.

Routes, all keep-alive:

- ``GET /v1/user_profiles/{id}``: one user profile.
- ``GET /v1/user_profiles?limit=N``: a last page of 100 profiles when N is 100,
  else of 20.
- ``POST /v1/user_profiles`` (and any other POST): a created profile.
- ``GET /pager/{total}/v1/user_profiles?...&page=cOFFSET``: pages of 100
  profiles whose cursor holds the offset of the next page, until `total`
  profiles have been served.

Only the standard library is used, so the server starts fast and measures the
same under any virtualenv.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import threading
from typing import Any, Dict, List, Optional

PROFILE_ID = "uprof_011CZkZaBF1tNoB5wlCeusgy"
PAGE_SIZE = 100
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def profile(number: int) -> Dict[str, Any]:
    """Return the wire form of a plausible user profile, varied by `number`."""
    suffix = "".join(_ALPHABET[(number * 7 + i * 13) % 62] for i in range(24))
    grants = {"cyber": {"status": ("active", "pending", "rejected")[number % 3]}}
    return {
        "id": f"uprof_{suffix}",
        "type": "user_profile",
        "external_id": f"user_{number:05d}",
        "metadata": {"plan": "pro", "region": "eu-west", "seats": str(number % 50)},
        "trust_grants": grants if number % 4 != 3 else {},
        "created_at": f"2026-03-15T10:{number // 60 % 60:02d}:{number % 60:02d}."
        f"{number * 997 % 1000000:06d}Z",
        "updated_at": "2026-03-16T08:30:00.5+01:00",
    }


def _answer(body: bytes) -> bytes:
    head = (
        "HTTP/1.1 200 OK\r\n"
        "content-type: application/json\r\n"
        f"content-length: {len(body)}\r\n"
        "request-id: req_011CZkZaBF1tNoB5wlCeusgy\r\n"
        "\r\n"
    )
    return head.encode() + body


def _encode(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _page(count: int, cursor: Optional[str]) -> bytes:
    return _encode({"data": [profile(n) for n in range(count)], "next_page": cursor})


ONE = _answer(_encode({**profile(0), "id": PROFILE_ID}))
CREATED = _answer(_encode(profile(1)))
PAGE_20 = _answer(_page(20, None))
PAGE_100 = _answer(_page(PAGE_SIZE, None))

# The pager's body is its 100 profiles between a fixed head and a tail that
# names the next cursor, so a page costs one join rather than an encoding.
_ITEMS = _encode([profile(n) for n in range(PAGE_SIZE)])
_PAGER_HEAD = b'{"data":' + _ITEMS + b',"next_page":'


def pager_answer(target: bytes) -> bytes:
    """Answer a pager request: the page at the cursor's offset, and the next."""
    path, _, query = target.partition(b"?")
    total = int(path.split(b"/")[2])
    offset = 0
    for pair in query.split(b"&"):
        if pair.startswith(b"page=c"):
            offset = int(pair[6:])
    following = offset + PAGE_SIZE
    tail = b"null}" if following >= total else b'"c%d"}' % following
    return _answer(_PAGER_HEAD + tail)


def route(method: bytes, target: bytes) -> bytes:
    """Return the whole answer, head and body, for one request."""
    if target.startswith(b"/pager/"):
        return pager_answer(target)
    if method == b"POST":
        return CREATED
    if target.startswith(b"/v1/user_profiles?"):
        return PAGE_100 if b"limit=100" in target else PAGE_20
    return ONE


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


def serve_connection(conn: socket.socket) -> None:
    """Answer the requests of one keep-alive connection until it closes."""
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buffered = b""
    with conn, contextlib.suppress(ConnectionError):
        while True:
            while b"\r\n\r\n" not in buffered:
                buffered = _more(conn, buffered)
            head, _, buffered = buffered.partition(b"\r\n\r\n")
            length = _content_length(head)
            while len(buffered) < length:
                buffered = _more(conn, buffered)
            buffered = buffered[length:]
            method, target, _ = head.split(b" ", 2)
            conn.sendall(route(method, target))


def _more(conn: socket.socket, buffered: bytes) -> bytes:
    chunk = conn.recv(262144)
    if not chunk:
        raise ConnectionResetError("the client closed the connection")
    return buffered + chunk


def _exit_with_parent() -> None:
    sys.stdin.read()
    os._exit(0)


def main(argv: List[str]) -> None:
    """Serve on loopback until killed or orphaned; print the URL first."""
    threading.Thread(target=_exit_with_parent, daemon=True).start()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", int(argv[1]) if len(argv) > 1 else 0))
    listener.listen(64)
    host, port = listener.getsockname()
    print(f"listening on http://{host}:{port}", flush=True)
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve_connection, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main(sys.argv)
