"""What the reliability tests share: the endpoints, a client, and the figures.

The tests record what they saw with pytest's ``record_property``, so that
``tests/reliability_report.py`` can print the figures of one run.
"""

from __future__ import annotations

import socket
from typing import Any, Callable, Iterator, Optional, Tuple

from user_profiles_sdk import Client, UserProfilesError
from user_profiles_sdk.testing import EmulatorServer, FakeUserProfiles

KEY = "sk-ant-api03-reliability-key-0123456789abcdef"

ENDPOINTS = ("create", "get", "update", "list", "create_enrollment_url")

MAY_EXIST = "may have been created"


def make_client(server: EmulatorServer, **options: Any) -> Client:
    """Return a client of the emulator with short timeouts, two retries by default."""
    settings = {"timeout": (1.0, 2.0), "max_retries": 2, **options}
    return Client(api_key=KEY, base_url=server.url, **settings)


def call(client: Client, endpoint: str, profile_id: str, tag: str) -> Any:
    """Call one endpoint; a create uses `tag` as its external id."""
    profiles = client.user_profiles
    if endpoint == "create":
        return profiles.create(external_id=tag, metadata={"source": "reliability"})
    if endpoint == "get":
        return profiles.get(profile_id)
    if endpoint == "update":
        return profiles.update(profile_id, metadata={"tag": tag})
    if endpoint == "list":
        return profiles.list(limit=5)
    return profiles.create_enrollment_url(profile_id)


def attempt(
    fake: FakeUserProfiles, run: Callable[[], Any]
) -> Tuple[Any, Optional[UserProfilesError], int]:
    """Run one call and return its result, its error, and the requests it cost.

    The count is taken on the server side, from what the fake received.
    """
    before = len(fake.requests)
    try:
        result = run()
    except UserProfilesError as exc:
        return None, exc, len(fake.requests) - before
    return result, None, len(fake.requests) - before


def closed_port() -> int:
    """Return a loopback port that nothing listens on, for a refused connection."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def describe(error: Optional[BaseException], stored: Optional[int] = None) -> str:
    """Say in a few words how a call ended, for the table of faults.

    Args:
        error: What the call raised, or None when it returned.
        stored: For a create, how many profiles the emulator holds for it.
    """
    text = "succeeded" if error is None else type(error).__name__
    if error is not None and MAY_EXIST in str(error):
        text += ", says it may have been created"
    if stored is not None:
        text += f"; {stored} stored"
    return text


def stored_with(fake: FakeUserProfiles, external_id: str) -> int:
    """Count the stored profiles that carry an external id."""
    return sum(1 for p in fake.profiles.values() if p.external_id == external_id)


def record_fault(
    record: Callable[[str, object], None],
    fault: str,
    endpoint: str,
    attempts: object,
    error: Optional[BaseException],
    stored: Optional[int] = None,
) -> None:
    """Record one row of the table of faults on the test's report."""
    record("fault", fault)
    record("endpoint", endpoint)
    record("attempts", attempts)
    record("outcome", describe(error, stored))


def record_writes(
    record: Callable[[str, object], None], found: int, *, confirmed: bool
) -> None:
    """Record whether a create was lost or made twice.

    Args:
        record: The test's ``record_property``.
        found: The profiles stored for the create's external id.
        confirmed: Whether the create returned a profile, so that it must be
            stored; otherwise it may or may not be, but never twice.
    """
    record("writes_checked", 1)
    record("writes_lost", int(confirmed and found == 0))
    record("writes_duplicated", max(found - 1, 0))


def serving() -> Iterator[EmulatorServer]:
    """Serve a fresh fake on a free loopback port; made a fixture by each module."""
    with EmulatorServer() as running:
        yield running


def fresh_fake(server: EmulatorServer) -> FakeUserProfiles:
    """Return the server's fake with no profile, fault or request left over."""
    server.fake.reset()
    return server.fake
