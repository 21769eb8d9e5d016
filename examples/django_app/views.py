"""The views of the Django example: sign up, enroll, and a feature behind a grant.

A signed-in user is the user profile id in Django's session. Errors of the SDK
are answered by `django_app.middleware.UserProfilesErrorMiddleware`.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.middleware.csrf import get_token
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from user_profiles_sdk import Client, ValidationError

__all__ = ["GRANT", "enroll", "feature", "signup", "user_profiles_client"]

# The trust grant that unlocks the feature.
GRANT = "cyber"


@functools.cache
def user_profiles_client() -> Client:
    """Return the one client of this process, made from settings on first use.

    Raises:
        ImproperlyConfigured: The settings hold no key, or a malformed option.
    """
    try:
        return Client(
            settings.USER_PROFILES_API_KEY,
            base_url=settings.USER_PROFILES_BASE_URL,
            timeout=settings.USER_PROFILES_TIMEOUT,
            max_retries=settings.USER_PROFILES_MAX_RETRIES,
        )
    except ValidationError as exc:
        # A fault of the server's settings, not of the request: a 500, not
        # the 400 that the middleware gives a ValidationError.
        raise ImproperlyConfigured(f"USER_PROFILES_* settings: {exc}") from exc


@receiver(setting_changed)
def _forget_client(*, setting: str, **kwargs: Any) -> None:
    # Tests override settings; the next call then makes a client from them.
    if setting.startswith("USER_PROFILES_"):
        user_profiles_client.cache_clear()


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    """Create a user profile for the platform user and sign them in.

    A GET answers the CSRF token that the POST must carry, as a form would.
    """
    if request.method == "GET":
        return JsonResponse({"csrf_token": get_token(request)})

    external_id = request.POST.get("external_id", "")
    if not external_id:
        return JsonResponse(
            {"error": "invalid_request", "message": "external_id is missing"},
            status=400,
        )

    profile = user_profiles_client().user_profiles.create(external_id=external_id)
    request.session["user_profile_id"] = profile.id
    return JsonResponse({"user_profile_id": profile.id}, status=201)


def _signed_in(
    view: Callable[[HttpRequest, str], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    """Call `view` with the signed-in user's profile id, or ask to sign up first."""

    @functools.wraps(view)
    def with_profile_id(request: HttpRequest) -> HttpResponse:
        profile_id = request.session.get("user_profile_id")
        if profile_id is None:
            body = {"error": "signup_required", "signup": reverse("signup")}
            return JsonResponse(body, status=401)
        return view(request, profile_id)

    return with_profile_id


@require_GET
@_signed_in
def enroll(request: HttpRequest, profile_id: str) -> HttpResponse:
    """Send the signed-in user to a fresh enrollment URL."""
    # The URL works for whoever holds it: it goes into the redirect and
    # nowhere else, and no cache may keep the answer.
    client = user_profiles_client()
    enrollment = client.user_profiles.create_enrollment_url(profile_id)
    response = HttpResponseRedirect(enrollment.url)
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@_signed_in
def feature(request: HttpRequest, profile_id: str) -> HttpResponse:
    """Serve the feature when the grant is active, else point to enrollment."""
    profile = user_profiles_client().user_profiles.get(profile_id)
    if profile.has_active_grant(GRANT):
        return JsonResponse({"feature": "unlocked", "grant": GRANT})
    body = {
        "error": "enrollment_required",
        "grant": GRANT,
        "grant_status": profile.grant_status(GRANT),
        "enroll": reverse("enroll"),
    }
    return JsonResponse(body, status=403)
