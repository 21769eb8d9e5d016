"""A Flask app: sign users up, send them to enrollment, gate a feature on a grant.

Run it against the bundled emulator::

    user-profiles emulator --port 8765 &
    export ANTHROPIC_BASE_URL=http://127.0.0.1:8765 ANTHROPIC_API_KEY=test
    flask --app examples/flask_app.py run

The app makes one `Client` and shares it between every request and thread. Its
waits are short, since a browser is waiting too: 2 s to connect, 10 s to read,
and one retry. A signed-in user is the user profile id in Flask's session.
"""

from __future__ import annotations

import functools
import os
import secrets
from typing import Any, Callable, Optional

from flask import Flask, Response, jsonify, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from web_errors import answer_for

from user_profiles_sdk import Client, UserProfilesError

__all__ = ["GRANT", "create_app"]

# The trust grant that unlocks the feature.
GRANT = "cyber"


def create_app(client: Optional[Client] = None) -> Flask:
    """Make the app, with one client for all of its requests.

    Args:
        client: The client to use; by default one is made from
            ``ANTHROPIC_API_KEY`` and ``ANTHROPIC_BASE_URL``.

    Raises:
        ValidationError: No client was given and the environment holds no key.
    """
    if client is None:
        client = Client(timeout=(2, 10), max_retries=1)

    app = Flask(__name__)
    # Without FLASK_SECRET_KEY, sessions last as long as the process does.
    app.secret_key = os.environ.get("FLASK_SECRET_KEY") or secrets.token_hex(32)
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.extensions["user_profiles"] = client
    app.register_error_handler(UserProfilesError, _answer_error)

    _add_views(app, client)
    return app


def _add_views(app: Flask, client: Client) -> None:
    profiles = client.user_profiles

    @app.post("/signup")
    def signup() -> ResponseReturnValue:
        external_id = request.form.get("external_id", "")
        if not external_id:
            return _json(400, error="invalid_request", message="external_id is missing")

        profile = profiles.create(external_id=external_id)
        session["user_profile_id"] = profile.id
        return _json(201, user_profile_id=profile.id)

    @app.get("/enroll")
    @_signed_in
    def enroll(profile_id: str) -> ResponseReturnValue:
        # The URL works for whoever holds it: it goes into the redirect and
        # nowhere else, and no cache may keep the answer.
        enrollment = profiles.create_enrollment_url(profile_id)
        response = redirect(enrollment.url, 302)
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.get("/feature")
    @_signed_in
    def feature(profile_id: str) -> ResponseReturnValue:
        profile = profiles.get(profile_id)
        if profile.has_active_grant(GRANT):
            return _json(200, feature="unlocked", grant=GRANT)
        return _json(
            403,
            error="enrollment_required",
            grant=GRANT,
            grant_status=profile.grant_status(GRANT),
            enroll=url_for("enroll"),
        )


def _json(code: int, **body: Any) -> Response:
    response = jsonify(body)
    response.status_code = code
    return response


def _signed_in(
    view: Callable[[str], ResponseReturnValue],
) -> Callable[[], ResponseReturnValue]:
    """Call `view` with the signed-in user's profile id, or ask to sign up first."""

    @functools.wraps(view)
    def with_profile_id() -> ResponseReturnValue:
        profile_id = session.get("user_profile_id")
        if profile_id is None:
            return _json(401, error="signup_required", signup=url_for("signup"))
        return view(profile_id)

    return with_profile_id


def _answer_error(error: UserProfilesError) -> Response:
    answer = answer_for(error)
    response = _json(answer.status, **answer.body)
    response.headers.update(answer.headers)
    return response
