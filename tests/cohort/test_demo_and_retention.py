"""The demo cohort has the seed study's shape; retention figures are counted correctly."""

from __future__ import annotations

from steppingstones.cohort.demo import build_cohort
from steppingstones.cohort.models import FocusGroup, Interview, StaffInterview, Withdrawal, Woman
from steppingstones.cohort.retention import WomanRecord, interviews_done, retention_table
from steppingstones.core.demo import build_demo
from steppingstones.core.demo_load import load_demo


def test_the_demo_cohort_matches_the_seed_study_totals(db) -> None:
    load_demo()
    assert Woman.objects.count() == 36
    assert Interview.objects.filter(status="done").count() == 131
    assert Withdrawal.objects.filter(participant__kind="woman").count() == 2
    attendees = {a.pk for g in FocusGroup.objects.all() for a in g.attendees.all()}
    assert len(attendees) == 79
    interviewed = set(StaffInterview.objects.values_list("staff_member", flat=True))
    assert len(interviewed) == 21 and not attendees & interviewed
    missed = Interview.objects.filter(status__in=["missed", "declined"]).count()
    assert missed > 0, "a realistic spread of missed waves"
    assert Interview.objects.filter(status="done").values("woman").distinct().count() <= 36


def test_the_demo_cohort_is_deterministic() -> None:
    plan = build_demo()
    women = [(p.pseudonym, p.site_code) for p in plan.people if p.kind == "woman"]
    staff = [(p.pseudonym, p.site_code) for p in plan.people if p.kind == "staff"]
    assert build_cohort(women, staff, seed=1) == build_cohort(women, staff, seed=1)
    assert build_cohort(women, staff, seed=1) != build_cohort(women, staff, seed=2)


def test_retention_is_counted_per_site_and_wave() -> None:
    # Worked by hand: at EL, A did waves 1-2; B missed 1 and withdrew before 2; at GG, C was lost
    # after an interview at wave 1, D has wave 1 booked, and E was recruited after wave 1 closed.
    women = [
        WomanRecord("EL", "active", {1: "done", 2: "done"}),
        WomanRecord("EL", "withdrawn", {1: "missed"}),
        WomanRecord("GG", "lost", {1: "done"}),
        WomanRecord("GG", "active", {1: "booked"}),
        WomanRecord("GG", "active", {}, not_applicable=frozenset({1})),
    ]
    rows = {(r.site_code, r.wave): r for r in retention_table(women, [1, 2], ["EL", "GG"])}

    def counts(interviewed=0, missed=0, withdrawn=0, lost=0, pending=0, na=0):
        return {
            "interviewed": interviewed,
            "missed": missed,
            "withdrawn": withdrawn,
            "lost": lost,
            "pending": pending,
            "not applicable": na,
        }

    assert dict(rows[("EL", 1)].counts) == counts(interviewed=1, missed=1)
    assert dict(rows[("EL", 2)].counts) == counts(interviewed=1, withdrawn=1)
    assert dict(rows[("GG", 1)].counts) == counts(interviewed=1, pending=1, na=1)
    assert dict(rows[("", 2)].counts) == counts(interviewed=1, withdrawn=1, lost=1, pending=2)
    assert rows[("", 1)].recruited == 5 and rows[("GG", 2)].recruited == 3
    assert interviews_done(women) == 3
