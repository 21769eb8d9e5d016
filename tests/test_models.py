import datetime as dt
import pickle

import attrs
import pytest

from user_profiles_sdk import (
    EnrollmentUrl,
    Page,
    TrustGrant,
    TrustGrantStatus,
    UserProfile,
)

UTC = dt.timezone.utc
WHEN = dt.datetime(2026, 3, 15, 10, tzinfo=UTC)


def make_profile(**grants):
    return UserProfile(
        id="uprof_1",
        kind="user_profile",
        external_id="u1",
        metadata={"plan": "pro"},
        trust_grants={name: TrustGrant(status) for name, status in grants.items()},
        created_at=WHEN,
        updated_at=WHEN,
        extra={"name": "Ada"},
    )


def test_grant_status_returns_the_status_or_none():
    profile = make_profile(cyber=TrustGrantStatus.PENDING)

    assert profile.grant_status("cyber") is TrustGrantStatus.PENDING
    assert profile.grant_status("bio") is None


def test_has_active_grant_is_true_only_for_an_active_grant():
    profile = make_profile(cyber=TrustGrantStatus.ACTIVE, bio="pending")

    assert profile.has_active_grant("cyber")
    assert not profile.has_active_grant("bio")
    assert not profile.has_active_grant("missing")


def test_has_active_grant_accepts_a_plain_string_status():
    assert make_profile(cyber="active").has_active_grant("cyber")


def test_trust_grant_status_compares_equal_to_its_wire_value():
    assert TrustGrantStatus.ACTIVE == "active"
    assert str(TrustGrantStatus.REJECTED) == "rejected"


def test_models_are_frozen():
    profile = make_profile()

    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        profile.external_id = "other"  # type: ignore[misc]


def test_models_survive_pickling():
    profile = make_profile(cyber="active")
    url = EnrollmentUrl(kind="enrollment_url", url="https://x.test/e", expires_at=WHEN)
    page = Page(data=[profile], next_page="c1", has_more=True)

    for model in (profile, url, page, TrustGrant(TrustGrantStatus.ACTIVE)):
        assert pickle.loads(pickle.dumps(model)) == model


def test_enrollment_url_repr_hides_the_url():
    url = EnrollmentUrl(
        kind="enrollment_url", url="https://x.test/e/secret-token", expires_at=WHEN
    )

    assert "secret-token" not in repr(url)
    assert "expires_at" in repr(url)


def test_enrollment_url_is_expired_compares_with_now():
    url = EnrollmentUrl(kind="enrollment_url", url="https://x.test", expires_at=WHEN)

    assert not url.is_expired(WHEN - dt.timedelta(seconds=1))
    assert url.is_expired(WHEN)
    assert url.is_expired()


def test_enrollment_url_is_not_expired_by_default_before_expiry():
    later = dt.datetime.now(UTC) + dt.timedelta(minutes=15)
    url = EnrollmentUrl(kind="enrollment_url", url="https://x.test", expires_at=later)

    assert not url.is_expired()


def test_page_iterates_over_its_own_data_only():
    first, second = make_profile(), make_profile()
    page = Page(data=[first, second], next_page="more")

    assert list(page) == [first, second]
    assert len(page) == 2
    assert page.has_more is False
