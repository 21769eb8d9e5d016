"""The endpoints of the User Profiles API, as `client.user_profiles`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Iterator, List, Mapping, Optional, Union
from urllib.parse import quote, urlencode

from . import _validation as check
from ._converter import (
    CreateBody,
    UpdateBody,
    structure_enrollment_url,
    structure_profile,
    structure_profile_page,
    unstructure_body,
)
from .errors import APIResponseError
from .models import EnrollmentUrl, ListOrder, Page, UserProfile

if TYPE_CHECKING:
    from ._client import Client, TimeoutLike

_PATH = "/v1/user_profiles"

OrderLike = Union[ListOrder, str]


class UserProfiles:
    """Create, read and update user profiles, and mint enrollment URLs.

    Every method also takes keyword `timeout` and `max_retries`, which override
    the client's for that call, and may raise:

    Raises:
        ValidationError: An argument broke a rule; nothing was sent.
        APIConnectionError: No answer arrived, after every retry allowed.
        APIStatusError: The API answered with an error status (a subclass per
            status, such as `NotFoundError`).
        APIResponseError: A success answer could not be decoded.
    """

    def __init__(self, client: Client) -> None:
        self._client = client

    def create(
        self,
        *,
        external_id: Optional[str] = None,
        metadata: Optional[Mapping[str, str]] = None,
        timeout: Optional[TimeoutLike] = None,
        max_retries: Optional[int] = None,
    ) -> UserProfile:
        """Create a user profile.

        Args:
            external_id: The platform's own id for the user, at most 255
                characters. Not unique: two creates make two profiles.
            metadata: Up to 16 pairs; keys of 1 to 64 characters, values of 1
                to 512.

        Returns:
            The new profile.

        Note:
            A create is resent only when it provably was not processed. After
            any other failure the error says the profile may exist: look for it
            (by `list_all`) before creating it again.
        """
        limits = self._client.validate
        body = CreateBody()
        if external_id is not None:
            body.external_id = check.external_id(external_id, limits=limits)
        if metadata:
            body.metadata = check.metadata(metadata, on_create=True, limits=limits)

        return self._client._request(
            "POST",
            _PATH,
            structure_profile,
            body=unstructure_body(body),
            idempotent=False,
            timeout=timeout,
            max_retries=max_retries,
        )

    def get(
        self,
        user_profile_id: str,
        *,
        timeout: Optional[TimeoutLike] = None,
        max_retries: Optional[int] = None,
    ) -> UserProfile:
        """Fetch one user profile by id.

        Raises:
            NotFoundError: No profile has that id.
        """
        path = f"{_PATH}/{check.user_profile_id(user_profile_id)}"
        return self._client._request(
            "GET",
            path,
            structure_profile,
            timeout=timeout,
            max_retries=max_retries,
        )

    def update(
        self,
        user_profile_id: str,
        *,
        external_id: Optional[str] = None,
        metadata: Optional[Mapping[str, str]] = None,
        remove_metadata: Optional[Iterable[str]] = None,
        timeout: Optional[TimeoutLike] = None,
        max_retries: Optional[int] = None,
    ) -> UserProfile:
        """Update a user profile, merging its metadata.

        Args:
            user_profile_id: The profile to change.
            external_id: A new external id; the stored one stays when omitted.
            metadata: Keys to set. A value of ``""`` removes the key.
            remove_metadata: Keys to remove. A key may not be in both.

        Returns:
            The profile after the change.

        Raises:
            NotFoundError: No profile has that id.
            BadRequestError: The merged metadata would hold more than 16 keys.
        """
        path = f"{_PATH}/{check.user_profile_id(user_profile_id)}"
        limits = self._client.validate
        body = UpdateBody()
        if external_id is not None:
            body.external_id = check.external_id(external_id, limits=limits)
        body.metadata = check.metadata_patch(metadata, remove_metadata, limits=limits)
        if not body.metadata:
            body.metadata = None

        return self._client._request(
            "POST",
            path,
            structure_profile,
            body=unstructure_body(body),
            timeout=timeout,
            max_retries=max_retries,
        )

    def list(
        self,
        *,
        limit: Optional[int] = None,
        page: Optional[str] = None,
        order: Optional[OrderLike] = None,
        timeout: Optional[TimeoutLike] = None,
        max_retries: Optional[int] = None,
    ) -> Page[UserProfile]:
        """Fetch one page of user profiles.

        Args:
            limit: Profiles per page, 1 to 100; the API's default is 20.
            page: A cursor from an earlier page's `next_page`.
            order: ``"asc"`` or ``"desc"`` (the default) by creation time.

        Returns:
            The page; its `next_page` is None on the last one.
        """
        query = self._query(limit, order)
        cursor = None if page is None else check.cursor(page)
        return self._page(query, cursor, timeout, max_retries)

    def list_pages(
        self,
        *,
        limit: Optional[int] = None,
        page: Optional[str] = None,
        order: Optional[OrderLike] = None,
        timeout: Optional[TimeoutLike] = None,
        max_retries: Optional[int] = None,
    ) -> Iterator[Page[UserProfile]]:
        """Iterate over pages of user profiles, fetching each when it is needed.

        Arguments are those of `list` and go with every request. Paging ends
        when a page has no `next_page`; an empty page with a cursor is followed.
        Save a page's `next_page` to resume later from the page after it.

        Raises:
            APIResponseError: The API returned a cursor it had returned before.
        """
        query = self._query(limit, order)
        cursor = None if page is None else check.cursor(page)
        return self._pages(query, cursor, timeout, max_retries)

    def list_all(
        self,
        *,
        limit: Optional[int] = None,
        page: Optional[str] = None,
        order: Optional[OrderLike] = None,
        timeout: Optional[TimeoutLike] = None,
        max_retries: Optional[int] = None,
    ) -> Iterator[UserProfile]:
        """Iterate over every user profile, fetching pages as they are needed.

        Arguments are those of `list_pages`.
        """
        pages = self.list_pages(
            limit=limit,
            page=page,
            order=order,
            timeout=timeout,
            max_retries=max_retries,
        )
        return (profile for one in pages for profile in one.data)

    def create_enrollment_url(
        self,
        user_profile_id: str,
        *,
        timeout: Optional[TimeoutLike] = None,
        max_retries: Optional[int] = None,
    ) -> EnrollmentUrl:
        """Mint a signed, short-lived enrollment URL for a user profile.

        Redirect the end user to its `url` before `expires_at`; finishing the
        flow there is what grants trust grants such as ``cyber``.

        Note:
            Whoever holds the URL can use it: keep it out of logs.

        Raises:
            NotFoundError: No profile has that id.
        """
        path = f"{_PATH}/{check.user_profile_id(user_profile_id)}/enrollment_url"
        return self._client._request(
            "POST",
            path,
            structure_enrollment_url,
            timeout=timeout,
            max_retries=max_retries,
        )

    def _query(
        self, limit: Optional[int], order: Optional[OrderLike]
    ) -> List[tuple[str, str]]:
        query: List[tuple[str, str]] = []
        if limit is not None:
            query.append(
                ("limit", str(check.limit(limit, limits=self._client.validate)))
            )
        if order is not None:
            query.append(("order", check.order(order)))
        return query

    def _page(
        self,
        query: List[tuple[str, str]],
        cursor: Optional[str],
        timeout: Optional[TimeoutLike],
        max_retries: Optional[int],
    ) -> Page[UserProfile]:
        if cursor is not None:
            query = [*query, ("page", cursor)]
        return self._client._request(
            "GET",
            _PATH,
            structure_profile_page,
            query=urlencode(query, quote_via=quote),
            timeout=timeout,
            max_retries=max_retries,
        )

    def _pages(
        self,
        query: List[tuple[str, str]],
        cursor: Optional[str],
        timeout: Optional[TimeoutLike],
        max_retries: Optional[int],
    ) -> Iterator[Page[UserProfile]]:
        seen = set() if cursor is None else {cursor}
        while True:
            current = self._page(query, cursor, timeout, max_retries)
            yield current
            cursor = current.next_page
            if cursor is None:
                return
            if cursor in seen:
                raise APIResponseError(
                    f"The API returned the cursor {cursor!r} a second time;"
                    " paging stopped rather than loop forever."
                )
            seen.add(cursor)
