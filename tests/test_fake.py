"""The fake's contract, checked over plain HTTP without the SDK.

Requests go out through `requests` alone, so that the SDK and the fake cannot
agree on a mistake: every expectation below is written from the wire contract.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
import threading
import time
from typing import Any, Dict, Iterator, List, Optional
from urllib.parse import urlencode

import pytest
import requests

from user_profiles_sdk import TrustGrantStatus, UserProfile, _validation
from user_profiles_sdk.testing import EmulatorServer, FakeUserProfiles

HEADERS = {
    "x-api-key": "test",
    "anthropic-version": "2023-06-01",
    "anthropic-beta": "user-profiles-2026-03-24",
}
PATH = "/v1/user_profiles"
BASE_URL = "https://api.anthropic.com"
PROFILE_ID = re.compile(r"uprof_[0-9A-Za-z]{24}\Z")
REQUEST_ID = re.compile(r"req_[0-9A-Za-z]{24}\Z")
MICROSECOND_STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z\Z")
WIRE_FIELDS = {
    "id",
    "type",
    "external_id",
    "metadata",
    "trust_grants",
    "created_at",
    "updated_at",
}


@pytest.fixture
def server(user_profiles_emulator: EmulatorServer) -> EmulatorServer:
    return user_profiles_emulator


@pytest.fixture
def fake(server: EmulatorServer) -> FakeUserProfiles:
    return server.fake


def call(
    server: EmulatorServer,
    method: str,
    path: str = PATH,
    *,
    json: Any = None,
    data: Optional[bytes] = None,
    headers: Optional[Dict[str, str]] = None,
    timeout: float = 5.0,
) -> requests.Response:
    return requests.request(
        method,
        server.url + path,
        json=json,
        data=data,
        headers=HEADERS if headers is None else headers,
        timeout=timeout,
    )


def create(server: EmulatorServer, **fields: Any) -> Dict[str, Any]:
    response = call(server, "POST", json=fields)
    assert response.status_code == 200, response.text
    return response.json()


def assert_error(
    response: requests.Response,
    status: int,
    error_type: str,
    *,
    code: Optional[str] = None,
    names: Optional[str] = None,
) -> None:
    body = response.json()
    assert response.status_code == status
    assert body["type"] == "error"
    assert body["error"]["type"] == error_type
    assert body["request_id"] == response.headers["request-id"]
    assert body["error"].get("details", {}).get("error_code") == code
    if names is not None:
        assert names in body["error"]["message"]


def walk(server: EmulatorServer, order: str, limit: int) -> List[str]:
    ids: List[str] = []
    params: Dict[str, Any] = {"order": order, "limit": limit}
    for _ in range(50):
        page = call(server, "GET", f"{PATH}?{urlencode(params)}").json()
        ids += [profile["id"] for profile in page["data"]]
        if page["next_page"] is None:
            return ids
        params["page"] = page["next_page"]
    raise AssertionError("paging did not end")


# Endpoints


def test_create_answers_a_profile_in_full_wire_form(server: EmulatorServer) -> None:
    profile = create(server)

    assert set(profile) == WIRE_FIELDS
    assert PROFILE_ID.match(profile["id"])
    assert profile["type"] == "user_profile"
    assert profile["external_id"] is None
    assert profile["metadata"] == {}
    assert profile["trust_grants"] == {}
    assert MICROSECOND_STAMP.match(profile["created_at"])
    assert profile["updated_at"] == profile["created_at"]


def test_create_keeps_external_id_and_metadata(server: EmulatorServer) -> None:
    profile = create(server, external_id="user_12345", metadata={"plan": "pro"})

    assert profile["external_id"] == "user_12345"
    assert profile["metadata"] == {"plan": "pro"}


def test_create_allows_the_same_external_id_twice(server: EmulatorServer) -> None:
    first = create(server, external_id="same")
    second = create(server, external_id="same")

    assert first["id"] != second["id"]


def test_get_answers_the_stored_profile(server: EmulatorServer) -> None:
    profile = create(server, external_id="u1")

    response = call(server, "GET", f"{PATH}/{profile['id']}")

    assert response.status_code == 200
    assert response.json() == profile


def test_get_decodes_a_percent_encoded_id(server: EmulatorServer) -> None:
    profile = create(server)
    encoded = "".join(f"%{ord(char):02X}" for char in profile["id"])

    response = call(server, "GET", f"{PATH}/{encoded}")

    assert response.json()["id"] == profile["id"]


def test_update_merges_metadata(server: EmulatorServer) -> None:
    profile = create(server, metadata={"keep": "1", "change": "2", "drop": "3"})

    response = call(
        server,
        "POST",
        f"{PATH}/{profile['id']}",
        json={"metadata": {"change": "two", "drop": "", "new": "4"}},
    )

    assert response.json()["metadata"] == {"keep": "1", "change": "two", "new": "4"}


def test_update_keeps_external_id_when_absent(server: EmulatorServer) -> None:
    profile = create(server, external_id="u1")

    updated = call(server, "POST", f"{PATH}/{profile['id']}", json={}).json()

    assert updated["external_id"] == "u1"


def test_update_replaces_external_id(server: EmulatorServer) -> None:
    profile = create(server, external_id="u1")

    updated = call(
        server, "POST", f"{PATH}/{profile['id']}", json={"external_id": "u2"}
    ).json()

    assert updated["external_id"] == "u2"
    assert call(server, "GET", f"{PATH}/{profile['id']}").json() == updated


def test_update_moves_updated_at_only(server: EmulatorServer) -> None:
    profile = create(server)

    updated = call(
        server, "POST", f"{PATH}/{profile['id']}", json={"metadata": {"a": "b"}}
    ).json()

    assert updated["created_at"] == profile["created_at"]
    assert updated["updated_at"] > profile["updated_at"]
    assert MICROSECOND_STAMP.match(updated["updated_at"])


def test_list_defaults_to_twenty_newest_first(
    server: EmulatorServer, fake: FakeUserProfiles
) -> None:
    ids = fake.seed(25)

    page = call(server, "GET").json()

    assert [profile["id"] for profile in page["data"]] == ids[::-1][:20]
    assert isinstance(page["next_page"], str)


def test_list_order_asc_gives_oldest_first(
    server: EmulatorServer, fake: FakeUserProfiles
) -> None:
    ids = fake.seed(5)

    page = call(server, "GET", f"{PATH}?order=asc&limit=3").json()

    assert [profile["id"] for profile in page["data"]] == ids[:3]


def test_list_last_page_has_no_cursor(
    server: EmulatorServer, fake: FakeUserProfiles
) -> None:
    fake.seed(3)

    page = call(server, "GET", f"{PATH}?limit=3").json()

    assert len(page["data"]) == 3
    assert page["next_page"] is None


def test_list_of_nothing_is_an_empty_last_page(server: EmulatorServer) -> None:
    assert call(server, "GET").json() == {"data": [], "next_page": None}


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_list_walks_every_profile_once(
    server: EmulatorServer, fake: FakeUserProfiles, order: str
) -> None:
    ids = fake.seed(31)

    walked = walk(server, order, limit=7)

    assert walked == (ids if order == "asc" else ids[::-1])


def test_list_cursor_stays_valid_while_profiles_are_added(
    server: EmulatorServer, fake: FakeUserProfiles
) -> None:
    older = fake.seed(6)
    first = call(server, "GET", f"{PATH}?limit=3").json()
    fake.seed(4)

    second = call(server, "GET", f"{PATH}?limit=3&page={first['next_page']}").json()

    assert [profile["id"] for profile in second["data"]] == older[2::-1]
    assert second["next_page"] is None


def test_list_cursor_in_asc_order_reaches_profiles_added_later(
    server: EmulatorServer, fake: FakeUserProfiles
) -> None:
    older = fake.seed(2)
    first = call(server, "GET", f"{PATH}?order=asc&limit=1").json()
    newer = fake.seed(2)

    rest = call(
        server, "GET", f"{PATH}?order=asc&limit=10&page={first['next_page']}"
    ).json()

    assert [profile["id"] for profile in rest["data"]] == older[1:] + newer


def test_list_answers_profiles_in_full_wire_form(
    server: EmulatorServer, fake: FakeUserProfiles
) -> None:
    fake.seed(1)

    (profile,) = call(server, "GET").json()["data"]

    assert set(profile) == WIRE_FIELDS


def test_enrollment_url_expires_fifteen_minutes_after_now(
    server: EmulatorServer, fake: FakeUserProfiles
) -> None:
    profile = create(server)
    moment = dt.datetime(2030, 1, 2, 3, 4, 5, 678901, tzinfo=dt.timezone.utc)
    fake.now = lambda: moment

    url = call(server, "POST", f"{PATH}/{profile['id']}/enrollment_url").json()

    assert url["type"] == "enrollment_url"
    assert url["expires_at"] == "2030-01-02T03:19:05.678901Z"


def test_enrollment_urls_are_distinct_https_links(server: EmulatorServer) -> None:
    profile = create(server)
    path = f"{PATH}/{profile['id']}/enrollment_url"

    first = call(server, "POST", path).json()["url"]
    second = call(server, "POST", path).json()["url"]

    assert re.match(r"https://[^/]+/enrollment/[\w-]{20,}\Z", first)
    assert first != second


# Limits


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"external_id": "x" * 256}, "external_id", None),
        (
            {"metadata": {f"k{i}": "v" for i in range(17)}},
            "metadata",
            "invalid_metadata",
        ),
        ({"metadata": {"k" * 65: "v"}}, "metadata", "invalid_metadata"),
        ({"metadata": {"": "v"}}, "metadata", "invalid_metadata"),
        ({"metadata": {"k": "v" * 513}}, "metadata", "invalid_metadata"),
        ({"metadata": {"k": ""}}, "metadata", "invalid_metadata"),
        ({"metadata": {"k": 1}}, "metadata", "invalid_metadata"),
        ({"metadata": ["k"]}, "metadata", "invalid_metadata"),
        ({"external_id": 5}, "external_id", None),
        ({"name": "Ada"}, "name", None),
    ],
)
def test_create_refuses_a_broken_limit(
    server: EmulatorServer,
    fake: FakeUserProfiles,
    body: Dict[str, Any],
    field: str,
    code: Optional[str],
) -> None:
    response = call(server, "POST", json=body)

    assert_error(response, 400, "invalid_request_error", code=code, names=field)
    assert len(fake.profiles) == 0


def test_create_accepts_every_limit_at_its_edge(server: EmulatorServer) -> None:
    metadata = {f"k{i}": "v" for i in range(15)}
    metadata["k" * 64] = "v" * 512

    profile = create(server, external_id="x" * 255, metadata=metadata)

    assert profile["metadata"] == metadata


@pytest.mark.parametrize(
    "patch",
    [{"k" * 65: "v"}, {"k": "v" * 513}, {"k": 1}, "k"],
)
def test_update_refuses_broken_metadata(server: EmulatorServer, patch: Any) -> None:
    profile = create(server, metadata={"a": "b"})

    response = call(server, "POST", f"{PATH}/{profile['id']}", json={"metadata": patch})

    assert_error(response, 400, "invalid_request_error", code="invalid_metadata")
    assert call(server, "GET", f"{PATH}/{profile['id']}").json() == profile


def test_update_refuses_more_than_sixteen_keys_after_the_merge(
    server: EmulatorServer,
) -> None:
    profile = create(server, metadata={f"old{i}": "v" for i in range(10)})

    response = call(
        server,
        "POST",
        f"{PATH}/{profile['id']}",
        json={"metadata": {f"new{i}": "v" for i in range(7)}},
    )

    assert_error(
        response,
        400,
        "invalid_request_error",
        code="invalid_metadata",
        names="metadata",
    )


def test_update_allows_sixteen_keys_when_the_patch_removes_others(
    server: EmulatorServer,
) -> None:
    profile = create(server, metadata={f"old{i}": "v" for i in range(10)})
    patch = {f"new{i}": "v" for i in range(7)}
    patch["old0"] = ""

    updated = call(server, "POST", f"{PATH}/{profile['id']}", json={"metadata": patch})

    assert len(updated.json()["metadata"]) == 16


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=-1", "limit"),
        ("limit=abc", "limit"),
        ("limit=1.5", "limit"),
        ("limit=", "limit"),
        ("order=sideways", "order"),
        ("page=not-a-cursor", "page"),
        ("page=", "page"),
    ],
)
def test_list_refuses_a_broken_query(
    server: EmulatorServer, query: str, field: str
) -> None:
    response = call(server, "GET", f"{PATH}?{query}")

    assert_error(response, 400, "invalid_request_error", names=field)


@pytest.mark.parametrize("limit", [1, 100])
def test_list_accepts_limits_at_the_edges(
    server: EmulatorServer, fake: FakeUserProfiles, limit: int
) -> None:
    fake.seed(101)

    page = call(server, "GET", f"{PATH}?limit={limit}").json()

    assert len(page["data"]) == limit


@pytest.mark.parametrize(
    ("method", "target", "body", "field"),
    [
        ("POST", PATH, {"external_id": "x" * 256}, "external_id"),
        ("POST", PATH, {"metadata": {f"k{i}": "v" for i in range(17)}}, "metadata"),
        ("POST", PATH, {"metadata": {"k": "v" * 513}}, "metadata"),
        ("GET", f"{PATH}?limit=101", None, "limit"),
        ("GET", f"{PATH}?order=sideways", None, "order"),
    ],
)
def test_limits_hold_with_the_sdk_checks_switched_off(
    server: EmulatorServer,
    monkeypatch: pytest.MonkeyPatch,
    method: str,
    target: str,
    body: Any,
    field: str,
) -> None:
    # The fake must model the API on its own: were it to borrow the SDK's
    # checks, a mistake in them would go unnoticed by every test against it.
    for name in ("external_id", "metadata", "limit", "order"):
        monkeypatch.setattr(_validation, name, lambda value, **_: value)
    monkeypatch.setattr(_validation, "MAX_METADATA_KEYS", 1000)

    response = call(server, method, target, json=body)

    code = "invalid_metadata" if field == "metadata" else None
    assert_error(response, 400, "invalid_request_error", code=code, names=field)


@pytest.mark.parametrize("data", [b"{not json", b"[]", b'"text"', b"", b"null"])
def test_create_refuses_a_body_that_is_not_an_object(
    server: EmulatorServer, data: bytes
) -> None:
    headers = {**HEADERS, "content-type": "application/json"}

    response = call(server, "POST", data=data, headers=headers)

    assert_error(response, 400, "invalid_request_error", names="body")


# Errors


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("GET", ""), ("POST", ""), ("POST", "/enrollment_url")],
)
def test_unknown_id_gives_not_found(
    server: EmulatorServer, method: str, suffix: str
) -> None:
    response = call(server, method, f"{PATH}/uprof_unknown{suffix}", json={})

    assert_error(response, 404, "not_found_error", names="uprof_unknown")


def test_id_with_an_encoded_slash_is_one_segment(server: EmulatorServer) -> None:
    response = call(server, "GET", f"{PATH}/a%2Fb")

    assert_error(response, 404, "not_found_error", names="'a/b'")


def test_missing_api_key_gives_authentication_error(server: EmulatorServer) -> None:
    headers = {k: v for k, v in HEADERS.items() if k != "x-api-key"}

    response = call(server, "GET", headers=headers)

    assert_error(response, 401, "authentication_error", names="x-api-key")


@pytest.mark.parametrize("beta", [None, "", "other-beta-2025-01-01", "user-profile-x"])
def test_missing_user_profiles_beta_gives_bad_request(
    server: EmulatorServer, beta: Optional[str]
) -> None:
    headers = {k: v for k, v in HEADERS.items() if k != "anthropic-beta"}
    if beta is not None:
        headers["anthropic-beta"] = beta

    response = call(server, "GET", headers=headers)

    assert_error(response, 400, "invalid_request_error", names="anthropic-beta")


def test_user_profiles_beta_among_other_names_is_accepted(
    server: EmulatorServer,
) -> None:
    headers = {
        **HEADERS,
        "anthropic-beta": "other-2025-01-01, user-profiles-2099-01-01",
    }

    assert call(server, "GET", headers=headers).status_code == 200


@pytest.mark.parametrize(
    "path",
    ["/v1/other", "/v2/user_profiles", f"{PATH}/", f"{PATH}/uprof_x/other", "/"],
)
def test_unknown_path_gives_not_found(server: EmulatorServer, path: str) -> None:
    response = call(server, "GET", path)

    assert_error(response, 404, "not_found_error")


@pytest.mark.parametrize(
    ("method", "suffix", "allowed"),
    [
        ("DELETE", "", "GET, POST"),
        ("PUT", "/uprof_x", "GET, POST"),
        ("GET", "/uprof_x/enrollment_url", "POST"),
    ],
)
def test_wrong_method_gives_method_not_allowed(
    server: EmulatorServer, method: str, suffix: str, allowed: str
) -> None:
    response = call(server, method, PATH + suffix)

    assert_error(response, 405, "invalid_request_error", names=method)
    assert response.headers["allow"] == allowed


def test_every_answer_carries_its_own_request_id(
    server: EmulatorServer, fake: FakeUserProfiles
) -> None:
    profile = create(server)
    fake.fail_next(503)
    fake.respond_next(200, "plain")
    answers = [
        call(server, "GET", f"{PATH}/{profile['id']}"),
        call(server, "POST", f"{PATH}/{profile['id']}/enrollment_url"),
        call(server, "GET", f"{PATH}/missing"),
        call(server, "GET", headers={}),
        call(server, "GET"),
        call(server, "GET"),
    ]

    ids = [answer.headers["request-id"] for answer in answers]

    assert all(REQUEST_ID.match(request_id) for request_id in ids)
    assert len(set(ids)) == len(ids)


# Controls


def test_set_trust_grant_shows_on_the_wire(
    server: EmulatorServer, fake: FakeUserProfiles
) -> None:
    profile = create(server)

    fake.set_trust_grant(profile["id"], "cyber", "active")
    fake.set_trust_grant(profile["id"], "bio", "suspended")

    stored = call(server, "GET", f"{PATH}/{profile['id']}").json()
    assert stored["trust_grants"] == {
        "cyber": {"status": "active"},
        "bio": {"status": "suspended"},
    }
    assert stored["updated_at"] > profile["updated_at"]


def test_set_trust_grant_returns_the_sdk_model(fake: FakeUserProfiles) -> None:
    profile = fake.add_profile()

    changed = fake.set_trust_grant(profile.id, "cyber", "active")

    assert changed.grant_status("cyber") is TrustGrantStatus.ACTIVE


def test_set_trust_grant_on_an_unknown_id_raises_key_error(
    fake: FakeUserProfiles,
) -> None:
    with pytest.raises(KeyError):
        fake.set_trust_grant("uprof_missing", "cyber", "active")


def test_update_cannot_change_trust_grants(
    server: EmulatorServer, fake: FakeUserProfiles
) -> None:
    profile = create(server)

    response = call(
        server,
        "POST",
        f"{PATH}/{profile['id']}",
        json={"trust_grants": {"cyber": {"status": "active"}}},
    )

    assert_error(response, 400, "invalid_request_error", names="trust_grants")
    assert fake.profiles[profile["id"]].trust_grants == {}


def test_profiles_gives_sdk_models_of_the_stored_wire_form(
    server: EmulatorServer, fake: FakeUserProfiles
) -> None:
    profile = create(server, external_id="u1", metadata={"plan": "pro"})

    stored = fake.profiles[profile["id"]]

    assert isinstance(stored, UserProfile)
    assert stored.external_id == "u1"
    assert stored.metadata == {"plan": "pro"}
    assert list(fake.profiles) == [profile["id"]]


def test_profiles_is_read_only_and_not_shared(fake: FakeUserProfiles) -> None:
    profile = fake.add_profile(metadata={"a": "b"})

    fake.profiles[profile.id].metadata["a"] = "changed"

    assert fake.profiles[profile.id].metadata == {"a": "b"}
    with pytest.raises(TypeError):
        fake.profiles[profile.id] = profile  # type: ignore[index]


def test_add_profile_sends_extra_fields_on_the_wire(
    server: EmulatorServer, fake: FakeUserProfiles
) -> None:
    profile = fake.add_profile(
        external_id="u1", trust_grants={"cyber": "pending"}, extra={"name": "Ada"}
    )

    wire = call(server, "GET", f"{PATH}/{profile.id}").json()

    assert wire["name"] == "Ada"
    assert wire["trust_grants"] == {"cyber": {"status": "pending"}}
    assert profile.extra == {"name": "Ada"}


def test_add_profile_refuses_extra_that_overrides_a_field(
    fake: FakeUserProfiles,
) -> None:
    with pytest.raises(ValueError, match="id"):
        fake.add_profile(extra={"id": "uprof_mine"})


def test_seed_stores_profiles_oldest_first(fake: FakeUserProfiles) -> None:
    ids = fake.seed(3)

    assert list(fake.profiles) == ids
    assert [fake.profiles[i].external_id for i in ids] == ["seed_0", "seed_1", "seed_2"]


def test_created_at_increases_while_the_clock_stands_still(
    fake: FakeUserProfiles,
) -> None:
    moment = dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)
    fake.now = lambda: moment

    first, second = (fake.add_profile() for _ in range(2))

    assert first.created_at == moment
    assert second.created_at == moment + dt.timedelta(microseconds=1)


def test_requests_records_what_was_received(
    server: EmulatorServer, fake: FakeUserProfiles
) -> None:
    call(server, "POST", json={"external_id": "u1"})
    call(server, "GET", f"{PATH}?limit=5&order=asc")

    created, listed = fake.requests

    assert (created.method, created.path, created.body) == (
        "POST",
        PATH,
        {"external_id": "u1"},
    )
    assert created.headers["x-api-key"] == "test"
    assert (listed.method, listed.query, listed.body) == (
        "GET",
        {"limit": "5", "order": "asc"},
        None,
    )


def test_requests_keeps_the_path_encoded(
    server: EmulatorServer, fake: FakeUserProfiles
) -> None:
    call(server, "GET", f"{PATH}/a%2Fb")

    assert fake.requests[0].path == f"{PATH}/a%2Fb"


def test_reset_forgets_profiles_faults_and_requests(
    server: EmulatorServer, fake: FakeUserProfiles
) -> None:
    create(server)
    fake.fail_next(500)

    fake.reset()

    assert len(fake.profiles) == 0
    assert fake.requests == []
    assert call(server, "GET").status_code == 200


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        (400, "invalid_request_error"),
        (403, "permission_error"),
        (408, "timeout_error"),
        (409, "conflict_error"),
        (413, "request_too_large"),
        (418, "invalid_request_error"),
        (429, "rate_limit_error"),
        (500, "api_error"),
        (503, "api_error"),
        (529, "overloaded_error"),
    ],
)
def test_fail_next_answers_the_error_body_of_the_status(
    server: EmulatorServer, fake: FakeUserProfiles, status: int, error_type: str
) -> None:
    fake.fail_next(status)

    response = call(server, "POST", json={})

    assert_error(response, status, error_type)
    assert "x-should-retry" not in response.headers
    assert len(fake.profiles) == 0


def test_fail_next_sends_the_given_headers(
    server: EmulatorServer, fake: FakeUserProfiles
) -> None:
    fake.fail_next(429, headers={"Retry-After": "3", "x-should-retry": "false"})

    response = call(server, "GET")

    assert response.headers["retry-after"] == "3"
    assert response.headers["x-should-retry"] == "false"
    assert REQUEST_ID.match(response.headers["request-id"])


def test_fail_next_times_fails_that_many_requests(
    server: EmulatorServer, fake: FakeUserProfiles
) -> None:
    fake.fail_next(503, times=2)

    statuses = [call(server, "GET").status_code for _ in range(3)]

    assert statuses == [503, 503, 200]


@pytest.mark.parametrize(
    "body", ["<html><title>Bad gateway</title></html>", b"", b"upstream died"]
)
def test_fail_next_sends_text_bodies_as_given(
    server: EmulatorServer, fake: FakeUserProfiles, body: Any
) -> None:
    fake.fail_next(502, body=body)

    response = call(server, "GET")

    assert response.status_code == 502
    assert response.content == (body.encode() if isinstance(body, str) else body)


def test_fail_next_sends_a_mapping_body_as_json(
    server: EmulatorServer, fake: FakeUserProfiles
) -> None:
    fake.fail_next(400, body={"error": "custom"})

    response = call(server, "GET")

    assert response.json() == {"error": "custom"}
    assert response.headers["content-type"] == "application/json"


def test_fail_next_refuses_a_success_status(fake: FakeUserProfiles) -> None:
    with pytest.raises(ValueError, match="200"):
        fake.fail_next(200)


def test_respond_next_sends_any_status_and_body_unprocessed(
    server: EmulatorServer, fake: FakeUserProfiles
) -> None:
    fake.respond_next(200, "not json", headers={"content-type": "text/plain"})

    response = call(server, "POST", json={})

    assert (response.status_code, response.text) == (200, "not json")
    assert len(fake.profiles) == 0


def test_drop_next_closes_without_answer_or_processing(
    server: EmulatorServer, fake: FakeUserProfiles
) -> None:
    fake.drop_next()

    with pytest.raises(requests.ConnectionError):
        call(server, "POST", json={"external_id": "u1"})

    assert len(fake.profiles) == 0
    assert fake.requests[0].content is None
    assert call(server, "GET").status_code == 200


def test_drop_next_processed_applies_the_request_first(
    server: EmulatorServer, fake: FakeUserProfiles
) -> None:
    fake.drop_next(processed=True)

    with pytest.raises(requests.ConnectionError):
        call(server, "POST", json={"external_id": "u1"})

    assert [p.external_id for p in fake.profiles.values()] == ["u1"]


def test_drop_next_times_drops_that_many_requests(
    server: EmulatorServer, fake: FakeUserProfiles
) -> None:
    fake.drop_next(times=2)

    for _ in range(2):
        with pytest.raises(requests.ConnectionError):
            call(server, "GET")

    assert call(server, "GET").status_code == 200


def test_stall_next_answers_after_the_wait(
    server: EmulatorServer, fake: FakeUserProfiles
) -> None:
    fake.stall_next(0.3)
    started = time.monotonic()

    response = call(server, "POST", json={})

    assert time.monotonic() - started >= 0.3
    assert response.status_code == 200
    assert len(fake.profiles) == 1


def test_stall_next_processed_create_stands_when_the_client_gives_up(
    server: EmulatorServer, fake: FakeUserProfiles
) -> None:
    fake.stall_next(5, processed=True)

    with pytest.raises(requests.ReadTimeout):
        call(server, "POST", json={"external_id": "u1"}, timeout=0.2)

    assert [p.external_id for p in fake.profiles.values()] == ["u1"]


def test_stall_next_unprocessed_create_is_lost_when_the_client_gives_up(
    server: EmulatorServer, fake: FakeUserProfiles
) -> None:
    fake.stall_next(0.5)

    with pytest.raises(requests.ReadTimeout):
        call(server, "POST", json={"external_id": "u1"}, timeout=0.1)
    time.sleep(1.0)

    assert len(fake.profiles) == 0


def test_truncate_next_processes_then_cuts_the_body(
    server: EmulatorServer, fake: FakeUserProfiles
) -> None:
    fake.truncate_next()

    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        call(server, "POST", json={"external_id": "u1"})

    assert [p.external_id for p in fake.profiles.values()] == ["u1"]


def test_faults_apply_in_the_order_queued(
    server: EmulatorServer, fake: FakeUserProfiles
) -> None:
    fake.fail_next(500)
    fake.drop_next()

    first = call(server, "GET")
    with pytest.raises(requests.ConnectionError):
        call(server, "GET")

    assert first.status_code == 500
    assert call(server, "GET").status_code == 200


# Faults aimed at one endpoint


ENDPOINT_REQUESTS = {
    "create": ("POST", ""),
    "list": ("GET", ""),
    "get": ("GET", "/{}"),
    "update": ("POST", "/{}"),
    "enrollment_url": ("POST", "/{}/enrollment_url"),
}


def send(server: EmulatorServer, endpoint: str, profile_id: str) -> int:
    """Send one request to a named endpoint and return its status."""
    method, suffix = ENDPOINT_REQUESTS[endpoint]
    body = {} if endpoint in ("create", "update") else None
    return call(server, method, PATH + suffix.format(profile_id), json=body).status_code


@pytest.mark.parametrize("aimed", list(ENDPOINT_REQUESTS))
def test_aimed_fault_waits_while_other_requests_are_answered(
    server: EmulatorServer, fake: FakeUserProfiles, aimed: str
) -> None:
    profile_id = fake.add_profile().id
    fake.fail_next(503, endpoint=aimed)

    others = [
        send(server, other, profile_id) for other in ENDPOINT_REQUESTS if other != aimed
    ]
    stray = call(server, "GET", "/v1/other")
    met = send(server, aimed, profile_id)

    assert others == [200] * (len(ENDPOINT_REQUESTS) - 1)
    assert_error(stray, 404, "not_found_error")
    assert met == 503


def test_aimed_fault_is_taken_by_the_first_request_to_its_endpoint(
    server: EmulatorServer, fake: FakeUserProfiles
) -> None:
    profile_id = fake.add_profile().id
    fake.fail_next(429, endpoint="list")

    statuses = [
        send(server, endpoint, profile_id) for endpoint in ("get", "list", "list")
    ]

    assert statuses == [200, 429, 200]


def test_aimed_times_counts_only_requests_to_the_endpoint(
    server: EmulatorServer, fake: FakeUserProfiles
) -> None:
    fake.fail_next(500, times=2, endpoint="create")

    statuses = [
        call(server, method, json={} if method == "POST" else None).status_code
        for method in ("GET", "POST", "GET", "GET", "POST", "POST")
    ]

    assert statuses == [200, 500, 200, 200, 500, 200]
    assert len(fake.profiles) == 1


def test_aimed_and_unaimed_faults_are_taken_oldest_first(
    server: EmulatorServer, fake: FakeUserProfiles
) -> None:
    fake.fail_next(502)
    fake.fail_next(500, endpoint="create")
    fake.fail_next(503)

    statuses = [
        call(server, "POST", json={}).status_code,
        call(server, "GET").status_code,
        call(server, "POST", json={}).status_code,
        call(server, "GET").status_code,
        call(server, "POST", json={}).status_code,
    ]

    assert statuses == [502, 503, 500, 200, 200]


CONTROLS = {
    "fail_next": lambda fake, endpoint: fake.fail_next(409, endpoint=endpoint),
    "respond_next": lambda fake, endpoint: fake.respond_next(
        409, "held back", endpoint=endpoint
    ),
    "drop_next": lambda fake, endpoint: fake.drop_next(endpoint=endpoint),
    "stall_next": lambda fake, endpoint: fake.stall_next(5, endpoint=endpoint),
    "truncate_next": lambda fake, endpoint: fake.truncate_next(endpoint=endpoint),
}


@pytest.mark.parametrize(
    ("control", "meets"),
    [
        ("fail_next", 409),
        ("respond_next", 409),
        ("drop_next", "ConnectionError"),
        ("stall_next", "ReadTimeout"),
        ("truncate_next", "ChunkedEncodingError"),
    ],
)
def test_every_fault_control_can_be_aimed(
    server: EmulatorServer, fake: FakeUserProfiles, control: str, meets: Any
) -> None:
    profile_id = fake.add_profile().id
    CONTROLS[control](fake, "get")

    listed = call(server, "GET", timeout=2)
    try:
        met = call(server, "GET", f"{PATH}/{profile_id}", timeout=0.5).status_code
    except requests.RequestException as exc:
        met = type(exc).__name__

    assert listed.status_code == 200
    assert met == meets


@pytest.mark.parametrize("control", list(CONTROLS))
@pytest.mark.parametrize("endpoint", ["delete", "create_enrollment_url", "", "LIST"])
def test_aiming_at_an_unknown_endpoint_names_the_endpoints(
    server: EmulatorServer, fake: FakeUserProfiles, control: str, endpoint: str
) -> None:
    expected = f"one of create, list, get, update, enrollment_url, not '{endpoint}'"

    with pytest.raises(ValueError, match=expected):
        CONTROLS[control](fake, endpoint)

    assert call(server, "POST", json={}).status_code == 200


def test_concurrent_requests_take_each_aimed_fault_once(
    server: EmulatorServer, fake: FakeUserProfiles
) -> None:
    profile_id = create(server)["id"]
    fake.fail_next(503, times=20, endpoint="list")
    statuses: Dict[str, List[int]] = {"list": [], "get": []}
    lock = threading.Lock()

    def work(endpoint: str, path: str) -> None:
        with requests.Session() as session:
            for _ in range(10):
                response = session.get(server.url + path, headers=HEADERS, timeout=5)
                with lock:
                    statuses[endpoint].append(response.status_code)

    targets = [("list", PATH)] * 4 + [("get", f"{PATH}/{profile_id}")] * 4
    threads = [threading.Thread(target=work, args=target) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(statuses["list"]) == [200] * 20 + [503] * 20
    assert statuses["get"] == [200] * 40


def test_concurrent_creates_get_unique_ids_and_increasing_times(
    server: EmulatorServer,
) -> None:
    created: List[Dict[str, Any]] = []
    lock = threading.Lock()

    def work() -> None:
        with requests.Session() as session:
            for _ in range(10):
                response = session.post(
                    server.url + PATH, json={}, headers=HEADERS, timeout=5
                )
                with lock:
                    created.append(response.json())

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    listed = call(server, "GET", f"{PATH}?order=asc&limit=100").json()["data"]
    stamps = [profile["created_at"] for profile in listed]
    assert len({profile["id"] for profile in created}) == 80
    assert {profile["id"] for profile in listed} == {p["id"] for p in created}
    assert all(earlier < later for earlier, later in zip(stamps, stamps[1:]))


# The responses mock, with plain requests


@pytest.fixture
def mocked() -> Iterator[FakeUserProfiles]:
    fake = FakeUserProfiles()
    with fake.mock():
        yield fake


def test_mock_routes_every_endpoint_to_the_fake(mocked: FakeUserProfiles) -> None:
    created = requests.post(
        BASE_URL + PATH, json={"external_id": "u1"}, headers=HEADERS, timeout=5
    ).json()
    path = f"{BASE_URL}{PATH}/{created['id']}"

    fetched = requests.get(path, headers=HEADERS, timeout=5).json()
    updated = requests.post(path, json={"metadata": {"a": "b"}}, headers=HEADERS)
    listed = requests.get(f"{BASE_URL}{PATH}?limit=1", headers=HEADERS).json()
    url = requests.post(f"{path}/enrollment_url", headers=HEADERS).json()

    assert fetched == created
    assert updated.json()["metadata"] == {"a": "b"}
    assert listed["data"][0]["id"] == created["id"]
    assert url["type"] == "enrollment_url"
    assert [r.method for r in mocked.requests] == ["POST", "GET", "POST", "GET", "POST"]


def test_mock_answers_errors_with_their_request_id(mocked: FakeUserProfiles) -> None:
    response = requests.get(BASE_URL + PATH + "/missing", headers=HEADERS)

    assert_error(response, 404, "not_found_error")


def test_mock_serves_a_base_url_with_a_path_prefix() -> None:
    fake = FakeUserProfiles()
    with fake.mock("https://gateway.test/anthropic/"):
        response = requests.post(
            "https://gateway.test/anthropic" + PATH, json={}, headers=HEADERS
        )

    assert response.status_code == 200
    assert fake.requests[0].path == PATH


def test_mock_drop_raises_connection_error(mocked: FakeUserProfiles) -> None:
    mocked.drop_next()

    with pytest.raises(requests.ConnectionError):
        requests.post(BASE_URL + PATH, json={}, headers=HEADERS, timeout=5)

    assert len(mocked.profiles) == 0


def test_mock_stall_past_the_read_timeout_raises_read_timeout(
    mocked: FakeUserProfiles,
) -> None:
    mocked.stall_next(5)

    with pytest.raises(requests.ReadTimeout):
        requests.post(BASE_URL + PATH, json={}, headers=HEADERS, timeout=(1, 0.05))

    assert len(mocked.profiles) == 0


def test_mock_stall_within_the_read_timeout_answers(mocked: FakeUserProfiles) -> None:
    mocked.stall_next(0.05, processed=True)

    response = requests.post(BASE_URL + PATH, json={}, headers=HEADERS, timeout=5)

    assert response.status_code == 200


def test_mock_truncate_raises_chunked_encoding_error(
    mocked: FakeUserProfiles,
) -> None:
    mocked.truncate_next()

    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.post(BASE_URL + PATH, json={}, headers=HEADERS, timeout=5)

    assert len(mocked.profiles) == 1


def test_mock_lets_loopback_requests_through(server: EmulatorServer) -> None:
    other = FakeUserProfiles()
    with other.mock():
        response = call(server, "POST", json={})

    assert response.status_code == 200
    assert other.requests == []


def test_mock_without_responses_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "responses", None)

    with pytest.raises(ImportError, match=r"pip install user-profiles-sdk\[testing\]"):
        FakeUserProfiles().mock()


def test_user_profiles_fake_fixture_answers_the_default_base_url(
    user_profiles_fake: FakeUserProfiles,
) -> None:
    response = requests.post(BASE_URL + PATH, json={}, headers=HEADERS, timeout=5)

    assert list(user_profiles_fake.profiles) == [response.json()["id"]]


def test_skip_lets_that_many_matching_requests_through_before_the_fault(
    user_profiles_emulator,
):
    fake = user_profiles_emulator.fake
    fake.fail_next(503, endpoint="create", skip=2)
    url = user_profiles_emulator.url + "/v1/user_profiles"
    headers = {"x-api-key": "test", "anthropic-beta": "user-profiles-2026-03-24"}

    with requests.Session() as session:
        statuses = [
            session.post(url, json={}, headers=headers).status_code,
            session.get(url, headers=headers).status_code,
            session.post(url, json={}, headers=headers).status_code,
            session.post(url, json={}, headers=headers).status_code,
            session.post(url, json={}, headers=headers).status_code,
        ]

    assert statuses == [200, 200, 200, 503, 200]
    assert len(fake.profiles) == 3


def test_negative_skip_is_refused():
    with pytest.raises(ValueError, match="skip must be 0 or more"):
        FakeUserProfiles().drop_next(skip=-1)
