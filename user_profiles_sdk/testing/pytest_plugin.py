"""Pytest fixtures for the User Profiles fake.

Enable them with one line in conftest.py::

    pytest_plugins = ["user_profiles_sdk.testing.pytest_plugin"]
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Callable, Iterator, TypeVar

from ._fake import FakeUserProfiles
from ._server import EmulatorServer

if TYPE_CHECKING:
    # mypy reads this package as Python 3.9, and the pytest releases made for
    # newer Pythons no longer parse as 3.9; the one decorator used here is
    # typed by hand instead of reading pytest.
    _F = TypeVar("_F", bound=Callable[..., Any])

    def _fixture(function: _F) -> _F: ...

else:
    from pytest import fixture as _fixture

__all__ = ["user_profiles_emulator", "user_profiles_fake"]


@_fixture
def user_profiles_fake() -> Iterator[FakeUserProfiles]:
    """Give a fresh `FakeUserProfiles` that answers for the default base URL.

    While the test runs, whatever requests sends to ``https://api.anthropic.com``
    reaches the fake through ``responses``, so a plain ``Client(api_key="test")``
    talks to it. ``ANTHROPIC_BASE_URL`` is unset during the test, so that it
    cannot send the client elsewhere. Loopback addresses pass through untouched.

    Example::

        def test_signup(user_profiles_fake):
            profile = Client(api_key="test").user_profiles.create(external_id="u1")
            assert user_profiles_fake.profiles[profile.id].external_id == "u1"
    """
    saved = os.environ.pop("ANTHROPIC_BASE_URL", None)
    try:
        fake = FakeUserProfiles()
        with fake.mock():
            yield fake
    finally:
        if saved is not None:
            os.environ["ANTHROPIC_BASE_URL"] = saved


@_fixture
def user_profiles_emulator() -> Iterator[EmulatorServer]:
    """Give an `EmulatorServer` serving a fresh fake on a free loopback port.

    Point the client at ``user_profiles_emulator.url``; the fake behind it is
    ``user_profiles_emulator.fake``. The server stops when the test ends.

    Example::

        def test_lookup(user_profiles_emulator):
            client = Client(api_key="test", base_url=user_profiles_emulator.url)
            profile = user_profiles_emulator.fake.add_profile(external_id="u1")
            assert client.user_profiles.get(profile.id) == profile
    """
    with EmulatorServer() as server:
        yield server
