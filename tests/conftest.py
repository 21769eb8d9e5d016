"""Shared fixtures: the fake and emulator fixtures users get from the plugin."""

pytest_plugins = ["user_profiles_sdk.testing.pytest_plugin"]
