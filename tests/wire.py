"""The wire form of a user profile, for the tests that answer in the API's place."""


def wire_profile(profile_id="uprof_1", **changes):
    """Return a profile as the API sends it; a field given as ``...`` is left out."""
    data = {
        "id": profile_id,
        "type": "user_profile",
        "external_id": "user_12345",
        "metadata": {"plan": "pro"},
        "trust_grants": {"cyber": {"status": "active"}},
        "created_at": "2026-03-15T10:00:00Z",
        "updated_at": "2026-03-15T10:00:00Z",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not ...}
