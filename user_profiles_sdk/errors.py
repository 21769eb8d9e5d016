"""Errors raised by the SDK.

Every error derives from `UserProfilesError`::

    UserProfilesError
    ├── ValidationError (also a ValueError)   refused before anything was sent
    ├── APIConnectionError                    no response: refused, reset, DNS, TLS
    │   └── APITimeoutError
    ├── APIStatusError                        the API answered with an error status
    │   ├── BadRequestError          400
    │   ├── AuthenticationError      401
    │   ├── PermissionDeniedError    403
    │   ├── NotFoundError            404
    │   ├── ConflictError            409
    │   ├── RequestTooLargeError     413
    │   ├── RateLimitError           429
    │   └── InternalServerError      5xx
    │       └── OverloadedError      529
    └── APIResponseError                      a success whose body cannot be decoded,
                                              or a cursor that repeats

Statuses without a class of their own (408, 3xx, 405, 422, ...) raise
`APIStatusError` itself.
"""

from __future__ import annotations

from typing import Any, Optional

__all__ = [
    "APIConnectionError",
    "APIResponseError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "InternalServerError",
    "NotFoundError",
    "OverloadedError",
    "PermissionDeniedError",
    "RateLimitError",
    "RequestTooLargeError",
    "UserProfilesError",
    "ValidationError",
]


class UserProfilesError(Exception):
    """Base class of every error the SDK raises.

    Attributes:
        message: The sentence that says what went wrong.
        may_have_been_created: True when a create failed in a way that leaves
            open whether the API made the profile (a lost connection, a read
            timeout, a server error); look for the profile before creating it
            again. False everywhere else.
    """

    may_have_been_created = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __reduce__(self) -> Any:
        # Keyword-only context does not survive the default exception pickling,
        # which replays only `args`; rebuild from the instance state instead.
        return (_rebuild, (type(self), self.__dict__.copy()))


def _rebuild(cls: type[UserProfilesError], state: dict[str, Any]) -> Any:
    error = cls.__new__(cls)
    Exception.__init__(error, state.get("message", ""))
    error.__dict__.update(state)
    return error


class ValidationError(UserProfilesError, ValueError):
    """An argument broke a rule of the API; nothing was sent.

    Attributes:
        field: The argument or body field at fault, such as ``metadata``.
        rule: The rule it broke, as a sentence fragment.
    """

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule


class APIConnectionError(UserProfilesError):
    """No response arrived: the connection was refused, reset or timed out.

    Attributes:
        request_sent: False when the request provably never reached the
            server (the connection was never established), True when it may
            have been processed.
    """

    def __init__(self, message: str, *, request_sent: bool = True) -> None:
        super().__init__(message)
        self.request_sent = request_sent


class APITimeoutError(APIConnectionError):
    """The connect or read timeout ran out before a response arrived."""


class APIStatusError(UserProfilesError):
    """The API answered with an error status.

    Attributes:
        status_code: The HTTP status.
        error_type: The body's ``error.type``, such as ``not_found_error``.
        error_code: The body's ``error.details.error_code``, when present.
        message: The body's ``error.message``, or a summary of a non-JSON body.
        request_id: The ``request-id`` header, else the body's ``request_id``.
        body: The decoded JSON body, or the text when it is not JSON.
        retry_after: Seconds the API asked to wait, when it said.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        error_type: Optional[str] = None,
        error_code: Optional[str] = None,
        request_id: Optional[str] = None,
        body: Any = None,
        retry_after: Optional[float] = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.error_type = error_type
        self.error_code = error_code
        self.request_id = request_id
        self.body = body
        self.retry_after = retry_after

    def __str__(self) -> str:
        kind = f" {self.error_type}" if self.error_type else ""
        code = f" [{self.error_code}]" if self.error_code else ""
        text = f"{self.status_code}{kind}{code}: {self.message}"
        if self.request_id:
            text += f" (request id {self.request_id})"
        return text


class BadRequestError(APIStatusError):
    """400: the request broke a rule of the API."""


class AuthenticationError(APIStatusError):
    """401: the API key is missing or not valid."""


class PermissionDeniedError(APIStatusError):
    """403: the API key may not do this."""


class NotFoundError(APIStatusError):
    """404: no user profile has that id."""


class ConflictError(APIStatusError):
    """409: the request conflicted with another one."""


class RequestTooLargeError(APIStatusError):
    """413: the request body was too large."""


class RateLimitError(APIStatusError):
    """429: too many requests; see `retry_after`."""


class InternalServerError(APIStatusError):
    """5xx: the API failed to answer the request."""


class OverloadedError(InternalServerError):
    """529: the API is overloaded for now."""


class APIResponseError(UserProfilesError):
    """A success response that cannot be used.

    Raised when the body is not the JSON the contract promises, or when a
    list cursor repeats and paging would never end.

    Attributes:
        status_code: The HTTP status of the response.
        request_id: The ``request-id`` of the response, when known.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: Optional[int] = None,
        request_id: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.request_id = request_id

    def __str__(self) -> str:
        if self.request_id:
            return f"{self.message} (request id {self.request_id})"
        return self.message


_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: RequestTooLargeError,
    429: RateLimitError,
    529: OverloadedError,
}


def error_class_for(status_code: int) -> type[APIStatusError]:
    """Return the error class for an HTTP status.

    Args:
        status_code: The status the API answered with.

    Returns:
        The class of the table above; `APIStatusError` for unlisted statuses.
    """
    cls = _STATUS_CLASSES.get(status_code)
    if cls is not None:
        return cls
    if 500 <= status_code <= 599:
        return InternalServerError
    return APIStatusError
