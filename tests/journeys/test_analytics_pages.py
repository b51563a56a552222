"""The pathway analytics pages: what each shows, exports that parse back, and who may see what."""

from __future__ import annotations

import csv
import io
from typing import Any

import pyarrow.parquet as pq
import pytest
from django.urls import reverse

from steppingstones.core.models import AuditEvent
from steppingstones.journeys import eventlog, rules, synthetic
from steppingstones.journeys.jobs import store_log
from steppingstones.journeys.models import PathwayStep, ReferencePathway, TimingRule
from tests.cohort.conftest import cohort  # noqa: F401 (fixture)
from tests.journeys.analytics_fixtures import add_journeys

RESULT_PAGES = [
    "journeys_analytics",
    "journeys_process_map",
    "journeys_variants",
    "journeys_milestones",
    "journeys_timings",
    "journeys_conformance",
    "journeys_dropoff",
]
OTHER_PAGES = ["journeys_rules", "journeys_pathways"]


@pytest.fixture
def journeys(cohort: dict[str, Any]) -> dict[str, Any]:  # noqa: F811 (the imported fixture)
    return add_journeys(cohort)


@pytest.fixture
def study(journeys: dict[str, Any]) -> Any:
    study = journeys["alpha"]
    rules.seed_rules(study)
    rules.seed_pathways(study)
    return study


def url(name: str, study: Any, *args: Any, query: str = "") -> str:
    return reverse(name, args=[study.slug, *args]) + (f"?{query}" if query else "")


def csv_rows(response: Any) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_every_page_renders_for_a_researcher(journeys, study, login) -> None:
    client = login(journeys["users"]["researcher"])
    for name in [*RESULT_PAGES, *OTHER_PAGES, "journeys_logs", "journeys_rule_add"]:
        response = client.get(url(name, study))
        assert response.status_code == 200, name
    page = client.get(url("journeys_process_map", study)).content.decode()
    assert 'role="img"' in page and "<caption>Transitions of the map" in page
    assert "Booking appointment" in page


def test_process_map_counts_and_export_match_the_journeys(journeys, study, login) -> None:
    client = login(journeys["users"]["researcher"])
    rows = csv_rows(
        client.get(url("journeys_analytics_export", study, "map", "csv", query="source=cohort"))
    )
    edges = {(r["from"], r["to"]): r for r in rows}
    # Both women go from birth to the baby's discharge: days 6 and 3, median 4.5 days.
    discharge = edges[("Birth", "Baby's discharge from hospital")]
    assert discharge["count"] == "2"
    assert float(discharge["median_days"]) == pytest.approx(4.5)
    assert ("Booking appointment", "Referral to maternity") in edges  # GG booked first
    # A frequency threshold of 2 keeps only transitions both women took.
    rows = csv_rows(
        client.get(url("journeys_analytics_export", study, "map", "csv", query="min_count=2"))
    )
    assert {(r["from"], r["to"]) for r in rows} == {
        ("Birth", "Baby's discharge from hospital"),
        ("Baby's discharge from hospital", "Health-visitor contact"),
    }
    table = pq.read_table(
        io.BytesIO(client.get(url("journeys_analytics_export", study, "map", "parquet")).content)
    )
    assert sum(table["count"].to_pylist()) == 11 - 1 + 9 - 1  # transitions of the two journeys
    assert AuditEvent.objects.filter(action="export.journeys").exists()


def test_variants_milestones_and_timings_give_hand_computed_numbers(journeys, study, login) -> None:
    client = login(journeys["users"]["researcher"])
    variants = csv_rows(client.get(url("journeys_analytics_export", study, "variants", "csv")))
    assert [v["count"] for v in variants] == ["1", "1"]
    assert variants[0]["activities"].count(" > ") in (8, 10)
    milestones = csv_rows(
        client.get(
            url("journeys_analytics_export", study, "milestones", "csv", query="milestone=booking")
        )
    )
    weeks = {r["site"]: float(r["median_weeks"]) for r in milestones}
    assert weeks["EL"] == pytest.approx(66 / 7) and weeks["GG"] == pytest.approx(12)
    assert weeks["All"] == pytest.approx((66 / 7 + 12) / 2)
    stay = csv_rows(
        client.get(
            url("journeys_analytics_export", study, "milestones", "csv", query="milestone=stay")
        )
    )
    assert {r["site"]: float(r["median_days"]) for r in stay} == {"EL": 6, "GG": 3, "All": 4.5}
    custom = csv_rows(
        client.get(
            url(
                "journeys_analytics_export",
                study,
                "milestones-cases",
                "csv",
                query="from=booking&to=pre-birth-conference",
            )
        )
    )
    assert {r["case_id"]: float(r["days"]) for r in custom} == {
        "EL-W01": (33 * 7) - 66,
        "GG-W01": (27 - 12) * 7,
    }
    timings = csv_rows(client.get(url("journeys_analytics_export", study, "timings", "csv")))
    booking = {r["site"]: r for r in timings if r["rule"] == "Booking by 10+0 weeks"}
    assert booking["EL"]["met"] == "1" and booking["GG"]["not_met"] == "1"
    assert float(booking["All"]["share_met"]) == 0.5
    cppm = {r["site"]: r for r in timings if r["rule"].startswith("Child protection planning")}
    assert cppm["GG"]["met"] == "1" and cppm["EL"]["not_applicable"] == "1"
    discharge = {r["site"]: r for r in timings if r["rule"].startswith("No baby's discharge")}
    # A Glasgow rule: the test study's GG site is "Site GG", so it has no Glasgow rules.
    assert discharge == {}


def test_conformance_and_dropoff(journeys, study, login) -> None:
    client = login(journeys["users"]["researcher"])
    england = ReferencePathway.objects.get(study=study, nation="england")
    cases = csv_rows(
        client.get(
            url(
                "journeys_analytics_export",
                study,
                "conformance-cases",
                "csv",
                query=f"pathway={england.pk}",
            )
        )
    )
    by_case = {r["case_id"]: r for r in cases}
    # EL-W01's conference at 33 weeks meets England's 34 weeks; she has no antenatal HV contact.
    assert "Health-visitor antenatal contact" in by_case["EL-W01"]["missing"]
    assert by_case["EL-W01"]["late"] == ""
    # GG-W01 booked at 12 weeks (late) and before her referral, and saw the HV on day 20.
    assert "Booking appointment" in by_case["GG-W01"]["late"]
    assert "Health-visitor contact" in by_case["GG-W01"]["late"]
    assert by_case["GG-W01"]["out_of_order"] in ("Referral to maternity", "Booking appointment")
    page = client.get(url("journeys_conformance", study, query=f"pathway={england.pk}"))
    assert b"EL-W01" in page.content
    dropoff = csv_rows(
        client.get(
            url("journeys_analytics_export", study, "dropoff", "csv", query="events=contacts")
        )
    )
    drug = {
        int(r["month"]): int(r["contacts"]) for r in dropoff if r["service"] == "Drug treatment"
    }
    # EL: weeks 20 and 30 (months -4 and -2 before a birth at 39+1), day 40 (month 1); GG: week 30.
    assert drug[-5] + drug[-4] + drug[-3] + drug[-2] + drug[-1] == 3
    assert drug[1] == 1
    assert sum(drug.values()) == 4


def test_filters_by_site_and_characteristics(journeys, study, login) -> None:
    client = login(journeys["users"]["researcher"])

    def women(query: str) -> set[str]:
        rows = csv_rows(
            client.get(
                url("journeys_analytics_export", study, "milestones-cases", "csv", query=query)
            )
        )
        return {r["case_id"] for r in rows}

    assert women("") == {"EL-W01", "GG-W01"}
    assert women("site=GG") == {"GG-W01"}
    assert women("ost=yes") == {"EL-W01"}
    assert women("ost=no") == {"GG-W01"}
    assert women("substance=heroin") == {"EL-W01"}
    assert women("parity=first") == {"EL-W01"}
    assert women("site=XX") == {"EL-W01", "GG-W01"}, "an unknown site is ignored"


def test_cohort_event_log_exports_read_back_in_every_format(journeys, study, login) -> None:
    client = login(journeys["users"]["researcher"])
    readers = {
        "csv": eventlog.read_csv,
        "parquet": eventlog.read_parquet,
        "xes": eventlog.read_xes,
        "ocel": eventlog.read_ocel_json,
    }
    for fmt, read in readers.items():
        response = client.get(url("journeys_cohort_log_export", study, fmt))
        assert response.status_code == 200, fmt
        table = read(response.content)
        assert table.num_rows == 20, fmt
        assert set(table["case_id"].to_pylist()) == {"EL-W01", "GG-W01"}
        assert "Booking appointment" in table["activity"].to_pylist()


def test_an_imported_log_can_be_analysed(journeys, study, login) -> None:
    log = store_log(
        study,
        synthetic.generate(300, seed=3),
        name="Synthetic",
        original_name="s.parquet",
        source_format="parquet",
        is_synthetic=True,
    )
    client = login(journeys["users"]["researcher"])
    for name in RESULT_PAGES:
        response = client.get(url(name, study, query=f"source=log-{log.pk}"))
        assert response.status_code == 200, name
    rows = csv_rows(
        client.get(
            url("journeys_analytics_export", study, "variants", "csv", query=f"source=log-{log.pk}")
        )
    )
    assert sum(int(r["count"]) for r in rows) == 300
    stay = csv_rows(
        client.get(
            url(
                "journeys_analytics_export",
                study,
                "milestones",
                "csv",
                query=f"source=log-{log.pk}&from=Birth&to=Discharge",
            )
        )
    )
    assert next(r for r in stay if r["site"] == "All")["n"] == "300"
    for fmt in ("csv", "parquet", "xes", "ocel"):
        assert client.get(url("journeys_log_export", study, log.pk, fmt)).status_code == 200


def test_rules_and_pathways_can_be_edited(journeys, study, login) -> None:
    client = login(journeys["users"]["study-manager"])
    booking = TimingRule.objects.get(study=study, name="Booking by 10+0 weeks")
    response = client.post(
        url("journeys_rule_add", study),
        {
            "name": "Drug service referral within 14 days of booking",
            "event_type": booking.event_type.study.event_types.get(code="drug-service-referral").pk,
            "anchor": "after-event",
            "after_event_type": booking.event_type.pk,
            "limit": "14",
            "nation": "",
            "citation": "Local",
        },
    )
    assert response.status_code == 302
    added = TimingRule.objects.get(study=study, name__startswith="Drug service referral")
    assert added.after_event_type == booking.event_type
    response = client.post(url("journeys_rule_edit", study, added.pk), {"delete": "1"})
    assert not TimingRule.objects.filter(pk=added.pk).exists()
    # An "after another event" rule needs the other event.
    response = client.post(
        url("journeys_rule_add", study),
        {"name": "x", "event_type": booking.event_type.pk, "anchor": "after-event", "limit": "3"},
    )
    assert response.status_code == 200 and b"Choose the event" in response.content
    types = {t.code: t.pk for t in study.event_types.all()}
    data = {
        "name": "Short pathway",
        "nation": "",
        "description": "",
        "steps-TOTAL_FORMS": "3",
        "steps-INITIAL_FORMS": "0",
        "steps-MIN_NUM_FORMS": "0",
        "steps-MAX_NUM_FORMS": "1000",
        "steps-0-position": "1",
        "steps-0-event_type": types["booking"],
        "steps-0-latest_day": "-210",
        "steps-0-required": "on",
        "steps-1-position": "2",
        "steps-1-event_type": types["birth"],
        "steps-1-latest_day": "0",
        "steps-1-required": "on",
        "steps-2-required": "on",  # the blank row as the page shows it
    }
    assert client.post(url("journeys_pathway_add", study), data).status_code == 302
    pathway = ReferencePathway.objects.get(study=study, name="Short pathway")
    assert list(PathwayStep.objects.filter(pathway=pathway).values_list("position", flat=True)) == [
        1,
        2,
    ]
    clash = {**data, "name": "Clash", "steps-1-position": "1"}
    response = client.post(url("journeys_pathway_add", study), clash)
    assert response.status_code == 200 and b"same position" in response.content
    # Seeding again adds nothing.
    before = TimingRule.objects.filter(study=study).count()
    client.post(url("journeys_rules", study))
    assert TimingRule.objects.filter(study=study).count() == before


# --------------------------------------------------------------------------------------------
# Access


ALL_VIEWS = [
    *[(name, ()) for name in RESULT_PAGES + OTHER_PAGES],
    ("journeys_analytics_export", ("map", "csv")),
    ("journeys_analytics_export", ("conformance-cases", "csv")),
    ("journeys_cohort_log_export", ("xes",)),
    ("journeys_logs", ()),
    ("journeys_rule_add", ()),
    ("journeys_pathway_add", ()),
]


def test_members_of_another_study_and_roles_without_the_area_get_404(
    journeys, study, login
) -> None:
    log = store_log(
        study,
        synthetic.generate(20, seed=1),
        name="S",
        original_name="s.parquet",
        source_format="parquet",
    )
    rule = TimingRule.objects.filter(study=study).first()
    pathway = ReferencePathway.objects.filter(study=study).first()
    views = [
        *ALL_VIEWS,
        ("journeys_log_export", (log.pk, "csv")),
        ("journeys_rule_edit", (rule.pk,)),
        ("journeys_pathway_edit", (pathway.pk,)),
    ]
    for who in ("other-study-manager", "advisory-group-member"):
        client = login(journeys["users"][who])
        for name, args in views:
            assert client.get(url(name, study, *args)).status_code == 404, (who, name)
        assert (
            client.post(
                url("journeys_log_analyse", study, log.pk), {"analysis": "variants"}
            ).status_code
            == 404
        )


def test_a_site_researcher_sees_only_her_sites_women(journeys, study, login) -> None:
    client = login(journeys["users"]["site-researcher-EL"])
    for name in RESULT_PAGES + OTHER_PAGES:
        assert client.get(url(name, study)).status_code == 200, name
    rows = csv_rows(client.get(url("journeys_analytics_export", study, "milestones-cases", "csv")))
    assert {r["case_id"] for r in rows} == {"EL-W01"}
    rows = csv_rows(
        client.get(
            url("journeys_analytics_export", study, "milestones-cases", "csv", query="site=GG")
        )
    )
    assert {r["case_id"] for r in rows} == {"EL-W01"}, "another site's code is ignored"
    conformance = client.get(url("journeys_conformance", study)).content
    assert b"EL-W01" in conformance and b"GG-W01" not in conformance
    table = eventlog.read_csv(client.get(url("journeys_cohort_log_export", study, "csv")).content)
    assert set(table["case_id"].to_pylist()) == {"EL-W01"}
    timings = csv_rows(client.get(url("journeys_analytics_export", study, "timings", "csv")))
    assert {r["site"] for r in timings} <= {"EL", "All"}
    # Imported logs (not tied to the study's sites), rule and pathway editing: every site only.
    log = store_log(
        study, synthetic.generate(20, seed=1), name="S", original_name="s", source_format="parquet"
    )
    assert (
        client.get(url("journeys_process_map", study, query=f"source=log-{log.pk}")).status_code
        == 404
    )
    assert client.get(url("journeys_logs", study)).status_code == 404
    assert client.get(url("journeys_rule_add", study)).status_code == 404


def test_a_peer_researcher_sees_aggregates_only(journeys, study, login) -> None:
    client = login(journeys["users"]["peer-researcher"])
    for name in RESULT_PAGES:
        response = client.get(url(name, study))
        assert response.status_code == 200, name
        assert b"EL-W01" not in response.content and b"GG-W01" not in response.content, name
    assert client.get(url("journeys_analytics_export", study, "map", "csv")).status_code == 200
    for result in ("milestones-cases", "timings-cases", "conformance-cases"):
        assert client.get(url("journeys_analytics_export", study, result, "csv")).status_code == 404
    assert client.get(url("journeys_cohort_log_export", study, "csv")).status_code == 404
    # An imported log's case-level rows are not hers either, though its aggregates are.
    log = store_log(
        study, synthetic.generate(20, seed=1), name="S", original_name="s", source_format="parquet"
    )
    assert client.get(url("journeys_log_export", study, log.pk, "csv")).status_code == 404
    listing = client.get(url("journeys_logs", study)).content.decode()
    assert "Aggregates only" in listing and f"/logs/{log.pk}.csv" not in listing
    # Characteristics are not filters for her: asking for one changes nothing.
    rows = csv_rows(
        client.get(url("journeys_analytics_export", study, "milestones", "csv", query="ost=yes"))
    )
    assert [r["n"] for r in rows if r["site"] == "All"] == ["2"]


def test_an_auditor_reads_but_cannot_change_anything(journeys, study, login) -> None:
    client = login(journeys["users"]["auditor"])
    for name in RESULT_PAGES + OTHER_PAGES:
        assert client.get(url(name, study)).status_code == 200, name
    assert (
        client.get(url("journeys_analytics_export", study, "conformance-cases", "csv")).status_code
        == 200
    )
    count = TimingRule.objects.filter(study=study).count()
    TimingRule.objects.filter(study=study).delete()
    assert client.post(url("journeys_rules", study)).status_code == 404
    assert client.post(url("journeys_pathways", study)).status_code == 404
    assert TimingRule.objects.filter(study=study).count() == 0 < count
    assert client.get(url("journeys_rule_add", study)).status_code == 404
    log = store_log(
        study, synthetic.generate(20, seed=1), name="S", original_name="s", source_format="parquet"
    )
    assert (
        client.post(
            url("journeys_log_analyse", study, log.pk), {"analysis": "variants"}
        ).status_code
        == 404
    )
    assert client.post(url("journeys_log_delete", study, log.pk)).status_code == 404
    assert client.post(url("journeys_logs", study), {}).status_code == 404
