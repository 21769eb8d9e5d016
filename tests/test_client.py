import json
import logging
import os
import pickle

import pytest
import requests
import responses
from responses import matchers
from wire import wire_profile

import user_profiles_sdk
from user_profiles_sdk import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    BadRequestError,
    Client,
    InternalServerError,
    ListOrder,
    NotFoundError,
    OverloadedError,
    RateLimitError,
    Timeout,
    TrustGrantStatus,
    ValidationError,
)

BASE = "http://127.0.0.1:9"
KEY = "sk-ant-secret-key-for-tests"
PROFILES = f"{BASE}/v1/user_profiles"


@pytest.fixture
def client():
    with Client(api_key=KEY, base_url=BASE) as made:
        yield made


def sent_json(call):
    return json.loads(call.request.body)


# Configuration


def test_missing_api_key_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)

    with pytest.raises(ValidationError, match="api_key: is missing"):
        Client()


def test_api_key_and_base_url_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-env")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://localhost:8080/")

    client = Client()

    assert client.base_url == "http://localhost:8080"
    assert client._headers["x-api-key"] == "sk-env"


def test_arguments_win_over_the_environment(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-env")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://localhost:8080")

    client = Client(api_key="sk-arg", base_url="https://example.test")

    assert client.base_url == "https://example.test"
    assert client._headers["x-api-key"] == "sk-arg"


def test_default_base_url_is_the_public_api(monkeypatch):
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)

    assert Client(api_key=KEY).base_url == "https://api.anthropic.com"


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:1", "http://[::1]:1", "http://localhost", "https://x.test"],
)
def test_https_or_loopback_http_base_urls_are_accepted(url):
    assert Client(api_key=KEY, base_url=url).base_url == url


@pytest.mark.parametrize(
    "url", ["http://api.anthropic.com", "http://10.0.0.1", "ftp://x.test", "x.test"]
)
def test_plain_http_to_other_hosts_and_other_schemes_are_refused(url):
    with pytest.raises(ValidationError, match="base_url"):
        Client(api_key=KEY, base_url=url)


@pytest.mark.parametrize("key", ["sk ant", "sk\nant", "sk\x00"])
def test_api_key_with_whitespace_or_control_characters_is_refused(key):
    with pytest.raises(ValidationError, match="api_key"):
        Client(api_key=key, base_url=BASE)


@pytest.mark.parametrize(
    ("value", "pair"),
    [(7, (7.0, 7.0)), ((1, 2.5), (1.0, 2.5)), (Timeout(connect=3, read=4), (3, 4))],
)
def test_timeout_takes_seconds_a_pair_or_a_timeout(value, pair):
    assert Client(api_key=KEY, base_url=BASE, timeout=value).timeout == pair


def test_default_timeout_is_five_seconds_to_connect_and_thirty_to_read():
    assert Client(api_key=KEY, base_url=BASE).timeout == (5.0, 30.0)


@pytest.mark.parametrize("value", [0, -1, None, float("inf"), (1,), "5", True])
def test_timeout_that_is_not_positive_seconds_is_refused(value):
    with pytest.raises(ValidationError, match="timeout"):
        Client(api_key=KEY, base_url=BASE, timeout=value)


@pytest.mark.parametrize("value", [-1, 1.5, None, True])
def test_max_retries_that_is_not_a_count_is_refused(value):
    with pytest.raises(ValidationError, match="max_retries"):
        Client(api_key=KEY, base_url=BASE, max_retries=value)


def test_repr_hides_the_key():
    client = Client(api_key=KEY, base_url=BASE)

    assert KEY not in repr(client)
    assert KEY not in repr(client.user_profiles)


def test_public_names_are_exported_from_the_package_root():
    assert sorted(user_profiles_sdk.__all__) == sorted(
        [
            "APIConnectionError",
            "APIResponseError",
            "APIStatusError",
            "APITimeoutError",
            "AuthenticationError",
            "BadRequestError",
            "Client",
            "ConflictError",
            "EnrollmentUrl",
            "InternalServerError",
            "ListOrder",
            "NotFoundError",
            "OverloadedError",
            "Page",
            "PermissionDeniedError",
            "RateLimitError",
            "RequestTooLargeError",
            "Timeout",
            "TrustGrant",
            "TrustGrantStatus",
            "UserProfile",
            "UserProfiles",
            "UserProfilesError",
            "ValidationError",
            "__version__",
        ]
    )
    for name in user_profiles_sdk.__all__:
        assert getattr(user_profiles_sdk, name) is not None


# Headers


@responses.activate
def test_every_request_carries_the_documented_headers(client):
    responses.get(f"{PROFILES}/uprof_1", json=wire_profile())

    client.user_profiles.get("uprof_1")

    headers = responses.calls[0].request.headers
    assert headers["x-api-key"] == KEY
    assert headers["anthropic-version"] == "2023-06-01"
    assert headers["anthropic-beta"] == "user-profiles-2026-03-24"
    assert "content-type" not in headers
    assert "anthropic-workspace-id" not in headers


@responses.activate
def test_beta_revision_extra_betas_and_workspace_are_sent_when_set():
    responses.get(f"{PROFILES}/uprof_1", json=wire_profile())
    client = Client(
        api_key=KEY,
        base_url=BASE,
        beta="user-profiles-2027-01-01",
        extra_betas=["other-2026-01-01", "third"],
        workspace_id="wrkspc_1",
    )

    client.user_profiles.get("uprof_1")

    headers = responses.calls[0].request.headers
    assert headers["anthropic-beta"] == (
        "user-profiles-2027-01-01,other-2026-01-01,third"
    )
    assert headers["anthropic-workspace-id"] == "wrkspc_1"


@responses.activate
def test_json_content_type_only_on_requests_with_a_body(client):
    responses.post(PROFILES, json=wire_profile())
    responses.post(f"{PROFILES}/uprof_1/enrollment_url", json={})

    client.user_profiles.create()
    with pytest.raises(user_profiles_sdk.APIResponseError):
        client.user_profiles.create_enrollment_url("uprof_1")

    create, enroll = (call.request for call in responses.calls)
    assert create.headers["content-type"] == "application/json"
    assert "content-type" not in enroll.headers
    assert enroll.body is None
    assert enroll.headers["content-length"] == "0"


# Endpoints, including every case of the reference module's tests


@responses.activate
def test_create_sends_optional_body_and_decodes_profile(client):
    responses.post(PROFILES, json=wire_profile("uprof_C1"))

    profile = client.user_profiles.create(
        external_id="user_12345", metadata={"plan": "pro"}
    )

    assert profile.id == "uprof_C1"
    assert profile.external_id == "user_12345"
    assert profile.metadata == {"plan": "pro"}
    assert profile.grant_status("cyber") is TrustGrantStatus.ACTIVE
    assert sent_json(responses.calls[0]) == {
        "external_id": "user_12345",
        "metadata": {"plan": "pro"},
    }
    beta = responses.calls[0].request.headers["anthropic-beta"]
    assert "user-profiles-2026-03-24" in beta


@responses.activate
def test_create_omits_empty_metadata_from_request_body(client):
    responses.post(PROFILES, json=wire_profile())

    client.user_profiles.create()
    client.user_profiles.create(metadata={})

    assert [sent_json(call) for call in responses.calls] == [{}, {}]


@responses.activate
def test_list_passes_limit_page_order_and_decodes_no_has_more(client):
    query = {"limit": "10", "order": "desc", "page": "page_X"}
    responses.get(
        PROFILES,
        json={"data": [wire_profile("uprof_L1")], "next_page": "page_Y"},
        match=[matchers.query_param_matcher(query)],
    )

    page = client.user_profiles.list(limit=10, page="page_X", order=ListOrder.DESC)

    assert [p.id for p in page.data] == ["uprof_L1"]
    assert page.next_page == "page_Y"
    assert page.has_more is False


@responses.activate
def test_list_sends_no_query_when_nothing_is_given(client):
    responses.get(PROFILES, json={"data": [], "next_page": None})

    client.user_profiles.list()

    assert responses.calls[0].request.url == PROFILES


@responses.activate
def test_list_encodes_a_cursor_with_reserved_characters(client):
    responses.get(
        PROFILES,
        json={"data": [], "next_page": None},
        match=[matchers.query_param_matcher({"page": "a+b/c=&d"})],
    )

    client.user_profiles.list(page="a+b/c=&d")

    assert "page=a%2Bb%2Fc%3D%26d" in responses.calls[0].request.url


@responses.activate
def test_get_decodes_single_profile(client):
    responses.get(f"{PROFILES}/uprof_G1", json=wire_profile("uprof_G1"))

    profile = client.user_profiles.get("uprof_G1")

    assert profile.id == "uprof_G1"
    assert profile.kind == "user_profile"


@responses.activate
def test_get_encodes_the_id_as_one_path_segment(client):
    responses.get(f"{PROFILES}/a%2Fb%3F", json=wire_profile())

    client.user_profiles.get("a/b?")

    assert responses.calls[0].request.path_url == "/v1/user_profiles/a%2Fb%3F"


def test_get_refuses_a_dot_dot_id_before_sending(client):
    with responses.RequestsMock() as mock, pytest.raises(ValidationError):
        client.user_profiles.get("..")

    assert len(mock.calls) == 0


@responses.activate
def test_update_sends_metadata_merge_patch_with_empty_string_for_deletion(client):
    responses.post(f"{PROFILES}/uprof_U1", json=wire_profile("uprof_U1"))

    client.user_profiles.update(
        "uprof_U1", metadata={"plan": "enterprise"}, remove_metadata=["legacy_flag"]
    )

    assert sent_json(responses.calls[0]) == {
        "metadata": {"plan": "enterprise", "legacy_flag": ""}
    }


@responses.activate
def test_update_leaves_external_id_alone_unless_given(client):
    responses.post(f"{PROFILES}/uprof_U1", json=wire_profile("uprof_U1"))

    client.user_profiles.update("uprof_U1", metadata={"a": "b"})
    client.user_profiles.update("uprof_U1", external_id="new")

    first, second = (sent_json(call) for call in responses.calls)
    assert first == {"metadata": {"a": "b"}}
    assert second == {"external_id": "new"}


def test_update_refuses_a_key_both_set_and_removed_before_sending(client):
    with responses.RequestsMock() as mock:
        with pytest.raises(ValidationError, match="remove_metadata"):
            client.user_profiles.update(
                "uprof_1", metadata={"plan": "pro"}, remove_metadata=["plan"]
            )
        assert len(mock.calls) == 0


@responses.activate
def test_create_enrollment_url_returns_signed_url_and_expiry(client):
    url = "https://platform.claude.com/user-profiles/enrollment/abc123"
    responses.post(
        f"{PROFILES}/uprof_E1/enrollment_url",
        json={
            "type": "enrollment_url",
            "url": url,
            "expires_at": "2026-03-15T10:15:00Z",
        },
    )

    enrollment = client.user_profiles.create_enrollment_url("uprof_E1")

    assert "enrollment/abc123" in enrollment.url
    assert enrollment.expires_at.isoformat() == "2026-03-15T10:15:00+00:00"
    assert enrollment.kind == "enrollment_url"
    assert "abc123" not in repr(enrollment)


def test_bad_input_is_refused_before_anything_is_sent(client):
    with responses.RequestsMock() as mock:
        with pytest.raises(ValidationError, match="external_id"):
            client.user_profiles.create(external_id="x" * 256)
        with pytest.raises(ValidationError, match="metadata"):
            client.user_profiles.create(metadata={"k": "v" * 513})
        with pytest.raises(ValidationError, match="limit"):
            client.user_profiles.list(limit=101)
        with pytest.raises(ValidationError, match="order"):
            client.user_profiles.list(order="up")
        assert len(mock.calls) == 0


@responses.activate
def test_validate_false_skips_limits_but_not_id_checks():
    responses.post(PROFILES, json=wire_profile())
    client = Client(api_key=KEY, base_url=BASE, validate=False)

    client.user_profiles.create(external_id="x" * 300)

    assert sent_json(responses.calls[0]) == {"external_id": "x" * 300}
    with pytest.raises(ValidationError, match="user_profile_id"):
        client.user_profiles.get("a b")


@responses.activate
def test_redirects_are_not_followed(client):
    responses.get(
        f"{PROFILES}/uprof_1",
        status=307,
        headers={"location": "https://elsewhere.test/steal"},
    )

    with pytest.raises(APIStatusError) as caught:
        client.user_profiles.get("uprof_1")

    assert caught.value.status_code == 307
    assert len(responses.calls) == 1


# Retries


@responses.activate
def test_get_is_retried_after_a_server_error(client, sleeps):
    responses.get(f"{PROFILES}/uprof_1", status=500)
    responses.get(f"{PROFILES}/uprof_1", json=wire_profile("uprof_1"))

    assert client.user_profiles.get("uprof_1").id == "uprof_1"
    assert len(responses.calls) == 2
    assert 0.375 <= sleeps[0] <= 0.5


@responses.activate
def test_retries_stop_after_max_retries_and_raise_the_last_error(client, sleeps):
    responses.get(f"{PROFILES}/uprof_1", status=503)

    with pytest.raises(InternalServerError):
        client.user_profiles.get("uprof_1")

    assert len(responses.calls) == 3
    assert len(sleeps) == 2
    assert sleeps[1] > sleeps[0] * 1.4


@responses.activate
def test_max_retries_zero_means_one_attempt(sleeps):
    responses.get(f"{PROFILES}/uprof_1", status=503)
    client = Client(api_key=KEY, base_url=BASE, max_retries=0)

    with pytest.raises(InternalServerError):
        client.user_profiles.get("uprof_1")

    assert len(responses.calls) == 1
    assert sleeps == []


@responses.activate
def test_per_call_max_retries_and_timeout_override_the_client(client, sleeps):
    responses.get(f"{PROFILES}/uprof_1", status=503)

    with pytest.raises(InternalServerError):
        client.user_profiles.get("uprof_1", max_retries=4, timeout=(1, 2))

    assert len(responses.calls) == 5
    assert responses.calls[0].request.req_kwargs["timeout"] == (1.0, 2.0)


@responses.activate
def test_client_timeout_reaches_the_transport(sleeps):
    responses.get(f"{PROFILES}/uprof_1", json=wire_profile())
    client = Client(api_key=KEY, base_url=BASE, timeout=Timeout(connect=2, read=9))

    client.user_profiles.get("uprof_1")

    assert responses.calls[0].request.req_kwargs["timeout"] == (2.0, 9.0)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 413, 422])
@responses.activate
def test_client_errors_are_not_retried(client, sleeps, status):
    responses.get(f"{PROFILES}/uprof_1", status=status)

    with pytest.raises(APIStatusError):
        client.user_profiles.get("uprof_1")

    assert len(responses.calls) == 1


@responses.activate
def test_retry_after_ms_is_honoured_before_retry_after(client, sleeps):
    headers = {"retry-after-ms": "1200", "retry-after": "7"}
    responses.get(f"{PROFILES}/uprof_1", status=429, headers=headers)
    responses.get(f"{PROFILES}/uprof_1", json=wire_profile())

    client.user_profiles.get("uprof_1")

    assert sleeps == [1.2]


@responses.activate
def test_retry_after_longer_than_the_cap_raises_at_once(client, sleeps):
    responses.get(f"{PROFILES}/uprof_1", status=429, headers={"retry-after": "61"})

    with pytest.raises(RateLimitError) as caught:
        client.user_profiles.get("uprof_1")

    assert caught.value.retry_after == 61
    assert len(responses.calls) == 1
    assert sleeps == []


@responses.activate
def test_should_retry_false_stops_a_retry_the_table_allows(client, sleeps):
    responses.get(
        f"{PROFILES}/uprof_1", status=503, headers={"x-should-retry": "false"}
    )

    with pytest.raises(InternalServerError):
        client.user_profiles.get("uprof_1")

    assert len(responses.calls) == 1


@responses.activate
def test_should_retry_true_retries_a_status_the_table_does_not(client, sleeps):
    responses.get(f"{PROFILES}/uprof_1", status=400, headers={"x-should-retry": "true"})
    responses.get(f"{PROFILES}/uprof_1", json=wire_profile())

    client.user_profiles.get("uprof_1")

    assert len(responses.calls) == 2


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408, 409])
@responses.activate
def test_create_is_not_retried_and_says_the_profile_may_exist(client, sleeps, status):
    responses.post(PROFILES, status=status)

    with pytest.raises(APIStatusError) as caught:
        client.user_profiles.create(external_id="u1")

    assert len(responses.calls) == 1
    assert "may have been created" in str(caught.value)
    assert caught.value.may_have_been_created


@pytest.mark.parametrize("status", [429, 529])
@responses.activate
def test_create_is_retried_when_the_api_did_not_process_it(client, sleeps, status):
    responses.post(PROFILES, status=status, headers={"retry-after": "0"})
    responses.post(PROFILES, json=wire_profile())

    client.user_profiles.create(external_id="u1")

    assert len(responses.calls) == 2
    assert sleeps == [0.0]


@responses.activate
def test_create_is_retried_when_the_api_says_it_should(client, sleeps):
    responses.post(PROFILES, status=500, headers={"x-should-retry": "true"})
    responses.post(PROFILES, json=wire_profile())

    client.user_profiles.create(external_id="u1")

    assert len(responses.calls) == 2


@responses.activate
def test_create_refused_with_a_client_error_does_not_claim_it_may_exist(client):
    responses.post(PROFILES, status=400, json={"error": {"message": "bad"}})

    with pytest.raises(BadRequestError) as caught:
        client.user_profiles.create(external_id="u1")

    assert "may have been created" not in str(caught.value)
    assert not caught.value.may_have_been_created


@responses.activate
def test_create_that_keeps_being_overloaded_does_not_claim_it_may_exist(sleeps):
    responses.post(PROFILES, status=529)
    client = Client(api_key=KEY, base_url=BASE, max_retries=1)

    with pytest.raises(OverloadedError) as caught:
        client.user_profiles.create()

    assert len(responses.calls) == 2
    assert "may have been created" not in str(caught.value)


@responses.activate
def test_update_and_enrollment_urls_are_retried_after_server_errors(client, sleeps):
    responses.post(f"{PROFILES}/uprof_1", status=500)
    responses.post(f"{PROFILES}/uprof_1", json=wire_profile("uprof_1"))
    responses.post(f"{PROFILES}/uprof_1/enrollment_url", status=502)
    responses.post(
        f"{PROFILES}/uprof_1/enrollment_url",
        json={"url": "https://x.test/e", "expires_at": "2026-03-15T10:15:00Z"},
    )

    client.user_profiles.update("uprof_1", metadata={"a": "b"})
    client.user_profiles.create_enrollment_url("uprof_1")

    assert len(responses.calls) == 4


@responses.activate
def test_connection_reset_is_retried_for_reads(client, sleeps):
    responses.get(f"{PROFILES}/uprof_1", body=requests.ConnectionError("reset"))
    responses.get(f"{PROFILES}/uprof_1", json=wire_profile())

    client.user_profiles.get("uprof_1")

    assert len(responses.calls) == 2


@responses.activate
def test_connection_reset_during_create_is_not_retried(client, sleeps):
    responses.post(PROFILES, body=requests.ConnectionError("reset"))

    with pytest.raises(APIConnectionError) as caught:
        client.user_profiles.create(external_id="u1")

    assert caught.value.request_sent
    assert caught.value.may_have_been_created
    assert caught.value.message == (
        "Connection failed: reset. The user profile may have been created: look for"
        " it before creating it again."
    )
    assert len(responses.calls) == 1


@responses.activate
def test_a_reset_during_get_never_claims_a_profile_may_exist(sleeps):
    responses.get(f"{PROFILES}/uprof_1", body=requests.ConnectionError("reset"))
    client = Client(api_key=KEY, base_url=BASE, max_retries=0)

    with pytest.raises(APIConnectionError) as caught:
        client.user_profiles.get("uprof_1")

    assert not caught.value.may_have_been_created


@responses.activate
def test_a_success_body_that_breaks_after_create_says_it_may_exist(client):
    responses.post(PROFILES, body="not json")

    with pytest.raises(user_profiles_sdk.APIResponseError) as caught:
        client.user_profiles.create()

    assert caught.value.may_have_been_created


def test_connection_errors_keep_no_link_to_the_request_and_its_key(sleeps):
    client = Client(api_key=KEY, base_url="http://127.0.0.1:9", max_retries=0)

    with pytest.raises(APIConnectionError) as caught:
        client.user_profiles.get("uprof_1")

    assert caught.value.__context__ is None
    assert caught.value.__cause__ is None


@responses.activate
def test_read_timeout_raises_a_timeout_error_that_may_have_been_processed(sleeps):
    responses.post(PROFILES, body=requests.ReadTimeout("slow"))
    client = Client(api_key=KEY, base_url=BASE, timeout=(1, 3))

    with pytest.raises(APITimeoutError, match="after 3.0 s") as caught:
        client.user_profiles.create()

    assert caught.value.request_sent
    assert len(responses.calls) == 1


@responses.activate
def test_connect_timeout_is_retried_even_for_create(client, sleeps):
    responses.post(PROFILES, body=requests.ConnectTimeout("no route"))
    responses.post(PROFILES, json=wire_profile())

    client.user_profiles.create()

    assert len(responses.calls) == 2


def test_refused_connection_retries_create_and_says_nothing_was_sent(sleeps):
    client = Client(api_key=KEY, base_url="http://127.0.0.1:9", max_retries=2)

    with pytest.raises(APIConnectionError) as caught:
        client.user_profiles.create(external_id="u1")

    assert not caught.value.request_sent
    assert len(sleeps) == 2
    assert "refused" in str(caught.value).lower()
    assert "may have been created" not in str(caught.value)


# Pagination


def page_json(ids, cursor=None, **extra):
    return {"data": [wire_profile(i) for i in ids], "next_page": cursor, **extra}


def add_page(query, body):
    responses.get(PROFILES, json=body, match=[matchers.query_param_matcher(query)])


@responses.activate
def test_list_all_follows_cursors_and_carries_every_parameter(client):
    add_page({"limit": "2", "order": "asc"}, page_json(["a", "b"], "c1"))
    add_page({"limit": "2", "order": "asc", "page": "c1"}, page_json(["c"], None))

    ids = [p.id for p in client.user_profiles.list_all(limit=2, order="asc")]

    assert ids == ["a", "b", "c"]


@responses.activate
def test_list_pages_stops_when_next_page_is_missing(client):
    add_page({}, {"data": [wire_profile("a")], "has_more": True})

    pages = list(client.user_profiles.list_pages())

    assert len(pages) == 1
    assert pages[0].has_more is True


@responses.activate
def test_list_pages_goes_on_past_an_empty_page_with_a_cursor(client):
    add_page({}, page_json([], "c1"))
    add_page({"page": "c1"}, page_json(["a"], None))

    pages = list(client.user_profiles.list_pages())

    assert [len(page) for page in pages] == [0, 1]


@responses.activate
def test_list_pages_resumes_from_a_given_cursor(client):
    add_page({"page": "saved"}, page_json(["x"], None))

    ids = [p.id for p in client.user_profiles.list_all(page="saved")]

    assert ids == ["x"]


@responses.activate
def test_list_pages_raises_when_a_cursor_repeats(client):
    add_page({}, page_json(["a"], "c1"))
    add_page({"page": "c1"}, page_json(["b"], "c2"))
    add_page({"page": "c2"}, page_json(["c"], "c1"))

    with pytest.raises(user_profiles_sdk.APIResponseError, match="'c1' a second"):
        list(client.user_profiles.list_all())

    assert len(responses.calls) == 3


@responses.activate
def test_list_pages_raises_when_the_first_cursor_comes_back(client):
    add_page({"page": "start"}, page_json(["a"], "start"))

    with pytest.raises(user_profiles_sdk.APIResponseError):
        list(client.user_profiles.list_pages(page="start"))


@responses.activate
def test_list_all_is_lazy(client):
    add_page({}, page_json(["a", "b"], "c1"))
    add_page({"page": "c1"}, page_json(["c"], None))

    profiles = client.user_profiles.list_all()
    assert len(responses.calls) == 0
    next(profiles)
    next(profiles)

    assert len(responses.calls) == 1


def test_list_all_validates_its_arguments_when_called(client):
    with pytest.raises(ValidationError, match="limit"):
        client.user_profiles.list_all(limit=0)
    with pytest.raises(ValidationError, match="page"):
        client.user_profiles.list_pages(page="")


@responses.activate
def test_a_cursor_the_api_rejects_raises_bad_request(client):
    responses.get(PROFILES, status=400, json={"error": {"message": "bad cursor"}})

    with pytest.raises(BadRequestError, match="bad cursor"):
        list(client.user_profiles.list_all(page="stale"))


# Logging


@responses.activate
def test_debug_logs_one_line_per_attempt_without_secrets(client, caplog, sleeps):
    responses.get(f"{PROFILES}/uprof_1", status=503, headers={"request-id": "req_a"})
    responses.get(
        f"{PROFILES}/uprof_1", json=wire_profile(), headers={"request-id": "req_b"}
    )
    caplog.set_level(logging.DEBUG, logger="user_profiles_sdk")

    client.user_profiles.get("uprof_1")

    debug = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    info = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert len(debug) == 2
    assert debug[0].startswith("GET /v1/user_profiles/uprof_1 -> 503 in ")
    assert debug[0].endswith("(request id req_a)")
    assert "req_b" in debug[1]
    assert info == [info[0]]
    assert "attempt 2 of 3" in info[0]
    assert all(KEY not in line for line in debug + info)


@responses.activate
def test_logs_never_hold_the_enrollment_url_or_the_cursor(client, caplog):
    secret = "https://x.test/enrollment/tok_secret"
    responses.post(
        f"{PROFILES}/uprof_1/enrollment_url",
        json={"url": secret, "expires_at": "2026-03-15T10:15:00Z"},
    )
    add_page({"page": "cur_secret"}, page_json([], None))
    caplog.set_level(logging.DEBUG, logger="user_profiles_sdk")

    client.user_profiles.create_enrollment_url("uprof_1")
    client.user_profiles.list(page="cur_secret")

    assert "tok_secret" not in caplog.text
    assert "cur_secret" not in caplog.text
    assert KEY not in caplog.text


# Sessions and processes


@responses.activate
def test_callers_session_is_used_and_not_changed():
    responses.get(f"{PROFILES}/uprof_1", json=wire_profile())
    session = requests.Session()
    session.headers["x-trace"] = "mine"
    adapters = dict(session.adapters)
    headers = dict(session.headers)

    with Client(api_key=KEY, base_url=BASE, session=session) as client:
        client.user_profiles.get("uprof_1")

    assert dict(session.adapters) == adapters
    assert dict(session.headers) == headers


def test_callers_session_carries_the_requests():
    class Recording(requests.adapters.HTTPAdapter):
        def send(self, request, **kwargs):
            self.seen = (request.url, kwargs)
            raise requests.ConnectionError("recorded")

    adapter = Recording()
    session = requests.Session()
    session.mount("http://", adapter)
    client = Client(api_key=KEY, base_url=BASE, session=session, max_retries=0)

    with pytest.raises(APIConnectionError):
        client.user_profiles.get("uprof_1")

    url, kwargs = adapter.seen
    assert url == f"{PROFILES}/uprof_1"
    assert kwargs["timeout"] == (5.0, 30.0)


def test_environment_proxy_settings_are_resolved_once(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)

    client = Client(api_key=KEY, base_url="https://api.example.test")

    assert client._settings["proxies"]["https"] == "http://127.0.0.1:3128"


def test_pool_size_sets_the_connections_kept():
    client = Client(api_key=KEY, base_url=BASE, pool_size=32)

    assert client._session.get_adapter(BASE)._pool_maxsize == 32


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_gets_its_own_connection_pool():
    client = Client(api_key=KEY, base_url=BASE)
    parent_session = client._session
    reader, writer = os.pipe()

    pid = os.fork()
    if pid == 0:
        fresh = client._session is not parent_session
        os.write(writer, b"fresh" if fresh else b"shared")
        os._exit(0)
    os.close(writer)
    answer = os.read(reader, 16)
    os.waitpid(pid, 0)

    assert answer == b"fresh"
    assert client._session is parent_session


def test_a_client_with_a_callers_session_keeps_it_after_fork():
    session = requests.Session()
    client = Client(api_key=KEY, base_url=BASE, session=session)

    assert client not in user_profiles_sdk._client._OWN_POOLS
    assert client._session is session


def test_pickled_client_errors_never_need_the_client():
    error = NotFoundError("gone", status_code=404, request_id="req_1")

    assert pickle.loads(pickle.dumps(error)).request_id == "req_1"


def test_close_closes_the_clients_own_session_but_never_a_callers(monkeypatch):
    closed = []
    monkeypatch.setattr(requests.Session, "close", lambda self: closed.append(self))
    session = requests.Session()

    with Client(api_key=KEY, base_url=BASE, session=session):
        pass
    with Client(api_key=KEY, base_url=BASE) as own:
        pass

    assert closed == [own._session]


@pytest.mark.parametrize("value", [0, -3, 2.5, True])
def test_pool_size_that_is_not_a_positive_count_is_refused(value):
    with pytest.raises(ValidationError, match="pool_size"):
        Client(api_key=KEY, base_url=BASE, pool_size=value)
