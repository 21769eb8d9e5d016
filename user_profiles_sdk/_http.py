"""The border with requests: one attempt on the wire, and its failures.

Every exception requests can raise is translated here and nowhere else, and
every error status becomes its `APIStatusError` subclass here.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any, Dict, Iterator, Mapping, Optional, Tuple

import requests
from requests.adapters import BaseAdapter
from urllib3.exceptions import NewConnectionError

from .errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    error_class_for,
)

_TAGS = re.compile(r"<[^>]*>")
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_SPACE = re.compile(r"\s+")
_MAX_TEXT = 200


def send(
    session: requests.Session,
    prepared: requests.PreparedRequest,
    timeout: Tuple[float, float],
    settings: Mapping[str, Any],
    adapter: Optional[BaseAdapter] = None,
) -> requests.Response:
    """Send one prepared request and return the answer, whatever its status.

    Args:
        session: The session whose adapters carry the request.
        prepared: The request, URL and headers final.
        timeout: Seconds to connect and to wait between bytes of the answer.
        settings: The proxies, verify and cert settings resolved for the client.
        adapter: The adapter to call instead of `Session.send`, for the
            client's own session: a request built by hand has no part in that
            session's cookies, hooks or redirects, whose bookkeeping would only
            add time to every call.

    Raises:
        APITimeoutError: The connect or read timeout ran out.
        APIConnectionError: No answer arrived for another reason.
    """
    try:
        if adapter is None:
            return session.send(
                prepared, timeout=timeout, allow_redirects=False, **settings
            )
        response = adapter.send(prepared, timeout=timeout, **settings)
        # Read the body here, as Session.send does, so that a connection lost
        # halfway is translated below and the connection returns to the pool.
        _ = response.content
        return response
    except requests.RequestException as exc:
        error = _translate(exc, timeout)
    # Raised outside the handler, so that the error holds no link to the
    # exception of requests, whose request carries the key in its headers.
    raise error


def _translate(
    exc: requests.RequestException, timeout: Tuple[float, float]
) -> APIConnectionError:
    if isinstance(exc, requests.ConnectTimeout):
        return APITimeoutError(
            f"Timed out connecting after {timeout[0]} s.", request_sent=False
        )
    if isinstance(exc, requests.Timeout):
        return APITimeoutError(
            f"Timed out waiting for the answer after {timeout[1]} s."
        )
    if isinstance(exc, requests.exceptions.SSLError):
        return APIConnectionError(f"TLS failed: {_reason(exc)}.", request_sent=False)
    if isinstance(exc, requests.ConnectionError):
        if _never_connected(exc):
            return APIConnectionError(
                f"Could not connect: {_reason(exc)}.", request_sent=False
            )
        return APIConnectionError(f"Connection failed: {_reason(exc)}.")
    return APIConnectionError(f"Request failed: {_reason(exc)}.")


def _causes(exc: BaseException) -> Iterator[BaseException]:
    # requests wraps urllib3's errors, which wrap the socket's; walk down
    # through `reason`, the cause, and an exception held as the last argument.
    seen: Optional[BaseException] = exc
    for _ in range(8):
        if seen is None:
            return
        yield seen
        last = seen.args[-1] if seen.args else None
        seen = (
            getattr(seen, "reason", None)
            or seen.__cause__
            or (last if isinstance(last, BaseException) else None)
        )


def _never_connected(exc: BaseException) -> bool:
    # A new connection that failed (refused, unreachable, a name that does not
    # resolve, a proxy that would not connect) means no byte of the request
    # left this machine.
    return any(isinstance(cause, NewConnectionError) for cause in _causes(exc))


def _reason(exc: BaseException) -> str:
    # The innermost cause reads best ("Connection refused") and carries no URL,
    # which could hold a cursor.
    *_, inner = _causes(exc)
    if isinstance(inner, OSError) and inner.strerror:
        return inner.strerror
    return str(inner).rsplit(": ", 1)[-1] or type(inner).__name__


def request_id(response: requests.Response) -> Optional[str]:
    """Return the ``request-id`` header of an answer, if any."""
    return response.headers.get("request-id")


def status_error(
    response: requests.Response, retry_after: Optional[float]
) -> APIStatusError:
    """Build the error for an error status, from whatever body came with it.

    A JSON error body gives the type, message, code and request id; an HTML,
    text or empty body still gives the class by status and a readable message.
    """
    status = response.status_code
    body: Any = None
    error: Dict[str, Any] = {}
    content = response.content
    if content:
        try:
            body = json.loads(content)
        except ValueError:
            body = content.decode("utf-8", "replace")
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        error = body["error"]
    details = error.get("details")
    code = details.get("error_code") if isinstance(details, dict) else None
    rid = request_id(response)
    if rid is None and isinstance(body, dict):
        rid = _text_or_none(body.get("request_id"))
    message = _text_or_none(error.get("message")) or _summary(body, response)
    return error_class_for(status)(
        message,
        status_code=status,
        error_type=_text_or_none(error.get("type")),
        error_code=_text_or_none(code),
        request_id=rid,
        body=body,
        retry_after=retry_after,
    )


def _text_or_none(value: Any) -> Optional[str]:
    return value if isinstance(value, str) and value else None


def _summary(body: Any, response: requests.Response) -> str:
    reason = response.reason or "error"
    if not isinstance(body, str) or not body.strip():
        return f"HTTP {response.status_code} {reason} with no error body."
    title = _TITLE.search(body)
    text = title.group(1) if title else _TAGS.sub(" ", body)
    text = _SPACE.sub(" ", html.unescape(text)).strip()
    if len(text) > _MAX_TEXT:
        text = text[: _MAX_TEXT - 3] + "..."
    return text or f"HTTP {response.status_code} {reason}."
