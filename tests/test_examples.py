import collections
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import django
import pytest
from django.test import Client as DjangoClient
from django.test import override_settings

from user_profiles_sdk import Client
from user_profiles_sdk.testing import EmulatorServer, FakeUserProfiles

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SYNC_SCRIPT = EXAMPLES / "sync_users.py"
BASE = "https://api.anthropic.com"
CREATE_PATH = "/v1/user_profiles"

# The examples are scripts and a project folder, not an installed package.
sys.path.insert(0, str(EXAMPLES))

import flask_app  # noqa: E402
import sync_users  # noqa: E402
import web_errors  # noqa: E402

# The web apps


@pytest.fixture
def fake():
    return FakeUserProfiles()


@pytest.fixture
def api(fake):
    with fake.mock(BASE) as mock:
        yield mock


class Web:
    """Drive either example app through its framework's test client."""

    def __init__(self, http, read_json):
        self.http = http
        self.read_json = read_json

    def signup(self, external_id="user_1"):
        return self.http.post("/signup", data={"external_id": external_id})

    def get(self, path):
        return self.http.get(path)


def flask_web():
    client = Client(api_key="test", base_url=BASE, max_retries=0)
    app = flask_app.create_app(client)
    return Web(app.test_client(), lambda response: response.get_json())


def django_web():
    return Web(DjangoClient(), lambda response: response.json())


@pytest.fixture
def django_settings(monkeypatch):
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "django_app.settings")
    django.setup()
    with override_settings(
        USER_PROFILES_API_KEY="test",
        USER_PROFILES_BASE_URL=BASE,
        USER_PROFILES_MAX_RETRIES=0,
    ):
        yield


@pytest.fixture(params=["flask", "django"])
def web(request, api):
    if request.param == "flask":
        return flask_web()
    request.getfixturevalue("django_settings")
    return django_web()


def minted_url(api):
    answer = api.calls[-1].response
    assert answer.url.endswith("/enrollment_url")
    return answer.json()["url"]


def test_signup_creates_a_user_profile_with_the_external_id(web, fake):
    response = web.signup("user_42")

    assert response.status_code == 201
    profile_id = web.read_json(response)["user_profile_id"]
    assert fake.profiles[profile_id].external_id == "user_42"


def test_signup_without_an_external_id_is_400_and_creates_nothing(web, fake):
    response = web.signup("")

    assert response.status_code == 400
    assert fake.requests == []


def test_signup_with_an_external_id_the_sdk_refuses_is_400(web, fake):
    response = web.signup("u" * 256)

    assert response.status_code == 400
    assert "external_id" in web.read_json(response)["message"]
    assert fake.requests == []


def test_enroll_redirects_to_the_url_the_api_minted(web, api):
    web.signup()

    response = web.get("/enroll")

    assert response.status_code == 302
    assert response.headers["Location"] == minted_url(api)
    assert response.headers["Cache-Control"] == "no-store"


def test_views_ask_to_sign_up_first_without_a_session(web, fake):
    for path in ("/enroll", "/feature"):
        response = web.get(path)

        assert response.status_code == 401
        assert web.read_json(response)["signup"] == "/signup"
    assert fake.requests == []


def test_feature_offers_enrollment_until_the_cyber_grant_is_active(web, fake):
    profile_id = web.read_json(web.signup())["user_profile_id"]

    before = web.get("/feature")
    fake.set_trust_grant(profile_id, "cyber", "pending")
    pending = web.get("/feature")
    fake.set_trust_grant(profile_id, "cyber", "active")
    after = web.get("/feature")

    assert before.status_code == 403
    assert web.read_json(before)["enroll"] == "/enroll"
    assert web.read_json(before)["grant_status"] is None
    assert pending.status_code == 403
    assert web.read_json(pending)["grant_status"] == "pending"
    assert after.status_code == 200
    assert web.read_json(after)["feature"] == "unlocked"


@pytest.mark.parametrize(("asked", "answered"), [("7", "7"), ("2.1", "3"), (None, "5")])
def test_rate_limit_becomes_503_with_retry_after_in_whole_seconds(
    web, fake, asked, answered
):
    web.signup()
    fake.fail_next(429, headers={} if asked is None else {"retry-after": asked})

    response = web.get("/feature")

    assert response.status_code == 503
    assert response.headers["Retry-After"] == answered
    assert web.read_json(response)["retry_after"] == int(answered)


def test_overloaded_api_becomes_503_too(web, fake):
    web.signup()
    fake.fail_next(529)

    response = web.get("/feature")

    assert response.status_code == 503
    assert response.headers["Retry-After"] == str(web_errors.DEFAULT_RETRY_AFTER)


def test_unknown_user_profile_becomes_404(web, fake):
    web.signup()
    fake.fail_next(404)

    assert web.get("/feature").status_code == 404


def test_server_error_becomes_502_with_the_request_id(web, fake, api):
    web.signup()
    fake.fail_next(500)

    response = web.get("/feature")

    assert response.status_code == 502
    request_id = api.calls[-1].response.headers["request-id"]
    assert request_id.startswith("req_")
    assert web.read_json(response)["request_id"] == request_id


def test_lost_connection_becomes_502(web, fake):
    web.signup()
    fake.drop_next()

    response = web.get("/feature")

    assert response.status_code == 502
    assert web.read_json(response)["error"] == "upstream_error"


def test_flask_app_makes_its_client_from_the_environment(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-from-env")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9")

    app = flask_app.create_app()

    client = app.extensions["user_profiles"]
    assert client.base_url == "http://127.0.0.1:9"
    assert client.timeout == (2.0, 10.0)
    assert client.max_retries == 1


def test_django_client_is_made_once_and_again_when_settings_change(
    django_settings,
):
    from django_app.views import user_profiles_client

    first = user_profiles_client()
    with override_settings(USER_PROFILES_BASE_URL="http://127.0.0.1:9"):
        changed = user_profiles_client()

    assert user_profiles_client() is user_profiles_client()
    assert first.base_url == BASE
    assert first.timeout == (2.0, 10.0)
    assert changed.base_url == "http://127.0.0.1:9"


def test_django_client_without_a_key_is_a_configuration_error(
    django_settings, monkeypatch
):
    from django.core.exceptions import ImproperlyConfigured
    from django_app.views import user_profiles_client

    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)

    no_key = override_settings(USER_PROFILES_API_KEY=None)

    with no_key, pytest.raises(ImproperlyConfigured, match="api_key"):
        user_profiles_client()


def test_django_signup_takes_the_csrf_token_that_its_get_gives(
    django_settings, fake, api
):
    http = DjangoClient(enforce_csrf_checks=True)
    token = http.get("/signup").json()["csrf_token"]

    refused = http.post("/signup", data={"external_id": "user_1"})
    accepted = http.post(
        "/signup", data={"external_id": "user_1"}, HTTP_X_CSRFTOKEN=token
    )

    assert refused.status_code == 403
    assert accepted.status_code == 201
    assert len(fake.profiles) == 1


# The sync script


@pytest.fixture
def server():
    with EmulatorServer(FakeUserProfiles()) as running:
        yield running


def write_csv(tmp_path, text):
    path = tmp_path / "users.csv"
    path.write_text(text, encoding="utf-8")
    return path


def sync_command(server, *args):
    # Proxy settings of the machine must not send loopback traffic elsewhere.
    env = {
        key: value for key, value in os.environ.items() if "proxy" not in key.lower()
    }
    env.update(ANTHROPIC_BASE_URL=server.url, ANTHROPIC_API_KEY="test")
    return [sys.executable, str(SYNC_SCRIPT), *map(str, args)], env


def run_sync(server, *args):
    command, env = sync_command(server, *args)
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)


def posts(requests):
    return [request for request in requests if request.method == "POST"]


def creates(fake):
    return [r for r in posts(fake.requests) if r.path == CREATE_PATH]


def by_external_id(fake):
    return {profile.external_id: profile for profile in fake.profiles.values()}


USERS = """\
external_id,plan,legacy
user_1,pro,
user_2,team,
user_3,free,yes
"""


def test_sync_creates_and_updates_then_a_second_run_changes_nothing(server, tmp_path):
    fake = server.fake
    stale = fake.add_profile(
        external_id="user_2", metadata={"plan": "free", "legacy": "on", "region": "eu"}
    )
    users = write_csv(tmp_path, USERS)

    first = run_sync(server, users)
    sent_first = len(fake.requests)
    second = run_sync(server, users)

    assert first.returncode == 0, first.stderr
    assert "created 2, updated 1, unchanged 0, failed 0 (of 3 rows)" in first.stdout
    profiles = by_external_id(fake)
    assert len(fake.profiles) == 3
    assert profiles["user_1"].metadata == {"plan": "pro"}
    assert profiles["user_2"].id == stale.id
    assert profiles["user_2"].metadata == {"plan": "team", "region": "eu"}
    assert profiles["user_3"].metadata == {"plan": "free", "legacy": "yes"}
    assert second.returncode == 0, second.stderr
    assert "created 0, updated 0, unchanged 3, failed 0" in second.stdout
    assert posts(fake.requests[sent_first:]) == []


def test_sync_rerun_after_failed_creates_makes_every_user_exactly_once(tmp_path):
    # The second create is made but its answer is lost; the fourth fails with
    # a 500 before it is made. Neither is retried, and both leave the script
    # unsure whether the profile exists.
    fake = FakeUserProfiles()
    fake.drop_next(processed=True, endpoint="create", skip=1)
    fake.fail_next(500, endpoint="create", skip=1)
    names = [f"user_{number}" for number in range(1, 6)]
    users = write_csv(tmp_path, "external_id\n" + "\n".join(names) + "\n")

    with EmulatorServer(fake) as server:
        first = run_sync(server, users)
        created_by_first = len(fake.profiles)
        sent_first = len(fake.requests)
        second = run_sync(server, users)

    assert first.returncode == 1
    assert "failed 2" in first.stdout
    assert first.stderr.count("may have been created") == 2
    assert "Run this command again" in first.stderr
    assert created_by_first == 4
    assert second.returncode == 0, second.stderr
    assert "created 1, updated 0, unchanged 4, failed 0" in second.stdout
    assert len(posts(fake.requests[sent_first:])) == 1
    counted = collections.Counter(p.external_id for p in fake.profiles.values())
    assert counted == dict.fromkeys(names, 1)


# A shell may start a job with SIGINT ignored, which its children inherit; the
# script is run with Python's own handler, as in a terminal.
INTERRUPTIBLE = (
    "import runpy, signal, sys;"
    " signal.signal(signal.SIGINT, signal.default_int_handler);"
    " sys.argv = sys.argv[1:];"
    " runpy.run_path(sys.argv[0], run_name='__main__')"
)


def test_sync_interrupted_mid_create_then_rerun_makes_every_user_once(tmp_path):
    names = [f"user_{number}" for number in range(1, 5)]
    users = write_csv(tmp_path, "external_id\n" + "\n".join(names) + "\n")
    fake = FakeUserProfiles()
    # The second create is made and its answer held back, so that the interrupt
    # reaches the script while it waits.
    fake.stall_next(30, processed=True, endpoint="create", skip=1)

    with EmulatorServer(fake) as server:
        command, env = sync_command(server, users)
        command[1:1] = ["-c", INTERRUPTIBLE]
        sync = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(3000):
            if len(creates(fake)) == 2 or sync.poll() is not None:
                break
            time.sleep(0.01)
        sync.send_signal(signal.SIGINT)
        out, err = sync.communicate(timeout=60)
        second = run_sync(server, users)

    assert sync.returncode == 130, err
    assert "interrupted: created 1," in out
    assert "Run this command again to finish" in err
    assert second.returncode == 0, second.stderr
    counted = collections.Counter(p.external_id for p in fake.profiles.values())
    assert counted == dict.fromkeys(names, 1)


def test_sync_refuses_bad_rows_by_line_and_changes_nothing(server, tmp_path):
    users = write_csv(
        tmp_path,
        "external_id,plan\n"
        "user_1,pro\n"
        ",pro\n"
        "user_3,pro,extra\n"
        "user_1,free\n"
        f"user_5,{'x' * 513}\n"
        f"{'u' * 256},pro\n",
    )

    result = run_sync(server, users)

    assert result.returncode == 2
    for line in (3, 4, 5, 6, 7):
        assert f"line {line}:" in result.stderr
    assert "line 2:" not in result.stderr
    assert "is also on line 2" in result.stderr
    assert "Nothing was changed." in result.stderr
    assert server.fake.requests == []


def test_sync_counts_lines_of_rows_after_a_quoted_line_break(server, tmp_path):
    users = write_csv(tmp_path, 'external_id,note\nuser_1,"two\nlines"\n,oops\n')

    result = run_sync(server, users)

    assert result.returncode == 2
    assert "line 4: external_id is empty" in result.stderr


@pytest.mark.parametrize(
    "header", ["plan,tier\n", "external_id,plan,plan\n", f"external_id,{'k' * 65}\n"]
)
def test_sync_refuses_a_header_it_cannot_use(server, tmp_path, header):
    result = run_sync(server, write_csv(tmp_path, header + "a,b,c\n"))

    assert result.returncode == 2
    assert "line 1:" in result.stderr
    assert server.fake.requests == []


def test_sync_without_a_key_is_bad_input(server, tmp_path):
    users = write_csv(tmp_path, USERS)

    result = run_sync(server, users, "--api-key", "")

    assert result.returncode == 2
    assert "api_key" in result.stderr
    assert server.fake.requests == []


def test_sync_updates_the_oldest_of_profiles_sharing_an_external_id(server, tmp_path):
    fake = server.fake
    oldest = fake.add_profile(external_id="user_1", metadata={"plan": "free"})
    newer = fake.add_profile(external_id="user_1", metadata={"plan": "free"})

    result = run_sync(server, write_csv(tmp_path, "external_id,plan\nuser_1,pro\n"))

    assert result.returncode == 0, result.stderr
    assert f"using the oldest, {oldest.id}" in result.stderr
    assert fake.profiles[oldest.id].metadata == {"plan": "pro"}
    assert fake.profiles[newer.id].metadata == {"plan": "free"}


def test_sync_dry_run_says_what_it_would_do_and_sends_no_change(server, tmp_path):
    fake = server.fake
    fake.add_profile(external_id="user_2", metadata={"plan": "free"})

    result = run_sync(server, write_csv(tmp_path, USERS), "--dry-run")

    assert result.returncode == 0, result.stderr
    assert "would create user_1" in result.stdout
    assert "would update user_2" in result.stdout
    assert "create 2, update 1, unchanged 0 (of 3 rows)" in result.stdout
    assert posts(fake.requests) == []


def test_sync_json_report_lists_every_row(server, tmp_path):
    result = run_sync(server, write_csv(tmp_path, USERS), "--json")

    report = json.loads(result.stdout)
    assert report["counts"] == {
        "created": 3,
        "updated": 0,
        "unchanged": 0,
        "failed": 0,
    }
    assert [row["line"] for row in report["rows"]] == [2, 3, 4]
    assert all(row["user_profile_id"] in server.fake.profiles for row in report["rows"])
    assert "created 3" in result.stderr


def test_sync_stops_before_any_change_when_profiles_cannot_be_read(server, tmp_path):
    server.fake.fail_next(401)

    result = run_sync(server, write_csv(tmp_path, USERS))

    assert result.returncode == 1
    assert "cannot read the user profiles" in result.stderr
    assert posts(server.fake.requests) == []


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_sync_progress_is_written_to_a_terminal_only():
    terminal, pipe = Terminal(), io.StringIO()

    for stream in (terminal, pipe):
        progress = sync_users.Progress(stream, "row {} of {}")
        progress.show(1, 2)
        progress.clear()

    assert "row 1 of 2" in terminal.getvalue()
    assert pipe.getvalue() == ""
