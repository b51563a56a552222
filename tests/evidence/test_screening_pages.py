"""The screening half of a review through Django: import, duplicates, blinded dual screening,
conflicts, agreement, full text, PRISMA and exports."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from sklearn.metrics import cohen_kappa_score

from steppingstones.core.jobs import run_job
from steppingstones.core.models import Job
from steppingstones.evidence import references, services
from steppingstones.evidence.models import (
    DuplicateGroup,
    FullText,
    IncludedStudy,
    Record,
    Review,
    ScreeningDecision,
    Source,
)

FIXTURES = Path(__file__).parent / "fixtures" / "references"


def url(name: str, **kwargs: Any) -> str:
    return reverse(name, kwargs={"study_slug": "alpha", "review": "r", **kwargs})


def ris(*records: tuple[str, str, int, str]) -> bytes:
    lines = []
    for title, author, year, doi in records:
        lines += [
            "TY  - JOUR",
            f"AU  - {author}",
            f"TI  - {title}",
            f"PY  - {year}",
            "JO  - Journal of Perinatal Care",
            f"AB  - About {title.lower()}.",
        ]
        if doi:
            lines.append(f"DO  - {doi}")
        lines.append("ER  - ")
    return ("\n".join(lines) + "\n").encode()


TOPICS = [
    "Integrated antenatal clinic for women who use opioids",
    "Methadone dose and neonatal abstinence syndrome",
    "Housing support for pregnant women in drug treatment",
    "Stigma on postnatal wards",
    "Midwife-led outreach for women using stimulants",
    "Child protection outcomes after specialist care",
]


@pytest.fixture
def review(world) -> Review:
    review = Review.objects.create(
        study=world["alpha"],
        slug="r",
        title="R",
        criteria=["Wrong population", "Wrong design"],
        include_keywords=["opioids"],
        exclude_keywords=["mice"],
    )
    medline = Source.objects.create(review=review, name="MEDLINE")
    embase = Source.objects.create(review=review, name="Embase")
    for source, items in [
        (medline, [(t, f"Author{i}, A", 2010 + i, f"10.5555/x{i}") for i, t in enumerate(TOPICS)]),
        (
            embase,
            [
                (TOPICS[0].upper(), "Author0, A", 2010, ""),
                (TOPICS[3], "Author3, A", 2013, "10.5555/x3"),
            ],
        ),
    ]:
        result = references.parse(ris(*items), format="ris", filename=f"{source.name}.ris")
        services.store_references(
            review,
            source,
            result.records,
            filename=f"{source.name}.ris",
            file_format="ris",
            encoding=result.encoding,
            warnings=[],
            user=None,
        )
    return review


def run_jobs() -> None:
    for job in Job.objects.filter(status=Job.Status.QUEUED):
        run_job.call(str(job.pk))


def test_import_previews_then_stores_everything_in_the_background(world, login, review) -> None:
    client = login(world["users"]["researcher"])
    source = review.sources.get(name="MEDLINE")
    data = (
        (FIXTURES / "pubmed.nbib").read_bytes()
        if (FIXTURES / "pubmed.nbib").exists()
        else ris(("Extra study", "Zed, Z", 2020, ""))
    )
    page = client.post(
        url("evidence_import"),
        {"source": source.pk, "file": _upload("search.nbib", data)},
    ).content.decode()
    assert "Preview of search.nbib" in page
    assert Record.objects.filter(review=review).count() == 8  # nothing saved yet
    token = page.split('name="token" value="')[1].split('"')[0]
    response = client.post(url("evidence_import_confirm"), {"token": token})
    assert response.status_code == 302
    run_jobs()
    job = Job.objects.get(kind="reference-import")
    assert job.status == Job.Status.DONE, job.message
    assert Record.objects.filter(review=review).count() > 8
    assert client.post(url("evidence_import_confirm"), {"token": token}).status_code == 404


def _upload(name: str, data: bytes) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data)


def test_a_malformed_file_names_its_line_and_saves_nothing(world, login, review) -> None:
    client = login(world["users"]["researcher"])
    bad = b"TY  - JOUR\nTI  - Fine\nER  - \nTI  - Orphan title\nER  - \n"
    page = client.post(
        url("evidence_import"),
        {"source": review.sources.first().pk, "file": _upload("bad.ris", bad)},
    ).content.decode()
    assert "Nothing was imported: bad.ris, line" in page
    assert Record.objects.filter(review=review).count() == 8


def test_hostile_xml_is_refused(world, login, review) -> None:
    client = login(world["users"]["researcher"])
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 '
        b'"&lol;&lol;&lol;">]><PubmedArticleSet>&lol2;</PubmedArticleSet>'
    )
    page = client.post(
        url("evidence_import"),
        {"source": review.sources.first().pk, "file": _upload("bomb.xml", bomb)},
    ).content.decode()
    assert "Nothing was imported" in page and "refused" in page


def test_duplicates_are_found_merged_and_counted_per_source(world, login, review) -> None:
    client = login(world["users"]["researcher"])
    client.post(url("evidence_duplicates"), {})  # check by hand: nothing merged automatically
    run_jobs()
    groups = list(DuplicateGroup.objects.filter(review=review))
    assert len(groups) == 2
    by_doi = next(g for g in groups if g.reason == "doi")
    page = client.get(url("evidence_duplicate_group", group=by_doi.pk)).content.decode()
    assert "Stigma on postnatal wards" in page
    fuzzy = next(g for g in groups if g.reason != "doi")
    client.post(url("evidence_duplicate_group", group=fuzzy.pk), {"action": "split"})
    keep = by_doi.records.order_by("number").first()
    client.post(
        url("evidence_duplicate_group", group=by_doi.pk),
        {"action": "merge", "primary": keep.number},
    )
    assert Record.objects.filter(review=review, duplicate_of=keep).count() == 1
    # Looking again does not bring back the pair a person kept apart.
    client.post(url("evidence_duplicates"), {})
    run_jobs()
    assert not DuplicateGroup.objects.filter(review=review, status="pending").exists()
    page = client.get(url("evidence_duplicates")).content.decode()
    assert '<th scope="row">Embase</th><td>2</td><td>1</td>' in page


def _decide(client, stage: str, number: int, decision: str, reason: str = "") -> Any:
    return client.post(
        url("evidence_screen", stage=stage),
        {"record": number, "decision": decision, "reason": reason},
    )


def test_blinded_dual_screening_conflicts_resolution_and_kappa(world, login, review) -> None:
    first = login(world["users"]["researcher"])
    second = login(world["users"]["peer-researcher"])
    third = login(world["users"]["study-manager"])
    mine = ["include", "exclude", "include", "exclude", "include", "exclude", "include", "exclude"]
    theirs = ["include", "exclude", "exclude", "exclude", "maybe", "exclude", "include", "include"]
    for number, decision in enumerate(mine, start=1):
        _decide(first, "title-abstract", number, decision, "Wrong design")
    page = second.get(url("evidence_screen", stage="title-abstract")).content.decode()
    assert "Your decision" not in page  # blind: the first reviewer's vote is not shown
    assert 'class="kw-include"' in page  # keywords highlighted
    for number, decision in enumerate(theirs, start=1):
        _decide(second, "title-abstract", number, decision)
    page = first.get(url("evidence_screen", stage="title-abstract")).content.decode()
    assert "Nothing left for you to screen" in page
    conflicts = first.get(url("evidence_conflicts", stage="title-abstract")).content.decode()
    assert conflicts.count('class="conflict"') == 2  # records 3 and 8
    overview = first.get(url("evidence_screening")).content.decode()
    expected = cohen_kappa_score(mine, theirs)
    assert f"{expected:.2f}" in overview
    third.post(
        url("evidence_resolve", stage="title-abstract"), {"record": 3, "decision": "include"}
    )
    third.post(
        url("evidence_resolve", stage="title-abstract"),
        {"record": 8, "decision": "exclude", "reason": "Wrong population"},
    )
    states = services.states_for(review, "title-abstract")
    assert sorted(
        Record.objects.get(pk=pk).number for pk, s in states.items() if s == "included"
    ) == [1, 3, 5, 7]
    # undo takes back the last decision only
    _decide(first, "full-text", 1, "exclude")  # refused: no reason
    assert not ScreeningDecision.objects.filter(stage="full-text").exists()
    _decide(first, "full-text", 1, "include")
    first.post(url("evidence_screen_undo", stage="full-text"))
    assert not ScreeningDecision.objects.filter(stage="full-text").exists()


def test_full_text_inclusion_makes_an_included_study_and_the_prisma_flow(
    world, login, review
) -> None:
    review.dual_screening = False
    review.save()
    client = login(world["users"]["researcher"])
    for number in range(1, 9):
        _decide(client, "title-abstract", number, "include" if number <= 4 else "exclude")
    response = client.post(
        url("evidence_full_text", number=1),
        {"file": _upload("paper.pdf", b"%PDF-1.4\n%%EOF\n")},
    )
    assert response.status_code == 302
    bad = client.post(
        url("evidence_full_text", number=2), {"file": _upload("paper.pdf", b"MZ not a pdf")}
    )
    assert "is not a PDF file" in bad.content.decode()
    client.post(url("evidence_full_text", number=2), {"not_retrieved": "on"})
    assert FullText.objects.get(record__number=2).not_retrieved
    _decide(client, "full-text", 1, "include")
    _decide(client, "full-text", 3, "exclude", "Wrong population")
    _decide(client, "full-text", 4, "exclude", "Wrong population")
    study = IncludedStudy.objects.get(review=review)
    assert study.label == "Author0 2010"
    svg = client.get(url("evidence_prisma_file", fmt="svg")).content.decode()
    for text in ("MEDLINE", "Embase", "Wrong population"):
        assert text in svg
    rows = {
        row[0]: row[1]
        for row in csv.reader(
            io.StringIO(client.get(url("evidence_prisma_file", fmt="csv")).content.decode())
        )
    }
    assert rows["Records screened"] == "8"
    assert rows["Records excluded"] == "4"
    assert rows["Reports sought for retrieval"] == "4"
    assert rows["Reports not retrieved"] == "1"
    assert rows["Reports assessed for eligibility"] == "3"
    assert rows["Studies included in review"] == "1"
    page = client.post(url("evidence_prisma"), {"box": "duplicates_removed", "value": "5"})
    assert "needs a whole number and a note" in client.get(url("evidence_prisma")).content.decode()
    client.post(
        url("evidence_prisma"),
        {"box": "duplicates_removed", "value": "5", "note": "Removed in EndNote first"},
    )
    assert "Removed in EndNote first" in client.get(url("evidence_prisma")).content.decode()
    del page
    exported = client.get(url("evidence_export", which="included", fmt="ris")).content
    parsed = references.parse(exported, format="ris", filename="included.ris")
    assert [r.title for r in parsed.records] == [TOPICS[0]]
    log = client.get(url("evidence_decision_log")).content.decode()
    assert log.count("\n") == 1 + 8 + 3


def test_the_queue_follows_the_model_after_retraining(world, login, review) -> None:
    review.dual_screening = False
    review.save()
    client = login(world["users"]["researcher"])
    _decide(client, "title-abstract", 1, "include")
    _decide(client, "title-abstract", 4, "exclude")
    run_jobs()
    assert Job.objects.filter(kind="screening-rank", status=Job.Status.DONE).exists()
    priorities = dict(Record.objects.filter(review=review).values_list("number", "priority"))
    assert priorities[7] > 0  # the duplicate-of-record-1 title outranks unrelated ones...
    assert priorities[7] > priorities[6]
    nxt = services.next_for(review, "title-abstract", world["users"]["researcher"])
    assert nxt is not None and nxt.number not in (1, 4)


def test_a_500_mb_upload_is_refused_before_it_is_read(world, login, review) -> None:
    client = login(world["users"]["researcher"])
    response = client.post(
        url("evidence_import"),
        {"source": review.sources.first().pk, "file": _upload("huge.ris", b"TY  - JOUR\n")},
        CONTENT_LENGTH=str(500 * 1024 * 1024),
    )
    assert response.status_code == 413
    assert "accepts at most 201 MB" in response.content.decode()
    assert Record.objects.filter(review=review).count() == 8


def test_the_stopping_aid_names_its_methods_and_says_it_estimates(reviews, login) -> None:
    client = login(reviews["users"]["researcher"])
    page = client.get(
        reverse("evidence_screening", kwargs={"study_slug": "alpha", "review": "integrated"})
    ).content.decode()
    assert "These are estimates, not guarantees" in page
    assert page.count('class="advice"') >= 2
    assert "Estimated recall so far: 0." in page or "Estimated recall so far: 1." in page
    assert "Source:" in page


def test_a_csv_import_has_a_column_mapping_step(world, login, review) -> None:
    client = login(world["users"]["researcher"])
    data = b"Name of paper;Writers;When\nCollocated care;Smith, J;2019\nOutreach;Jones, K;2020\n"
    page = client.post(
        url("evidence_import"),
        {"source": review.sources.first().pk, "file": _upload("export.csv", data)},
    ).content.decode()
    assert "Which column of the file holds each field" in page
    token = page.split('name="token" value="')[1].split('"')[0]
    page = client.post(
        url("evidence_import_remap"),
        {
            "token": token,
            "map_title": "Name of paper",
            "map_authors": "Writers",
            "map_year": "When",
        },
    ).content.decode()
    assert "Collocated care" in page and "Smith, J" in page and "2019" in page
    client.post(url("evidence_import_confirm"), {"token": token})
    run_jobs()
    stored = Record.objects.get(review=review, title="Outreach")
    assert stored.authors == ["Jones, K"] and stored.year == 2020
    other = login(world["users"]["peer-researcher"])
    assert other.post(url("evidence_import_remap"), {"token": token}).status_code == 404
