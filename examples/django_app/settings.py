"""Settings of the Django example.

The User Profiles API is configured here, once, from the environment; views
read these settings through `django_app.views.user_profiles_client`.
"""

from __future__ import annotations

import os
import secrets

# Without DJANGO_SECRET_KEY, sessions last as long as the process does.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or secrets.token_hex(32)
DEBUG = os.environ.get("DJANGO_DEBUG") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]

ROOT_URLCONF = "django_app.urls"
INSTALLED_APPS: list[str] = []
DATABASES: dict[str, dict[str, str]] = {}
USE_TZ = True

# Sessions live in a signed cookie, so the example needs no database.
SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django_app.middleware.UserProfilesErrorMiddleware",
]

# The client's settings. The key and base URL default to the SDK's own
# environment variables; the waits are short, since a browser is waiting too.
USER_PROFILES_API_KEY = os.environ.get("ANTHROPIC_API_KEY")
USER_PROFILES_BASE_URL = os.environ.get("ANTHROPIC_BASE_URL")
USER_PROFILES_TIMEOUT = (2.0, 10.0)
USER_PROFILES_MAX_RETRIES = 1
