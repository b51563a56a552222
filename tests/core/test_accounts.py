"""Signing in: passwords, lockout, two-factor codes, forced password change, secure headers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.conftest import PASSWORD


def rfc6238_code(secret: bytes, at: float, step: int = 30, digits: int = 6) -> str:
    """TOTP written from RFC 6238 / RFC 4226 here, independent of the library under test."""
    counter = struct.pack(">Q", int(at // step))
    digest = hmac.new(secret, counter, hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


def test_rfc6238_reference_vector() -> None:
    # RFC 6238 appendix B, SHA-1, T = 59 s: 94287082 (8 digits).
    assert rfc6238_code(b"12345678901234567890", 59, digits=8) == "94287082"


def _sign_in(client: Client, username: str, password: str = PASSWORD):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_passwords_are_hashed_with_argon2(world) -> None:
    user = world["users"]["auditor"]
    assert user.password.startswith("argon2$")
    assert settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


def test_a_member_signs_in_and_lands_on_their_study(world) -> None:
    client = Client()
    response = _sign_in(client, world["users"]["auditor"].username)
    assert response.status_code == 302
    response = client.get(response["Location"], follow=True)
    assert response.redirect_chain[-1][0] == reverse("dashboard", kwargs={"study_slug": "alpha"})


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(world) -> None:
    response = _sign_in(Client(), world["users"]["auditor"].username, "not-the-password")
    assert response.status_code == 200
    assert "do not match an account" in response.content.decode()
    assert "_auth_user_id" not in response.client.session


def test_repeated_failures_lock_the_account_even_against_the_right_password(world, login) -> None:
    user = world["users"]["peer-researcher"]
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(client, user.username, "guess-guess-guess")
    locked = _sign_in(Client(), user.username)
    assert locked.status_code == 429 and "locked for 15 minutes" in locked.content.decode()
    assert "_auth_user_id" not in locked.client.session
    # A manager's password reset unlocks it and forces a new password at next sign-in.
    membership = world["alpha"].memberships.get(user=user)
    login(world["users"]["study-manager"]).post(
        reverse("member_password", kwargs={"study_slug": "alpha", "member_id": membership.pk}),
        {"new_password": "Fresh-Temporary-Words-9"},
    )
    client = Client()
    assert _sign_in(client, user.username, "Fresh-Temporary-Words-9").status_code == 302
    forced = client.get(reverse("dashboard", kwargs={"study_slug": "alpha"}))
    assert forced.status_code == 302 and forced["Location"] == reverse("password_change")
    client.post(
        reverse("password_change"),
        {
            "old_password": "Fresh-Temporary-Words-9",
            "new_password1": "My-Own-Chosen-Phrase-77",
            "new_password2": "My-Own-Chosen-Phrase-77",
        },
    )
    assert client.get(reverse("dashboard", kwargs={"study_slug": "alpha"})).status_code == 200


def test_a_manager_cannot_reset_someone_who_is_also_in_a_study_they_do_not_manage(
    world, login
) -> None:
    from steppingstones.core.models import Membership

    shared = world["users"]["researcher"]
    Membership.objects.create(user=shared, study=world["beta"], role="researcher")
    membership = world["alpha"].memberships.get(user=shared)
    url = reverse("member_password", kwargs={"study_slug": "alpha", "member_id": membership.pk})
    response = login(world["users"]["study-manager"]).post(
        url, {"new_password": "Hijack-Attempt-Words-1"}
    )
    assert (
        response.status_code == 200 and "only a manager of all of them" in response.content.decode()
    )
    shared.refresh_from_db()
    assert not shared.check_password("Hijack-Attempt-Words-1")


def test_two_factor_set_up_and_sign_in(world) -> None:
    user = world["users"]["researcher"]
    client = Client()
    _sign_in(client, user.username)
    page = client.get(reverse("two_factor")).content.decode()
    assert "<svg" in page and "is <strong>off</strong>" in page
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    secret = base64.b32encode(device.bin_key).decode()
    assert secret in page
    client.post(reverse("two_factor"), {"token": rfc6238_code(device.bin_key, time.time())})
    device.refresh_from_db()
    assert device.confirmed

    fresh = Client()
    response = _sign_in(fresh, user.username)
    assert response["Location"] == reverse("login_verify")
    assert "_auth_user_id" not in fresh.session, "the password alone does not sign in"
    wrong = fresh.post(
        reverse("login_verify"),
        {"token": "000000" if rfc6238_code(device.bin_key, time.time()) != "000000" else "111111"},
    )
    assert "not right" in wrong.content.decode() and "_auth_user_id" not in fresh.session
    device.refresh_from_db()
    device.throttle_reset()
    # The next time step's code, so it is not the one already used.
    code = rfc6238_code(device.bin_key, time.time() + 30)
    response = fresh.post(reverse("login_verify"), {"token": code})
    assert response.status_code == 302
    assert fresh.session["_auth_user_id"] == str(user.pk)


def test_sessions_expire_after_idle_time_and_at_browser_close() -> None:
    assert settings.SESSION_COOKIE_AGE <= 60 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST and settings.SESSION_EXPIRE_AT_BROWSER_CLOSE


def test_secure_headers_are_sent(world, login) -> None:
    response = login(world["users"]["auditor"]).get(
        reverse("dashboard", kwargs={"study_slug": "alpha"})
    )
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "Strict-Transport-Security" not in response, "HSTS only over TLS"
    secure = login(world["users"]["auditor"]).get(
        reverse("dashboard", kwargs={"study_slug": "alpha"}), secure=True
    )
    assert "max-age=63072000" in secure["Strict-Transport-Security"]


def test_no_page_carries_an_inline_script(world, login) -> None:
    page = (
        login(world["users"]["study-manager"])
        .get(reverse("dashboard", kwargs={"study_slug": "alpha"}))
        .content.decode()
    )
    assert "<script>" not in page and "<script " in page  # htmx loads from a file
    assert " onclick=" not in page


def test_forms_need_the_csrf_token(world) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("login"), {"username": "x", "password": "y"})
    assert response.status_code == 403


def test_an_open_redirect_through_next_is_refused(world) -> None:
    client = Client()
    response = client.post(
        reverse("login"),
        {
            "username": world["users"]["auditor"].username,
            "password": PASSWORD,
            "next": "https://evil.example/",
        },
    )
    assert response["Location"] == reverse("home")


def test_an_inactive_user_sees_no_study(world, login) -> None:
    user = world["users"]["researcher"]
    get_user_model().objects.filter(pk=user.pk).update(is_active=False)
    user.refresh_from_db()
    assert _sign_in(Client(), user.username).status_code == 200
