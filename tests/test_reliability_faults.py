"""Every fault of the contract, against the emulator over loopback HTTP.

Attempts are counted on the server side, from the requests the fake received,
and each test records a row of the table of faults (see reliability_report.py).
Backoff waits are recorded instead of slept.
"""

from __future__ import annotations

import email.utils
import logging
import time

import pytest
from reliability_support import (
    ENDPOINTS,
    KEY,
    MAY_EXIST,
    attempt,
    call,
    closed_port,
    fresh_fake,
    make_client,
    record_fault,
    record_writes,
    serving,
    stored_with,
)

from user_profiles_sdk import (
    APIConnectionError,
    APIResponseError,
    APIStatusError,
    APITimeoutError,
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
)
from user_profiles_sdk._converter import unstructure_profile

# API.md's table of statuses, written out here rather than read from the SDK,
# so that a change to the SDK's own tables cannot make these tests agree.
ERROR_CLASSES = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    408: APIStatusError,
    409: ConflictError,
    413: RequestTooLargeError,
    429: RateLimitError,
    500: InternalServerError,
    502: InternalServerError,
    503: InternalServerError,
    504: InternalServerError,
    529: OverloadedError,
}
RETRIED = frozenset((408, 409, 429, 500, 502, 503, 504, 529))
RETRIED_FOR_CREATE = frozenset((429, 529))
CREATE_MAY_EXIST_AFTER = frozenset((408, 409, 500, 502, 503, 504))
READS_AND_UPDATES = [endpoint for endpoint in ENDPOINTS if endpoint != "create"]


def is_retried(status, endpoint):
    return status in (RETRIED_FOR_CREATE if endpoint == "create" else RETRIED)


server = pytest.fixture(serving, scope="module", name="server")
fake = pytest.fixture(fresh_fake, name="fake")


@pytest.fixture
def profile(fake):
    return fake.add_profile(external_id="stored", metadata={"plan": "pro"})


@pytest.fixture
def client(server):
    with make_client(server) as made:
        yield made


@pytest.fixture
def trial(fake, profile, client, record_property):
    """Return a function that makes one call and records its row of the table.

    The function calls `endpoint` through `through` (the test's client by
    default), or runs `run` instead, and returns the result, the error raised
    if any, and the attempts the server saw. For a create it also records the
    profiles stored, as writes lost or doubled.
    """

    def run_one(fault, endpoint, through=None, run=None):
        job = run or (lambda: call(through or client, endpoint, profile.id, "made"))
        result, error, attempts = attempt(fake, job)
        stored = None
        if endpoint == "create":
            stored = stored_with(fake, "made")
            record_writes(record_property, stored, confirmed=error is None)
        record_fault(record_property, fault, endpoint, attempts, error, stored)
        return result, error, attempts

    return run_one


# Error statuses


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("status", sorted(ERROR_CLASSES))
def test_one_error_status_is_retried_exactly_as_the_contract_says(
    fake, trial, sleeps, status, endpoint
):
    fake.fail_next(status)

    _, error, attempts = trial(f"{status} once", endpoint)

    if is_retried(status, endpoint):
        assert error is None
        assert (attempts, len(sleeps)) == (2, 1)
    else:
        assert type(error) is ERROR_CLASSES[status]
        assert error.status_code == status
        assert error.request_id.startswith("req_")
        assert (attempts, sleeps) == (1, [])


@pytest.mark.parametrize("status", sorted(ERROR_CLASSES))
def test_a_create_says_it_may_exist_only_after_statuses_that_leave_it_open(
    fake, trial, sleeps, status
):
    fake.fail_next(status, times=3)

    _, error, attempts = trial(f"{status} on every attempt", "create")

    assert stored_with(fake, "made") == 0
    assert (MAY_EXIST in str(error)) == (status in CREATE_MAY_EXIST_AFTER)


@pytest.mark.parametrize("endpoint", READS_AND_UPDATES)
@pytest.mark.parametrize("status", [503, 529])
def test_a_status_that_persists_gives_up_after_max_retries(
    fake, trial, sleeps, status, endpoint
):
    fake.fail_next(status, times=3)

    _, error, attempts = trial(f"{status} on every attempt", endpoint)

    assert type(error) is ERROR_CLASSES[status]
    assert (attempts, len(sleeps)) == (3, 2)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("status", [400, 500])
def test_should_retry_true_retries_even_what_the_table_refuses(
    fake, trial, sleeps, status, endpoint
):
    fake.fail_next(status, headers={"x-should-retry": "true"})

    _, error, attempts = trial(f"{status}, x-should-retry: true", endpoint)

    assert error is None
    assert attempts == 2
    if endpoint == "create":
        assert stored_with(fake, "made") == 1


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("status", [429, 503])
def test_should_retry_false_stops_even_what_the_table_retries(
    fake, trial, sleeps, status, endpoint
):
    fake.fail_next(status, headers={"x-should-retry": "false"})

    _, error, attempts = trial(f"{status}, x-should-retry: false", endpoint)

    assert type(error) is ERROR_CLASSES[status]
    assert (attempts, sleeps) == (1, [])


# How long to wait


def http_date(seconds_from_now):
    return email.utils.formatdate(time.time() + seconds_from_now, usegmt=True)


WAITS = {
    "retry-after-ms 250 beside retry-after 7": (
        {"retry-after-ms": "250", "retry-after": "7"},
        (0.25, 0.25),
    ),
    "retry-after 3 (seconds)": ({"retry-after": "3"}, (3.0, 3.0)),
    "retry-after 0": ({"retry-after": "0"}, (0.0, 0.0)),
    "retry-after-ms malformed, retry-after 2": (
        {"retry-after-ms": "soon", "retry-after": "2"},
        (2.0, 2.0),
    ),
    "retry-after malformed": ({"retry-after": "soon"}, (0.375, 0.5)),
    "retry-after negative": ({"retry-after": "-5"}, (0.375, 0.5)),
    "retry-after nan": ({"retry-after": "nan"}, (0.375, 0.5)),
}


@pytest.mark.parametrize("endpoint", ["get", "create"])
@pytest.mark.parametrize("name", sorted(WAITS))
def test_a_429_waits_as_long_as_the_headers_ask(fake, trial, sleeps, name, endpoint):
    headers, (shortest, longest) = WAITS[name]
    fake.fail_next(429, headers=headers)

    _, error, attempts = trial(f"429, {name}", endpoint)

    assert error is None
    assert attempts == 2
    assert shortest <= sleeps[0] <= longest


@pytest.mark.parametrize("endpoint", ["get", "create"])
def test_a_429_with_an_http_date_waits_until_that_moment(fake, trial, sleeps, endpoint):
    fake.fail_next(429, headers={"retry-after": http_date(30)})

    _, error, attempts = trial("429, retry-after as an HTTP date", endpoint)

    assert error is None
    assert attempts == 2
    assert 28 <= sleeps[0] <= 30


OVER_THE_CAP = {
    "retry-after 61": ({"retry-after": "61"}, 61, 61),
    "retry-after-ms 60001": ({"retry-after-ms": "60001"}, 60.001, 60.001),
    "retry-after an HTTP date 2 min away": (None, 110, 120),
}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("name", sorted(OVER_THE_CAP))
def test_a_wait_over_the_cap_raises_at_once_with_retry_after(
    fake, trial, sleeps, name, endpoint
):
    headers, shortest, longest = OVER_THE_CAP[name]
    fake.fail_next(429, headers=headers or {"retry-after": http_date(120)})

    _, error, attempts = trial(f"429, {name}", endpoint)

    assert type(error) is RateLimitError
    assert shortest <= error.retry_after <= longest
    assert (attempts, sleeps) == (1, [])


# No answer


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_refused_connection_is_retried_and_says_nothing_was_sent(
    sleeps, caplog, record_property, endpoint
):
    caplog.set_level(logging.DEBUG, logger="user_profiles_sdk")
    url = f"http://127.0.0.1:{closed_port()}"

    client = Client(api_key=KEY, base_url=url, timeout=(1, 1))

    with client, pytest.raises(APIConnectionError) as caught:
        call(client, endpoint, "uprof_000000000000000000000000", "made")

    tries = [r for r in caplog.records if "-> APIConnectionError" in r.getMessage()]
    record_fault(
        record_property,
        "connection refused (closed port)",
        endpoint,
        f"{len(tries)} (client log; nothing listens)",
        caught.value,
    )
    assert not caught.value.request_sent
    assert MAY_EXIST not in str(caught.value)
    assert (len(tries), len(sleeps)) == (3, 2)


PROCESSED = pytest.mark.parametrize(
    "processed", [False, True], ids=["unprocessed", "processed"]
)


def check_open_create(fake, error, attempts, kind, *, processed):
    """Check a create after a fault that leaves open whether it was processed."""
    assert type(error) is kind
    assert error.request_sent
    assert MAY_EXIST in str(error)
    assert attempts == 1
    assert stored_with(fake, "made") == (1 if processed else 0)


@PROCESSED
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_dropped_connection_is_retried_unless_a_create_may_have_been_processed(
    fake, trial, sleeps, endpoint, processed
):
    fake.drop_next(processed=processed)

    when = "after processing" if processed else "before reading the body"
    _, error, attempts = trial(f"connection dropped {when}", endpoint)

    if endpoint == "create":
        check_open_create(
            fake, error, attempts, APIConnectionError, processed=processed
        )
    else:
        assert (error, attempts) == (None, 2)


@PROCESSED
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_an_answer_stalled_past_the_read_timeout_is_retried_unless_a_create(
    server, fake, trial, sleeps, endpoint, processed
):
    fake.stall_next(3.0, processed=processed)

    when = "processed first" if processed else "unprocessed"
    with make_client(server, timeout=(1.0, 0.5)) as impatient:
        _, error, attempts = trial(
            f"answer stalled past the read timeout, {when}", endpoint, impatient
        )

    if endpoint == "create":
        check_open_create(fake, error, attempts, APITimeoutError, processed=processed)
    else:
        assert (error, attempts) == (None, 2)


def test_a_read_that_stalls_on_every_attempt_raises_a_timeout_error(
    server, fake, trial, sleeps
):
    for _ in range(3):
        fake.stall_next(3.0)

    with make_client(server, timeout=(1.0, 0.5)) as impatient:
        _, error, attempts = trial("answer stalled on every attempt", "get", impatient)

    assert type(error) is APITimeoutError
    assert "0.5 s" in str(error)
    assert attempts == 3


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_body_cut_short_is_retried_unless_it_was_a_create(
    fake, trial, sleeps, endpoint
):
    fake.truncate_next()

    _, error, attempts = trial("body cut short", endpoint)

    if endpoint == "create":
        check_open_create(fake, error, attempts, APIConnectionError, processed=True)
    else:
        assert (error, attempts) == (None, 2)


# Bodies that are not the contract's


ERROR_BODIES = {
    "HTML": (
        "<html><head><title>502 Bad Gateway</title></head>"
        "<body><h1>502 Bad Gateway</h1><hr>proxy</body></html>",
        {"content-type": "text/html"},
        "502 Bad Gateway",
    ),
    "plain text": (
        "upstream connect error",
        {"content-type": "text/plain"},
        "upstream connect error",
    ),
    "empty": ("", {}, "HTTP 502 Bad Gateway with no error body."),
}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("kind", sorted(ERROR_BODIES))
def test_an_error_body_that_is_not_json_still_gives_the_status_class(
    fake, trial, sleeps, kind, endpoint
):
    body, headers, message = ERROR_BODIES[kind]
    fake.fail_next(502, headers=headers, body=body, times=3)

    _, error, attempts = trial(f"502 with {kind} body", endpoint)

    assert type(error) is InternalServerError
    assert error.message.startswith(message)
    assert error.request_id.startswith("req_")
    assert attempts == (1 if endpoint == "create" else 3)


@pytest.mark.parametrize("kind", ["HTML", "empty"])
def test_a_client_error_with_a_proxy_body_is_classed_by_its_status(fake, trial, kind):
    body, headers, _ = ERROR_BODIES[kind]
    fake.fail_next(403, headers=headers, body=body.replace("502", "403"))

    _, error, attempts = trial(f"403 with {kind} body", "get")

    assert type(error) is PermissionDeniedError
    assert "403" in error.message
    assert attempts == 1


SUCCESS_BODIES = {
    "HTML": ("<html><body>Down for maintenance</body></html>", "text/html"),
    "empty": ("", "text/plain"),
    "JSON of another shape": ('{"unexpected": true}', "application/json"),
}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("kind", sorted(SUCCESS_BODIES))
def test_a_success_body_that_cannot_be_decoded_raises_with_the_request_id(
    fake, trial, sleeps, kind, endpoint
):
    body, content_type = SUCCESS_BODIES[kind]
    fake.respond_next(200, body, headers={"content-type": content_type})

    _, error, attempts = trial(f"200 with {kind} body", endpoint)

    assert type(error) is APIResponseError
    assert error.status_code == 200
    assert error.request_id.startswith("req_")
    assert error.request_id in str(error)
    assert attempts == 1
    if endpoint == "create":
        assert MAY_EXIST in str(error)


# Pagination


def page(profiles, cursor):
    return {"data": [unstructure_profile(p) for p in profiles], "next_page": cursor}


def test_paging_stops_with_an_error_when_a_cursor_repeats(fake, client, trial):
    first, second = fake.add_profile(), fake.add_profile()
    fake.respond_next(200, page([first], "cur_repeat"))
    fake.respond_next(200, page([second], "cur_repeat"))
    seen = []

    def walk():
        for one in client.user_profiles.list_all():
            seen.append(one.id)

    _, error, attempts = trial("list cursor repeats", "list_all", run=walk)

    assert type(error) is APIResponseError
    assert "cur_repeat" in str(error)
    assert seen == [first.id, second.id]
    assert attempts == 2


def test_paging_goes_on_past_an_empty_page_with_a_cursor(fake, client, trial):
    fake.seed(5)
    oldest_first = list(fake.profiles)
    cursor = client.user_profiles.list(limit=2, order="asc").next_page
    fake.respond_next(200, {"data": [], "next_page": cursor})

    result, error, attempts = trial(
        "list page empty but with a cursor",
        "list_all",
        run=lambda: [p.id for p in client.user_profiles.list_all(limit=2, order="asc")],
    )

    assert result == oldest_first[2:]
    assert attempts == 3


@pytest.mark.parametrize("cursor", ["stale", "Zm9v", "a b/c?d&page=x"])
def test_a_cursor_the_api_rejects_raises_bad_request_at_once(
    fake, client, trial, sleeps, cursor
):
    fake.seed(3)

    _, error, attempts = trial(
        f"list cursor rejected ({cursor!r})",
        "list_all",
        run=lambda: list(client.user_profiles.list_all(page=cursor)),
    )

    assert type(error) is BadRequestError
    assert "page" in error.message
    assert fake.requests[-1].query["page"] == cursor
    assert (attempts, sleeps) == (1, [])
