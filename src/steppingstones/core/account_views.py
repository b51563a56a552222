"""Signing in (with optional two-factor codes), signing out, passwords, two-factor set-up."""

from __future__ import annotations

import base64
import time
from typing import Any

import segno
from axes.handlers.proxy import AxesProxyHandler
from django.contrib import messages
from django.contrib.auth import authenticate, get_user_model, login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from steppingstones.core import audit
from steppingstones.core.forms import LoginForm, TokenForm
from steppingstones.core.models import AccountState

PENDING_USER = "pending_user_id"
PENDING_NEXT = "pending_next"
PENDING_SINCE = "pending_since"
# The two-factor step must follow the password step within this many seconds.
PENDING_SECONDS = 300


def _safe_next(request: HttpRequest, candidate: str) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return str(reverse_lazy("home"))


def _confirmed_device(user: Any) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def locked_out(
    request: HttpRequest, credentials: Any = None, *args: Any, **kwargs: Any
) -> HttpResponse:
    form = LoginForm(request.POST or None)
    return render(
        request,
        "core/login.html",
        {
            "form": form,
            "locked_out": True,
        },
        status=429,
    )


@require_http_methods(["GET", "HEAD", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    next_url = request.POST.get("next") or request.GET.get("next", "")
    form = LoginForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        user = authenticate(
            request,
            username=form.cleaned_data["username"],
            password=form.cleaned_data["password"],
        )
        if getattr(request, "axes_locked_out", False):
            return locked_out(request)
        if user is None:
            error = "That username and password do not match an account."
        else:
            device = _confirmed_device(user)
            if device is None:
                login(request, user)
                return redirect(_safe_next(request, next_url))
            request.session[PENDING_USER] = user.pk
            request.session[PENDING_NEXT] = next_url
            request.session[PENDING_SINCE] = time.time()
            return redirect("login_verify")
    return render(request, "core/login.html", {"form": form, "error": error, "next": next_url})


@require_http_methods(["GET", "POST"])
def login_verify(request: HttpRequest) -> HttpResponse:
    user_id = request.session.get(PENDING_USER)
    started = float(request.session.get(PENDING_SINCE, 0))
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first() if user_id else None
    device = _confirmed_device(user) if user else None
    if user is None or device is None or time.time() - started > PENDING_SECONDS:
        _forget_pending(request)
        return redirect("login")
    credentials = {"username": user.get_username()}
    if AxesProxyHandler.is_locked(request, credentials):
        _forget_pending(request)
        return locked_out(request)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            next_url = request.session.get(PENDING_NEXT, "")
            _forget_pending(request)
            user.backend = "django.contrib.auth.backends.ModelBackend"  # type: ignore[attr-defined]
            login(request, user)
            otp_login(request, device)
            return redirect(_safe_next(request, next_url))
        # Counts towards the lockout and is written to the audit trail, like a wrong password.
        user_login_failed.send(sender=__name__, credentials=credentials, request=request)
        form.add_error("token", "That code is not right, or has expired. Try the current one.")
    return render(request, "core/login_verify.html", {"form": form})


def _forget_pending(request: HttpRequest) -> None:
    for key in (PENDING_USER, PENDING_NEXT, PENDING_SINCE):
        request.session.pop(key, None)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("login")


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "core/password_change.html"
    success_url = reverse_lazy("home")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        AccountState.objects.update_or_create(
            user_id=int(self.request.user.pk or 0), defaults={"must_change_password": False}
        )
        audit.record("password.change", obj=self.request.user)
        messages.success(self.request, "Your password has been changed.")
        return response


password_change = login_required(PasswordChangeView.as_view())


def _qr_svg(device: TOTPDevice) -> str:
    return segno.make(device.config_url, error="m").svg_inline(scale=5, dark="#111", light="#fff")


@login_required
@require_http_methods(["GET", "POST"])
def two_factor(request: HttpRequest) -> HttpResponse:
    """Set up, confirm or turn off the authenticator-app code for one's own account."""
    user = request.user
    confirmed = _confirmed_device(user)
    if request.method == "POST" and request.POST.get("action") == "disable" and confirmed:
        TOTPDevice.objects.filter(user=user).delete()
        messages.success(request, "Two-factor sign-in is off.")
        return redirect("two_factor")
    if confirmed is not None:
        return render(request, "core/two_factor.html", {"enabled": True})
    device, _ = TOTPDevice.objects.get_or_create(
        user=user, confirmed=False, defaults={"name": "Authenticator app"}
    )
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            device.confirmed = True
            device.save()
            otp_login(request, device)
            messages.success(request, "Two-factor sign-in is on.")
            return redirect("two_factor")
        form.add_error(
            "token", "That code is not right. Check the clock on your phone and try again."
        )
    return render(
        request,
        "core/two_factor.html",
        {
            "enabled": False,
            "form": form,
            "qr_svg": _qr_svg(device),
            "secret": base64.b32encode(device.bin_key).decode("ascii"),
        },
    )
