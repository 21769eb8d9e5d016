"""How a web view answers when a call to the User Profiles API fails.

Both web examples share this table, so that Flask and Django answer alike:

=====================================  ====================================
SDK error                              answer to the browser
=====================================  ====================================
`ValidationError`                      400: the input broke a rule
`NotFoundError`                        404: no such user profile
`RateLimitError`, `OverloadedError`    503 with ``Retry-After``: come back
any other `APIStatusError`,            502 with the request id, which the
`APIConnectionError` or                API's support needs to find the call
`APIResponseError`
=====================================  ====================================
"""

from __future__ import annotations

import logging
import math
from typing import Any, Dict, NamedTuple, Optional

from user_profiles_sdk import (
    NotFoundError,
    OverloadedError,
    RateLimitError,
    UserProfilesError,
    ValidationError,
)

__all__ = ["DEFAULT_RETRY_AFTER", "ErrorAnswer", "answer_for"]

# What a 503 asks for when the API named no wait of its own.
DEFAULT_RETRY_AFTER = 5

_log = logging.getLogger(__name__)


class ErrorAnswer(NamedTuple):
    """An HTTP answer, for the web framework to build its response from."""

    status: int
    body: Dict[str, Any]
    headers: Dict[str, str]


def answer_for(error: UserProfilesError) -> ErrorAnswer:
    """Turn an error of the SDK into the answer a view should give.

    Args:
        error: What the SDK raised.

    Returns:
        The status, a JSON body and the headers to send.
    """
    body: Dict[str, Any]
    if isinstance(error, ValidationError):
        body = {"error": "invalid_request", "message": str(error)}
        return ErrorAnswer(400, body, {})
    if isinstance(error, NotFoundError):
        return ErrorAnswer(404, {"error": "not_found"}, {})

    request_id: Optional[str] = getattr(error, "request_id", None)
    if isinstance(error, (RateLimitError, OverloadedError)):
        wait = _seconds_to_wait(error.retry_after)
        body = {"error": "busy", "retry_after": wait, "request_id": request_id}
        return ErrorAnswer(503, body, {"Retry-After": str(wait)})

    # The SDK's text names no key or enrollment URL, so it is safe in a log;
    # the browser gets only the request id, not the API's own words.
    _log.warning("User Profiles API call failed: %s", error)
    body = {"error": "upstream_error", "request_id": request_id}
    return ErrorAnswer(502, body, {})


def _seconds_to_wait(retry_after: Optional[float]) -> int:
    if retry_after is None:
        return DEFAULT_RETRY_AFTER
    # Retry-After holds whole seconds; rounding down would ask for too little.
    return max(1, math.ceil(retry_after))
