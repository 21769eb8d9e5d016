"""The one cattrs converter between wire JSON and the SDK's models.

Every rule of the contract's shapes lives here: ``type`` defaults, null or
missing collections read as empty, the open grant map and status enum, RFC 3339
timestamps, unknown fields kept in ``extra``, and unset fields left out of
request bodies. The hooks are written out by hand: those for responses run for
every profile of every page, and a direct function is both the fastest route
and the plainest place to read these rules. The client calls them directly, so
`converter`, which gathers them for any type, is built on first use: cattrs
would otherwise add a tenth to the package's import time.
"""

from __future__ import annotations

import datetime as _dt
import re
import sys
from typing import TYPE_CHECKING, Any, Dict, Optional, Union

import attrs

from .models import (
    EnrollmentUrl,
    Page,
    TrustGrant,
    TrustGrantStatus,
    UserProfile,
)

if TYPE_CHECKING:
    import cattrs

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?"
    r"(?:([Zz])|([+-])(\d{2}):(\d{2}))\Z",
    re.ASCII,
)

# From 3.11 on, fromisoformat reads every common RFC 3339 form, Z and
# fractions of any length included, several times faster than the regex.
_FROMISOFORMAT_READS_Z = sys.version_info >= (3, 11)
_fromisoformat = _dt.datetime.fromisoformat


def parse_timestamp(value: str) -> _dt.datetime:
    """Parse an RFC 3339 timestamp into a timezone-aware datetime.

    Fractions past microseconds are cut, not rounded; a leap second reads as
    the last microsecond of its minute.

    Raises:
        ValueError: The value is not an RFC 3339 timestamp with an offset.
    """
    if _FROMISOFORMAT_READS_Z:
        try:
            parsed = _fromisoformat(value)
        except (ValueError, TypeError):
            pass
        else:
            if parsed.tzinfo is not None:
                return parsed
    return _parse_rfc3339(value)


def _parse_rfc3339(value: str) -> _dt.datetime:
    match = _RFC3339.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"not an RFC 3339 timestamp with an offset: {value!r}")
    year, month, day, hour, minute, second, fraction, zulu, sign, oh, om = (
        match.groups()
    )
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    sec = int(second)
    if sec == 60:
        sec, micro = 59, 999999
    if zulu:
        tz = _dt.timezone.utc
    else:
        delta = _dt.timedelta(hours=int(oh), minutes=int(om))
        tz = _dt.timezone(-delta if sign == "-" else delta)
    return _dt.datetime(
        int(year), int(month), int(day), int(hour), int(minute), sec, micro, tz
    )


def format_timestamp(value: _dt.datetime) -> str:
    """Format a timezone-aware datetime as RFC 3339, UTC as ``Z``."""
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


_STATUSES = {status.value: status for status in TrustGrantStatus}


def _status(value: Any) -> TrustGrantStatus | str:
    if not isinstance(value, str):
        raise ValueError(f"trust grant status must be a string, not {value!r}")
    return _STATUSES.get(value, value)


# A trust grant is frozen, so one instance per known status can serve every
# profile: a page then costs a lookup per grant rather than a construction.
_GRANTS = {status.value: TrustGrant(status) for status in TrustGrantStatus}


def _grant(value: Any) -> TrustGrant:
    status = value["status"]
    grant = _GRANTS.get(status) if type(status) is str else None
    return TrustGrant(_status(status)) if grant is None else grant


def _string_map(value: Any, field: str) -> Dict[str, str]:
    if value is None:
        return {}
    if type(value) is not dict:
        raise ValueError(f"{field} must be an object, not {value!r}")
    return value


_PROFILE_FIELDS = frozenset(
    ("id", "type", "external_id", "metadata", "trust_grants", "created_at")
    + ("updated_at",)
)


def structure_profile(data: Any, _: Any = None) -> UserProfile:
    """Build a `UserProfile` from its wire form.

    Raises:
        ValueError, KeyError, TypeError: The data is not a user profile.
    """
    get = data.get
    grants = get("trust_grants")
    metadata = get("metadata")
    extra = {}
    if len(data) > 7 or not _PROFILE_FIELDS.issuperset(data):
        extra = {k: v for k, v in data.items() if k not in _PROFILE_FIELDS}

    # Positional arguments, in the model's field order, cost a quarter less
    # than keywords in a call made once for every profile of every page.
    return UserProfile(
        data["id"],
        get("type") or "user_profile",
        get("external_id"),
        metadata if type(metadata) is dict else _string_map(metadata, "metadata"),
        {k: _grant(v) for k, v in grants.items()} if grants else {},
        parse_timestamp(data["created_at"]),
        parse_timestamp(data["updated_at"]),
        extra,
    )


def unstructure_profile(profile: UserProfile) -> Dict[str, Any]:
    """Return the wire form of a `UserProfile`, unknown fields included."""
    data: Dict[str, Any] = dict(profile.extra)
    data.update(
        id=profile.id,
        type=profile.kind,
        external_id=profile.external_id,
        metadata=dict(profile.metadata),
        trust_grants={
            name: {"status": str(grant.status)}
            for name, grant in profile.trust_grants.items()
        },
        created_at=format_timestamp(profile.created_at),
        updated_at=format_timestamp(profile.updated_at),
    )
    return data


def structure_enrollment_url(data: Any, _: Any = None) -> EnrollmentUrl:
    """Build an `EnrollmentUrl` from its wire form."""
    url = data["url"]
    if not isinstance(url, str):
        raise ValueError("url must be a string")
    return EnrollmentUrl(
        kind=data.get("type") or "enrollment_url",
        url=url,
        expires_at=parse_timestamp(data["expires_at"]),
    )


def unstructure_enrollment_url(url: EnrollmentUrl) -> Dict[str, Any]:
    """Return the wire form of an `EnrollmentUrl`, the secret URL included."""
    return {
        "type": url.kind,
        "url": url.url,
        "expires_at": format_timestamp(url.expires_at),
    }


def structure_profile_page(data: Any, _: Any = None) -> Page[UserProfile]:
    """Build a page of user profiles from the wire form of a list."""
    items = data["data"]
    if type(items) is not list:
        raise ValueError("data must be an array")
    cursor = data.get("next_page")
    if cursor is not None and not isinstance(cursor, str):
        raise ValueError("next_page must be a string or null")
    return Page(
        data=[structure_profile(item) for item in items],
        next_page=cursor or None,
        has_more=bool(data.get("has_more", False)),
    )


def unstructure_profile_page(page: Page[UserProfile]) -> Dict[str, Any]:
    """Return the wire form of a page of user profiles."""
    return {
        "data": [unstructure_profile(profile) for profile in page.data],
        "next_page": page.next_page,
    }


@attrs.define
class CreateBody:
    """The body of a create request; unset fields stay off the wire."""

    external_id: Optional[str] = None
    metadata: Optional[Dict[str, str]] = None


@attrs.define
class UpdateBody:
    """The body of an update request; unset fields stay off the wire."""

    external_id: Optional[str] = None
    metadata: Optional[Dict[str, str]] = None


def unstructure_body(body: Union[CreateBody, UpdateBody]) -> Dict[str, Any]:
    """Return the wire form of a request body, leaving out the unset fields."""
    return {
        field.name: value
        for field in attrs.fields(type(body))
        if (value := getattr(body, field.name)) is not None
    }


def _build() -> cattrs.Converter:
    import cattrs

    conv = cattrs.Converter()
    conv.register_structure_hook(_dt.datetime, lambda v, _: parse_timestamp(v))
    conv.register_unstructure_hook(_dt.datetime, format_timestamp)
    conv.register_structure_hook(TrustGrant, lambda v, _: _grant(v))
    conv.register_structure_hook(UserProfile, structure_profile)
    conv.register_unstructure_hook(UserProfile, unstructure_profile)
    conv.register_structure_hook(EnrollmentUrl, structure_enrollment_url)
    conv.register_unstructure_hook(EnrollmentUrl, unstructure_enrollment_url)
    conv.register_structure_hook_func(
        lambda cls: cls == Page[UserProfile], structure_profile_page
    )
    conv.register_unstructure_hook_func(
        lambda cls: cls in (Page, Page[UserProfile]), unstructure_profile_page
    )
    conv.register_unstructure_hook(CreateBody, unstructure_body)
    conv.register_unstructure_hook(UpdateBody, unstructure_body)
    return conv


def __getattr__(name: str) -> cattrs.Converter:
    """Build `converter` when it is first asked for."""
    if name != "converter":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    built = globals()["converter"] = _build()
    return built
