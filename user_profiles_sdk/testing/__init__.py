"""An in-memory fake of the User Profiles API, for your tests and ours.

`FakeUserProfiles` keeps the whole contract of the API in memory. Serve it
without a network through ``responses`` (``pip install
user-profiles-sdk[testing]``), or over loopback HTTP with `EmulatorServer`::

    from user_profiles_sdk import Client
    from user_profiles_sdk.testing import EmulatorServer, FakeUserProfiles

    fake = FakeUserProfiles()
    with fake.mock():
        client = Client(api_key="test")
        profile = client.user_profiles.create(external_id="u1")
    fake.set_trust_grant(profile.id, "cyber", "active")
    assert fake.profiles[profile.id].has_active_grant("cyber")

    fake.fail_next(429, headers={"retry-after": "0"})
    with EmulatorServer(fake) as server:
        client = Client(api_key="test", base_url=server.url)
        client.user_profiles.get(profile.id)  # retried after the 429

With pytest, ``pytest_plugins = ["user_profiles_sdk.testing.pytest_plugin"]`` in
conftest.py gives the fixtures ``user_profiles_fake`` and
``user_profiles_emulator``.
"""

from ._fake import FakeUserProfiles
from ._server import EmulatorServer

__all__ = ["EmulatorServer", "FakeUserProfiles"]
