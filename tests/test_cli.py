import datetime as dt
import functools
import io
import json
import selectors
import signal
import socket
import subprocess
import sys

import pytest

from user_profiles_sdk import Client, UserProfiles, __version__
from user_profiles_sdk._cli import run
from user_profiles_sdk._converter import parse_timestamp

KEY = "sk-ant-cli-test-key"


@pytest.fixture
def server(user_profiles_emulator):
    return user_profiles_emulator


@pytest.fixture
def fake(server):
    return server.fake


@pytest.fixture
def client(server):
    with Client(api_key=KEY, base_url=server.url) as made:
        yield made


@pytest.fixture
def cli(server):
    """Run the command against the emulator; return (status, stdout, stderr)."""

    def invoke(*argv, stdout=None, stderr=None):
        out = io.StringIO() if stdout is None else stdout
        err = io.StringIO() if stderr is None else stderr
        flags = ["--api-key", KEY, "--base-url", server.url, "--max-retries", "0"]
        status = run([*flags, *argv], out, err)
        return status, out.getvalue(), err.getvalue()

    return invoke


class TerminalStream(io.StringIO):
    def isatty(self):
        return True


class FlushRecorder(io.StringIO):
    """Remember how many lines had been written at each flush."""

    def __init__(self):
        super().__init__()
        self.lines_at_flush = []

    def flush(self):
        self.lines_at_flush.append(self.getvalue().count("\n"))


class FailingStream(io.StringIO):
    def __init__(self, error):
        super().__init__()
        self.error = error

    def write(self, text):
        raise self.error


def test_create_prints_the_profile_in_wire_form(cli, fake):
    status, out, err = cli(
        "create", "--external-id", "user_1", "--metadata", "plan=pro"
    )

    assert (status, err) == (0, "")
    printed = json.loads(out)
    assert printed["type"] == "user_profile"
    assert printed["external_id"] == "user_1"
    assert printed["metadata"] == {"plan": "pro"}
    assert printed["trust_grants"] == {}
    assert printed["created_at"].endswith("Z")
    assert fake.profiles[printed["id"]].external_id == "user_1"


def test_create_collects_repeated_metadata_and_keeps_equals_in_values(cli):
    status, out, _ = cli("create", "--metadata", "plan=pro", "--metadata", "next=a=b")

    assert status == 0
    assert json.loads(out)["metadata"] == {"plan": "pro", "next": "a=b"}


def test_get_prints_the_stored_profile(cli, client):
    made = client.user_profiles.create(external_id="user_2")

    status, out, _ = cli("get", made.id)

    assert status == 0
    assert json.loads(out)["id"] == made.id
    assert json.loads(out)["external_id"] == "user_2"


def test_update_applies_repeated_set_and_remove(cli, client):
    made = client.user_profiles.create(
        metadata={"plan": "pro", "legacy": "on", "beta": "on", "region": "eu"}
    )

    status, out, _ = cli(
        "update",
        made.id,
        "--external-id",
        "user_3",
        "--set",
        "plan=enterprise",
        "--set",
        "seats=5",
        "--remove",
        "legacy",
        "--remove",
        "beta",
    )

    assert status == 0
    printed = json.loads(out)
    assert printed["external_id"] == "user_3"
    assert printed["metadata"] == {"plan": "enterprise", "seats": "5", "region": "eu"}


def test_list_prints_one_page_with_its_cursor(cli, client):
    made = [client.user_profiles.create(external_id=f"u{i}") for i in range(3)]

    status, out, _ = cli("list", "--limit", "2", "--order", "asc")
    first = json.loads(out)
    _, out, _ = cli(
        "list", "--limit", "2", "--order", "asc", "--page", first["next_page"]
    )
    second = json.loads(out)

    assert status == 0
    assert [p["id"] for p in first["data"]] == [made[0].id, made[1].id]
    assert isinstance(first["next_page"], str)
    assert [p["id"] for p in second["data"]] == [made[2].id]
    assert second["next_page"] is None


def test_list_all_prints_one_json_line_per_profile_across_pages(cli, client):
    made = [client.user_profiles.create(external_id=f"u{i}") for i in range(5)]

    status, out, err = cli("list", "--all", "--limit", "2", "--order", "asc")

    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert [json.loads(line)["id"] for line in lines] == [p.id for p in made]


def test_list_all_flushes_after_each_page(cli, client):
    for i in range(5):
        client.user_profiles.create(external_id=f"u{i}")
    recorder = FlushRecorder()

    status, _, _ = cli("list", "--all", "--limit", "2", stdout=recorder)

    assert status == 0
    assert recorder.lines_at_flush[:3] == [2, 4, 5]


def test_list_all_counts_on_a_terminal_stderr_only(cli, client):
    for i in range(3):
        client.user_profiles.create(external_id=f"u{i}")

    status, _, err = cli("list", "--all", "--limit", "2", stderr=TerminalStream())

    assert status == 0
    assert err == "\ruser profiles: 2\ruser profiles: 3\n"


def test_enrollment_url_prints_the_url_and_an_rfc3339_expiry(cli, client):
    made = client.user_profiles.create()

    status, out, _ = cli("enrollment-url", made.id)

    assert status == 0
    printed = json.loads(out)
    assert printed["type"] == "enrollment_url"
    assert printed["url"].startswith(("http://", "https://"))
    expires = parse_timestamp(printed["expires_at"])
    assert expires > dt.datetime.now(dt.timezone.utc)


def test_api_error_is_one_line_with_request_id_and_exit_1(cli):
    status, out, err = cli("get", "uprof_" + "0" * 24)

    assert status == 1
    assert out == ""
    assert err.startswith("error: 404 not_found_error")
    assert "(request id req_" in err
    assert err.count("\n") == 1 and err.endswith("\n")


def test_connection_error_exits_1():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    err = io.StringIO()
    flags = ["--api-key", KEY, "--base-url", f"http://127.0.0.1:{port}"]

    status = run([*flags, "--max-retries", "0", "get", "uprof_x"], io.StringIO(), err)

    assert status == 1
    assert err.getvalue().startswith("error: Could not connect")


@pytest.mark.parametrize(
    "argv",
    [
        ["create", "--metadata", "plan"],
        ["create", "--metadata", "plan=pro", "--metadata", "plan=free"],
        ["update", "uprof_x", "--set", "novalue"],
    ],
)
def test_malformed_key_value_exits_2_and_sends_nothing(cli, fake, argv):
    status, out, err = cli(*argv)

    assert status == 2
    assert out == ""
    assert "--metadata" in err or "--set" in err
    assert fake.profiles == {}


def test_input_the_sdk_refuses_exits_2(cli, fake):
    status, _, err = cli("update", "uprof_x", "--set", "plan=pro", "--remove", "plan")

    assert status == 2
    assert err.startswith("error: remove_metadata:")
    assert err.count("\n") == 1


def test_missing_api_key_exits_2(monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    err = io.StringIO()

    status = run(["get", "uprof_x"], io.StringIO(), err)

    assert status == 2
    assert err.getvalue().startswith("error: api_key: is missing")


def test_environment_configures_key_and_base_url(monkeypatch, server, client):
    made = client.user_profiles.create(external_id="from_env")
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
    out = io.StringIO()

    status = run(["get", made.id], out, io.StringIO())

    assert status == 0
    assert json.loads(out.getvalue())["external_id"] == "from_env"


def test_missing_command_is_a_usage_error():
    err = io.StringIO()

    assert run([], io.StringIO(), err) == 2
    assert "usage: user-profiles" in err.getvalue()


@pytest.mark.parametrize(
    ("failure", "expected"), [(BrokenPipeError(), 0), (KeyboardInterrupt(), 130)]
)
def test_closed_pipe_or_interrupt_exits_quietly(cli, client, failure, expected):
    made = client.user_profiles.create()

    status, _, err = cli("get", made.id, stdout=FailingStream(failure))

    assert (status, err) == (expected, "")


def test_demo_walks_every_endpoint_without_a_key(monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "https://api.invalid")
    out = io.StringIO()

    status = run(["demo"], out, io.StringIO())

    text = out.getvalue()
    assert status == 0
    for call in (
        "client.user_profiles.create(",
        "client.user_profiles.get(",
        "client.user_profiles.update(",
        "client.user_profiles.list(",
        "client.user_profiles.list_all(",
        "client.user_profiles.create_enrollment_url(",
    ):
        assert call in text
    assert 'has_active_grant("cyber") -> True' in text
    assert "raised NotFoundError: status_code=404" in text
    assert "request_id: 'req_" in text
    assert "api.invalid" not in text


def test_demo_never_prints_the_enrollment_url(monkeypatch):
    minted = []
    original = UserProfiles.create_enrollment_url

    @functools.wraps(original)
    def recording(self, *args, **kwargs):
        url = original(self, *args, **kwargs)
        minted.append(url.url)
        return url

    monkeypatch.setattr(UserProfiles, "create_enrollment_url", recording)
    out = io.StringIO()

    assert run(["demo"], out, io.StringIO()) == 0
    assert len(minted) == 1
    assert minted[0] not in out.getvalue()


def test_version_prints_the_package_version():
    out = io.StringIO()

    assert run(["--version"], out, io.StringIO()) == 0
    assert out.getvalue() == f"user-profiles {__version__}\n"


def test_emulator_on_a_taken_port_exits_1():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        err = io.StringIO()

        status = run(["emulator", "--port", str(port)], io.StringIO(), err)

    assert status == 1
    assert err.getvalue().startswith(f"error: cannot listen on 127.0.0.1:{port}")


def test_module_help_lists_every_command():
    done = subprocess.run(
        [sys.executable, "-m", "user_profiles_sdk", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 0
    assert done.stdout.startswith("usage: user-profiles")
    for command in ("create", "get", "update", "list", "enrollment-url"):
        assert command in done.stdout
    assert "emulator" in done.stdout and "demo" in done.stdout


def read_line(stream, seconds):
    with selectors.DefaultSelector() as selector:
        selector.register(stream, selectors.EVENT_READ)
        if not selector.select(timeout=seconds):
            raise AssertionError(f"no line within {seconds} s")
    return stream.readline()


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_emulator_command_serves_until_a_stop_signal(stop):
    process = subprocess.Popen(
        [sys.executable, "-m", "user_profiles_sdk", "emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = read_line(process.stdout, 60)
        assert line.startswith("listening on http://127.0.0.1:")
        url = line.split()[-1]
        with Client(api_key=KEY, base_url=url, max_retries=0) as client:
            made = client.user_profiles.create(external_id="over_http")
            assert client.user_profiles.get(made.id).external_id == "over_http"

        process.send_signal(stop)

        assert process.wait(timeout=30) == 0
        assert "Traceback" not in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
        process.stdout.close()
        process.stderr.close()
