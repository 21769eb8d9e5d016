import pickle

import pytest
import responses

from user_profiles_sdk import (
    APIResponseError,
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    Client,
    ConflictError,
    InternalServerError,
    NotFoundError,
    OverloadedError,
    PermissionDeniedError,
    RateLimitError,
    RequestTooLargeError,
    UserProfilesError,
    ValidationError,
)

BASE = "http://127.0.0.1:9"
KEY = "sk-ant-secret-key-for-tests"
URL = f"{BASE}/v1/user_profiles/uprof_1"


def error_body(kind, message, request_id="req_body", code=None):
    error = {"type": kind, "message": message}
    if code:
        error["details"] = {"error_code": code}
    return {"type": "error", "error": error, "request_id": request_id}


@pytest.fixture
def client():
    with Client(api_key=KEY, base_url=BASE, max_retries=0) as made:
        yield made


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (408, APIStatusError),
        (409, ConflictError),
        (413, RequestTooLargeError),
        (422, APIStatusError),
        (429, RateLimitError),
        (500, InternalServerError),
        (502, InternalServerError),
        (503, InternalServerError),
        (504, InternalServerError),
        (529, OverloadedError),
        (405, APIStatusError),
        (302, APIStatusError),
    ],
)
@responses.activate
def test_each_status_raises_its_error_class(client, status, cls):
    responses.get(URL, status=status, json=error_body("some_error", "failed"))

    with pytest.raises(APIStatusError) as caught:
        client.user_profiles.get("uprof_1")

    assert type(caught.value) is cls
    assert caught.value.status_code == status


@responses.activate
def test_error_fields_come_from_the_json_body(client):
    body = error_body("invalid_request_error", "metadata: too many keys", code="x")
    responses.get(URL, status=400, json=body, headers={"request-id": "req_head"})

    with pytest.raises(BadRequestError) as caught:
        client.user_profiles.get("uprof_1")

    error = caught.value
    assert error.error_type == "invalid_request_error"
    assert error.error_code == "x"
    assert error.message == "metadata: too many keys"
    assert error.request_id == "req_head"
    assert error.body == body


@responses.activate
def test_body_request_id_is_the_fallback_for_the_header(client):
    responses.get(URL, status=404, json=error_body("not_found_error", "nope"))

    with pytest.raises(NotFoundError) as caught:
        client.user_profiles.get("uprof_1")

    assert caught.value.request_id == "req_body"


@responses.activate
def test_str_names_status_type_code_message_and_request_id(client):
    body = error_body("invalid_request_error", "bad metadata", code="invalid_metadata")
    responses.get(URL, status=400, json=body, headers={"request-id": "req_42"})

    with pytest.raises(BadRequestError) as caught:
        client.user_profiles.get("uprof_1")

    assert str(caught.value) == (
        "400 invalid_request_error [invalid_metadata]: bad metadata (request id req_42)"
    )


@responses.activate
def test_html_error_body_gives_the_class_and_a_readable_message(client):
    page = "<html><head><title>502 Bad Gateway</title></head><body>x</body></html>"
    responses.get(URL, status=502, body=page, content_type="text/html")

    with pytest.raises(InternalServerError) as caught:
        client.user_profiles.get("uprof_1")

    assert caught.value.message == "502 Bad Gateway"
    assert caught.value.body == page
    assert caught.value.error_type is None


@responses.activate
def test_plain_text_error_body_becomes_the_message(client):
    responses.get(URL, status=503, body="upstream   connect error\n")

    with pytest.raises(InternalServerError) as caught:
        client.user_profiles.get("uprof_1")

    assert caught.value.message == "upstream connect error"


@responses.activate
def test_long_text_error_body_is_cut_short(client):
    responses.get(URL, status=500, body="x" * 5000)

    with pytest.raises(InternalServerError) as caught:
        client.user_profiles.get("uprof_1")

    assert len(caught.value.message) == 200
    assert caught.value.message.endswith("...")


@responses.activate
def test_empty_error_body_still_gives_a_message(client):
    responses.get(URL, status=401, body=b"")

    with pytest.raises(AuthenticationError) as caught:
        client.user_profiles.get("uprof_1")

    assert caught.value.message == "HTTP 401 Unauthorized with no error body."
    assert caught.value.body is None


@responses.activate
def test_json_body_that_is_not_the_error_shape_still_gives_a_message(client):
    responses.get(URL, status=500, json=["unexpected"])

    with pytest.raises(InternalServerError) as caught:
        client.user_profiles.get("uprof_1")

    assert "500" in caught.value.message


@responses.activate
def test_success_body_that_is_not_json_raises_response_error(client):
    responses.get(URL, body="<html>ok</html>", headers={"request-id": "req_7"})

    with pytest.raises(APIResponseError) as caught:
        client.user_profiles.get("uprof_1")

    assert caught.value.status_code == 200
    assert caught.value.request_id == "req_7"
    assert "req_7" in str(caught.value)


@responses.activate
def test_success_body_missing_a_field_names_it(client):
    responses.get(URL, json={"type": "user_profile"})

    with pytest.raises(APIResponseError, match="missing field 'id'"):
        client.user_profiles.get("uprof_1")


@responses.activate
def test_pickled_error_keeps_its_fields_and_holds_no_key(client):
    body = error_body("rate_limit_error", "slow down")
    responses.get(URL, status=429, json=body, headers={"retry-after": "90"})

    with pytest.raises(RateLimitError) as caught:
        client.user_profiles.get("uprof_1")

    data = pickle.dumps(caught.value)
    copy = pickle.loads(data)
    assert KEY.encode() not in data
    assert type(copy) is RateLimitError
    assert str(copy) == str(caught.value)
    assert (copy.status_code, copy.retry_after, copy.body) == (429, 90.0, body)


def test_validation_error_pickles_with_field_and_rule():
    error = pickle.loads(pickle.dumps(ValidationError("limit", "must be 1 to 100")))

    assert (error.field, error.rule, str(error)) == (
        "limit",
        "must be 1 to 100",
        "limit: must be 1 to 100",
    )


def test_every_error_is_a_user_profiles_error():
    assert issubclass(ValidationError, UserProfilesError)
    assert issubclass(ValidationError, ValueError)
    assert issubclass(OverloadedError, InternalServerError)
    assert issubclass(APIResponseError, UserProfilesError)
