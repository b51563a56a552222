from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from steppingstones.core import audit


class AuditContextMiddleware:
    """Makes the signed-in user (and where they are) the actor of everything the request does."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with audit.acting_as(audit.actor_from_request(request)):
            return self.get_response(request)


class PasswordChangeRequiredMiddleware:
    """After a manager resets a password, the user must choose their own before anything else."""

    ALLOWED = ("password_change", "logout")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            state = getattr(user, "account_state", None)
            allowed = [reverse(name) for name in self.ALLOWED]
            if state is not None and state.must_change_password and request.path not in allowed:
                return redirect("password_change")
        return self.get_response(request)
