from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from steppingstones.core import audit


class AuditContextMiddleware:
    """Makes the signed-in user (and where they are) the actor of everything the request does."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with audit.acting_as(audit.actor_from_request(request)):
            return self.get_response(request)


class AccountPolicyMiddleware:
    """Rules that hold for every signed-in request.

    - A user who has turned on two-factor sign-in is signed out of any session that did not pass
      the two-factor step (whatever log-in page it came through).
    - After a manager resets a password, the user must choose their own before anything else.
    """

    ALLOWED = ("password_change", "logout")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            verified = getattr(user, "is_verified", lambda: False)()
            if not verified and TOTPDevice.objects.filter(user=user, confirmed=True).exists():
                logout(request)
                return redirect_to_login(request.get_full_path())
            state = getattr(user, "account_state", None)
            allowed = [reverse(name) for name in self.ALLOWED]
            if state is not None and state.must_change_password and request.path not in allowed:
                return redirect("password_change")
        return self.get_response(request)


DEFAULT_MAX_UPLOAD_BYTES = 600 * 1024 * 1024


def upload_limit(max_bytes: int) -> Callable[[Any], Any]:
    """Mark a view with the largest request body it accepts (see UploadLimitMiddleware)."""

    def mark(view: Any) -> Any:
        view.max_upload_bytes = max_bytes
        return view

    return mark


class UploadLimitMiddleware:
    """Refuses a request whose declared body is larger than its view accepts, before a byte
    of the body is read: a 500 MB file sent to a 200 MB form never reaches memory or disk."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        declared = request.META.get("CONTENT_LENGTH") or "0"
        size = int(declared) if declared.isdigit() else 0
        if size > 2 * 1024 * 1024:
            from django.urls import Resolver404, resolve

            try:
                view = resolve(request.path_info).func
            except Resolver404:
                view = None
            limit = getattr(view, "max_upload_bytes", DEFAULT_MAX_UPLOAD_BYTES)
            if size > limit:
                return HttpResponse(
                    f"The upload is {size / 1024 / 1024:,.0f} MB; this form accepts at most "
                    f"{limit / 1024 / 1024:,.0f} MB. Nothing was read or saved.",
                    status=413,
                    content_type="text/plain; charset=utf-8",
                )
        return self.get_response(request)
