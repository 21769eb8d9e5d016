import datetime as dt

import pytest
from wire import wire_profile

from user_profiles_sdk import (
    EnrollmentUrl,
    ListOrder,
    Page,
    TrustGrant,
    TrustGrantStatus,
    UserProfile,
)
from user_profiles_sdk._converter import (
    CreateBody,
    UpdateBody,
    _parse_rfc3339,
    converter,
    format_timestamp,
    parse_timestamp,
)

UTC = dt.timezone.utc


def test_profile_decodes_every_documented_field():
    profile = converter.structure(wire_profile("uprof_M1"), UserProfile)

    assert profile.id == "uprof_M1"
    assert profile.kind == "user_profile"
    assert profile.external_id == "user_12345"
    assert profile.metadata == {"plan": "pro"}
    assert profile.trust_grants == {"cyber": TrustGrant(TrustGrantStatus.ACTIVE)}
    assert profile.created_at == dt.datetime(2026, 3, 15, 10, tzinfo=UTC)
    assert profile.extra == {}


def test_profile_tolerates_missing_optional_fields():
    data = wire_profile(external_id=..., metadata=..., trust_grants=..., type=...)

    profile = converter.structure(data, UserProfile)

    assert profile.kind == "user_profile"
    assert profile.external_id is None
    assert profile.metadata == {}
    assert profile.trust_grants == {}


def test_profile_reads_null_collections_as_empty():
    data = wire_profile(metadata=None, trust_grants=None, type=None)

    profile = converter.structure(data, UserProfile)

    assert profile.metadata == {}
    assert profile.trust_grants == {}
    assert profile.kind == "user_profile"


def test_profile_keeps_unknown_fields_in_extra():
    data = wire_profile(name="Ada", access_type="full", external_user_details={})

    profile = converter.structure(data, UserProfile)

    assert profile.extra == {
        "name": "Ada",
        "access_type": "full",
        "external_user_details": {},
    }


def test_profile_keeps_unknown_fields_when_known_ones_are_missing():
    data = wire_profile(metadata=..., trust_grants=..., name="Ada")

    assert converter.structure(data, UserProfile).extra == {"name": "Ada"}


def test_trust_grant_status_round_trips_known_values():
    pending = converter.structure({"status": "pending"}, TrustGrant)
    rejected = converter.structure({"status": "rejected"}, TrustGrant)

    assert pending.status is TrustGrantStatus.PENDING
    assert rejected.status is TrustGrantStatus.REJECTED
    assert converter.unstructure(TrustGrant(TrustGrantStatus.ACTIVE)) == {
        "status": "active"
    }


def test_unknown_trust_grant_status_stays_a_plain_string():
    data = wire_profile(trust_grants={"bio": {"status": "suspended"}})

    profile = converter.structure(data, UserProfile)

    assert profile.grant_status("bio") == "suspended"
    assert type(profile.grant_status("bio")) is str
    assert not profile.has_active_grant("bio")


def test_grant_names_are_open():
    data = wire_profile(trust_grants={"new_category": {"status": "active"}})

    assert converter.structure(data, UserProfile).has_active_grant("new_category")


def test_profile_without_id_is_refused():
    with pytest.raises(KeyError):
        converter.structure(wire_profile(profile_id=...), UserProfile)


def test_profile_round_trips_through_its_wire_form():
    data = wire_profile(name="Ada")

    profile = converter.structure(data, UserProfile)

    assert converter.unstructure(profile) == data


def test_list_order_serializes_as_lowercase():
    assert ListOrder.ASC.value == "asc"
    assert str(ListOrder.DESC) == "desc"
    assert converter.unstructure(ListOrder.DESC) == "desc"


def test_page_decodes_without_has_more():
    data = {"data": [wire_profile("uprof_M1")], "next_page": "page_Y"}

    page = converter.structure(data, Page[UserProfile])

    assert [p.id for p in page] == ["uprof_M1"]
    assert page.next_page == "page_Y"
    assert page.has_more is False


def test_page_reads_an_empty_cursor_as_the_last_page():
    page = converter.structure({"data": [], "next_page": ""}, Page[UserProfile])

    assert page.next_page is None


def test_enrollment_url_decodes_with_type_default():
    data = {"url": "https://x.test/e/abc", "expires_at": "2026-03-15T10:15:00Z"}

    url = converter.structure(data, EnrollmentUrl)

    assert url.kind == "enrollment_url"
    assert url.url == "https://x.test/e/abc"
    assert url.expires_at == dt.datetime(2026, 3, 15, 10, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    [
        "2026-03-15T10:00:00Z",
        "2026-03-15T10:00:00z",
        "2026-03-15t10:00:00Z",
        "2026-03-15 10:00:00Z",
        "2026-03-15T10:00:00+00:00",
        "2026-03-15T10:00:00-00:00",
        "2026-03-15T11:30:00+01:30",
        "2026-03-15T05:00:00-05:00",
        "2026-03-15T10:00:00.000Z",
        "2026-03-15T10:00:00.000000000Z",
    ],
)
def test_timestamps_in_every_form_read_as_the_same_instant(text):
    expected = dt.datetime(2026, 3, 15, 10, tzinfo=UTC)

    assert parse_timestamp(text) == expected
    assert _parse_rfc3339(text) == expected


@pytest.mark.parametrize(
    "fraction", ["1", "12", "123", "123456", "1234567", "123456789"]
)
def test_fractions_of_any_length_are_read_to_the_microsecond(fraction):
    micro = int(fraction[:6].ljust(6, "0"))

    parsed = parse_timestamp(f"2026-03-15T10:00:00.{fraction}Z")
    by_regex = _parse_rfc3339(f"2026-03-15T10:00:00.{fraction}+02:00")

    assert parsed.microsecond == micro
    assert by_regex.microsecond == micro
    assert by_regex.utcoffset() == dt.timedelta(hours=2)


def test_leap_second_reads_as_the_last_microsecond_of_its_minute():
    parsed = parse_timestamp("2016-12-31T23:59:60Z")

    assert parsed == dt.datetime(2016, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    ["2026-03-15T10:00:00", "2026-03-15", "yesterday", "", "2026-13-01T00:00:00Z"],
)
def test_timestamps_without_an_offset_or_malformed_are_refused(text):
    with pytest.raises(ValueError):
        parse_timestamp(text)


def test_timestamps_format_utc_as_z():
    value = dt.datetime(2026, 3, 15, 10, 0, 0, 5, tzinfo=UTC)

    assert format_timestamp(value) == "2026-03-15T10:00:00.000005Z"


def test_request_bodies_leave_out_unset_fields():
    assert converter.unstructure(CreateBody()) == {}
    assert converter.unstructure(UpdateBody(metadata={"a": ""})) == {
        "metadata": {"a": ""}
    }
    assert converter.unstructure(CreateBody(external_id="u1")) == {"external_id": "u1"}


def test_profile_keeps_created_and_updated_apart():
    data = wire_profile(
        created_at="2026-03-15T10:00:00Z", updated_at="2026-04-01T08:30:00+02:00"
    )

    profile = converter.structure(data, UserProfile)

    assert profile.created_at == dt.datetime(2026, 3, 15, 10, tzinfo=UTC)
    assert profile.updated_at == dt.datetime(2026, 4, 1, 6, 30, tzinfo=UTC)


def test_enrollment_url_and_page_unstructure_to_their_wire_forms():
    url = {
        "type": "enrollment_url",
        "url": "https://x.test/e/abc",
        "expires_at": "2026-03-15T10:15:00Z",
    }
    page = {"data": [wire_profile()], "next_page": "c2"}

    assert converter.unstructure(converter.structure(url, EnrollmentUrl)) == url
    assert converter.unstructure(converter.structure(page, Page[UserProfile])) == page
