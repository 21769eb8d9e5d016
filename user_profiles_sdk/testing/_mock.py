"""The fake behind ``responses``: requests never leaves the process.

Faults become the exceptions requests raises for them on a real connection: a
drop is a reset connection, a stall longer than the read timeout is a read
timeout, and a truncated body fails while requests reads it.
"""

from __future__ import annotations

import errno
import functools
import re
import time
from typing import TYPE_CHECKING, Any, Dict, Optional, Tuple, Union
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import ProtocolError

if TYPE_CHECKING:
    import responses

    from ._fake import FakeUserProfiles

_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
_LOOPBACK = re.compile(r"https?://(127\.0\.0\.1|localhost|\[::1\])[:/]")

Outcome = Union[Exception, Tuple[int, Dict[str, str], bytes]]


def build_mock(fake: FakeUserProfiles, base_url: str) -> responses.RequestsMock:
    """Build a ``responses`` mock that sends every request under `base_url` to `fake`.

    Raises:
        ImportError: ``responses`` is not installed.
    """
    try:
        import responses
    except ImportError:
        raise ImportError(
            "FakeUserProfiles.mock() needs the responses package:"
            " pip install user-profiles-sdk[testing]"
        ) from None

    root = base_url.rstrip("/")
    pattern = re.compile(re.escape(root) + r"(?:[/?#]|\Z)")
    callback = functools.partial(_respond, fake, urlsplit(root).path)
    mock = responses.RequestsMock(assert_all_requests_are_fired=False)
    for method in _METHODS:
        mock.add_callback(method, pattern, callback, content_type=None)
    mock.add_passthru(_LOOPBACK)
    return mock


class _Patience:
    """Waits out a stall for as long as the request's read timeout allows."""

    def __init__(self, read_timeout: Optional[float]) -> None:
        self.read_timeout = read_timeout
        self.gave_up = False

    def __call__(self, seconds: float) -> bool:
        if self.read_timeout is not None and self.read_timeout < seconds:
            time.sleep(self.read_timeout)
            self.gave_up = True
            return False
        time.sleep(seconds)
        return True


def _read_timeout(timeout: Any) -> Optional[float]:
    if isinstance(timeout, tuple):
        timeout = timeout[1]
    read = getattr(timeout, "read_timeout", timeout)
    return float(read) if isinstance(read, (int, float)) else None


def _respond(fake: FakeUserProfiles, prefix: str, request: Any) -> Outcome:
    options = getattr(request, "req_kwargs", {})
    patience = _Patience(_read_timeout(options.get("timeout")))
    target = request.path_url[len(prefix) :]
    body = request.body or b""
    if isinstance(body, str):
        body = body.encode()

    reply = fake.handle(
        request.method, target, dict(request.headers), body, wait=patience
    )
    if reply.drop and patience.gave_up:
        return requests.ReadTimeout(
            f"Read timed out. (read timeout={patience.read_timeout})",
            request=request,
        )
    if reply.drop:
        reset = ConnectionResetError(errno.ECONNRESET, "Connection reset by peer")
        return requests.ConnectionError(
            ProtocolError("Connection aborted.", reset), request=request
        )
    headers, content = reply.wire()
    return reply.status, headers, content
