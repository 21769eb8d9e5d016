"""The routes of the Django example."""

from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("signup", views.signup, name="signup"),
    path("enroll", views.enroll, name="enroll"),
    path("feature", views.feature, name="feature"),
]
