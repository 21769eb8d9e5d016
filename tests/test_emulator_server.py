"""The emulator server's HTTP behaviour, and the SDK against both transports."""

from __future__ import annotations

import http.client
import json
import threading
import time
from typing import Iterator, Tuple

import pytest

from user_profiles_sdk import (
    APIConnectionError,
    Client,
    EnrollmentUrl,
    NotFoundError,
    UserProfile,
)
from user_profiles_sdk.testing import EmulatorServer, FakeUserProfiles

HEADERS = {
    "x-api-key": "test",
    "anthropic-version": "2023-06-01",
    "anthropic-beta": "user-profiles-2026-03-24",
}


def _connection(server: EmulatorServer) -> http.client.HTTPConnection:
    return http.client.HTTPConnection(server.host, server.port, timeout=5)


def test_two_requests_share_one_keep_alive_connection(
    user_profiles_emulator: EmulatorServer,
) -> None:
    connection = _connection(user_profiles_emulator)
    connection.request("POST", "/v1/user_profiles", body=b"{}", headers=HEADERS)
    created = json.loads(connection.getresponse().read())
    socket_used = connection.sock

    connection.request("GET", f"/v1/user_profiles/{created['id']}", headers=HEADERS)
    fetched = connection.getresponse()

    assert fetched.status == 200
    assert json.loads(fetched.read()) == created
    assert socket_used is not None and connection.sock is socket_used
    connection.close()


def test_stop_closes_an_idle_keep_alive_connection() -> None:
    server = EmulatorServer().start()
    connection = _connection(server)
    connection.request("GET", "/v1/user_profiles", headers=HEADERS)
    connection.getresponse().read()
    assert connection.sock is not None

    stopper = threading.Thread(target=server.stop)
    stopper.start()
    stopper.join(timeout=10)

    assert not stopper.is_alive()
    assert connection.sock.recv(1) == b""
    connection.close()


def test_stop_ends_a_stalled_answer() -> None:
    server = EmulatorServer().start()
    server.fake.stall_next(60)
    outcome = []

    def ask() -> None:
        connection = _connection(server)
        try:
            connection.request("GET", "/v1/user_profiles", headers=HEADERS)
            outcome.append(connection.getresponse().status)
        except (ConnectionError, http.client.HTTPException) as exc:
            outcome.append(type(exc).__name__)

    asker = threading.Thread(target=ask)
    asker.start()
    for _ in range(500):
        if server.fake.requests:
            break
        time.sleep(0.01)
    server.stop()
    asker.join(timeout=10)

    assert not asker.is_alive()
    assert outcome in (["RemoteDisconnected"], ["ConnectionResetError"])


def test_port_zero_gives_a_real_port() -> None:
    with EmulatorServer(port=0) as server:
        assert server.port > 0
        assert server.url == f"http://127.0.0.1:{server.port}"
        connection = _connection(server)
        connection.request("GET", "/v1/user_profiles", headers=HEADERS)
        assert connection.getresponse().status == 200
        connection.close()


def test_url_before_start_raises() -> None:
    with pytest.raises(RuntimeError, match="start"):
        _ = EmulatorServer().url


def test_start_twice_raises() -> None:
    with EmulatorServer() as server, pytest.raises(RuntimeError, match="running"):
        server.start()


def test_stopped_server_refuses_connections() -> None:
    server = EmulatorServer().start()
    server.stop()
    server.stop()

    with pytest.raises(ConnectionRefusedError):
        _connection(server).request("GET", "/v1/user_profiles", headers=HEADERS)


def test_server_writes_no_request_log(
    user_profiles_emulator: EmulatorServer, capfd: pytest.CaptureFixture[str]
) -> None:
    connection = _connection(user_profiles_emulator)
    connection.request("GET", "/v1/user_profiles", headers=HEADERS)
    connection.getresponse().read()
    connection.close()

    assert capfd.readouterr().err == ""


# The SDK against both transports


@pytest.fixture(params=["emulator", "mock"])
def connected(
    request: pytest.FixtureRequest,
) -> Iterator[Tuple[Client, FakeUserProfiles]]:
    fake = FakeUserProfiles()
    if request.param == "emulator":
        with EmulatorServer(fake) as server, Client("test", base_url=server.url) as c:
            yield c, fake
    else:
        base_url = "https://api.anthropic.com"
        with fake.mock(), Client("test", base_url=base_url) as c:
            yield c, fake


def test_sdk_creates_a_profile(connected: Tuple[Client, FakeUserProfiles]) -> None:
    client, fake = connected

    profile = client.user_profiles.create(external_id="u1", metadata={"plan": "pro"})

    assert isinstance(profile, UserProfile)
    assert fake.profiles[profile.id] == profile
    assert profile.metadata == {"plan": "pro"}


def test_sdk_gets_a_profile(connected: Tuple[Client, FakeUserProfiles]) -> None:
    client, fake = connected
    stored = fake.add_profile(external_id="u1", trust_grants={"cyber": "active"})

    profile = client.user_profiles.get(stored.id)

    assert profile == stored
    assert profile.has_active_grant("cyber")


def test_sdk_updates_a_profile(connected: Tuple[Client, FakeUserProfiles]) -> None:
    client, fake = connected
    stored = fake.add_profile(external_id="u1", metadata={"a": "1", "b": "2"})

    profile = client.user_profiles.update(
        stored.id, external_id="u2", metadata={"c": "3"}, remove_metadata=["a"]
    )

    assert profile.external_id == "u2"
    assert profile.metadata == {"b": "2", "c": "3"}
    assert fake.profiles[stored.id] == profile


def test_sdk_lists_one_page(connected: Tuple[Client, FakeUserProfiles]) -> None:
    client, fake = connected
    ids = fake.seed(5)

    page = client.user_profiles.list(limit=2, order="asc")

    assert [profile.id for profile in page] == ids[:2]
    assert page.next_page is not None


def test_sdk_lists_all_profiles(connected: Tuple[Client, FakeUserProfiles]) -> None:
    client, fake = connected
    ids = fake.seed(45)

    listed = [profile.id for profile in client.user_profiles.list_all(limit=10)]

    assert listed == ids[::-1]


def test_sdk_resumes_list_pages_from_a_saved_cursor(
    connected: Tuple[Client, FakeUserProfiles],
) -> None:
    client, fake = connected
    ids = fake.seed(7)
    saved = client.user_profiles.list(limit=3, order="asc").next_page

    pages = list(client.user_profiles.list_pages(limit=3, order="asc", page=saved))

    assert [[profile.id for profile in page] for page in pages] == [ids[3:6], ids[6:]]


def test_sdk_creates_an_enrollment_url(
    connected: Tuple[Client, FakeUserProfiles],
) -> None:
    client, fake = connected
    stored = fake.add_profile()

    url = client.user_profiles.create_enrollment_url(stored.id)

    assert isinstance(url, EnrollmentUrl)
    assert url.url.startswith("https://")
    assert not url.is_expired()


def test_sdk_raises_not_found_for_an_unknown_id(
    connected: Tuple[Client, FakeUserProfiles],
) -> None:
    client, _ = connected

    with pytest.raises(NotFoundError) as raised:
        client.user_profiles.get("uprof_missing/../x")

    assert raised.value.request_id is not None
    assert raised.value.error_type == "not_found_error"


def test_sdk_retries_a_read_after_an_injected_503(
    connected: Tuple[Client, FakeUserProfiles],
) -> None:
    client, fake = connected
    stored = fake.add_profile()
    fake.fail_next(503, headers={"retry-after": "0"})

    assert client.user_profiles.get(stored.id) == stored
    assert len(fake.requests) == 2


def test_sdk_does_not_resend_a_dropped_create(
    connected: Tuple[Client, FakeUserProfiles],
) -> None:
    client, fake = connected
    fake.drop_next(processed=True)

    with pytest.raises(APIConnectionError, match="may have been created"):
        client.user_profiles.create(external_id="u1")

    assert len(fake.requests) == 1
    assert len(fake.profiles) == 1
