"""A synchronous client for Anthropic's User Profiles API.

Example::

    from user_profiles_sdk import Client

    with Client() as client:  # reads ANTHROPIC_API_KEY
        profile = client.user_profiles.create(external_id="user_12345")
        url = client.user_profiles.create_enrollment_url(profile.id)
"""

from ._client import Client, Timeout
from ._resources import UserProfiles
from ._version import __version__
from .errors import (
    APIConnectionError,
    APIResponseError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
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
from .models import (
    EnrollmentUrl,
    ListOrder,
    Page,
    TrustGrant,
    TrustGrantStatus,
    UserProfile,
)

__all__ = [
    "APIConnectionError",
    "APIResponseError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "Client",
    "ConflictError",
    "EnrollmentUrl",
    "InternalServerError",
    "ListOrder",
    "NotFoundError",
    "OverloadedError",
    "Page",
    "PermissionDeniedError",
    "RateLimitError",
    "RequestTooLargeError",
    "Timeout",
    "TrustGrant",
    "TrustGrantStatus",
    "UserProfile",
    "UserProfiles",
    "UserProfilesError",
    "ValidationError",
    "__version__",
]
