"""Regression tests for ways around the rules: admin log-in, two-factor step, hostile backups."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from steppingstones.core import identity_store
from steppingstones.core.backup import FORMAT, BackupError, restore_backup
from steppingstones.core.identity import IdentityKeyError
from steppingstones.core.models import AuditEvent, IdentityRecord, Membership
from tests.conftest import PASSWORD
from tests.core.test_accounts import rfc6238_code


def _with_device(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def test_the_admin_log_in_goes_through_the_platform_sign_in(world) -> None:
    response = Client().get("/admin/login/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_session_that_skipped_two_factor_is_signed_out(world, login) -> None:
    user = world["users"]["study-manager"]
    _with_device(user)
    client = login(user)  # signed in without the two-factor step
    response = client.get(reverse("dashboard", kwargs={"study_slug": "alpha"}))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert "_auth_user_id" not in client.session


def test_wrong_two_factor_codes_count_towards_the_lockout(world) -> None:
    user = world["users"]["researcher"]
    device = _with_device(user)
    client = Client()
    client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    right = rfc6238_code(device.bin_key, time.time())
    wrong = "000000" if right != "000000" else "111111"
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login_verify"), {"token": wrong})
        device.refresh_from_db()
        device.throttle_reset()
    response = client.post(reverse("login_verify"), {"token": right})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="login.failed", object_repr=user.username).count() >= 5


def test_the_two_factor_step_expires(world) -> None:
    user = world["users"]["researcher"]
    device = _with_device(user)
    client = Client()
    client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    session = client.session
    session["pending_since"] = time.time() - 3600
    session.save()
    response = client.post(
        reverse("login_verify"), {"token": rfc6238_code(device.bin_key, time.time())}
    )
    assert response["Location"] == reverse("login")
    assert "_auth_user_id" not in client.session


def test_an_unknown_username_is_not_written_to_the_trail(db) -> None:
    Client().post(reverse("login"), {"username": "my-secret-passphrase", "password": "x"})
    assert "my-secret-passphrase" not in str(list(AuditEvent.objects.values()))
    assert AuditEvent.objects.filter(
        action="login.failed", object_repr="(unknown username)"
    ).exists()


def test_group_and_site_changes_are_audited(world) -> None:
    user = world["users"]["researcher"]
    group = Group.objects.create(name="editors")
    user.groups.add(group)
    event = AuditEvent.objects.filter(action="user.groups").latest("id")
    assert event.changes == {"added": [group.pk]}
    membership = Membership.objects.get(user=world["users"]["site-researcher-EL"])
    site_ids = list(membership.sites.values_list("pk", flat=True))
    membership.sites.clear()
    event = AuditEvent.objects.filter(action="membership.sites").latest("id")
    assert event.changes == {"removed": site_ids}


def test_an_old_export_is_out_of_reach_once_the_role_changes(world, login) -> None:
    from steppingstones.core.jobs import start_job

    auditor = world["users"]["auditor"]
    job = start_job(study=world["alpha"], user=auditor, kind="audit-export", label="export")
    url = reverse("job", kwargs={"study_slug": "alpha", "job_id": job.pk})
    assert login(auditor).get(url).status_code == 200
    Membership.objects.filter(user=auditor).update(role="peer-researcher")
    assert login(auditor).get(url).status_code == 404


def test_a_manager_cannot_reset_a_platform_administrator(world, login) -> None:
    admin = get_user_model().objects.create(username="platform-admin", is_staff=True)
    membership = Membership.objects.create(user=admin, study=world["alpha"], role="researcher")
    url = reverse("member_password", kwargs={"study_slug": "alpha", "member_id": membership.pk})
    response = login(world["users"]["study-manager"]).post(
        url, {"new_password": "Takeover-Words-99"}
    )
    admin.refresh_from_db()
    assert response.status_code == 200 and not admin.check_password("Takeover-Words-99")


def test_a_damaged_identity_record_is_reported_not_crashed(participant) -> None:
    IdentityRecord.objects.filter(participant=participant).update(
        sealed=participant.identity.sealed.rsplit(":", 1)[0] + ":***not base64***"
    )
    with pytest.raises(IdentityKeyError, match="damaged"):
        identity_store.read_identity(participant)


def _archive(path: Path, members: dict[str, bytes]) -> Path:
    manifest = {
        "format": FORMAT,
        "identity_key_id": None,
        "counts": {},
        "members": {name: hashlib.sha256(body).hexdigest() for name, body in members.items()},
    }
    with tarfile.open(path, "w:gz") as tar:
        for name, body in {**members, "manifest.json": json.dumps(manifest).encode()}.items():
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    return path


@pytest.mark.parametrize(
    "name",
    [
        "files//tmp/escaped.txt",
        "files/../escaped.txt",
        "files/a/../../escaped.txt",
        "../escaped.txt",
        "/abs.txt",
    ],
)
def test_a_backup_cannot_write_outside_the_files_folder(db, tmp_path, name) -> None:
    archive = _archive(tmp_path / "evil.tar.gz", {"data.json": b"[]", name: b"x"})
    with pytest.raises(BackupError, match=r"not below files/|not a plain file"):
        restore_backup(archive)
    assert not Path("/tmp/escaped.txt").exists()
    assert not (Path(settings.MEDIA_ROOT).parent / "escaped.txt").exists()
    assert not any(Path(settings.MEDIA_ROOT).glob("**/escaped.txt"))


def test_a_backup_with_links_is_refused(db, tmp_path) -> None:
    path = tmp_path / "link.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo("files/link")
        info.type = tarfile.SYMTYPE
        info.linkname = "/etc/passwd"
        tar.addfile(info)
    with pytest.raises(BackupError, match="not a plain file"):
        restore_backup(path)


def test_spreadsheet_safety_leaves_numbers_as_numbers_and_guards_headers() -> None:
    import io

    from steppingstones.core.exports import spreadsheet_safe, write_csv

    assert spreadsheet_safe(-2.5) == "-2.5"
    assert spreadsheet_safe("-2+3") == "'-2+3"
    handle = io.StringIO()
    write_csv(handle, ["=cmd", "ok"], [[-1, "@SUM(A1)"]])
    assert handle.getvalue().splitlines() == ["'=cmd,ok", "-1,'@SUM(A1)"]
