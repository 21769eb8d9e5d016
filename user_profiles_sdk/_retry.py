"""Pure decisions of the retry loop: whether to retry, and how long to wait.

Create is not idempotent and ``external_id`` is not unique, so a create is
resent only when the request provably was not processed: the connection was
never established, or the API answered 429 or 529, or it said
``x-should-retry: true``. Every other call repeats safely.
"""

from __future__ import annotations

import email.utils
import math
import random
import time
from typing import Callable, Mapping, Optional

RETRYABLE_STATUSES = frozenset((408, 409, 429, 500, 502, 503, 504, 529))
UNPROCESSED_STATUSES = frozenset((429, 529))

INITIAL_DELAY = 0.5
MAX_DELAY = 8.0
MAX_RETRY_AFTER = 60.0


def should_retry_status(
    status: int, should_retry: Optional[str], *, idempotent: bool
) -> bool:
    """Decide whether an error status is worth another attempt.

    Args:
        status: The HTTP status of the answer.
        should_retry: The ``x-should-retry`` header, which overrides the table.
        idempotent: Whether repeating the request is harmless.
    """
    flag = _flag(should_retry)
    if flag is not None:
        return flag
    if idempotent:
        return status in RETRYABLE_STATUSES
    return status in UNPROCESSED_STATUSES


def may_have_processed(status: int, should_retry: Optional[str]) -> bool:
    """Decide whether a failed request may still have taken effect.

    A client error other than 408 and 409 was refused outright, and 429, 529
    and ``x-should-retry: true`` say the request was not processed; a timeout,
    a conflict, a server error or an unexpected redirect leave it open.
    """
    if _flag(should_retry) or status in UNPROCESSED_STATUSES:
        return False
    return status < 400 or status in (408, 409) or status >= 500


def _flag(should_retry: Optional[str]) -> Optional[bool]:
    if should_retry is None:
        return None
    flag = should_retry.strip().lower()
    return flag == "true" if flag in ("true", "false") else None


def should_retry_connection(*, request_sent: bool, idempotent: bool) -> bool:
    """Decide whether a failure without an answer is worth another attempt."""
    return idempotent or not request_sent


def retry_after(
    headers: Mapping[str, str], now: Callable[[], float] = time.time
) -> Optional[float]:
    """Return the seconds the API asked to wait, or None if it did not say.

    ``retry-after-ms`` wins over ``retry-after``, which holds seconds or an
    HTTP date. A malformed or negative value counts as not said.
    """
    millis = _seconds(headers.get("retry-after-ms"))
    if millis is not None:
        return millis / 1000
    raw = headers.get("retry-after")
    seconds = _seconds(raw)
    if seconds is not None or raw is None:
        return seconds
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - now())


def _seconds(raw: Optional[str]) -> Optional[float]:
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        return None
    if math.isfinite(value) and value >= 0:
        return value
    return None


def backoff(retry: int, rand: Callable[[], float] = random.random) -> float:
    """Return the wait before retry number `retry` (1 for the first).

    The wait doubles from 0.5 s up to 8 s, less up to a quarter of jitter, so
    that clients that failed together do not come back together.
    """
    base = min(INITIAL_DELAY * 2.0 ** (retry - 1), MAX_DELAY)
    return base * (1 - 0.25 * rand())
