from __future__ import annotations

from steppingstones.core.demo import build_demo, nhs_check_digit
from steppingstones.core.demo_load import load_demo
from steppingstones.core.models import Membership, Participant, Site, Study


def test_nhs_check_digit_matches_the_published_example() -> None:
    # NHS Digital's data dictionary uses 943 476 5919 as its worked example of a valid number.
    assert nhs_check_digit("943476591") == 9
    assert nhs_check_digit("401023213") == 7  # a further published valid number: 401 023 2137


def test_the_demo_is_the_seed_study_shape_and_clearly_synthetic() -> None:
    plan = build_demo()
    women = [p for p in plan.people if p.kind == "woman"]
    staff = [p for p in plan.people if p.kind == "staff"]
    assert len(plan.sites) == 4 and len(women) == 36 and len(staff) == 100
    assert {site.name for site in plan.sites} == {
        "East London",
        "Huddersfield",
        "Greater Glasgow and Clyde",
        "Ayrshire and Arran",
    }
    for person in women:
        ids = person.identifiers
        assert ids is not None
        digits = ids.nhs_or_chi_number.replace(" ", "")
        assert digits.startswith("999") and nhs_check_digit(digits[:9]) == int(digits[9])
        assert ids.phone.startswith("07700 900") and ids.email.endswith("@example.org")
    assert build_demo() == plan, "same seed, same study"
    assert build_demo(seed=1) != plan


def test_loading_twice_duplicates_nothing(db) -> None:
    load_demo()
    load_demo()
    study = Study.objects.get(slug="demo")
    assert study.is_synthetic
    assert Site.objects.filter(study=study).count() == 4
    assert Participant.objects.filter(study=study, kind="woman").count() == 36
    assert Membership.objects.filter(study=study).count() == 6
