"""The REFI-QDA exchange page: access, the upload flow, export jobs and their download."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from steppingstones.core.jobs import run_job
from steppingstones.core.models import Job, Study
from steppingstones.voices.models import Code, Coding, Source
from steppingstones.voices.refiqda import (
    Code as QdaCode,
)
from steppingstones.voices.refiqda import (
    Coding as QdaCoding,
)
from steppingstones.voices.refiqda import (
    PlainTextSelection,
    Project,
    TextSource,
    User,
    read_qdpx,
    write_qdpx,
)

CODE = "11111111-2222-4333-8444-555555555555"
SOURCE = "AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE"


def url(name: str, slug: str = "alpha", **kwargs: Any) -> str:
    return reverse(name, kwargs={"study_slug": slug, **kwargs})


def small_project() -> bytes:
    text = "Interviewer: How was it?\nParticipant: The midwife listened.\n"
    return write_qdpx(
        Project(
            name="Team project",
            users=(User(guid="99999999-8888-4777-8666-555555555555", name="coder one"),),
            codes=(QdaCode(guid=CODE, name="Being listened to", color="#123456"),),
            sources=(
                TextSource(
                    guid=SOURCE,
                    name="Team interview 1",
                    text=text,
                    selections=(
                        PlainTextSelection(
                            guid="12345678-1234-4234-8234-123456789012",
                            start=text.index("The midwife"),
                            end=len(text) - 1,
                            codings=(
                                QdaCoding(
                                    guid="87654321-4321-4321-8321-210987654321",
                                    code_guid=CODE,
                                    creating_user="99999999-8888-4777-8666-555555555555",
                                ),
                            ),
                        ),
                    ),
                ),
            ),
        )
    )


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/zip")


def run_jobs() -> None:
    for job in Job.objects.filter(status=Job.Status.QUEUED):
        run_job.call(str(job.pk))


@pytest.fixture
def voices(world: dict[str, Any]) -> dict[str, Source]:
    """A ready source at each site of study alpha, coded once, and one awaiting review."""
    alpha: Study = world["alpha"]
    code = Code.objects.create(study=alpha, name="Support")
    made = {}
    for site_code in ("EL", "GG"):
        source = Source.objects.create(
            study=alpha,
            site=alpha.sites.get(code=site_code),
            name=f"{site_code} interview",
            kind="interview",
            status="ready",
            text=f"Participant: words from {site_code}.",
        )
        Coding.objects.create(source=source, code=code, coder_name="someone", start=0, end=11)
        made[site_code] = source
    Source.objects.create(
        study=alpha, site=alpha.sites.get(code="EL"), name="raw one", kind="interview"
    )
    return made


# -- access ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "who", ["other-study-manager", "peer-researcher", "advisory-group-member", "auditor"]
)
def test_the_page_and_both_actions_are_404_without_the_right_role(
    world: dict[str, Any], login: Any, voices: Any, who: str
) -> None:
    client = login(world["users"][who])
    assert client.get(url("voices_exchange")).status_code == 404
    assert client.post(url("voices_exchange_export")).status_code == 404
    answer = client.post(
        url("voices_exchange"),
        {
            "file": upload("p.qdpx", small_project()),
            "site": world["alpha"].sites.first().pk,
            "deidentified": "on",
        },
    )
    assert answer.status_code == 404
    assert not Job.objects.exists()


@pytest.mark.parametrize("who", ["study-manager", "researcher", "site-researcher-EL"])
def test_managers_and_researchers_see_the_page(
    world: dict[str, Any], login: Any, voices: Any, who: str
) -> None:
    page = login(world["users"][who]).get(url("voices_exchange"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "taken to be de-identified already" in html
    assert '<label for="id_site">' in html


def test_a_site_researcher_can_only_import_into_their_sites(
    world: dict[str, Any], login: Any, voices: Any
) -> None:
    client = login(world["users"]["site-researcher-EL"])
    page = client.get(url("voices_exchange")).content.decode()
    gg = world["alpha"].sites.get(code="GG")
    assert f'value="{gg.pk}"' not in page
    answer = client.post(
        url("voices_exchange"),
        {"file": upload("p.qdpx", small_project()), "site": gg.pk, "deidentified": "on"},
    )
    assert answer.status_code == 200
    assert "Select a valid choice" in answer.content.decode()
    assert not Job.objects.exists()


def test_a_site_researchers_export_holds_only_their_sites(
    world: dict[str, Any], login: Any, voices: dict[str, Source]
) -> None:
    client = login(world["users"]["site-researcher-EL"])
    assert client.post(url("voices_exchange_export")).status_code == 302
    run_jobs()
    job = Job.objects.get()
    assert job.status == Job.Status.DONE, job.message
    data = client.get(url("voices_exchange_download", job_id=job.pk))
    project = read_qdpx(b"".join(data.streaming_content))  # type: ignore[attr-defined]
    assert [s.guid for s in project.sources] == [voices["EL"].guid]


def test_another_members_export_cannot_be_downloaded(
    world: dict[str, Any], login: Any, voices: Any
) -> None:
    login(world["users"]["researcher"]).post(url("voices_exchange_export"))
    run_jobs()
    job = Job.objects.get()
    for who in ("study-manager", "site-researcher-EL", "peer-researcher", "auditor"):
        client = login(world["users"][who])
        assert client.get(url("voices_exchange_download", job_id=job.pk)).status_code == 404
    other = login(world["users"]["other-study-manager"])
    assert other.get(url("voices_exchange_download", "beta", job_id=job.pk)).status_code == 404


# -- flows -------------------------------------------------------------------------------------


def test_export_runs_in_the_background_and_downloads_as_qdpx(
    world: dict[str, Any], login: Any, voices: dict[str, Source]
) -> None:
    client = login(world["users"]["researcher"])
    response = client.post(url("voices_exchange_export"))
    job = Job.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("job", job_id=job.pk)
    progress = client.get(url("job", job_id=job.pk), headers={"HX-Request": "true"})
    assert 'hx-trigger="every 1s"' in progress.content.decode()
    run_jobs()
    job.refresh_from_db()
    assert job.status == Job.Status.DONE, job.message
    assert job.message.startswith("Exported 2 sources, 1 codes, 2 codings")
    done = client.get(url("job", job_id=job.pk), headers={"HX-Request": "true"}).content.decode()
    assert "hx-trigger" not in done and "Exported 2 sources" in done
    page = client.get(url("voices_exchange")).content.decode()
    link = url("voices_exchange_download", job_id=job.pk)
    assert link in page
    download = client.get(link)
    assert download.status_code == 200
    assert download["Content-Disposition"].endswith('.qdpx"')
    body = b"".join(download.streaming_content)  # type: ignore[attr-defined]
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert "project.qde" in archive.namelist()
    project = read_qdpx(body)
    assert {s.name for s in project.sources} == {"EL interview", "GG interview"}
    assert "raw one" not in {s.name for s in project.sources}


def test_upload_imports_in_the_background(world: dict[str, Any], login: Any, voices: Any) -> None:
    client = login(world["users"]["researcher"])
    gg = world["alpha"].sites.get(code="GG")
    response = client.post(
        url("voices_exchange"),
        {"file": upload("team.qdpx", small_project()), "site": gg.pk, "deidentified": "on"},
    )
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == url("job", job_id=job.pk)
    assert not Source.objects.filter(guid=SOURCE).exists(), "nothing stored before the job runs"
    run_jobs()
    job.refresh_from_db()
    assert job.status == Job.Status.DONE, job.message
    assert job.message.startswith("Imported team.qdpx: 1 sources")
    source = Source.objects.get(guid=SOURCE)
    assert source.site == gg and source.status == "ready"
    coding = Coding.objects.get(source=source)
    assert coding.coder_name == "coder one" and coding.code.colour == "#123456"
    page = client.get(url("voices_exchange")).content.decode()
    assert "Import team.qdpx into Site GG" in page


def test_a_broken_or_hostile_upload_is_refused_on_the_page(
    world: dict[str, Any], login: Any, voices: Any
) -> None:
    client = login(world["users"]["researcher"])
    site = world["alpha"].sites.get(code="EL").pk
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("project.qde", b'<Project name="x"/>')
        archive.writestr("../../escape.txt", b"owned")
    for name, data, message in [
        ("evil.qdpx", buffer.getvalue(), "evil.qdpx: entry &#x27;../../escape.txt&#x27; leaves"),
        ("plain.qdpx", b"just text", "plain.qdpx: not a readable ZIP archive"),
        (
            "bad.qdpx",
            _with_qde(small_project(), b'<Project name="x"><Sources><TextSource/></Sources>'),
            "bad.qdpx: project.qde line 1: not well-formed XML",
        ),
        ("notes.docx", small_project(), "notes.docx is not a .qdpx file"),
    ]:
        page = client.post(
            url("voices_exchange"), {"file": upload(name, data), "site": site, "deidentified": "on"}
        )
        assert page.status_code == 200
        assert message in page.content.decode()
    assert not Job.objects.exists()
    assert not Source.objects.filter(guid=SOURCE).exists()


def test_the_de_identification_statement_is_required(
    world: dict[str, Any], login: Any, voices: Any
) -> None:
    client = login(world["users"]["researcher"])
    page = client.post(
        url("voices_exchange"),
        {"file": upload("team.qdpx", small_project()), "site": world["alpha"].sites.first().pk},
    )
    assert page.status_code == 200 and "This field is required" in page.content.decode()
    assert not Job.objects.exists()


def test_a_failed_import_job_names_the_fault_and_stores_nothing(
    world: dict[str, Any], login: Any, voices: Any
) -> None:
    client = login(world["users"]["researcher"])
    site = world["alpha"].sites.get(code="EL").pk
    data = small_project()
    for _ in range(2):
        client.post(
            url("voices_exchange"),
            {"file": upload("team.qdpx", data), "site": site, "deidentified": "on"},
        )
        run_jobs()
    first, second = Job.objects.order_by("created_at")
    assert first.status == Job.Status.DONE
    assert second.status == Job.Status.FAILED
    assert "nothing was imported. team.qdpx: source 'Team interview 1'" in second.message
    assert Source.objects.filter(guid=SOURCE).count() == 1
    assert "is already in this study" in client.get(url("voices_exchange")).content.decode()


def _with_qde(data: bytes, xml: bytes) -> bytes:
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(buffer, "w") as target,
    ):
        for info in source.infolist():
            target.writestr(
                info.filename, xml if info.filename.endswith(".qde") else source.read(info)
            )
    return buffer.getvalue()
