"""The Voices part of the synthetic demo study."""

from __future__ import annotations

from collections import Counter

import pytest

from steppingstones.core import identity_store
from steppingstones.core.demo_load import load_demo
from steppingstones.core.identity import unseal
from steppingstones.voices import demo_content
from steppingstones.voices.models import (
    AgreementRound,
    Case,
    Code,
    Coding,
    Framework,
    FrameworkCell,
    LabelSet,
    Memo,
    Redaction,
    Source,
    SourceSet,
)


@pytest.fixture
def demo(db):
    load_demo()
    return Source.objects.first().study


def _counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (
            Source,
            Code,
            Coding,
            Memo,
            Case,
            SourceSet,
            Redaction,
            LabelSet,
            AgreementRound,
            Framework,
            FrameworkCell,
        )
    }


def test_loading_the_demo_twice_duplicates_nothing(demo) -> None:
    before = _counts()
    load_demo()
    assert _counts() == before
    assert 40 <= before["Source"] <= 60


def test_every_transcript_is_labelled_synthetic(demo) -> None:
    key = identity_store.load_key()
    for source in Source.objects.all():
        assert "written for the demo, not a real account" in source.description
        raw = unseal(source.raw_sealed, key, f"study:{demo.pk}/voices-source:{source.guid}")
        assert raw["text"].splitlines()[0] == demo_content.SYNTHETIC_NOTICE
        if source.status == Source.Status.READY:
            assert source.text.splitlines()[0] == demo_content.SYNTHETIC_NOTICE
            assert source.turns and all(t["role"] for t in source.turns)
            for turn in source.turns:
                assert 0 <= turn["start_char"] < turn["end_char"] <= len(source.text)


def test_ready_interviews_span_women_and_waves_and_themes_change_by_wave(demo) -> None:
    ready = Source.objects.filter(status="ready", kind="interview")
    assert ready.values("participant").distinct().count() == 12
    assert set(ready.values_list("wave__number", flat=True)) == {1, 2, 3, 4, 5}
    per_wave = {
        wave: Counter(
            Coding.objects.filter(
                source__wave__number=wave, coder_name="demo-researcher"
            ).values_list("code__parent__name", flat=True)
        )
        for wave in (1, 3, 5)
    }
    assert per_wave[1]["Birth and the postnatal ward"] == 0
    assert per_wave[3]["Birth and the postnatal ward"] > 0
    assert per_wave[5]["Hopes, recovery and motherhood"] > per_wave[1].get(
        "Hopes, recovery and motherhood", 0
    )


def test_codings_lie_in_their_text_and_two_coders_coded(demo) -> None:
    coders = Counter(Coding.objects.values_list("coder_name", flat=True))
    assert set(coders) == {"demo-researcher", "demo-peer-researcher"}
    assert coders["demo-peer-researcher"] > 20
    for coding in Coding.objects.select_related("source", "code"):
        assert 0 <= coding.start < coding.end <= len(coding.source.text)
        assert coding.code.is_codable
        assert coding.coder is not None and coding.coder.username == coding.coder_name
    same_range = Coding.objects.values("source", "start", "end", "selection_guid").distinct()
    ranges = Coding.objects.values("source", "start", "end").distinct()
    assert same_range.count() == ranges.count(), "one selection per range"
    round_ = AgreementRound.objects.get()
    assert round_.status == "comparing"
    assert {u.username for u in round_.coders.all()} == set(coders)
    for source in round_.sources.all():
        assert set(source.codings.values_list("coder_name", flat=True)) == set(coders)


def test_codebook_has_themes_with_children_and_criteria(demo) -> None:
    themes = Code.objects.filter(parent=None)
    assert themes.count() == len(demo_content.CODEBOOK)
    children = Code.objects.exclude(parent=None)
    assert children.count() >= 20
    assert all(c.inclusion and c.exclusion and c.example for c in children)
    assert len({c.colour for c in Code.objects.all()}) > 10


def test_the_framework_is_filled(demo) -> None:
    framework = Framework.objects.get()
    assert framework.themes.count() == len(demo_content.CODEBOOK)
    coded = set()
    for coding in Coding.objects.filter(
        coder_name="demo-researcher", source__kind="interview"
    ).select_related("code", "source"):
        theme = framework.themes.get(codes=coding.code)
        coded.add((coding.source.participant_id, theme.pk, coding.source.wave_id))
    cells = {
        (c.participant_id, c.theme_id, c.wave_id): c.summary
        for c in FrameworkCell.objects.filter(framework=framework)
    }
    assert coded == set(cells)
    assert all(summary.strip() for summary in cells.values())


def test_review_sources_hold_sealed_raw_text_and_redaction_positions(demo) -> None:
    key = identity_store.load_key()
    review = Source.objects.filter(status="review")
    assert review.count() == 2
    for source in review:
        assert source.text == ""
        raw = unseal(source.raw_sealed, key, f"study:{demo.pk}/voices-source:{source.guid}")
        rows = list(source.redactions.all())
        assert len(rows) >= 4
        kinds = {r.kind for r in rows}
        assert "person" in kinds
        for row in rows:
            assert 0 <= row.start < row.end <= len(raw["text"])
            assert raw["text"][row.start : row.end] not in row.label
        label_key = f"participant:{source.participant.pseudonym}"
        assert LabelSet.objects.filter(study=demo, key=label_key).exists()


def test_focus_group_speakers_are_mapped_to_staff(demo) -> None:
    group = Source.objects.get(kind="focus-group")
    assert group.speaker_map and all(v.startswith("EL-S") for v in group.speaker_map.values())
    staff_turns = [t for t in group.turns if t["role"] == "staff"]
    assert staff_turns and all(t["participant"] for t in staff_turns)


def test_cases_memos_and_sets(demo) -> None:
    assert Case.objects.count() == 12
    for case in Case.objects.all():
        assert case.participant.pseudonym == case.name
        assert case.sources.exists()
        assert case.variables["Pathway after birth"]
    assert Memo.objects.filter(code__isnull=False).exists()
    assert Memo.objects.filter(coding__isnull=False).exists()
    assert Memo.objects.filter(source__isnull=True, code__isnull=True).exists()
    assert SourceSet.objects.filter(sources__isnull=False).exists()
    assert SourceSet.objects.filter(codes__isnull=False).exists()
