"""The API key and enrollment URLs stay out of logs, reprs and errors.

One tour, run once for the module, walks the fault paths of the fault tests on
every endpoint with every logger at DEBUG, urllib3's included, and keeps every
log line, model, page and error it meets. Each test then looks for the secrets
in one place they could leak to. urllib3's request lines hold the query string
(a cursor), never headers, so the key and the URLs' tokens are what is sought.
"""

from __future__ import annotations

import logging
import pickle
import traceback

import pytest
from reliability_support import ENDPOINTS, KEY, call, closed_port, make_client

import user_profiles_sdk
from user_profiles_sdk import Client, UserProfilesError
from user_profiles_sdk.testing import EmulatorServer

# A URL the emulator hands back in bodies the SDK cannot decode: it must not
# surface in the errors that say so.
CRAFTED_URL = "https://user-profiles.invalid/enrollment/tok_crafted_0123456789abcdef"

FAULTS = {
    "none": lambda fake: None,
    "429, retry-after 0": lambda fake: fake.fail_next(429, {"retry-after": "0"}),
    "503 every attempt": lambda fake: fake.fail_next(503, times=3),
    "429 over the cap": lambda fake: fake.fail_next(429, {"retry-after": "61"}),
    "401": lambda fake: fake.fail_next(401),
    "502 HTML": lambda fake: fake.fail_next(502, body="<title>Bad Gateway</title>"),
    "drop unprocessed": lambda fake: fake.drop_next(),
    "drop processed": lambda fake: fake.drop_next(processed=True),
    "stall": lambda fake: fake.stall_next(2.0),
    "body cut short": lambda fake: fake.truncate_next(),
    "200 not JSON": lambda fake: fake.respond_next(200, "<html>maintenance</html>"),
    "enrollment URL, bad expiry": lambda fake: fake.respond_next(
        200, {"url": CRAFTED_URL, "expires_at": "soon"}
    ),
    "enrollment URL, no expiry": lambda fake: fake.respond_next(
        200, {"type": "enrollment_url", "url": CRAFTED_URL}
    ),
}


class Keeper(logging.Handler):
    """Keep every record, formatted with its logger and any exception text."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines = []
        self.names = set()

    def emit(self, record):
        self.names.add(record.name)
        self.lines.append(self.format(record))


def keep(met, run, *args):
    """Run one call and keep its result or its error."""
    try:
        met.append(run(*args))
    except UserProfilesError as exc:
        met.append(exc)


def walk(fake, client, met):
    """Meet every fault on every endpoint, each on a fresh profile."""
    for inject in FAULTS.values():
        for endpoint in ENDPOINTS:
            fake.reset()
            profile = fake.add_profile(external_id="u1", metadata={"a": "b"})
            inject(fake)
            keep(met, call, client, endpoint, profile.id, "u2")
    keep(met, client.user_profiles.get, "../etc")


@pytest.fixture(scope="module")
def tour():
    """Run the tour once; return the kept lines, what was met, and the secrets."""
    keeper = Keeper()
    root = logging.getLogger()
    saved = root.level
    root.addHandler(keeper)
    root.setLevel(logging.DEBUG)
    met = []
    try:
        with pytest.MonkeyPatch.context() as patch, EmulatorServer() as server:
            patch.setattr(user_profiles_sdk._client.time, "sleep", lambda _: None)
            with make_client(server, timeout=(1.0, 0.25)) as client:
                met.append(client)
                walk(server.fake, client, met)
            refused = f"http://127.0.0.1:{closed_port()}"
            with Client(api_key=KEY, base_url=refused) as gone:
                keep(met, gone.user_profiles.get, "uprof_1")
    finally:
        root.removeHandler(keeper)
        root.setLevel(saved)

    urls = [item.url for item in met if hasattr(item, "expires_at")]
    tokens = [url.rsplit("/", 1)[1] for url in [*urls, CRAFTED_URL]]
    return keeper, met, [KEY, *urls, CRAFTED_URL, *tokens]


def leaks(texts, secrets):
    return [(secret, text) for text in texts for secret in secrets if secret in text]


def errors(met):
    return [item for item in met if isinstance(item, UserProfilesError)]


def test_the_tour_met_enrollment_urls_errors_and_debug_logs_of_both_libraries(
    tour, record_property
):
    keeper, met, _ = tour
    urls = [item for item in met if hasattr(item, "expires_at")]

    record_property(
        "secrets",
        {
            "fault paths x endpoints, at DEBUG": f"{len(FAULTS)} x {len(ENDPOINTS)}",
            "enrollment URLs received": len(urls),
            "errors raised": len(errors(met)),
        },
    )
    assert len(urls) >= 7
    assert len(errors(met)) >= 30
    assert {"user_profiles_sdk", "urllib3.connectionpool"} <= keeper.names
    assert any("-> 503" in line for line in keeper.lines)


def test_debug_logs_never_hold_the_key_or_an_enrollment_url(tour, record_property):
    keeper, _, secrets = tour

    found = leaks(keeper.lines, secrets)

    record_property(
        "secrets",
        {
            "secrets sought (key, enrollment URLs, their tokens)": len(secrets),
            "DEBUG log lines searched (SDK and urllib3)": len(keeper.lines),
            "secrets found in log lines": len(found),
        },
    )
    assert found == []


def test_reprs_of_the_client_models_and_pages_never_hold_a_secret(
    tour, record_property
):
    _, met, secrets = tour
    kept = [item for item in met if not isinstance(item, UserProfilesError)]

    found = leaks([repr(item) for item in kept], secrets)

    record_property(
        "secrets",
        {
            "reprs searched (client, profiles, pages, enrollment URLs)": len(kept),
            "secrets found in reprs": len(found),
        },
    )
    assert found == []


def test_error_text_and_tracebacks_never_hold_a_secret(tour, record_property):
    _, met, secrets = tour
    texts = []
    for error in errors(met):
        texts += [str(error), repr(error), repr(vars(error))]
        texts += traceback.format_exception(type(error), error, error.__traceback__)
        # Suppressed context is not printed, but error reporters can walk it.
        if error.__context__ is not None:
            texts += [str(error.__context__), repr(error.__context__)]

    found = leaks(texts, secrets)

    record_property(
        "secrets",
        {
            "errors searched (str, repr, attributes, traceback)": len(errors(met)),
            "secrets found in errors": len(found),
        },
    )
    assert found == []


def test_pickled_errors_never_hold_a_secret(tour, record_property):
    _, met, secrets = tour
    pickled = [pickle.dumps(error) for error in errors(met)]

    found = [s for data in pickled for s in secrets if s.encode() in data]

    record_property(
        "secrets",
        {"pickled errors searched": len(pickled), "secrets found pickled": len(found)},
    )
    assert found == []
    assert [str(pickle.loads(data)) for data in pickled] == [
        str(error) for error in errors(met)
    ]
