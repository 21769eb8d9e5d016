"""The resources of the User Profiles API, as frozen attrs classes.

Every model is immutable, slotted and picklable. Fields that a newer revision of
the API adds and this SDK does not know yet are kept in `UserProfile.extra`
rather than dropped or refused.
"""

from __future__ import annotations

import datetime as _dt
import enum
from typing import Any, Dict, Generic, Iterator, List, Optional, TypeVar, Union

import attrs

__all__ = [
    "EnrollmentUrl",
    "ListOrder",
    "Page",
    "TrustGrant",
    "TrustGrantStatus",
    "UserProfile",
]

T = TypeVar("T")


class TrustGrantStatus(str, enum.Enum):
    """The status of a trust grant.

    Note:
        The API may add statuses. A status this SDK does not know is kept as a
        plain `str`, so compare with ``==`` rather than by identity.
    """

    ACTIVE = "active"
    PENDING = "pending"
    REJECTED = "rejected"

    def __str__(self) -> str:
        return self.value


class ListOrder(str, enum.Enum):
    """The order of a list, by creation time."""

    ASC = "asc"
    DESC = "desc"

    def __str__(self) -> str:
        return self.value


@attrs.frozen
class TrustGrant:
    """One trust grant of a user profile.

    Attributes:
        status: A `TrustGrantStatus`, or a plain `str` for a status that a newer
            revision of the API introduced.
    """

    status: Union[TrustGrantStatus, str]


# Equality compares every field, but the mappings inside make a profile
# unhashable; hashing by id alone would make two different states equal.
@attrs.frozen(unsafe_hash=False)
class UserProfile:
    """A user profile: one end user of the platform.

    Attributes:
        id: The profile's id, such as ``uprof_011CZkZaBF1tNoB5wlCeusgy``.
        kind: The wire ``type``, always ``user_profile`` today.
        external_id: The platform's own id for the user; not unique.
        metadata: Up to 16 string pairs.
        trust_grants: The trust grants, keyed by grant name (such as ``cyber``).
        created_at: When the profile was created, timezone-aware.
        updated_at: When the profile last changed, timezone-aware.
        extra: Fields of the response that this SDK does not know.
    """

    id: str
    kind: str
    external_id: Optional[str]
    metadata: Dict[str, str]
    trust_grants: Dict[str, TrustGrant]
    created_at: _dt.datetime
    updated_at: _dt.datetime
    extra: Dict[str, Any] = attrs.field(factory=dict)

    def grant_status(self, name: str) -> Union[TrustGrantStatus, str, None]:
        """Return the status of the trust grant `name`, or None without one."""
        grant = self.trust_grants.get(name)
        return None if grant is None else grant.status

    def has_active_grant(self, name: str) -> bool:
        """Return whether the trust grant `name` is active."""
        return self.grant_status(name) == TrustGrantStatus.ACTIVE


def _hidden(_: str) -> str:
    return "'<hidden>'"


@attrs.frozen
class EnrollmentUrl:
    """A signed, short-lived URL where the end user completes enrollment.

    Note:
        Whoever holds the URL can use it until it expires, so treat it as a
        secret: its `repr` hides it, and the SDK never logs it.

    Attributes:
        kind: The wire ``type``, always ``enrollment_url`` today.
        url: The URL to redirect the end user to.
        expires_at: When the URL stops working, timezone-aware.
    """

    kind: str
    url: str = attrs.field(repr=_hidden)
    expires_at: _dt.datetime

    def is_expired(self, now: Optional[_dt.datetime] = None) -> bool:
        """Return whether the URL has expired.

        Args:
            now: The moment to compare with, timezone-aware; defaults to the
                current time.
        """
        if now is None:
            now = _dt.datetime.now(_dt.timezone.utc)
        return now >= self.expires_at


@attrs.frozen
class Page(Generic[T]):
    """One page of a list.

    Iterating a page yields its own items only; `list_all` and `list_pages`
    follow the cursors.

    Attributes:
        data: The items of this page.
        next_page: The cursor of the next page, or None on the last page.
        has_more: What the API said about further pages; informational only,
            since paging ends when `next_page` is None.
    """

    data: List[T]
    next_page: Optional[str]
    has_more: bool = False

    def __iter__(self) -> Iterator[T]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)
