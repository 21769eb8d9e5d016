"""Checks on arguments, run before anything is sent.

Each function either returns the value in the form the wire needs or raises a
`ValidationError` that names the field and the rule it broke. `limits=False`
skips the API's size limits, for when the service relaxes them before the SDK
does; types and ids are always checked.
"""

from __future__ import annotations

import unicodedata
from typing import Any, Dict, Iterable, Mapping, Optional
from urllib.parse import quote

from .errors import ValidationError
from .models import ListOrder

MAX_EXTERNAL_ID = 255
MAX_METADATA_KEYS = 16
MAX_METADATA_KEY = 64
MAX_METADATA_VALUE = 512
MAX_LIMIT = 100


def _describe(value: Any) -> str:
    return type(value).__name__


def _utf8(value: str, field: str) -> None:
    # A lone surrogate has no UTF-8 form, so no URL can carry it; left alone,
    # it would fail in the percent-encoding with a bare UnicodeEncodeError.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(
            field, "must be valid Unicode text, without lone surrogates"
        ) from None


def user_profile_id(value: Any) -> str:
    """Return the id percent-encoded as one path segment.

    Raises:
        ValidationError: The id is not a string, is empty, ``.`` or ``..``, or
            holds whitespace, control characters or lone surrogates.
    """
    if not isinstance(value, str):
        raise ValidationError(
            "user_profile_id", f"must be a string, not {_describe(value)}"
        )
    if value in ("", ".", ".."):
        raise ValidationError("user_profile_id", f"must be a real id, not {value!r}")
    for char in value:
        if char.isspace() or unicodedata.category(char) == "Cc":
            raise ValidationError(
                "user_profile_id",
                f"must not hold whitespace or control characters ({char!r})",
            )
    _utf8(value, "user_profile_id")
    return quote(value, safe="")


def external_id(value: Any, *, limits: bool = True) -> str:
    """Check an external id.

    Raises:
        ValidationError: Not a string, or longer than 255 characters.
    """
    if not isinstance(value, str):
        raise ValidationError(
            "external_id", f"must be a string, not {_describe(value)}"
        )
    if limits and len(value) > MAX_EXTERNAL_ID:
        raise ValidationError(
            "external_id",
            f"must be at most {MAX_EXTERNAL_ID} characters, not {len(value)}",
        )
    return value


def _metadata_key(key: Any, field: str, limits: bool) -> None:
    if not isinstance(key, str):
        raise ValidationError(field, f"keys must be strings, not {_describe(key)}")
    if limits and not 1 <= len(key) <= MAX_METADATA_KEY:
        raise ValidationError(
            field,
            f"key {key[:MAX_METADATA_KEY]!r} must be 1 to {MAX_METADATA_KEY} "
            f"characters, not {len(key)}",
        )


def metadata(value: Any, *, on_create: bool, limits: bool = True) -> Dict[str, str]:
    """Check a metadata map and return a copy of it.

    Args:
        value: The map of keys to values.
        on_create: Whether the map is a new profile's, where empty values are
            refused; on update an empty value removes the key.
        limits: Whether to check the API's size limits.

    Raises:
        ValidationError: A rule of the API is broken; the message names it.
    """
    if not isinstance(value, Mapping):
        raise ValidationError("metadata", f"must be a mapping, not {_describe(value)}")
    result: Dict[str, str] = {}
    for key, item in value.items():
        _metadata_key(key, "metadata", limits)
        if not isinstance(item, str):
            raise ValidationError(
                "metadata",
                f"value of {key!r} must be a string, not {_describe(item)}",
            )
        if limits and len(item) > MAX_METADATA_VALUE:
            raise ValidationError(
                "metadata",
                f"value of {key!r} must be at most {MAX_METADATA_VALUE} "
                f"characters, not {len(item)}",
            )
        if on_create and limits and not item:
            raise ValidationError(
                "metadata", f"value of {key!r} must not be empty on create"
            )
        result[key] = item
    kept = sum(1 for item in result.values() if item)
    if limits and kept > MAX_METADATA_KEYS:
        raise ValidationError(
            "metadata", f"must hold at most {MAX_METADATA_KEYS} keys, not {kept}"
        )
    return result


def metadata_patch(
    changes: Optional[Mapping[str, str]],
    remove: Optional[Iterable[str]],
    *,
    limits: bool = True,
) -> Optional[Dict[str, str]]:
    """Merge keys to set and keys to remove into one update patch.

    Removal is sent as an empty value, as the API asks.

    Returns:
        The patch, or None when neither argument was given.

    Raises:
        ValidationError: A rule is broken, or a key is both set and removed.
    """
    if changes is None and remove is None:
        return None
    patch = {}
    if changes is not None:
        patch = metadata(changes, on_create=False, limits=limits)
    if remove is None:
        return patch
    setting = set(patch)
    if isinstance(remove, str) or not isinstance(remove, Iterable):
        raise ValidationError(
            "remove_metadata",
            f"must be a collection of keys, not {_describe(remove)}",
        )
    for key in remove:
        _metadata_key(key, "remove_metadata", limits)
        if key in setting:
            raise ValidationError(
                "remove_metadata",
                f"key {key!r} is also set in metadata; choose one",
            )
        patch[key] = ""
    return patch


def limit(value: Any, *, limits: bool = True) -> int:
    """Check a page size.

    Raises:
        ValidationError: Not an integer, or outside 1 to 100.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError("limit", f"must be an integer, not {_describe(value)}")
    if limits and not 1 <= value <= MAX_LIMIT:
        raise ValidationError("limit", f"must be 1 to {MAX_LIMIT}, not {value}")
    return int(value)


def order(value: Any) -> str:
    """Return the wire form of a list order.

    Raises:
        ValidationError: Neither ``asc``, ``desc`` nor a `ListOrder`.
    """
    try:
        return ListOrder(value).value
    except ValueError:
        raise ValidationError(
            "order", f"must be 'asc' or 'desc', not {value!r}"
        ) from None


def cursor(value: Any) -> str:
    """Check a page cursor.

    Raises:
        ValidationError: Not a non-empty string, or holds lone surrogates.
    """
    if not isinstance(value, str) or not value:
        raise ValidationError("page", f"must be a cursor from next_page, not {value!r}")
    _utf8(value, "page")
    return value
