"""Storing the demo study's reviews (see demo.py)."""

from __future__ import annotations

import random
from datetime import date
from typing import Any

from django.contrib.auth import get_user_model

from steppingstones.core.demo import DEMO_SEED, DemoStudy
from steppingstones.core.demo_load import demo_part
from steppingstones.core.models import Study
from steppingstones.core.progress import Progress
from steppingstones.evidence import appraisal, demo_records, extraction, pooling, services
from steppingstones.evidence.demo import DemoEvidence, DemoStudyRecord, build_evidence
from steppingstones.evidence.models import (
    Appraisal,
    ChartedDocument,
    ChartingTheme,
    Extraction,
    ExtractionForm,
    IncludedStudy,
    MetaAnalysis,
    QualitativeFinding,
    Review,
    ReviewFinding,
    Source,
    Theme,
)
from steppingstones.evidence.services import FULL_TEXT, TITLE_ABSTRACT

COMPONENT_KEYS = ("methodological_limitations", "coherence", "adequacy", "relevance")


@demo_part("evidence")
def load_evidence(study: Study, plan: DemoStudy, progress: Progress) -> None:
    if Review.objects.filter(study=study).exists():
        return
    users = get_user_model().objects
    reviewers = (users.get(username="demo-researcher"), users.get(username="demo-peer-researcher"))
    store_reviews(study, reviewers=reviewers, progress=progress)


def store_reviews(study: Study, *, reviewers: tuple[Any, Any], progress: Progress) -> None:
    """The demo's mixed-methods review (extracted and appraised by ``reviewers``, with some
    disagreements to reconcile) and its scoping review of guidance."""
    demo = build_evidence(DEMO_SEED)
    progress.start(len(demo.studies) + len(demo.documents), "Demo reviews")
    review = Review.objects.create(
        study=study,
        slug="integrated",
        title="Integrated perinatal care for women who use drugs (synthetic demo review)",
        kind=Review.Kind.MIXED,
        question=(
            "What are the effects of integrated perinatal care for women who use drugs, "
            "and how do women experience it?"
        ),
        framework=Review.Framework.PICOS,
        framework_answers={
            "Population": "Pregnant and postnatal women who use drugs, and their infants",
            "Intervention": "Integrated or collocated maternity and drug treatment services",
            "Comparison": "Usual maternity care",
            "Outcome": "Substance use at birth; infant discharged in mother's care; experience",
            "Study design": "Trials, cohort and before-after studies; qualitative studies",
        },
        registration="DEMO-0000 (synthetic)",
    )
    included = {}
    for record in demo.studies:
        included[record.label] = IncludedStudy.objects.create(
            review=review,
            ref=review.allocate_ref("S"),
            label=record.label,
            design=record.design,
            citation=f"{record.label.split()[0]} A, et al. A synthetic {record.study_design} "
            f"study of integrated perinatal care ({record.setting}). Demo Journal. "
            f"{record.year}.",
        )
        progress.advance()
    _meta_analyses(review, demo.studies)
    _synthesis(review, demo, included)
    _extractions(review, demo, included, reviewers)
    _appraisals(review, demo, included, reviewers)
    _screening(review, reviewers, progress)
    _scoping(study, demo, progress)


def _meta_analyses(review: Review, studies: list[DemoStudyRecord]) -> None:
    specs: list[tuple[str, str, str, str, str, Any]] = [
        (
            "Substance use at birth: integrated care versus usual care",
            "Illicit substance use at birth",
            "RR",
            "REML",
            "setting",
            lambda record: record.counts,
        ),
        (
            "Infant discharged in mother's care",
            "Infant discharged home in the mother's care",
            "OR",
            "DL",
            "",
            lambda record: record.custody,
        ),
    ]
    for title, outcome, measure, method, group, pick in specs:
        columns = ["study", "ai", "bi", "ci", "di", "setting"]
        rows = [
            [record.label, *(str(value) for value in pick(record)), record.setting]
            for record in studies
            if pick(record) is not None
        ]
        analysis = MetaAnalysis(
            review=review,
            ref=review.allocate_ref("MA"),
            title=title,
            outcome=outcome,
            measure=measure,
            method=method,
            subgroup_column=group,
            columns=columns,
            rows=rows,
        )
        analysis.result = pooling.analyse(
            columns, rows, measure=measure, method=method, subgroup_column=group
        )
        analysis.save()


def _synthesis(review: Review, demo: DemoEvidence, included: dict[str, IncludedStudy]) -> None:
    findings: dict[str, QualitativeFinding] = {}
    for record in demo.studies:
        for index, (text, quotes) in enumerate(record.findings):
            findings[f"{record.label}|{index}"] = QualitativeFinding.objects.create(
                study=included[record.label],
                text=text,
                quotes=[{"quote": quote, "page": page} for quote, page in quotes],
            )
    themes: dict[str, Theme] = {}
    for demo_theme in demo.themes:
        theme = Theme.objects.create(
            review=review,
            ref=review.allocate_ref("T"),
            title=demo_theme.title,
            kind=demo_theme.kind,
            parent=themes.get(demo_theme.parent or ""),
        )
        theme.findings.set([findings[key] for key in demo_theme.finding_keys])
        themes[demo_theme.title] = theme
    for demo_finding in demo.review_findings:
        item = ReviewFinding.objects.create(
            review=review,
            ref=review.allocate_ref("QF"),
            statement=demo_finding.statement,
            theme=themes[demo_finding.theme],
            assessment={
                "components": {
                    key: {
                        "concern": concern,
                        "explanation": ""
                        if concern == "no or very minor"
                        else f"{concern.capitalize()} concerns noted by the demo reviewers.",
                    }
                    for key, concern in zip(COMPONENT_KEYS, demo_finding.concerns, strict=True)
                },
                "overall": demo_finding.overall,
                "explanation": demo_finding.explanation,
            },
        )
        item.findings.set([findings[key] for key in demo_finding.finding_keys])


def _scoping(study: Study, demo: DemoEvidence, progress: Progress) -> None:
    review = Review.objects.create(
        study=study,
        slug="guidance",
        title="UK guidance on perinatal care for women who use drugs (synthetic scoping review)",
        kind=Review.Kind.SCOPING,
        question="What does UK guidance recommend about perinatal care for women who use drugs?",
        framework=Review.Framework.PCC,
        framework_answers={
            "Population": "Pregnant and postnatal women who use drugs and their infants",
            "Concept": "Recommendations on the organisation and delivery of care",
            "Context": "UK health and social care guidance, 2008 onwards",
        },
    )
    themes = {
        name: ChartingTheme.objects.create(review=review, ref=review.allocate_ref("CT"), name=name)
        for name in demo.charting_themes
    }
    for document in demo.documents:
        included = IncludedStudy.objects.create(
            review=review,
            ref=review.allocate_ref("S"),
            label=document.label,
            design=IncludedStudy.Design.DOCUMENT,
            citation=f"{document.issuing_body}. {document.label}. {document.year}.",
        )
        charted = ChartedDocument.objects.create(
            study=included,
            issuing_body=document.issuing_body,
            nation=document.nation,
            year=document.year,
            document_type=document.document_type,
            audience=list(document.audience),
        )
        charted.themes.set([themes[name] for name in document.themes])
        progress.advance()


def _answers(record: DemoStudyRecord) -> dict[str, Any]:
    answers: dict[str, Any] = {
        "design": record.study_design,
        "country": record.country,
        "setting": record.setting,
        "population": "Pregnant women using opioids or stimulants (synthetic description).",
        "model_of_care": f"Integrated maternity and drug treatment care in a {record.setting}.",
        "sample_size": record.sample_size,
    }
    if record.counts is not None:
        a, b, c, d = record.counts
        answers["outcomes"] = [
            {"outcome": "Illicit substance use at birth", "measure": "Urine toxicology"}
        ]
        answers["outcome_data"] = [
            {"outcome": "Substance use at birth", "arm": "Integrated care", "events": a,
             "total": a + b},
            {"outcome": "Substance use at birth", "arm": "Usual care", "events": c,
             "total": c + d},
        ]  # fmt: skip
    return answers


def _extractions(
    review: Review,
    demo: DemoEvidence,
    included: dict[str, IncludedStudy],
    reviewers: tuple[Any, Any],
) -> None:
    """Both reviewers extract most studies; a few disagree, three are reconciled."""
    first, second = reviewers
    ExtractionForm.objects.create(
        review=review, definition=extraction.form_to_data(extraction.default_form()), dual=True
    )
    for index, record in enumerate(demo.studies):
        study = included[record.label]
        answers = _answers(record)
        Extraction.objects.create(
            study=study, reviewer=first, answers=answers, status=Extraction.Status.COMPLETE
        )
        if index >= 10:
            continue
        theirs = dict(answers)
        if index % 3 == 1:
            theirs["sample_size"] = record.sample_size + 2  # a transcription slip
        if index % 4 == 2:
            theirs["setting"] = "specialist antenatal clinic"
        Extraction.objects.create(
            study=study,
            reviewer=second,
            answers=theirs,
            status=Extraction.Status.DRAFT if index == 9 else Extraction.Status.COMPLETE,
        )
        if index < 3:
            Extraction.objects.create(
                study=study,
                reviewer=first,
                is_consensus=True,
                answers=answers,
                status=Extraction.Status.COMPLETE,
            )


MMAT_CATEGORY = {"RCT": ["2"], "qualitative": ["1"], "mixed methods": ["5", "1", "3"]}
RESPONSES = ("yes", "yes", "yes", "no", "cant_tell")


def _appraisals(
    review: Review,
    demo: DemoEvidence,
    included: dict[str, IncludedStudy],
    reviewers: tuple[Any, Any],
) -> None:
    """MMAT for every study; RoB 2 for the trials and ROBINS-I for the other comparative
    studies, all by the first reviewer; the second reviewer's MMAT for a few."""
    rng = random.Random(DEMO_SEED)
    first, second = reviewers
    for record in demo.studies:
        study = included[record.label]
        categories = MMAT_CATEGORY.get(record.study_design, ["3"])
        answers: dict[str, Any] = {"categories": categories, "S1": "yes", "S2": "yes"}
        for category in categories:
            for number in range(1, 6):
                answers[f"{category}.{number}"] = rng.choice(RESPONSES)
        answers["comments"] = {"S1": "Aims stated in the introduction (synthetic)."}
        Appraisal.objects.create(study=study, tool=appraisal.MMAT, reviewer=first, answers=answers)
        if record.design == "qualitative" and rng.random() < 0.6:
            Appraisal.objects.create(
                study=study, tool=appraisal.MMAT, reviewer=second, answers=answers
            )
        if record.study_design == "RCT":
            Appraisal.objects.create(
                study=study,
                tool=appraisal.ROB2,
                reviewer=first,
                answers={
                    "1.1": "Y",
                    "1.2": rng.choice(["Y", "NI"]),
                    "1.3": "N",
                    "2.1": "N",
                    "2.2": "N",
                    "2.6": "Y",
                    "3.1": rng.choice(["Y", "N", "PN"]),
                    "3.2": "N",
                    "3.3": "PY",
                    "3.4": "PN",
                    "4.1": "N",
                    "4.2": "N",
                    "4.3": "Y",
                    "4.4": "PY",
                    "4.5": "PN",
                    "5.1": "Y",
                    "5.2": "N",
                    "5.3": "N",
                },
            )
        elif record.design == "quantitative":
            scale = ("low", "moderate", "moderate", "serious", "no_information")
            Appraisal.objects.create(
                study=study,
                tool=appraisal.ROBINS_I,
                reviewer=first,
                answers={f"D{n}": rng.choice(scale[:4] if n != 5 else scale) for n in range(1, 8)},
            )


SOURCE_KINDS = {"Citation searching": Source.Kind.OTHER}
EXCLUSION_REASONS = [
    "Not about pregnant or postnatal women who use drugs",
    "No integrated or collocated model of care",
    "Not primary research",
    "No relevant outcome or experience reported",
]


def _screening(review: Review, reviewers: tuple[Any, Any], progress: Progress) -> None:
    """Synthetic search results from five sources, de-duplicated, part-screened by both
    reviewers at title and abstract (a few conflicts left for a third reviewer) and a few
    full texts assessed."""
    review.criteria = EXCLUSION_REASONS
    review.include_keywords = ["integrated", "collocated", "opioid", "pregnan"]
    review.exclude_keywords = ["rats", "adolescent"]
    review.save()
    demo = demo_records.build_demo_records(DEMO_SEED, 300)
    by_source: dict[str, list[demo_records.DemoRecord]] = {}
    for record in demo:
        by_source.setdefault(record.source, []).append(record)
    relevant: dict[str, bool] = {}
    for name, records in by_source.items():
        source = Source.objects.create(
            review=review,
            name=name,
            kind=SOURCE_KINDS.get(name, Source.Kind.DATABASE),
            search_string="(pregnan* OR perinatal) AND (opioid* OR substance use) AND "
            "(integrated OR collocated) [synthetic demo search]",
            searched_on=date(2023, 3, 1),
        )
        batch = services.store_references(
            review,
            source,
            [record.reference() for record in records],
            filename=f"{name.lower().replace(' ', '-')}-demo.ris",
            file_format="ris",
            encoding="utf-8",
            warnings=[],
            user=reviewers[0],
        )
        for stored, record in zip(batch.records.order_by("number"), records, strict=True):
            relevant[str(stored.pk)] = record.relevant
    # Exact identifier matches are merged; fuzzy ones are left for a person to check.
    services.find_and_store_duplicates(review, automatic=False)
    for group in review.duplicate_groups.filter(reason__in=["doi", "pmid"]):
        members = list(group.records.order_by("number"))
        services.merge(group, primary=members[0], user=None)
    rng = random.Random(DEMO_SEED)
    first, second = reviewers
    queue = list(services.screenable(review).order_by("number"))
    rng.shuffle(queue)
    for position, record in enumerate(queue[:150]):
        truth = "include" if relevant[str(record.pk)] else "exclude"
        reason = "" if truth == "include" else rng.choice(EXCLUSION_REASONS)
        services.decide(record, stage=TITLE_ABSTRACT, user=first, decision=truth, reason=reason)
        if position < 110:
            theirs = truth
            if rng.random() < 0.07:
                theirs = "maybe" if truth == "include" else "include"
            services.decide(record, stage=TITLE_ABSTRACT, user=second, decision=theirs)
    services.rank(review)
    states = services.states_for(review, TITLE_ABSTRACT)
    included = [r for r in queue if states.get(r.pk) == "included"]
    studies = list(review.studies.filter(design=IncludedStudy.Design.QUANTITATIVE))
    for number, record in enumerate(included[:6]):
        if number < 4 and number < len(studies):
            record.included_study = studies[number]
            record.save(update_fields=["included_study"])
            decision, reason = "include", ""
        else:
            decision, reason = "exclude", EXCLUSION_REASONS[1]
        for reviewer in reviewers:
            services.decide(
                record, stage=FULL_TEXT, user=reviewer, decision=decision, reason=reason
            )
    progress.advance()
