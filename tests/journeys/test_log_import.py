"""Importing event logs through the page and its background job: all four formats, faults named
by row or element, and nothing stored when anything is wrong."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from steppingstones.core.jobs import run_job
from steppingstones.core.models import Job
from steppingstones.journeys import eventlog, synthetic
from steppingstones.journeys.jobs import UPLOAD_DIR
from steppingstones.journeys.models import EventLog


@pytest.fixture
def manager(world: dict[str, Any], login: Any) -> tuple[Any, Any]:
    return world["alpha"], login(world["users"]["study-manager"])


def upload(client: Any, study: Any, filename: str, data: bytes, fmt: str, **fields: str) -> Job:
    response = client.post(
        reverse("journeys_logs", args=[study.slug]),
        {
            "file": SimpleUploadedFile(filename, data),
            "format": fmt,
            "naive_timezone": "UTC",
            **fields,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    job = Job.objects.get(kind="journeys-log-import")
    run_job.call(str(job.pk))
    job.refresh_from_db()
    return job


def stored_files() -> set[Path]:
    return set((Path(EventLog().file.storage.location) / "journeys").rglob("*.parquet"))


def small_log() -> Any:
    return synthetic.generate(40, seed=7)


def written(writer: Any, table: Any) -> bytes:
    buffer = io.BytesIO()
    writer(table, buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("fmt", "name", "writer"),
    [
        ("csv", "log.csv", eventlog.write_csv),
        ("parquet", "log.parquet", eventlog.write_parquet),
        ("xes", "log.xes", eventlog.write_xes),
        ("ocel", "log.jsonocel", eventlog.write_ocel_json),
    ],
)
def test_each_format_imports_whole(manager, fmt, name, writer) -> None:
    study, client = manager
    table = small_log()
    job = upload(client, study, name, written(writer, table), fmt, name=f"Synthetic {fmt}")
    assert job.status == Job.Status.DONE, job.message
    log = EventLog.objects.get(study=study)
    assert log.name == f"Synthetic {fmt}" and log.source_format == fmt
    assert log.events == table.num_rows and log.cases == 40
    stored = eventlog.read_parquet(log.file.read())
    assert sorted(stored["case_id"].to_pylist()) == sorted(
        eventlog._string_column(table["case_id"]).to_pylist()
    )
    assert not any((Path(log.file.storage.location) / UPLOAD_DIR).iterdir()), "upload removed"
    page = client.get(reverse("journeys_process_map", args=[study.slug]) + f"?source=log-{log.pk}")
    assert page.status_code == 200 and b"Referral" in page.content


def test_a_csv_with_its_own_column_names_is_mapped(manager) -> None:
    study, client = manager
    data = (
        b"Patient;Step;When\n"
        b"P1;Referral;01/02/2023 09:00\n"
        b"P1;Booking;15/02/2023 10:30\n"
        b"P2;Referral;03/03/2023 08:00\n"
    )
    job = upload(
        client,
        study,
        "mine.csv",
        data,
        "csv",
        case="Patient",
        activity="Step",
        timestamp="When",
        timestamp_format="%d/%m/%Y %H:%M",
    )
    assert job.status == Job.Status.DONE, job.message
    log = EventLog.objects.get(study=study)
    assert (log.cases, log.events) == (2, 3)


def test_a_bad_csv_names_its_rows_and_stores_nothing(manager) -> None:
    study, client = manager
    data = (
        b"case_id,activity,timestamp\n"
        b"A,Referral,2023-01-01\n"
        b",Booking,2023-01-02\n"
        b"B,Referral,not a date\n"
        b"C,,2023-01-05\n"
    )
    before = stored_files()
    job = upload(client, study, "bad.csv", data, "csv")
    assert job.status == Job.Status.FAILED
    assert "row 3: no case" in job.message
    assert "row 4: date 'not a date' not understood" in job.message
    assert "row 5: no activity" in job.message
    assert not EventLog.objects.exists()
    assert stored_files() == before


def test_a_malformed_xes_names_its_trace_and_event(manager) -> None:
    study, client = manager
    xes = b"""<?xml version="1.0" encoding="UTF-8"?>
<log xes.version="1.0" xmlns="http://www.xes-standard.org/">
  <trace><string key="concept:name" value="T1"/>
    <event><string key="concept:name" value="Referral"/>
      <date key="time:timestamp" value="2023-01-01T10:00:00+00:00"/></event>
    <event><string key="concept:name" value="Booking"/>
      <date key="time:timestamp" value="yesterday"/></event>
  </trace>
</log>"""
    job = upload(client, study, "bad.xes", xes, "xes")
    assert job.status == Job.Status.FAILED
    assert "trace 1 (case 'T1'), event 2" in job.message
    assert not EventLog.objects.exists()
    broken = upload_again(client, study, b"<log><trace><event></trace></log>", "broken.xes", "xes")
    assert broken.status == Job.Status.FAILED and "malformed XML" in broken.message
    assert not EventLog.objects.exists()


def upload_again(client: Any, study: Any, data: bytes, name: str, fmt: str) -> Job:
    Job.objects.all().delete()
    return upload(client, study, name, data, fmt)


def test_a_bad_ocel_names_its_element(manager) -> None:
    study, client = manager
    document = {
        "objectTypes": [{"name": "case", "attributes": []}],
        "eventTypes": [{"name": "Referral", "attributes": []}],
        "objects": [{"id": "o1", "type": "case"}],
        "events": [
            {
                "id": "e1",
                "type": "Referral",
                "time": "2023-01-01T00:00:00Z",
                "relationships": [{"objectId": "o1", "qualifier": "case"}],
            },
            {
                "id": "e2",
                "type": "Referral",
                "time": "whenever",
                "relationships": [{"objectId": "o1", "qualifier": "case"}],
            },
        ],
    }
    job = upload(client, study, "bad.jsonocel", json.dumps(document).encode(), "ocel")
    assert job.status == Job.Status.FAILED
    assert "events[1]" in job.message
    assert not EventLog.objects.exists()


def test_the_import_form_checks_its_fields(manager) -> None:
    study, client = manager
    response = client.post(
        reverse("journeys_logs", args=[study.slug]),
        {"file": SimpleUploadedFile("a.csv", b"x"), "format": "csv", "naive_timezone": "Mars/Base"},
    )
    assert response.status_code == 200 and b"Unknown time zone" in response.content
    assert not Job.objects.exists()


def test_a_large_log_is_analysed_in_the_background(manager) -> None:
    study, client = manager
    job = upload(
        client, study, "log.parquet", written(eventlog.write_parquet, small_log()), "parquet"
    )
    log = EventLog.objects.get(study=study)
    Job.objects.all().delete()
    response = client.post(
        reverse("journeys_log_analyse", args=[study.slug, log.pk]), {"analysis": "variants"}
    )
    assert response.status_code == 302
    job = Job.objects.get(kind="journeys-log-analysis")
    run_job.call(str(job.pk))
    job.refresh_from_db()
    assert job.status == Job.Status.DONE, job.message
    download = client.get(reverse("job_download", args=[study.slug, job.pk]))
    text = b"".join(download.streaming_content).decode()
    assert text.splitlines()[0] == "rank,count,share,length,activities"
    assert sum(int(line.split(",")[1]) for line in text.splitlines()[1:]) == 40
