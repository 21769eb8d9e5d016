import email.utils

import pytest

from user_profiles_sdk import _retry


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504, 529])
def test_retryable_statuses_are_retried_for_idempotent_calls(status):
    assert _retry.should_retry_status(status, None, idempotent=True)


@pytest.mark.parametrize("status", [301, 400, 401, 403, 404, 405, 413, 422, 501])
def test_other_statuses_are_not_retried(status):
    assert not _retry.should_retry_status(status, None, idempotent=True)


@pytest.mark.parametrize("status", [429, 529])
def test_create_is_retried_on_statuses_that_prove_it_was_not_processed(status):
    assert _retry.should_retry_status(status, None, idempotent=False)


@pytest.mark.parametrize("status", [408, 409, 500, 502, 503, 504])
def test_create_is_not_retried_when_it_may_have_been_processed(status):
    assert not _retry.should_retry_status(status, None, idempotent=False)


def test_should_retry_header_overrides_the_table_both_ways():
    assert _retry.should_retry_status(400, "true", idempotent=True)
    assert _retry.should_retry_status(500, "true", idempotent=False)
    assert not _retry.should_retry_status(503, "false", idempotent=True)
    assert not _retry.should_retry_status(429, " FALSE ", idempotent=False)


def test_malformed_should_retry_header_falls_back_to_the_table():
    assert _retry.should_retry_status(503, "maybe", idempotent=True)


def test_connection_failures_retry_create_only_when_never_sent():
    assert _retry.should_retry_connection(request_sent=True, idempotent=True)
    assert _retry.should_retry_connection(request_sent=False, idempotent=False)
    assert not _retry.should_retry_connection(request_sent=True, idempotent=False)


@pytest.mark.parametrize(
    ("status", "header", "maybe"),
    [
        (500, None, True),
        (408, None, True),
        (302, None, True),
        (429, None, False),
        (529, None, False),
        (400, None, False),
        (404, None, False),
        (503, "true", False),
    ],
)
def test_may_have_processed_separates_refusals_from_open_outcomes(
    status, header, maybe
):
    assert _retry.may_have_processed(status, header) is maybe


def test_retry_after_ms_wins_over_retry_after():
    headers = {"retry-after-ms": "250", "retry-after": "7"}

    assert _retry.retry_after(headers) == 0.25


def test_retry_after_in_seconds_is_read():
    assert _retry.retry_after({"retry-after": "3"}) == 3.0
    assert _retry.retry_after({"retry-after": "1.5"}) == 1.5


def test_retry_after_as_an_http_date_is_read_against_now():
    date = email.utils.formatdate(1_000_030, usegmt=True)

    assert _retry.retry_after({"retry-after": date}, now=lambda: 1_000_000) == 30


def test_retry_after_in_the_past_means_no_wait():
    date = email.utils.formatdate(1_000_000, usegmt=True)

    assert _retry.retry_after({"retry-after": date}, now=lambda: 1_000_100) == 0


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"retry-after": "soon"},
        {"retry-after": "-5"},
        {"retry-after": "nan"},
        {"retry-after-ms": "inf"},
    ],
)
def test_missing_or_malformed_retry_after_counts_as_not_said(headers):
    assert _retry.retry_after(headers) is None


def test_malformed_retry_after_ms_falls_back_to_retry_after():
    assert _retry.retry_after({"retry-after-ms": "x", "retry-after": "2"}) == 2


def test_backoff_doubles_from_half_a_second_to_eight():
    waits = [_retry.backoff(n, rand=lambda: 0.0) for n in range(1, 8)]

    assert waits == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


def test_backoff_jitter_takes_off_at_most_a_quarter():
    assert _retry.backoff(1, rand=lambda: 1.0) == 0.375
    assert _retry.backoff(5, rand=lambda: 0.5) == 7.0
