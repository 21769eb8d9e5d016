"""The in-memory User Profiles API that both test transports serve.

`FakeUserProfiles.handle` answers one HTTP request as the API would. The
``responses`` mock and the loopback server only carry bytes to it and back, so
both speak exactly the same contract, injected faults included.
"""

from __future__ import annotations

import base64
import bisect
import collections
import copy
import datetime as _dt
import functools
import json
import random
import re
import secrets
import string
import threading
import time
from collections.abc import Mapping
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Deque,
    Dict,
    Iterator,
    List,
    Optional,
    Tuple,
    Union,
)
from urllib.parse import parse_qsl, unquote

import attrs

from .._converter import structure_profile
from ..errors import ValidationError
from ..models import UserProfile

if TYPE_CHECKING:
    import responses

# The contract's own values, restated here rather than imported from the SDK:
# the fake is the independent model that the SDK's requests and checks are
# tested against, so a slip in the SDK must not carry over into it.
API_BASE_URL = "https://api.anthropic.com"
ENROLLMENT_LIFETIME = _dt.timedelta(minutes=15)
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_EXTERNAL_ID = 255
MAX_METADATA_KEYS = 16
MAX_METADATA_KEY = 64
MAX_METADATA_VALUE = 512
ORDERS = ("asc", "desc")
ENDPOINTS = ("create", "list", "get", "update", "enrollment_url")

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    408: "timeout_error",
    409: "conflict_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}

_ALPHABET = string.digits + string.ascii_letters
_ID_LENGTH = 24
_BETA_PREFIX = "user-profiles-"
_EXAMPLE_BETA = "user-profiles-2026-03-24"
_COLLECTION = ["", "v1", "user_profiles"]
_BODY_FIELDS = frozenset(("external_id", "metadata"))
_PROFILE_FIELDS = frozenset(
    ("id", "type", "external_id", "metadata", "trust_grants", "created_at")
    + ("updated_at",)
)
_ENROLLMENT_PAGE = "https://user-profiles.invalid/enrollment/"
_CURSOR = re.compile(r"([0-9]+):(\S+)\Z", re.ASCII)
_INTEGER = re.compile(r"-?[0-9]+\Z", re.ASCII)
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
_MICROSECOND = _dt.timedelta(microseconds=1)
_MALFORMED = object()

Body = Union[bytes, Callable[[], bytes]]
Waiter = Callable[[float], bool]
FaultBody = Union[None, str, bytes, Mapping[str, Any]]


def error_type_for(status: int) -> str:
    """Return the error type the API gives for an error status."""
    known = ERROR_TYPES.get(status)
    if known is not None:
        return known
    return "api_error" if status >= 500 else "invalid_request_error"


def _utc_now() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)


def _timestamp(moment: _dt.datetime) -> str:
    # Always six digits of fraction: created_at promises microseconds, which
    # isoformat would leave out on a whole second.
    text = moment.astimezone(_dt.timezone.utc).isoformat(timespec="microseconds")
    return text[:-6] + "Z"


def _position(moment: _dt.datetime, profile_id: str) -> Tuple[int, str]:
    return ((moment - _EPOCH) // _MICROSECOND, profile_id)


def _encode_cursor(position: Tuple[int, str]) -> str:
    raw = f"{position[0]}:{position[1]}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> Tuple[int, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        match = _CURSOR.match(raw.decode())
    except ValueError:
        match = None
    if not cursor or match is None:
        raise ValidationError("page", "is not a cursor that this API returned")
    return (int(match.group(1)), match.group(2))


def _dumps(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode()


def _parse_json(content: Optional[bytes]) -> Any:
    if not content:
        return None
    try:
        return json.loads(content)
    except ValueError:
        return _MALFORMED


def _sleep(seconds: float) -> bool:
    time.sleep(seconds)
    return True


@attrs.frozen
class RecordedRequest:
    """One request as the fake received it.

    Attributes:
        method: The HTTP method.
        path: The path as sent, percent-encoding intact, without the query.
        query: The decoded query; the last value wins for a repeated name.
        headers: The headers, names in lower case.
        body: The JSON body decoded, or None when absent, unread or malformed.
        content: The raw body, or None when a drop refused it unread.
    """

    method: str
    path: str
    query: Dict[str, str]
    headers: Dict[str, str]
    body: Any
    content: Optional[bytes]


@attrs.frozen
class Reply:
    """The fake's answer to one request, for a transport to put on the wire.

    Attributes:
        status: The HTTP status; 0 when `drop` is set.
        headers: The headers, names in lower case, ``request-id`` among them.
        body: The whole body.
        drop: Close the connection without answering.
        truncate: Send the headers and cut the body short, then close.
    """

    status: int
    headers: Dict[str, str]
    body: bytes = b""
    drop: bool = False
    truncate: bool = False

    def wire(self) -> Tuple[Dict[str, str], bytes]:
        """Return the headers and body to send, the body cut short if truncated."""
        headers = dict(self.headers)
        if not self.truncate:
            headers.setdefault("content-length", str(len(self.body)))
            return headers, self.body

        headers["content-length"] = str(max(len(self.body), 1))
        return headers, self.body[: len(self.body) // 2]


def _dropped(request_id: str) -> Reply:
    return Reply(0, {"request-id": request_id}, drop=True)


def _json_reply(
    status: int,
    data: Any,
    request_id: str,
    headers: Optional[Dict[str, str]] = None,
) -> Reply:
    sent = {"content-type": "application/json", "request-id": request_id}
    sent.update(headers or {})
    return Reply(status, sent, _dumps(data))


def _error_body(
    status: int, message: str, request_id: str, code: Optional[str] = None
) -> Dict[str, Any]:
    error: Dict[str, Any] = {"type": error_type_for(status), "message": message}
    if code is not None:
        error["details"] = {"error_code": code}
    return {"type": "error", "error": error, "request_id": request_id}


class _Refusal(Exception):
    """An error answer, raised from deep in a route and answered once."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: Optional[str] = None,
        headers: Optional[Dict[str, str]] = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.headers = headers or {}

    @classmethod
    def invalid(cls, error: ValidationError) -> _Refusal:
        # The wire message is spelled here, not by the error's own str(), so
        # that what the fake answers does not follow changes to the SDK's errors.
        code = "invalid_metadata" if error.field == "metadata" else None
        return cls(400, f"{error.field}: {error.rule}", code=code)

    def reply(self, request_id: str) -> Reply:
        body = _error_body(self.status, self.message, request_id, self.code)
        return _json_reply(self.status, body, request_id, self.headers)


@attrs.frozen
class _Fault:
    kind: str
    processed: bool = False
    seconds: float = 0.0
    status: int = 0
    headers: Dict[str, str] = attrs.field(factory=dict)
    body: FaultBody = None
    endpoint: Optional[str] = None

    def fits(self, endpoint: Optional[str]) -> bool:
        return self.endpoint is None or self.endpoint == endpoint


def _answer_fault(
    status: int,
    headers: Optional[Mapping[str, str]],
    body: FaultBody,
    endpoint: Optional[str],
) -> _Fault:
    return _Fault(
        "answer", status=status, headers=_lower(headers), body=body, endpoint=endpoint
    )


class _ProfileView(Mapping[str, UserProfile]):
    """A live, read-only view of the stored profiles, oldest first."""

    def __init__(self, lock: threading.Lock, store: Dict[str, Dict[str, Any]]) -> None:
        self._lock = lock
        self._store = store

    def __getitem__(self, profile_id: str) -> UserProfile:
        with self._lock:
            wire = copy.deepcopy(self._store[profile_id])
        return structure_profile(wire)

    def __iter__(self) -> Iterator[str]:
        with self._lock:
            return iter(list(self._store))

    def __len__(self) -> int:
        with self._lock:
            return len(self._store)


class FakeUserProfiles:
    """The User Profiles API in memory, for tests; safe to share between threads.

    It keeps the whole contract: ids, request ids, limits, errors, the merge of
    metadata on update, cursors and enrollment URLs. Serve it with `mock` (through
    ``responses``) or `EmulatorServer` (over loopback HTTP), then assert on
    `profiles` and `requests`. The ``*_next`` controls queue faults, by default
    for whichever request comes next. Given ``endpoint=`` (one of ``create``,
    ``list``, ``get``, ``update``, ``enrollment_url``), a fault waits for a
    request to that endpoint, and other requests pass it by. Each request takes
    the oldest fault queued for it, aimed or not.

    Args:
        now: The clock, returning timezone-aware datetimes; replace `now` at any
            time to move it, for example to test the expiry of enrollment URLs.

    Attributes:
        now: The clock the fake reads for timestamps and expiries.
    """

    def __init__(self, now: Optional[Callable[[], _dt.datetime]] = None) -> None:
        self.now: Callable[[], _dt.datetime] = _utc_now if now is None else now
        self._lock = threading.Lock()
        self._store: Dict[str, Dict[str, Any]] = {}
        self._positions: List[Tuple[int, str]] = []
        self._faults: Deque[_Fault] = collections.deque()
        self._received: List[RecordedRequest] = []
        self._last: Optional[_dt.datetime] = None
        self._random = random.Random()
        self._view = _ProfileView(self._lock, self._store)

    @property
    def profiles(self) -> Mapping[str, UserProfile]:
        """The stored user profiles by id, oldest first, as a live read-only view."""
        return self._view

    @property
    def requests(self) -> List[RecordedRequest]:
        """A copy of every request received so far, oldest first."""
        with self._lock:
            return list(self._received)

    def reset(self) -> None:
        """Forget every profile, queued fault and recorded request."""
        with self._lock:
            self._store.clear()
            self._positions.clear()
            self._faults.clear()
            self._received.clear()

    def mock(self, base_url: str = API_BASE_URL) -> responses.RequestsMock:
        """Return a ``responses`` mock that routes `base_url` to this fake.

        Use it as a context manager: inside it, every request that requests
        sends under `base_url` reaches the fake, whatever its method or path.
        Requests to loopback addresses pass through untouched, so an
        `EmulatorServer` keeps working meanwhile.

        Raises:
            ImportError: ``responses`` is not installed.
        """
        from ._mock import build_mock

        return build_mock(self, base_url)

    def add_profile(
        self,
        *,
        external_id: Optional[str] = None,
        metadata: Optional[Mapping[str, str]] = None,
        trust_grants: Optional[Mapping[str, str]] = None,
        extra: Optional[Mapping[str, Any]] = None,
    ) -> UserProfile:
        """Store a new user profile as a create would, without a request.

        Args:
            external_id: The profile's external id.
            metadata: Its metadata, under the limits of a create.
            trust_grants: Grant names to statuses, such as ``{"cyber": "active"}``.
            extra: Further wire fields, as a newer revision of the API sends.

        Returns:
            The stored profile.

        Raises:
            ValidationError: The external id or metadata breaks a limit.
            ValueError: A field of `extra` is one of the profile's own.
        """
        if external_id is not None:
            _check_external_id(external_id)
        stored = _check_metadata(metadata or {}, on_create=True)
        clash = sorted(_PROFILE_FIELDS.intersection(extra or {}))
        if clash:
            raise ValueError(f"extra must not set the profile's own field {clash[0]}")

        grants = {name: str(status) for name, status in (trust_grants or {}).items()}
        with self._lock:
            wire = self._insert(external_id, stored, grants, dict(extra or {}))
        return structure_profile(copy.deepcopy(wire))

    def seed(
        self, count: int, *, metadata: Optional[Mapping[str, str]] = None
    ) -> List[str]:
        """Store `count` new user profiles at once, external ids ``seed_0``, ...

        Returns:
            Their ids, oldest first.
        """
        stored = _check_metadata(metadata or {}, on_create=True)
        with self._lock:
            return [
                self._insert(f"seed_{index}", stored, {}, {})["id"]
                for index in range(count)
            ]

    def set_trust_grant(
        self, user_profile_id: str, name: str, status: str
    ) -> UserProfile:
        """Set a trust grant, as the end user finishing enrollment would.

        Any status is kept as given, including ones the SDK does not know.
        The profile's ``updated_at`` moves.

        Returns:
            The profile after the change.

        Raises:
            KeyError: No profile has that id.
        """
        with self._lock:
            current = self._store[user_profile_id]
            grants = {**current["trust_grants"], name: {"status": str(status)}}
            updated = {**current, "trust_grants": grants}
            updated["updated_at"] = _timestamp(self._stamp())
            self._store[user_profile_id] = updated
        return structure_profile(copy.deepcopy(updated))

    def fail_next(
        self,
        status: int,
        headers: Optional[Mapping[str, str]] = None,
        body: FaultBody = None,
        times: int = 1,
        *,
        endpoint: Optional[str] = None,
        skip: int = 0,
    ) -> None:
        """Answer the next requests with an error status, without processing them.

        Args:
            status: A 4xx or 5xx status.
            headers: Headers to send as given, besides ``request-id``; the fake
                adds no ``x-should-retry`` of its own.
            body: None for the API's JSON error body with the error type of
                the status; a mapping to send as JSON; text or bytes to send
                as they are (HTML, plain text, or empty).
            times: How many requests get this answer, counting only those of
                `endpoint` when it is given.
            endpoint: The endpoint whose requests meet the fault; None for any.
            skip: How many requests, counting only those of `endpoint` when
                it is given, to answer as usual before the fault begins.

        Raises:
            ValueError: The status is not an error status, `times` is below 1,
                `skip` below 0, or `endpoint` is not an endpoint's name.
        """
        if not 400 <= status <= 599:
            raise ValueError(f"fail_next needs a 4xx or 5xx status, not {status}")
        self._enqueue(_answer_fault(status, headers, body, endpoint), times, skip)

    def respond_next(
        self,
        status: int,
        body: Union[str, bytes, Mapping[str, Any]],
        headers: Optional[Mapping[str, str]] = None,
        *,
        endpoint: Optional[str] = None,
        skip: int = 0,
    ) -> None:
        """Answer the next request with any status and body, without processing it.

        Args:
            status: Any status, such as 200 for a body that is not a profile.
            body: A mapping to send as JSON, or text or bytes to send as is.
            headers: Headers to send as given, besides ``request-id``.
            endpoint: The endpoint whose request meets the fault; None for any.
            skip: How many requests, counting only those of `endpoint` when
                it is given, to answer as usual before the fault begins.

        Raises:
            ValueError: `skip` is below 0, or `endpoint` is not an endpoint's
                name.
        """
        self._enqueue(_answer_fault(status, headers, body, endpoint), 1, skip)

    def drop_next(
        self,
        processed: bool = False,
        times: int = 1,
        *,
        endpoint: Optional[str] = None,
        skip: int = 0,
    ) -> None:
        """Close the connection of the next requests without answering.

        Args:
            processed: Whether each request takes effect first (a create makes
                its profile); otherwise it is refused before its body is read.
            times: How many requests are dropped, counting only those of
                `endpoint` when it is given.
            endpoint: The endpoint whose requests meet the fault; None for any.
            skip: How many requests, counting only those of `endpoint` when
                it is given, to answer as usual before the fault begins.

        Raises:
            ValueError: `times` is below 1, `skip` below 0, or `endpoint` is
                not an endpoint's name.
        """
        self._enqueue(
            _Fault("drop", processed=processed, endpoint=endpoint), times, skip
        )

    def stall_next(
        self,
        seconds: float,
        processed: bool = False,
        *,
        endpoint: Optional[str] = None,
        skip: int = 0,
    ) -> None:
        """Hold the answer to the next request for `seconds`.

        Args:
            seconds: How long to wait before answering.
            processed: Whether the request takes effect before the wait, so
                that it stands even when the client gives up. Otherwise it takes
                effect after the wait, and only if the client still waits.
            endpoint: The endpoint whose request meets the fault; None for any.
            skip: How many requests, counting only those of `endpoint` when
                it is given, to answer as usual before the fault begins.

        Raises:
            ValueError: `skip` is below 0, or `endpoint` is not an endpoint's
                name.
        """
        fault = _Fault("stall", processed=processed, seconds=seconds, endpoint=endpoint)
        self._enqueue(fault, 1, skip)

    def truncate_next(self, *, endpoint: Optional[str] = None, skip: int = 0) -> None:
        """Process the next request, then cut its answer's body short.

        Args:
            endpoint: The endpoint whose request meets the fault; None for any.
            skip: How many requests, counting only those of `endpoint` when
                it is given, to answer as usual before the fault begins.

        Raises:
            ValueError: `skip` is below 0, or `endpoint` is not an endpoint's
                name.
        """
        self._enqueue(_Fault("truncate", processed=True, endpoint=endpoint), 1, skip)

    def handle(
        self,
        method: str,
        target: str,
        headers: Mapping[str, str],
        body: Body = b"",
        *,
        wait: Optional[Waiter] = None,
    ) -> Reply:
        """Answer one request as the API would, applying the oldest fault for it.

        Args:
            method: The HTTP method, such as ``POST``.
            target: The path and query as sent, percent-encoding intact.
            headers: The request's headers, names in any case.
            body: The body, or a function that reads it; the function is not
                called when a drop refuses the request unread.
            wait: Waits the given seconds of a stall and returns whether the
                client still waits for the answer; defaults to sleeping.

        Returns:
            The reply; with `Reply.drop` set, close the connection instead.
        """
        headers = _lower(headers)
        endpoint = _endpoints_at(target.partition("?")[0]).get(method)
        with self._lock:
            fault = self._take_fault(endpoint)
            request_id = self._new_id("req_")
        if fault is not None and fault.kind == "drop" and not fault.processed:
            self._record(method, target, headers, None)
            return _dropped(request_id)

        parsed = self._record(
            method, target, headers, body() if callable(body) else body
        )
        answer = functools.partial(
            self._answer, method, target, headers, parsed, request_id
        )
        if fault is None or fault.kind == "pass":
            return answer()
        return _apply(fault, answer, request_id, wait or _sleep)

    def _enqueue(self, fault: _Fault, times: int, skip: int) -> None:
        if times < 1:
            raise ValueError(f"times must be 1 or more, not {times}")
        if skip < 0:
            raise ValueError(f"skip must be 0 or more, not {skip}")
        if fault.endpoint is not None and fault.endpoint not in ENDPOINTS:
            raise ValueError(
                f"endpoint must be one of {', '.join(ENDPOINTS)},"
                f" not {fault.endpoint!r}"
            )
        # A skipped request takes a fault that changes nothing, so that it keeps
        # its place in the queue among the other faults.
        passing = _Fault("pass", endpoint=fault.endpoint)
        with self._lock:
            self._faults.extend([passing] * skip + [fault] * times)

    def _take_fault(self, endpoint: Optional[str]) -> Optional[_Fault]:
        # Called with the lock held, so that two requests never take one fault.
        for index, fault in enumerate(self._faults):
            if fault.fits(endpoint):
                del self._faults[index]
                return fault
        return None

    def _record(
        self,
        method: str,
        target: str,
        headers: Dict[str, str],
        content: Optional[bytes],
    ) -> Any:
        path, _, query = target.partition("?")
        parsed = _parse_json(content)
        entry = RecordedRequest(
            method=method,
            path=path,
            query=dict(parse_qsl(query, keep_blank_values=True)),
            headers=headers,
            body=None if parsed is _MALFORMED else parsed,
            content=content,
        )
        with self._lock:
            self._received.append(entry)
        return parsed

    def _answer(
        self,
        method: str,
        target: str,
        headers: Dict[str, str],
        body: Any,
        request_id: str,
    ) -> Reply:
        try:
            with self._lock:
                data = self._dispatch(method, target, headers, body)
        except ValidationError as exc:
            return _Refusal.invalid(exc).reply(request_id)
        except _Refusal as refusal:
            return refusal.reply(request_id)
        return _json_reply(200, data, request_id)

    def _dispatch(
        self, method: str, target: str, headers: Dict[str, str], body: Any
    ) -> Dict[str, Any]:
        _authorize(headers)

        path, _, query_text = target.partition("?")
        endpoints = _endpoints_at(path)
        if not endpoints:
            raise _Refusal(404, f"There is no endpoint at {path}.")
        endpoint = endpoints.get(method)
        if endpoint is None:
            allowed = ", ".join(endpoints)
            raise _Refusal(
                405,
                f"{method} is not allowed on {path}; use {allowed}.",
                headers={"allow": allowed},
            )
        return self._perform(endpoint, path, query_text, body)

    def _perform(
        self, endpoint: str, path: str, query_text: str, body: Any
    ) -> Dict[str, Any]:
        segments = path.split("/")
        profile_id = unquote(segments[3]) if len(segments) > 3 else ""
        if endpoint == "create":
            return self._create(body)
        if endpoint == "list":
            return self._list(dict(parse_qsl(query_text, keep_blank_values=True)))
        if endpoint == "get":
            return self._lookup(profile_id)
        if endpoint == "update":
            return self._update(profile_id, body)
        return self._enroll(profile_id)

    def _lookup(self, profile_id: str) -> Dict[str, Any]:
        wire = self._store.get(profile_id)
        if wire is None:
            raise _Refusal(404, f"No user profile has the id {profile_id!r}.")
        return wire

    def _create(self, body: Any) -> Dict[str, Any]:
        external_id, metadata = _fields(body)
        stored = {} if metadata is None else _check_metadata(metadata, on_create=True)
        return self._insert(external_id, stored, {}, {})

    def _update(self, profile_id: str, body: Any) -> Dict[str, Any]:
        current = self._lookup(profile_id)
        external_id, patch = _fields(body)

        updated = dict(current)
        if external_id is not None:
            updated["external_id"] = external_id
        if patch is not None:
            changes = _check_metadata(patch, on_create=False)
            updated["metadata"] = _merge(current["metadata"], changes)
        updated["updated_at"] = _timestamp(self._stamp())
        self._store[profile_id] = updated
        return updated

    def _list(self, query: Dict[str, str]) -> Dict[str, Any]:
        limit = _check_limit(query.get("limit"))
        order = _check_order(query.get("order", "desc"))
        after = _decode_cursor(query["page"]) if "page" in query else None

        positions = self._positions
        if order == "asc":
            start = 0 if after is None else bisect.bisect_right(positions, after)
            chosen = positions[start : start + limit]
            more = start + limit < len(positions)
        else:
            end = (
                len(positions)
                if after is None
                else bisect.bisect_left(positions, after)
            )
            chosen = positions[max(end - limit, 0) : end][::-1]
            more = end > limit

        cursor = _encode_cursor(chosen[-1]) if more else None
        return {"data": [self._store[pid] for _, pid in chosen], "next_page": cursor}

    def _enroll(self, profile_id: str) -> Dict[str, Any]:
        self._lookup(profile_id)
        return {
            "type": "enrollment_url",
            "url": _ENROLLMENT_PAGE + secrets.token_urlsafe(32),
            "expires_at": _timestamp(self.now() + ENROLLMENT_LIFETIME),
        }

    def _insert(
        self,
        external_id: Optional[str],
        metadata: Dict[str, str],
        grants: Dict[str, str],
        extra: Dict[str, Any],
    ) -> Dict[str, Any]:
        moment = self._stamp()
        profile_id = self._new_id("uprof_")
        while profile_id in self._store:
            profile_id = self._new_id("uprof_")

        stamp = _timestamp(moment)
        self._store[profile_id] = wire = {
            "id": profile_id,
            "type": "user_profile",
            "external_id": external_id,
            "metadata": dict(metadata),
            "trust_grants": {name: {"status": s} for name, s in grants.items()},
            "created_at": stamp,
            "updated_at": stamp,
            **extra,
        }
        self._positions.append(_position(moment, profile_id))
        return wire

    def _stamp(self) -> _dt.datetime:
        # Every stamp is later than the one before, even when the clock stands
        # still or steps back, so creation order and time order agree.
        moment = self.now().astimezone(_dt.timezone.utc)
        if self._last is not None and moment <= self._last:
            moment = self._last + _MICROSECOND
        self._last = moment
        return moment

    def _new_id(self, prefix: str) -> str:
        return prefix + "".join(self._random.choices(_ALPHABET, k=_ID_LENGTH))


def _endpoints_at(path: str) -> Dict[str, str]:
    """Name the endpoint each method reaches at `path`; empty when none is there."""
    segments = path.split("/")
    if segments[:3] != _COLLECTION:
        return {}

    rest = segments[3:]
    if not rest:
        return {"GET": "list", "POST": "create"}
    if not rest[0]:
        return {}
    if len(rest) == 1:
        return {"GET": "get", "POST": "update"}
    if rest[1:] == ["enrollment_url"]:
        return {"POST": "enrollment_url"}
    return {}


def _lower(headers: Optional[Mapping[str, str]]) -> Dict[str, str]:
    return {name.lower(): value for name, value in (headers or {}).items()}


def _apply(
    fault: _Fault, answer: Callable[[], Reply], request_id: str, wait: Waiter
) -> Reply:
    if fault.kind == "answer":
        return _injected(fault, request_id)
    if fault.kind == "stall" and not fault.processed:
        return answer() if wait(fault.seconds) else _dropped(request_id)

    reply = answer()
    if fault.kind == "truncate":
        return attrs.evolve(reply, truncate=True)
    if fault.kind == "stall" and wait(fault.seconds):
        return reply
    return _dropped(request_id)


def _injected(fault: _Fault, request_id: str) -> Reply:
    headers = {"request-id": request_id}
    body = fault.body
    if body is None:
        message = f"The emulator was told to fail this request with {fault.status}."
        body = _error_body(fault.status, message, request_id)
    if isinstance(body, Mapping):
        headers["content-type"] = "application/json"
        body = _dumps(dict(body))
    elif isinstance(body, str):
        body = body.encode()
    headers.update(fault.headers)
    return Reply(fault.status, headers, body)


def _authorize(headers: Dict[str, str]) -> None:
    if not headers.get("x-api-key"):
        raise _Refusal(401, "The x-api-key header is missing: send your API key.")
    betas = headers.get("anthropic-beta", "").split(",")
    if not any(name.strip().startswith(_BETA_PREFIX) for name in betas):
        raise _Refusal(
            400,
            "The anthropic-beta header must name a revision of the User Profiles"
            f" beta, such as {_EXAMPLE_BETA}.",
        )


def _fields(body: Any) -> Tuple[Optional[str], Any]:
    if body is _MALFORMED:
        raise ValidationError("body", "is not valid JSON")
    if not isinstance(body, dict):
        raise ValidationError("body", "must be a JSON object")
    unknown = sorted(set(body) - _BODY_FIELDS)
    if unknown:
        raise ValidationError(unknown[0], "is not a field of this request")

    external_id = body.get("external_id")
    if external_id is not None:
        _check_external_id(external_id)
    return external_id, body.get("metadata")


def _merge(stored: Dict[str, str], changes: Dict[str, str]) -> Dict[str, str]:
    merged = dict(stored)
    for key, value in changes.items():
        if value:
            merged[key] = value
        else:
            merged.pop(key, None)
    if len(merged) > MAX_METADATA_KEYS:
        raise ValidationError(
            "metadata",
            f"would hold {len(merged)} keys after the merge; at most"
            f" {MAX_METADATA_KEYS} are allowed",
        )
    return merged


def _check_limit(text: Optional[str]) -> int:
    if text is None:
        return DEFAULT_LIMIT
    if not _INTEGER.match(text):
        raise ValidationError("limit", f"must be an integer, not {text!r}")
    size = int(text)
    if not 1 <= size <= MAX_LIMIT:
        raise ValidationError("limit", f"must be 1 to {MAX_LIMIT}, not {size}")
    return size


def _check_order(text: str) -> str:
    if text not in ORDERS:
        raise ValidationError("order", f"must be 'asc' or 'desc', not {text!r}")
    return text


def _type_name(value: Any) -> str:
    return type(value).__name__


def _check_text(value: Any, field: str, most: int, subject: str = "") -> str:
    if not isinstance(value, str):
        raise ValidationError(
            field, f"{subject}must be a string, not {_type_name(value)}"
        )
    if len(value) > most:
        raise ValidationError(
            field, f"{subject}must be at most {most} characters, not {len(value)}"
        )
    return value


def _check_external_id(value: Any) -> str:
    return _check_text(value, "external_id", MAX_EXTERNAL_ID)


def _check_metadata(value: Any, *, on_create: bool) -> Dict[str, str]:
    # On update an empty value asks to remove its key, so only the keys that
    # carry a value count towards the limit; the merge checks the result.
    if not isinstance(value, Mapping):
        raise ValidationError("metadata", f"must be a mapping, not {_type_name(value)}")

    for key, item in value.items():
        _check_metadata_entry(key, item, on_create)
    filled = sum(1 for item in value.values() if item)
    if filled > MAX_METADATA_KEYS:
        raise ValidationError(
            "metadata", f"must hold at most {MAX_METADATA_KEYS} keys, not {filled}"
        )
    return dict(value)


def _check_metadata_entry(key: Any, item: Any, on_create: bool) -> None:
    if not isinstance(key, str):
        raise ValidationError(
            "metadata", f"keys must be strings, not {_type_name(key)}"
        )
    if not 0 < len(key) <= MAX_METADATA_KEY:
        raise ValidationError(
            "metadata",
            f"key {key[:MAX_METADATA_KEY]!r} must be 1 to {MAX_METADATA_KEY}"
            f" characters, not {len(key)}",
        )
    _check_text(item, "metadata", MAX_METADATA_VALUE, f"value of {key!r} ")
    if on_create and not item:
        raise ValidationError(
            "metadata", f"value of {key!r} must not be empty on create"
        )
