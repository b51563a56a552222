"""Import and export: an export re-imports into another study unchanged; one bad cell refuses
the whole file and saves nothing."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from steppingstones.cohort import exchange
from steppingstones.cohort.models import Infant, Interview, Woman
from steppingstones.cohort.tabular import TableError, write_csv, write_xlsx
from steppingstones.core.demo_load import load_demo
from steppingstones.core.models import Site, Study


@pytest.fixture
def demo_and_copy(db):
    load_demo()
    demo = Study.objects.get(slug="demo")
    copy = Study.objects.create(slug="copy", name="Copy")
    for site in demo.sites.all():
        Site.objects.create(study=copy, code=site.code, name=site.name, nation=site.nation)
    return demo, copy


def _records(study):
    return exchange.export_records(study, Woman.objects.filter(participant__study=study))


def test_an_export_re_imports_into_another_study_unchanged(demo_and_copy) -> None:
    demo, copy = demo_and_copy
    exported = _records(demo)
    body = write_xlsx({n: (c, exported[n]) for n, c in exchange.SHEETS.items()})
    plan = exchange.plan_import(copy, body, "demo-cohort.xlsx")
    exchange.apply_import(copy, plan)
    assert _records(copy) == exported
    assert len(exported["women"]) == 36
    assert sum(1 for row in exported["interviews"] if row["status"] == "done") == 131


def test_csv_export_re_imports_too(demo_and_copy) -> None:
    demo, copy = demo_and_copy
    exported = _records(demo)
    for sheet in ("women", "infants", "interviews"):
        text = write_csv(exchange.SHEETS[sheet], exported[sheet])
        if sheet == "women":
            plan = exchange.plan_import(copy, text.encode(), f"{sheet}.csv")
            assert len(plan.women) == 36


def _with_one_bad_cell(demo) -> bytes:
    exported = _records(demo)
    body = write_xlsx({n: (c, exported[n]) for n, c in exchange.SHEETS.items()})
    workbook = openpyxl.load_workbook(io.BytesIO(body))
    workbook["interviews"]["D7"] = "31/02/2024"  # column D is the date; row 7 a data row
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_one_bad_cell_refuses_the_whole_file_naming_row_and_column(demo_and_copy) -> None:
    demo, copy = demo_and_copy
    with pytest.raises(TableError) as caught:
        exchange.plan_import(copy, _with_one_bad_cell(demo), "cohort.xlsx")
    assert [str(e) for e in caught.value.errors] == [
        'interviews row 7, column date: "31/02/2024" is not a date (use YYYY-MM-DD)'
    ]
    assert not Woman.objects.filter(participant__study=copy).exists()


def test_cross_sheet_faults_are_named(demo_and_copy) -> None:
    demo, copy = demo_and_copy
    exported = _records(demo)
    exported["infants"][0]["mother"] = "EL-W99"
    exported["interviews"][0]["wave"] = 9
    body = write_xlsx({n: (c, exported[n]) for n, c in exchange.SHEETS.items()})
    with pytest.raises(TableError) as caught:
        exchange.plan_import(copy, body, "cohort.xlsx")
    messages = [str(e) for e in caught.value.errors]
    assert any("infants row 2, column mother" in m and "EL-W99" in m for m in messages)
    assert any("interviews row 2, column wave: this study has no wave 9" in m for m in messages)


def test_importing_into_the_same_study_twice_is_refused(demo_and_copy) -> None:
    demo, _ = demo_and_copy
    exported = _records(demo)
    body = write_xlsx({n: (c, exported[n]) for n, c in exchange.SHEETS.items()})
    with pytest.raises(TableError, match="already in this study"):
        exchange.plan_import(demo, body, "cohort.xlsx")


def test_the_import_page_previews_then_imports_on_confirmation(
    demo_and_copy, make_member, login
) -> None:
    demo, copy = demo_and_copy
    manager = make_member(copy, "study-manager")
    client = login(manager)
    exported = _records(demo)
    body = write_xlsx({n: (c, exported[n]) for n, c in exchange.SHEETS.items()})
    url = reverse("cohort_import", kwargs={"study_slug": "copy"})
    preview = client.post(url, {"file": SimpleUploadedFile("cohort.xlsx", body)})
    page = preview.content.decode()
    assert "Ready to import 36 women" in page and not Woman.objects.filter(participant__study=copy)
    token = preview.context["token"]
    other = login(make_member(copy, "researcher"))
    assert (
        other.post(
            reverse("cohort_import_confirm", kwargs={"study_slug": "copy"}), {"token": token}
        ).status_code
        == 404
    ), "a preview belongs to its uploader"
    done = client.post(
        reverse("cohort_import_confirm", kwargs={"study_slug": "copy"}), {"token": token}
    )
    assert done.status_code == 302
    assert Woman.objects.filter(participant__study=copy).count() == 36
    assert Interview.objects.filter(woman__participant__study=copy, status="done").count() == 131
    assert Infant.objects.filter(pregnancy__woman__participant__study=copy).count() == len(
        exported["infants"]
    )


def test_the_import_page_lists_every_fault_and_saves_nothing(
    demo_and_copy, make_member, login
) -> None:
    demo, copy = demo_and_copy
    client = login(make_member(copy, "study-manager"))
    response = client.post(
        reverse("cohort_import", kwargs={"study_slug": "copy"}),
        {"file": SimpleUploadedFile("cohort.xlsx", _with_one_bad_cell(demo))},
    )
    page = response.content.decode()
    assert "Nothing was imported" in page and "interviews row 7, column date" in page
    assert not Woman.objects.filter(participant__study=copy).exists()


def test_exports_are_safe_in_a_spreadsheet(demo_and_copy) -> None:
    demo, _ = demo_and_copy
    woman = Woman.objects.filter(participant__study=demo).first()
    woman.recruitment_route = '=HYPERLINK("http://x")'
    woman.save()
    text = write_csv(exchange.SHEETS["women"], _records(demo)["women"])
    assert "'=HYPERLINK" in text
