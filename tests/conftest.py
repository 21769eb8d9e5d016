"""Shared fixtures: the plugin's fake and emulator, and a record of retry waits."""

import pytest

import user_profiles_sdk

pytest_plugins = ["user_profiles_sdk.testing.pytest_plugin"]


@pytest.fixture
def sleeps(monkeypatch):
    """Record the waits between retries instead of sleeping them."""
    waits = []
    monkeypatch.setattr(user_profiles_sdk._client.time, "sleep", waits.append)
    return waits
