"""Default timing rules and reference pathways: seeding, scope, and the demo part."""

from __future__ import annotations

from typing import Any

import pytest

from steppingstones.core.demo import build_demo
from steppingstones.core.models import Site
from steppingstones.core.progress import SilentProgress
from steppingstones.journeys import demo_rules, rules
from steppingstones.journeys.models import EventLog, PathwayStep, ReferencePathway, TimingRule
from steppingstones.journeys.pathways import RuleSpec


@pytest.fixture
def study(make_study: Any) -> Any:
    study = make_study("rules", sites=("EL", "GG", "AA"))
    Site.objects.filter(study=study, code="GG").update(name="Greater Glasgow and Clyde")
    return study


def test_default_rules_carry_sources_and_are_seeded_once(study) -> None:
    added = rules.seed_rules(study)
    glasgow_rules = [r for r in rules.DEFAULT_RULES if r.locality == "glasgow"]
    assert added == len(rules.DEFAULT_RULES)  # one Glasgow site: each local rule once
    assert rules.seed_rules(study) == 0
    stored = TimingRule.objects.filter(study=study)
    assert all(rule.citation for rule in stored)
    booking = stored.get(name="Booking by 10+0 weeks")
    assert (booking.anchor, float(booking.limit), booking.at_least) == ("gestation", 10.0, False)
    assert booking.site is None and booking.nation == ""
    cppm = stored.get(name__startswith="Child protection planning meeting")
    assert (cppm.nation, float(cppm.limit)) == ("scotland", 28.0)
    discharge = stored.get(name__startswith="No baby's discharge")
    assert discharge.site.code == "GG" and discharge.at_least and discharge.anchor == "birth"
    assert {r.site.code for r in stored if r.site} == {"GG"}
    assert len([r for r in stored if r.site]) == len(glasgow_rules)
    before_edd = stored.get(name__contains="10 weeks before the due date")
    assert (
        before_edd.anchor == "before-edd" and before_edd.at_least and before_edd.nation == "england"
    )
    after = stored.get(name__startswith="CPPM within 28 days")
    assert after.after_event_type.code == "ird"


def test_a_default_narrowed_to_a_site_is_not_added_again(study) -> None:
    rules.seed_rules(study)
    el = study.sites.get(code="EL")
    TimingRule.objects.filter(study=study, name="Booking by 10+0 weeks").update(site=el)
    assert rules.seed_rules(study) == 0


def test_a_study_without_a_glasgow_site_gets_no_glasgow_rules(make_study: Any) -> None:
    study = make_study("plain", sites=("EL",))
    rules.seed_rules(study)
    assert not TimingRule.objects.filter(study=study, name__contains="Glasgow").exists()


def test_reference_pathways_per_nation(study, make_study: Any) -> None:
    assert rules.seed_pathways(study) == 2
    assert rules.seed_pathways(study) == 0
    scotland = ReferencePathway.objects.get(study=study, nation="scotland")
    steps = list(PathwayStep.objects.filter(pathway=scotland).select_related("event_type"))
    codes = [s.event_type.code for s in steps]
    assert codes.index("booking") < codes.index("pre-birth-conference") < codes.index("birth")
    assert [s.position for s in steps] == list(range(1, len(steps) + 1))
    conference = next(s for s in steps if s.event_type.code == "pre-birth-conference")
    assert conference.latest_day == 28 * 7 - 280 and not conference.required
    booking = next(s for s in steps if s.event_type.code == "booking")
    assert booking.latest_day == -210 and booking.required
    england_only = make_study("england", sites=("EL",))
    assert rules.seed_pathways(england_only) == 1
    assert ReferencePathway.objects.get(study=england_only).nation == "england"
    specs = rules.step_specs(scotland)
    assert specs[0].position == 1 and specs[0].activity == "referral"


def test_rule_specs_keep_to_the_sites_given(study) -> None:
    rules.seed_rules(study)
    everything = rules.rule_specs(study)
    for_el = rules.rule_specs(study, site_codes=["EL"])
    assert len(everything) == TimingRule.objects.filter(study=study).count()
    assert all(spec.site in ("", "EL") for spec in for_el)
    assert len(for_el) < len(everything)
    spec = next(s for s in everything if s.name == "Booking by 10+0 weeks")
    assert spec.limit_days == 70 and spec.unit == "weeks"


def test_rules_are_described_in_words() -> None:
    assert rules.describe(RuleSpec("1", "x", "booking", "gestation", 10)) == (
        "at most 10 weeks' gestation"
    )
    assert rules.describe(RuleSpec("2", "x", "discharge", "birth", 5, at_least=True)) == (
        "at least 5 days after the birth"
    )


def test_the_demo_part_is_idempotent_and_labels_its_log_synthetic(make_study: Any) -> None:
    study = make_study("demo-like", sites=("EL", "HD", "GG", "AA"))
    Site.objects.filter(study=study, code="GG").update(name="Greater Glasgow and Clyde")
    plan = build_demo()
    demo_rules.load_rules(study, plan, SilentProgress())
    rule_count = TimingRule.objects.filter(study=study).count()
    demo_rules.load_rules(study, plan, SilentProgress())
    assert TimingRule.objects.filter(study=study).count() == rule_count
    assert TimingRule.objects.get(study=study, name__contains="10 weeks before").site.code == "EL"
    assert TimingRule.objects.get(study=study, name__contains="by 34 weeks").site.code == "HD"
    log = EventLog.objects.get(study=study)
    assert log.is_synthetic and "SYNTHETIC" in log.name
    assert log.cases == demo_rules.SYNTHETIC_CASES
    assert ReferencePathway.objects.filter(study=study).count() == 2
