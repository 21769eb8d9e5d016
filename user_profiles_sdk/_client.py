"""The client: configuration, the connection pool, and the retry loop."""

from __future__ import annotations

import ipaddress
import json
import logging
import math
import os
import time
import weakref
from typing import Any, Callable, Dict, Iterable, Optional, Tuple, TypeVar, Union
from urllib.parse import urlsplit

import attrs
import requests
from requests.adapters import HTTPAdapter
from requests.cookies import RequestsCookieJar
from requests.structures import CaseInsensitiveDict

from . import _http, _retry
from ._resources import UserProfiles
from ._version import __version__
from .errors import (
    APIConnectionError,
    APIResponseError,
    UserProfilesError,
    ValidationError,
)

T = TypeVar("T")

DEFAULT_BASE_URL = "https://api.anthropic.com"
DEFAULT_BETA = "user-profiles-2026-03-24"
API_VERSION = "2023-06-01"

_log = logging.getLogger("user_profiles_sdk")

_NO_COOKIES = RequestsCookieJar()

_MAYBE_CREATED = (
    "The user profile may have been created: look for it before creating it again."
)


@attrs.frozen
class Timeout:
    """How long to wait, in seconds.

    Attributes:
        connect: To establish the connection.
        read: Between bytes of the answer, once the request is sent.
    """

    connect: float = 5.0
    read: float = 30.0


DEFAULT_TIMEOUT = Timeout()
TimeoutLike = Union[float, Tuple[float, float], Timeout]


def _timeout_pair(value: Any) -> Tuple[float, float]:
    if isinstance(value, Timeout):
        pair: Tuple[Any, ...] = (value.connect, value.read)
    elif isinstance(value, tuple) and len(value) == 2:
        pair = value
    else:
        pair = (value, value)
    for part in pair:
        if (
            isinstance(part, bool)
            or not isinstance(part, (int, float))
            or not math.isfinite(part)
            or part <= 0
        ):
            raise ValidationError(
                "timeout",
                "must be positive seconds, a (connect, read) pair or a Timeout,"
                f" not {value!r}",
            )
    return (float(pair[0]), float(pair[1]))


def _retry_count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(
            "max_retries", f"must be an integer of 0 or more, not {value!r}"
        )
    return int(value)


def _header_value(field: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValidationError(field, "must be a non-empty string")
    if any(char.isspace() or ord(char) < 32 or ord(char) == 127 for char in value):
        raise ValidationError(field, "must not hold whitespace or control characters")
    # Headers travel as Latin-1, which most of Unicode is not. Refused here,
    # such a value would otherwise fail only when sent, in an encoding error
    # that carries the whole value: the key, for the key.
    if not value.isascii():
        raise ValidationError(field, "must hold only ASCII characters")
    return value


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_base_url(value: Any) -> str:
    if not isinstance(value, str):
        raise ValidationError("base_url", "must be a string")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(
            "base_url", f"must be an http(s) URL with a host, not {value!r}"
        )
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise ValidationError(
            "base_url",
            "must use https unless the host is loopback (the key would travel"
            " in clear text)",
        )
    if parts.query or parts.fragment:
        raise ValidationError("base_url", "must not hold a query or fragment")
    return value.rstrip("/")


# Clients that own their session, so that a forked child can drop the pool it
# inherited: sockets shared with the parent would interleave both processes'
# requests on one connection.
_OWN_POOLS: weakref.WeakSet[Client] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for client in list(_OWN_POOLS):
        client._session = client._new_session()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


class Client:
    """A client of the User Profiles API, safe to share between threads.

    Args:
        api_key: The API key; defaults to ``ANTHROPIC_API_KEY``.
        base_url: Where the API lives; defaults to ``ANTHROPIC_BASE_URL``, then
            ``https://api.anthropic.com``. ``http://`` is refused unless the host
            is loopback.
        timeout: Seconds for every call: one number for both waits, a
            ``(connect, read)`` pair, or a `Timeout`. Defaults to 5 s and 30 s.
        max_retries: Retries after the first attempt; 0 means one attempt.
        beta: The revision of the User Profiles beta to speak.
        extra_betas: Further beta names to send with every request.
        workspace_id: The workspace to act in, sent only when given.
        session: Your own `requests.Session` (proxies, mTLS, a custom CA). It
            is used as given and never changed; closing it stays yours.
        validate: Whether to check the API's size limits before sending. Types
            and ids are checked either way.
        pool_size: Connections kept to the API by the client's own session;
            give at least the number of threads that share the client.

    Raises:
        ValidationError: An argument is missing or malformed, the key included.

    Note:
        Proxy, CA and certificate settings from the environment
        (``HTTPS_PROXY``, ``REQUESTS_CA_BUNDLE``, ...) and from your session are
        read once, when the client is made, rather than on every call.
    """

    def __init__(
        self,
        api_key: Optional[str] = None,
        *,
        base_url: Optional[str] = None,
        timeout: TimeoutLike = DEFAULT_TIMEOUT,
        max_retries: int = 2,
        beta: str = DEFAULT_BETA,
        extra_betas: Iterable[str] = (),
        workspace_id: Optional[str] = None,
        session: Optional[requests.Session] = None,
        validate: bool = True,
        pool_size: int = 10,
    ) -> None:
        if api_key is None:
            api_key = os.environ.get("ANTHROPIC_API_KEY")
        if not api_key:
            raise ValidationError(
                "api_key", "is missing: pass api_key= or set ANTHROPIC_API_KEY"
            )
        key = _header_value("api_key", api_key)
        self.base_url = _check_base_url(
            base_url or os.environ.get("ANTHROPIC_BASE_URL") or DEFAULT_BASE_URL
        )
        self.timeout = _timeout_pair(timeout)
        self.max_retries = _retry_count(max_retries)
        self.validate = bool(validate)
        if isinstance(extra_betas, str):
            extra_betas = (extra_betas,)
        betas = [_header_value("beta", beta)]
        betas += [_header_value("extra_betas", name) for name in extra_betas]
        headers = {
            "x-api-key": key,
            "anthropic-version": API_VERSION,
            "anthropic-beta": ",".join(betas),
            "accept": "application/json",
            "user-agent": f"user-profiles-sdk/{__version__} (python)",
        }
        if workspace_id is not None:
            headers["anthropic-workspace-id"] = _header_value(
                "workspace_id", workspace_id
            )
        self._headers = headers
        self._json_headers = {**headers, "content-type": "application/json"}
        if (
            isinstance(pool_size, bool)
            or not isinstance(pool_size, int)
            or pool_size < 1
        ):
            raise ValidationError("pool_size", "must be an integer of 1 or more")
        self._pool_size = pool_size
        self._owns_session = session is None
        self._session = self._new_session() if session is None else session
        self._settings = self._session.merge_environment_settings(
            self.base_url, {}, False, None, None
        )
        if self._owns_session:
            _OWN_POOLS.add(self)
        self.user_profiles = UserProfiles(self)

    def _new_session(self) -> requests.Session:
        session = requests.Session()
        adapter = HTTPAdapter(pool_maxsize=self._pool_size, max_retries=0)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        return session

    def __repr__(self) -> str:
        return f"Client(base_url={self.base_url!r})"

    def close(self) -> None:
        """Close the client's connections; a session you passed stays open."""
        if self._owns_session:
            self._session.close()
            _OWN_POOLS.discard(self)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _request(
        self,
        method: str,
        path: str,
        structure: Callable[[Any], T],
        *,
        query: str = "",
        body: Optional[Dict[str, Any]] = None,
        idempotent: bool = True,
        timeout: Optional[TimeoutLike] = None,
        max_retries: Optional[int] = None,
    ) -> T:
        """Send a request, retrying as the policy allows, and decode the answer.

        Args:
            method: The HTTP method.
            path: The path, ids already encoded.
            structure: Builds the model from the decoded JSON.
            query: The encoded query string, without ``?``.
            body: The JSON body, if the request carries one.
            idempotent: Whether a resend is harmless whatever happened.
            timeout: Overrides the client's timeout for this call.
            max_retries: Overrides the client's retry count for this call.

        Raises:
            APIConnectionError: No answer arrived, after every retry allowed.
            APIStatusError: The API answered with an error status.
            APIResponseError: A success answer could not be decoded.
        """
        waits = self.timeout if timeout is None else _timeout_pair(timeout)
        retries = self.max_retries if max_retries is None else _retry_count(max_retries)
        url = f"{self.base_url}{path}?{query}" if query else self.base_url + path
        prepared = self._prepare(method, url, body)
        # A session of the caller's goes through Session.send, so that it does
        # whatever the caller set it up to do.
        adapter = self._session.get_adapter(url) if self._owns_session else None

        attempt = 0
        while True:
            attempt += 1
            started = time.perf_counter()
            try:
                response = _http.send(
                    self._session, prepared, waits, self._settings, adapter
                )
            except APIConnectionError as exc:
                self._log_attempt(method, path, type(exc).__name__, started, None)
                if attempt <= retries and _retry.should_retry_connection(
                    request_sent=exc.request_sent, idempotent=idempotent
                ):
                    self._pause(method, path, attempt, retries, str(exc), None)
                    continue
                if exc.request_sent and not idempotent:
                    _mark_maybe_created(exc)
                raise

            status = response.status_code
            self._log_attempt(method, path, status, started, _http.request_id(response))
            if 200 <= status < 300:
                return self._decode(response, structure, idempotent)

            asked = _retry.retry_after(response.headers)
            should = response.headers.get("x-should-retry")
            if (
                attempt <= retries
                and _retry.should_retry_status(status, should, idempotent=idempotent)
                and (asked is None or asked <= _retry.MAX_RETRY_AFTER)
            ):
                self._pause(method, path, attempt, retries, str(status), asked)
                continue
            error = _http.status_error(response, asked)
            if not idempotent and _retry.may_have_processed(status, should):
                _mark_maybe_created(error)
            raise error

    def _prepare(
        self, method: str, url: str, body: Optional[Dict[str, Any]]
    ) -> requests.PreparedRequest:
        # Built by hand rather than through Session.prepare_request: the URL is
        # already encoded and the headers final, and the session's cookies,
        # auth and hooks have no part in this API.
        prepared = requests.PreparedRequest()
        # requests reads the request's cookie jar when it meets a redirect, even
        # one it will not follow; an empty jar of our own keeps that path sound.
        prepared._cookies = _NO_COOKIES  # type: ignore[attr-defined]
        prepared.method = method
        prepared.url = url
        if body is None:
            prepared.headers = CaseInsensitiveDict(self._headers)
            if method != "GET":
                prepared.headers["content-length"] = "0"
        else:
            data = json.dumps(body, separators=(",", ":")).encode()
            prepared.headers = CaseInsensitiveDict(self._json_headers)
            prepared.headers["content-length"] = str(len(data))
            prepared.body = data
        return prepared

    def _decode(
        self,
        response: requests.Response,
        structure: Callable[[Any], T],
        idempotent: bool,
    ) -> T:
        try:
            return structure(json.loads(response.content))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            problem = f"missing field {exc}" if isinstance(exc, KeyError) else exc
            error = APIResponseError(
                f"The {response.status_code} answer could not be decoded: {problem}.",
                status_code=response.status_code,
                request_id=_http.request_id(response),
            )
        if not idempotent:
            _mark_maybe_created(error)
        raise error

    def _log_attempt(
        self,
        method: str,
        path: str,
        outcome: object,
        started: float,
        request_id: Optional[str],
    ) -> None:
        if _log.isEnabledFor(logging.DEBUG):
            _log.debug(
                "%s %s -> %s in %.1f ms (request id %s)",
                method,
                path,
                outcome,
                (time.perf_counter() - started) * 1000,
                request_id or "none",
            )

    def _pause(
        self,
        method: str,
        path: str,
        attempt: int,
        retries: int,
        reason: str,
        asked: Optional[float],
    ) -> None:
        delay = _retry.backoff(attempt) if asked is None else asked
        _log.info(
            "Retrying %s %s (attempt %d of %d) after %s, in %.2f s",
            method,
            path,
            attempt + 1,
            retries + 1,
            reason,
            delay,
        )
        time.sleep(delay)


def _mark_maybe_created(error: UserProfilesError) -> None:
    text = error.message.rstrip()
    if not text.endswith((".", "!", "?")):
        text += "."
    error.message = f"{text} {_MAYBE_CREATED}"
    error.args = (error.message,)
    error.may_have_been_created = True
