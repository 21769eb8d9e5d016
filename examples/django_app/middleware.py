"""Turn the SDK's errors into HTTP answers, for every view at once."""

from __future__ import annotations

from typing import Callable, Optional

from django.http import HttpRequest, HttpResponse, JsonResponse
from web_errors import answer_for

from user_profiles_sdk import UserProfilesError


class UserProfilesErrorMiddleware:
    """Answer a `UserProfilesError` that a view let escape, as `answer_for` says.

    Other exceptions go on to Django's own handling.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(
        self, request: HttpRequest, exception: Exception
    ) -> Optional[HttpResponse]:
        """Return the answer for an SDK error, or None to let Django handle it."""
        if not isinstance(exception, UserProfilesError):
            return None

        answer = answer_for(exception)
        response = JsonResponse(answer.body, status=answer.status)
        for name, value in answer.headers.items():
            response[name] = value
        return response
