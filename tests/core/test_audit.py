"""The audit trail: what it records, what it never records, and that it only ever grows."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from steppingstones.core.jobs import run_job
from steppingstones.core.models import AuditEvent, Job, Site


def test_changes_record_who_and_before_and_after(world, login) -> None:
    manager = world["users"]["study-manager"]
    membership = world["alpha"].memberships.get(user=world["users"]["researcher"])
    response = login(manager).post(
        reverse("member_edit", kwargs={"study_slug": "alpha", "member_id": membership.pk}),
        {"role": "auditor"},
        REMOTE_ADDR="10.1.2.3",
        HTTP_USER_AGENT="test-agent",
    )
    assert response.status_code == 302
    event = AuditEvent.objects.filter(action="membership.change").latest("id")
    assert event.actor_id == manager.pk and event.actor_name == manager.username
    assert event.study_id == world["alpha"].pk
    assert event.changes["role"] == {"before": "researcher", "after": "auditor"}
    assert event.ip_address == "10.1.2.3" and event.user_agent == "test-agent"


def test_password_values_never_enter_the_trail(world, login) -> None:
    manager = world["users"]["study-manager"]
    membership = world["alpha"].memberships.get(user=world["users"]["peer-researcher"])
    login(manager).post(
        reverse("member_password", kwargs={"study_slug": "alpha", "member_id": membership.pk}),
        {"new_password": "Temporary-Passphrase-42"},
    )
    user_change = AuditEvent.objects.filter(action="user.change").latest("id")
    assert user_change.changes["password"] == {"changed": True}
    assert "Temporary-Passphrase-42" not in str(list(AuditEvent.objects.values()))
    assert "argon2" not in str(list(AuditEvent.objects.values()))
    assert AuditEvent.objects.filter(action="password.reset").exists()


def test_viewing_identifiers_is_recorded_with_who_and_where(world, login) -> None:
    manager = world["users"]["study-manager"]
    login(manager).get(
        reverse("identity", kwargs={"study_slug": "alpha", "pseudonym": "GG-W01"}),
        REMOTE_ADDR="10.9.8.7",
    )
    event = AuditEvent.objects.filter(action="identity.view").latest("id")
    assert (event.actor_name, event.object_repr, event.ip_address) == (
        manager.username,
        "GG-W01",
        "10.9.8.7",
    )


def test_logins_and_failed_logins_are_recorded(world, client) -> None:
    user = world["users"]["auditor"]
    client.post(reverse("login"), {"username": user.username, "password": "wrong-password"})
    failed = AuditEvent.objects.filter(action="login.failed").latest("id")
    assert failed.changes == {"username": user.username}
    client.post(
        reverse("login"), {"username": user.username, "password": "a-long-test-password-17"}
    )
    assert AuditEvent.objects.filter(action="login", actor_id=user.pk).exists()


def test_the_application_cannot_change_or_delete_the_trail(world) -> None:
    event = AuditEvent.objects.first()
    event.action = "tampered"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().update(action="tampered")
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE core_auditevent SET action = 'tampered'",
        "DELETE FROM core_auditevent",
    ],
)
def test_the_database_itself_refuses_to_rewrite_the_trail(world, statement) -> None:
    before = AuditEvent.objects.count()
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)
    assert AuditEvent.objects.count() == before
    assert not AuditEvent.objects.filter(action="tampered").exists()


def test_deleting_a_site_leaves_the_trail_intact(world) -> None:
    site = Site.objects.create(study=world["alpha"], code="HD", name="Site HD", nation="england")
    site.delete()
    assert AuditEvent.objects.filter(action="site.delete", object_repr__contains="HD").exists()


def test_the_audit_page_filters_by_user_and_action(world, login) -> None:
    manager = world["users"]["study-manager"]
    client = login(manager)
    client.get(reverse("identity", kwargs={"study_slug": "alpha", "pseudonym": "EL-W01"}))
    page = client.get(
        reverse("audit", kwargs={"study_slug": "alpha"}),
        {"action": "identity.view", "actor": manager.username},
    ).content.decode()
    assert "EL-W01" in page and "membership.create" not in page
    other = (
        login(world["users"]["other-study-manager"])
        .get(reverse("audit", kwargs={"study_slug": "beta"}))
        .content.decode()
    )
    assert "EL-W01" not in other, "each study sees only its own trail"


def test_csv_export_runs_in_the_background_and_is_safe_in_a_spreadsheet(world, login) -> None:
    manager = world["users"]["study-manager"]
    client = login(manager)
    # A username that a spreadsheet would run as a formula if written as it is.
    from steppingstones.core import audit

    audit.record("note", study=world["alpha"], object_repr='=HYPERLINK("http://x")')
    response = client.post(reverse("audit_export", kwargs={"study_slug": "alpha"}), {})
    job = Job.objects.get()
    assert response["Location"] == reverse("job", kwargs={"study_slug": "alpha", "job_id": job.pk})
    assert job.status == Job.Status.QUEUED
    progress_page = client.get(response["Location"]).content.decode()
    assert "<progress" in progress_page and 'hx-trigger="every 1s"' in progress_page
    queued = DBTaskResult.objects.get()
    assert queued.args_kwargs["args"] == [str(job.pk)] and queued.status == "READY"
    # The worker process itself is exercised by the browser tests; here the queued task runs
    # in this process so the test can see the rows it writes inside its transaction.
    run_job.call(*queued.args_kwargs["args"])
    job.refresh_from_db()
    assert job.status == Job.Status.DONE and job.percent == 100, job.message
    fragment = client.get(response["Location"], HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in fragment and "Download" in fragment
    download = client.get(reverse("job_download", kwargs={"study_slug": "alpha", "job_id": job.pk}))
    rows = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode())))
    assert rows[0][:4] == ["id", "at", "actor", "action"]
    objects = [row[6] for row in rows[1:]]
    assert '\'=HYPERLINK("http://x")' in objects
    assert not any(cell.startswith("=") for row in rows for cell in row)
    assert len(rows) - 1 == job.total
    assert AuditEvent.objects.filter(action="export.download", actor_id=manager.pk).exists()
