"""The bridge from stored sources and codings to retrieval, the framework matrix and agreement:
site limits, de-identified text only, blind coding, reconciliation written back all or nothing,
and agreement on stored codings checked against scikit-learn and the krippendorff package."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from steppingstones.cohort import services
from steppingstones.cohort.models import Circumstance, Interview, StaffMember, Woman
from steppingstones.core.models import Participant
from steppingstones.core.policy import study_access
from steppingstones.voices import analysis, retrieval
from steppingstones.voices.models import (
    AgreementResolution,
    AgreementRound,
    Case,
    Code,
    Coding,
    Framework,
    FrameworkTheme,
    Source,
)

TEXT_EL_1 = (
    "Interviewer: How was booking?\n"
    "Participant: The midwife judged me at booking and I was scared the police would come. "
    "Later my named midwife was kind and I started to trust her.\n"
    "Interviewer: And housing?\n"
    "Participant: The hostel was cold and I moved three times before the scan.\n"
)
TEXT_EL_2 = (
    "Interviewer: How are things now?\n"
    "Participant: My named midwife still visits. Nobody judged me on the ward this time. "
    "The social worker came twice and I felt watched.\n"
)
TEXT_GG_1 = (
    "Interviewer: Tell me about the first appointment.\n"
    "Participant: The doctor judged me, I could see it. My drug worker came with me and that "
    "helped. I trust her more than anyone.\n"
)
TEXT_REVIEW = "Participant: Jane Smith lives on Elm Street and the midwife judged her.\n"


def _turns(text: str) -> list[dict[str, Any]]:
    turns, position = [], 0
    for line in text.splitlines(keepends=True):
        role = "interviewer" if line.startswith("Interviewer") else "participant"
        speaker = "I" if role == "interviewer" else "P"
        turns.append(
            {
                "speaker": speaker,
                "role": role,
                "start_char": position,
                "end_char": position + len(line.rstrip("\n")),
            }
        )
        position += len(line)
    return turns


def span(text: str, words: str) -> tuple[int, int]:
    start = text.index(words)
    return start, start + len(words)


@pytest.fixture
def voices(world: dict[str, Any]) -> dict[str, Any]:
    """The `world` study with waves, women at EL and GG, a staff member at EL, four sources (one
    awaiting de-identification review), codes and two coders' codings."""
    study = world["alpha"]
    users = world["users"]
    waves = services.ensure_waves(study)
    el, gg = world["people"]["EL"], world["people"]["GG"]
    women = {}
    for code, person, route in (("EL", el, "drug service"), ("GG", gg, "self-referral")):
        women[code] = Woman.objects.create(
            participant=person,
            recruited_on=date(2024, 1, 10),
            edd=date(2024, 7, 1),
            parity=0 if code == "EL" else 2,
            recruitment_route=route,
        )
    Circumstance.objects.create(
        woman=women["EL"],
        kind="ost",
        value="methadone",
        starts_on=date(2023, 12, 1),
        sensitivity="special",
    )
    interview = Interview.objects.create(
        woman=women["EL"], wave=waves[0], status="done", date=date(2024, 2, 1)
    )
    staff = Participant.objects.create(
        study=study, site=study.sites.get(code="EL"), kind="staff", pseudonym="EL-S01"
    )
    StaffMember.objects.create(participant=staff, role="specialist-midwife")

    def source(name: str, site: str, person: Participant | None, wave: Any, text: str) -> Source:
        return Source.objects.create(
            study=study,
            site=study.sites.get(code=site),
            name=name,
            kind="interview",
            participant=person,
            wave=wave,
            status="ready",
            text=text,
            turns=_turns(text),
        )

    sources = {
        "el1": source("EL-W01 wave 1", "EL", el, waves[0], TEXT_EL_1),
        "el2": source("EL-W01 wave 2", "EL", el, waves[1], TEXT_EL_2),
        "gg1": source("GG-W01 wave 1", "GG", gg, waves[0], TEXT_GG_1),
    }
    sources["el1"].interview = interview
    sources["el1"].save()
    review = source("EL-W01 raw", "EL", el, waves[0], TEXT_REVIEW)
    review.status = "review"
    review.save()
    sources["review"] = review
    parent = Code.objects.create(study=study, name="Care", position=0)
    codes = {
        "stigma": Code.objects.create(study=study, name="Stigma", position=1),
        "trust": Code.objects.create(study=study, name="Trust", position=2),
        "police": Code.objects.create(study=study, name="Police", position=3),
        "housing": Code.objects.create(study=study, name="Housing", position=4),
        "midwife": Code.objects.create(study=study, name="Midwife", parent=parent, position=0),
        "care": parent,
    }
    a, b = users["researcher"], users["peer-researcher"]

    def code(key: str, src: str, words: str, coder: Any, extra: int = 0) -> Coding:
        start, end = span(sources[src].text, words)
        return Coding.objects.create(
            source=sources[src],
            code=codes[key],
            coder=coder,
            coder_name=coder.get_username(),
            start=start,
            end=end + extra,
        )

    # Coder a
    code("stigma", "el1", "The midwife judged me at booking", a)
    code("police", "el1", "I was scared the police would come", a)
    code("trust", "el1", "my named midwife was kind and I started to trust her", a)
    code("midwife", "el1", "The midwife judged me", a)
    code("housing", "el1", "The hostel was cold and I moved three times", a)
    code("stigma", "el2", "Nobody judged me on the ward this time", a)
    code("trust", "el2", "My named midwife still visits", a)
    code("stigma", "gg1", "The doctor judged me, I could see it", a)
    code("trust", "gg1", "I trust her more than anyone", a)
    # Coder b: agrees in part
    code("stigma", "el1", "judged me at booking and I was scared", b)
    code("trust", "el1", "I started to trust her", b)
    code("housing", "el1", "The hostel was cold", b)
    code("stigma", "gg1", "The doctor judged me", b)
    code("trust", "gg1", "My drug worker came with me and that helped. I trust her", b)
    code("police", "gg1", "My drug worker came with me", b)
    # Codings in the source awaiting review must never surface
    Coding.objects.create(
        source=review, code=codes["stigma"], coder=a, coder_name=a.get_username(), start=0, end=20
    )
    Case.objects.create(study=study, name="EL-W01", participant=el, variables={"Cohort": "early"})
    return {**world, "sources": sources, "codes": codes, "waves": waves, "a": a, "b": b}


def access_of(voices: dict[str, Any], who: str) -> Any:
    return study_access(voices["users"][who], "alpha")


def test_only_ready_sources_of_the_members_sites_are_loaded(voices: dict[str, Any]) -> None:
    everyone = analysis.load_corpus(access_of(voices, "researcher"))
    names = {row.name for row in everyone.sources.values()}
    assert names == {"EL-W01 wave 1", "EL-W01 wave 2", "GG-W01 wave 1"}
    assert str(voices["sources"]["review"].pk) not in everyone.texts
    assert all(c.document_id in everyone.texts for c in everyone.codings)
    el_only = analysis.load_corpus(access_of(voices, "site-researcher-EL"))
    assert {row.site for row in el_only.sources.values()} == {"EL"}
    assert {c.document_id for c in el_only.codings} <= set(el_only.texts)
    assert len(el_only.sources) == 2


def test_documents_carry_site_wave_pseudonym_attributes_and_speaker_turns(
    voices: dict[str, Any],
) -> None:
    corpus = analysis.load_corpus(access_of(voices, "researcher"))
    info = corpus.documents[str(voices["sources"]["el1"].pk)]
    assert (info.site, info.participant) == ("EL", "EL-W01")
    assert info.wave == voices["waves"][0].name
    assert info.attributes["Recruitment route"] == "Drug service"
    assert info.attributes["Parity"] == "0"
    assert info.attributes["Opioid substitution treatment"] == "methadone"
    assert info.attributes["Cohort"] == "early"  # from the voices case
    assert {t.role for t in info.turns} == {"interviewer", "participant"}
    assert corpus.wave_order == [w.name for w in voices["waves"][:2]]
    # A peer researcher gets neither the cohort record nor case variables (an exported project
    # writes parity and earlier removals there): only what kind of source it is.
    peer = analysis.load_corpus(access_of(voices, "peer-researcher"))
    attributes = peer.documents[str(voices["sources"]["el1"].pk)].attributes
    assert attributes == {"Source type": "Interview transcript"}


def test_code_queries_resolve_names_and_paths(voices: dict[str, Any]) -> None:
    corpus = analysis.load_corpus(access_of(voices, "researcher"))
    assert corpus.query_names["Care/Midwife"] == corpus.query_names["Midwife"]
    found = retrieval.passages(
        "Stigma AND NOT Care/Midwife",
        corpus.codings,
        corpus.documents,
        retrieval.PassageFilter(speaker_roles={"participant"}, coders={"alpha-researcher-all"}),
        names=corpus.query_names,
        texts=corpus.texts,
    )
    assert sorted(p.text or "" for p in found) == [
        " at booking",
        "Nobody judged me on the ward this time",
        "The doctor judged me, I could see it",
    ]


def _start_round(voices: dict[str, Any], status: str = "coding") -> AgreementRound:
    found = AgreementRound.objects.create(
        study=voices["alpha"], name="Round 1", status=status, created_by=voices["a"]
    )
    found.sources.set([voices["sources"]["el1"], voices["sources"]["gg1"]])
    found.coders.set([voices["a"], voices["b"]])
    return found


def test_blind_coding_hides_the_round_coders_work_everywhere(voices: dict[str, Any]) -> None:
    found = _start_round(voices)
    corpus = analysis.load_corpus(access_of(voices, "study-manager"))
    round_sources = {str(voices["sources"]["el1"].pk), str(voices["sources"]["gg1"].pk)}
    assert not [c for c in corpus.codings if c.document_id in round_sources]
    assert corpus.hidden == 15 - 2  # every coding in el1 and gg1; el2 stays visible
    assert {c.document_id for c in corpus.codings} == {str(voices["sources"]["el2"].pk)}
    assert analysis.coder_counts(found) == {
        "alpha-peer-researcher-all": 6,
        "alpha-researcher-all": 7,
    }
    found.status = AgreementRound.Status.COMPARING
    found.save()
    assert analysis.load_corpus(access_of(voices, "study-manager")).hidden == 0


def test_a_site_limited_member_sees_only_rounds_within_their_sites(voices: dict[str, Any]) -> None:
    found = _start_round(voices)
    assert list(analysis.visible_rounds(access_of(voices, "researcher"))) == [found]
    assert list(analysis.visible_rounds(access_of(voices, "site-researcher-EL"))) == []
    found.sources.set([voices["sources"]["el1"]])
    assert list(analysis.visible_rounds(access_of(voices, "site-researcher-EL"))) == [found]


def _units(texts: list[str], ranges: list[list[tuple[int, int]]]) -> np.ndarray:
    """Character units written out one by one: 1 where a range covers the character."""
    values = []
    for text, covered in zip(texts, ranges, strict=True):
        for i in range(len(text)):
            values.append(1 if any(s <= i < e for s, e in covered) else 0)
    return np.array(values)


@pytest.mark.parametrize("code", ["stigma", "trust", "police", "housing"])
def test_agreement_on_stored_codings_equals_sklearn_and_krippendorff(
    voices: dict[str, Any], code: str
) -> None:
    krippendorff = pytest.importorskip("krippendorff")
    found = _start_round(voices, status="comparing")
    sample = analysis.round_sample(found)
    results = {r.code_id: r for r in analysis.round_results(sample, "character")}
    result = results[str(voices["codes"][code].pk)]
    sources = [voices["sources"]["el1"], voices["sources"]["gg1"]]
    texts = [s.text for s in sources]
    rows = []
    for coder in (voices["b"], voices["a"]):  # alphabetical: peer-researcher, researcher
        ranges = [
            list(
                Coding.objects.filter(
                    source=s, code=voices["codes"][code], coder_name=coder.get_username()
                ).values_list("start", "end")
            )
            for s in sources
        ]
        rows.append(_units(texts, ranges))
    assert result.units == sum(len(t) for t in texts)
    assert result.percent == pytest.approx(100 * float(np.mean(rows[0] == rows[1])))
    assert result.kappa == pytest.approx(cohen_kappa_score(rows[0], rows[1]))
    expected = krippendorff.alpha(reliability_data=np.vstack(rows), level_of_measurement="nominal")
    assert result.alpha == pytest.approx(expected)
    assert result.coded == {
        "alpha-peer-researcher-all": int(rows[0].sum()),
        "alpha-researcher-all": int(rows[1].sum()),
    }


def test_reconciliation_writes_decisions_and_the_consensus_coding(voices: dict[str, Any]) -> None:
    found = _start_round(voices, status="comparing")
    a, b = "alpha-peer-researcher-all", "alpha-researcher-all"
    sample = analysis.round_sample(found)
    rows = analysis.disagreement_rows(sample, a, b)
    police = str(voices["codes"]["police"].pk)
    open_police = [r.disagreement for r in rows if r.disagreement.code_id == police]
    assert len(open_police) == 2  # el1 coded by a only, gg1 by b only
    decisions = [
        analysis.Decision(
            int(d.document_id), int(d.code_id), d.start, d.end, d.coded_by == b, "agreed"
        )
        for d in open_police
    ]
    result = analysis.record_decisions(found, decisions, voices["users"]["study-manager"], a, b)
    assert AgreementResolution.objects.filter(round=found).count() == 2
    stored = Coding.objects.filter(coder_name="consensus", code=voices["codes"]["police"])
    el1 = voices["sources"]["el1"]
    assert list(stored.values_list("source_id", "start", "end")) == [
        (el1.pk, *span(el1.text, "I was scared the police would come"))
    ]
    # Where both coders coded stigma, the consensus keeps it.
    stigma = Coding.objects.filter(coder_name="consensus", code=voices["codes"]["stigma"])
    assert (el1.pk, *span(el1.text, "judged me at booking")) in list(
        stigma.values_list("source_id", "start", "end")
    )
    assert len(result.codings) == Coding.objects.filter(coder_name="consensus").count()
    # The decided ranges are no longer open.
    after = analysis.disagreement_rows(analysis.round_sample(found), a, b)
    assert all(r.resolution is not None for r in after if r.disagreement.code_id == police)


def test_a_bad_decision_writes_nothing(voices: dict[str, Any]) -> None:
    found = _start_round(voices, status="comparing")
    el1 = voices["sources"]["el1"]
    good = analysis.Decision(el1.pk, voices["codes"]["police"].pk, 0, 10, True)
    bad = analysis.Decision(el1.pk, voices["codes"]["police"].pk, 0, len(el1.text) + 5, True)
    with pytest.raises(ValueError, match="outside its source"):
        analysis.record_decisions(
            found, [good, bad], voices["a"], "alpha-peer-researcher-all", "alpha-researcher-all"
        )
    assert AgreementResolution.objects.count() == 0
    assert not Coding.objects.filter(coder_name="consensus").exists()
    found.status = AgreementRound.Status.CODING
    found.save()
    with pytest.raises(ValueError, match="comparing"):
        analysis.record_decisions(
            found, [good], voices["a"], "alpha-peer-researcher-all", "alpha-researcher-all"
        )


def _framework(voices: dict[str, Any], by_wave: bool = True) -> Framework:
    return analysis.save_framework(
        voices["alpha"].pk,
        "Care experiences",
        "woman",
        by_wave,
        [
            analysis.ThemeInput(None, "Judgement", (voices["codes"]["stigma"].pk,)),
            analysis.ThemeInput(None, "Relationships", (voices["codes"]["care"].pk,)),
            analysis.ThemeInput(None, "", ()),
        ],
    )


def test_framework_matrix_charts_passages_and_summaries_per_wave(voices: dict[str, Any]) -> None:
    found = _framework(voices)
    assert [t.name for t in found.themes.all()] == ["Judgement", "Relationships"]
    wave1, wave2 = voices["waves"][0], voices["waves"][1]
    el = voices["people"]["EL"]
    analysis.save_summary(
        found, el, found.themes.get(name="Judgement"), wave1, "Judged at booking.", voices["a"]
    )
    data = analysis.load_framework(access_of(voices, "researcher"), found, "alpha-researcher-all")
    assert data.matrix.cases == ("EL-W01", "GG-W01")
    cell = data.matrix.cell("EL-W01", "Judgement", wave1.name)
    assert cell.summary == "Judged at booking."
    assert [data.passage_text(p) for p in cell.passages] == ["The midwife judged me at booking"]
    # A theme gathering a parent code gathers its children too.
    relationships = data.matrix.cell("EL-W01", "Relationships", wave1.name)
    assert [data.passage_text(p) for p in relationships.passages] == ["The midwife judged me"]
    assert data.matrix.cell("EL-W01", "Judgement", wave2.name).passages
    # Site limits: the EL researcher sees only the EL woman.
    el_view = analysis.load_framework(access_of(voices, "site-researcher-EL"), found)
    assert el_view.matrix.cases == ("EL-W01",)
    # Clearing a summary removes the cell.
    analysis.save_summary(found, el, found.themes.get(name="Judgement"), wave1, "  ", voices["a"])
    assert not found.cells.exists()


def test_framework_without_waves_pools_each_case(voices: dict[str, Any]) -> None:
    found = _framework(voices, by_wave=False)
    data = analysis.load_framework(access_of(voices, "researcher"), found, "alpha-researcher-all")
    assert data.matrix.waves == (analysis.ALL_WAVES,)
    cell = data.matrix.cell("EL-W01", "Judgement", analysis.ALL_WAVES)
    assert len(cell.passages) == 2  # both of EL-W01's waves
    labelled = data.labelled().cell("EL-W01", "Judgement", analysis.ALL_WAVES)
    assert {p.document_id for p in labelled.passages} == {"EL-W01 wave 1", "EL-W01 wave 2"}


def test_framework_themes_need_distinct_names(voices: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="own name"):
        analysis.save_framework(
            voices["alpha"].pk,
            "X",
            "woman",
            True,
            [analysis.ThemeInput(None, "A", ()), analysis.ThemeInput(None, "A", ())],
        )
    assert not Framework.objects.exists() and not FrameworkTheme.objects.exists()


def test_frequency_table_shares_divide_by_the_wave_documents(voices: dict[str, Any]) -> None:
    corpus = analysis.load_corpus(access_of(voices, "researcher"))
    groups, rows = analysis.frequency_table(corpus, "wave", "percent")
    assert groups == [w.name for w in voices["waves"][:2]]
    stigma = dict(rows)[str(voices["codes"]["stigma"].pk)]
    assert stigma == [100.0, 100.0]  # both wave-1 sources and the one wave-2 source
    _, counts = analysis.frequency_table(corpus, "wave", "references")
    assert dict(counts)[str(voices["codes"]["stigma"].pk)] == [4.0, 1.0]
