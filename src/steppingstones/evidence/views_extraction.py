"""Extraction and appraisal pages: the form designer, blinded dual extraction, side-by-side
reconciliation, exports, and quality appraisal with summary charts."""

from __future__ import annotations

import dataclasses
import io
import re
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from steppingstones.core.policy import Access, study_view
from steppingstones.evidence import appraisal, extraction
from steppingstones.evidence.figures import svg_to
from steppingstones.evidence.models import (
    Appraisal,
    Extraction,
    ExtractionForm,
    IncludedStudy,
    Review,
)
from steppingstones.evidence.views import FIGURE_TYPES, review_of, study_of

FIELD_KINDS = {
    "text": "Short text",
    "long-text": "Long text",
    "number": "Number",
    "integer": "Whole number",
    "choice": "One choice",
    "multi-choice": "Several choices",
    "yes-no": "Yes / no",
    "table": "Table (rows such as outcome × arm)",
}
BLANK_TABLE_ROWS = 3


# ---- the form --------------------------------------------------------------------------


def form_of(review: Review) -> tuple[ExtractionForm, extraction.FormDefinition]:
    stored, _ = ExtractionForm.objects.get_or_create(
        review=review,
        defaults={"definition": extraction.form_to_data(extraction.default_form())},
    )
    return stored, extraction.parse_form(stored.definition)


def _slug(label: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")[:40] or "field"
    if not base[0].isalpha():
        base = f"f_{base}"
    key, number = base, 2
    while key in taken:
        key, number = f"{base}_{number}", number + 1
    return key


def _columns_from_text(text: str, taken: set[str]) -> list[dict[str, Any]]:
    """Table columns, one a line: ``Label | kind | choice; choice``."""
    columns = []
    for line in text.splitlines():
        if not line.strip():
            continue
        parts = [part.strip() for part in line.split("|")]
        label = parts[0]
        kind = parts[1] if len(parts) > 1 and parts[1] else "text"
        choices = [c.strip() for c in parts[2].split(";") if c.strip()] if len(parts) > 2 else []
        key = _slug(label, taken)
        taken.add(key)
        columns.append({"key": key, "label": label, "kind": kind, "choices": choices})
    return columns


@study_view("area:evidence")
@require_http_methods(["GET", "POST"])
def form_design(request: HttpRequest, access: Access, review: str) -> HttpResponse:
    found = review_of(access, review)
    stored, form = form_of(found)
    problems: list[str] = []
    if request.method == "POST":
        access.require("write")
        fields = list(stored.definition.get("fields", []))
        action = request.POST.get("action", "")
        key = request.POST.get("key", "")
        index = next((i for i, item in enumerate(fields) if item["key"] == key), None)
        if action in ("up", "down", "remove") and index is None:
            raise Http404
        if action == "up" and index:
            fields[index - 1], fields[index] = fields[index], fields[index - 1]
        elif action == "down" and index is not None and index < len(fields) - 1:
            fields[index + 1], fields[index] = fields[index], fields[index + 1]
        elif action == "remove" and index is not None:
            fields.pop(index)
        elif action == "add":
            taken = {item["key"] for item in fields}
            label = request.POST.get("label", "").strip()
            kind = request.POST.get("kind", "")
            fields.append(
                {
                    "key": _slug(label, taken),
                    "label": label,
                    "kind": kind,
                    "help": request.POST.get("help", "").strip(),
                    "required": request.POST.get("required") == "on",
                    "unit": request.POST.get("unit", "").strip(),
                    "choices": [
                        line.strip()
                        for line in request.POST.get("choices", "").splitlines()
                        if line.strip()
                    ],
                    "columns": _columns_from_text(request.POST.get("columns", ""), set())
                    if kind == "table"
                    else [],
                }
            )
        elif action == "dual":
            stored.dual = request.POST.get("dual") == "on"
        else:
            raise Http404
        try:
            form = extraction.parse_form({"fields": fields})
        except extraction.FormError as error:
            problems = error.problems if hasattr(error, "problems") else [str(error)]
        else:
            stored.definition = extraction.form_to_data(form)
            stored.save()
            messages.success(request, "Extraction form saved.")
            return redirect("evidence_form", access.study.slug, found.slug)
    return render(
        request,
        "evidence/form_design.html",
        {
            "review": found,
            "stored": stored,
            "fields": form.fields,
            "kinds": FIELD_KINDS,
            "problems": problems,
            "posted": request.POST if problems else {},
        },
    )


# ---- extracting ------------------------------------------------------------------------


def _known(form: extraction.FormDefinition, answers: dict[str, Any]) -> dict[str, Any]:
    """Answers to fields still on the form (a field removed later keeps its old answers)."""
    keys = set(form.keys)
    return {key: value for key, value in answers.items() if key in keys}


def _posted_answers(form: extraction.FormDefinition, data: Any) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for item in form.fields:
        name = f"f_{item.key}"
        if item.kind == "multi-choice":
            answers[item.key] = data.getlist(name)
        elif item.kind == "table":
            rows = []
            count = int(data.get(f"{name}__rows", "0") or 0)
            for number in range(min(count, 500)):
                row = {
                    column.key: data.get(f"{name}__{number}__{column.key}", "")
                    for column in item.columns
                }
                if any(str(value).strip() for value in row.values()):
                    rows.append(row)
            answers[item.key] = rows
        else:
            answers[item.key] = data.get(name, "")
    return answers


def _widgets(form: extraction.FormDefinition, answers: dict[str, Any]) -> list[dict[str, Any]]:
    """What the template needs to draw each field with its current answer."""
    widgets = []
    for item in form.fields:
        value = answers.get(item.key)
        entry: dict[str, Any] = {"field": item, "name": f"f_{item.key}", "value": value}
        if item.kind == "multi-choice":
            entry["selected"] = set(value or [])
        if item.kind == "yes-no":
            entry["text"] = "yes" if value is True else "no" if value is False else value or ""
        if item.kind == "table":
            rows = list(value or []) + [{} for _ in range(BLANK_TABLE_ROWS)]
            entry["rows"] = [
                [(column, row.get(column.key, "")) for column in item.columns] for row in rows
            ]
            entry["row_count"] = len(rows)
        widgets.append(entry)
    return widgets


def _as_draft(form: extraction.FormDefinition) -> extraction.FormDefinition:
    return extraction.FormDefinition(
        tuple(dataclasses.replace(item, required=False) for item in form.fields)
    )


def _complete(study: IncludedStudy) -> list[Extraction]:
    return list(
        study.extractions.filter(is_consensus=False, status=Extraction.Status.COMPLETE)
        .select_related("reviewer")
        .order_by("pk")
    )


@study_view("area:evidence")
@require_http_methods(["GET", "POST"])
def extract(request: HttpRequest, access: Access, review: str, ref: str) -> HttpResponse:
    """The signed-in reviewer's own extraction of one study; others' stay hidden."""
    found = review_of(access, review)
    study = study_of(found, ref)
    stored, form = form_of(found)
    user: Any = request.user
    mine = Extraction.objects.filter(study=study, reviewer=user, is_consensus=False).first()
    answers = _known(form, mine.answers) if mine else {}
    problems: list[str] = []
    if request.method == "POST":
        posted = _posted_answers(form, request.POST)
        finishing = request.POST.get("action") == "complete"
        cleaned, problems = extraction.validate_answers(
            form if finishing else _as_draft(form), posted
        )
        if problems:
            answers = posted
        else:
            with transaction.atomic():
                mine = mine or Extraction(study=study, reviewer=user)
                mine.answers = cleaned
                mine.status = Extraction.Status.COMPLETE if finishing else Extraction.Status.DRAFT
                mine.save()
            messages.success(request, "Extraction complete." if finishing else "Draft saved.")
            return redirect("evidence_study", access.study.slug, found.slug, study.ref)
    return render(
        request,
        "evidence/extract.html",
        {
            "review": found,
            "study": study,
            "widgets": _widgets(form, answers),
            "problems": problems,
            "mine": mine,
            "dual": stored.dual,
        },
    )


def _pair(study: IncludedStudy) -> tuple[Extraction, Extraction] | None:
    done = _complete(study)
    return (done[0], done[1]) if len(done) >= 2 else None


@study_view("area:evidence")
@require_http_methods(["GET", "POST"])
def reconcile(request: HttpRequest, access: Access, review: str, ref: str) -> HttpResponse:
    """Two complete extractions side by side; the reconciler picks per differing field."""
    found = review_of(access, review)
    study = study_of(found, ref)
    _, form = form_of(found)
    pair = _pair(study)
    if pair is None:
        raise Http404
    first, second = pair
    first_answers, second_answers = _known(form, first.answers), _known(form, second.answers)
    comparisons = extraction.compare(form, first_answers, second_answers)
    consensus = study.extractions.filter(is_consensus=True).first()
    problems: list[str] = []
    if request.method == "POST":
        choices = {
            item.key: request.POST[f"pick_{item.key}"]
            for item in comparisons
            if request.POST.get(f"pick_{item.key}") in (extraction.FIRST, extraction.SECOND)
        }
        try:
            merged = extraction.reconcile(form, first_answers, second_answers, choices)
        except extraction.ReconcileError as error:
            problems = list(error.messages)
        else:
            with transaction.atomic():
                consensus = consensus or Extraction(study=study, is_consensus=True)
                consensus.reviewer = request.user  # type: ignore[assignment]
                consensus.answers = merged
                consensus.status = Extraction.Status.COMPLETE
                consensus.save()
            messages.success(request, f"Consensus extraction of {study.label} saved.")
            return redirect("evidence_study", access.study.slug, found.slug, study.ref)
    return render(
        request,
        "evidence/reconcile.html",
        {
            "review": found,
            "study": study,
            "first": first,
            "second": second,
            "comparisons": comparisons,
            "summary": extraction.agreement_summary(comparisons),
            "consensus": consensus,
            "problems": problems,
        },
    )


@study_view("area:evidence")
def extraction_overview(request: HttpRequest, access: Access, review: str) -> HttpResponse:
    found = review_of(access, review)
    stored, form = form_of(found)
    rows = []
    for study in found.studies.prefetch_related("extractions__reviewer"):
        extractions = list(study.extractions.all())
        done = [e for e in extractions if not e.is_consensus and e.status == "complete"]
        consensus = next((e for e in extractions if e.is_consensus), None)
        mine = next(
            (e for e in extractions if e.reviewer_id == request.user.pk and not e.is_consensus),
            None,
        )
        if consensus is not None:
            state = "Reconciled"
        elif not stored.dual and done:
            state = "Extracted"
        elif len(done) >= 2:
            state = "Ready to reconcile"
        else:
            state = f"{len(done)} of {2 if stored.dual else 1} extractions complete"
        rows.append({"study": study, "state": state, "mine": mine, "pair": len(done) >= 2})
    return render(
        request,
        "evidence/extraction.html",
        {"review": found, "rows": rows, "stored": stored, "field_count": len(form.fields)},
    )


def _export_extractions(review: Review) -> list[tuple[str, str, dict[str, Any]]]:
    _, form = form_of(review)
    items = []
    for study in review.studies.prefetch_related("extractions__reviewer"):
        for item in study.extractions.all():
            reviewer: Any = item.reviewer
            who = "consensus" if item.is_consensus else reviewer.get_username()
            items.append((study.label, who, _known(form, item.answers)))
    return items


@study_view("area:evidence")
def extraction_export(request: HttpRequest, access: Access, review: str, fmt: str) -> HttpResponse:
    found = review_of(access, review)
    _, form = form_of(found)
    items = _export_extractions(found)
    if fmt == "csv":
        header, rows = extraction.export_rows(form, items)
        handle = io.StringIO()
        extraction.write_csv(handle, header, rows)
        response = HttpResponse(handle.getvalue(), content_type="text/csv; charset=utf-8")
    elif fmt == "xlsx":
        buffer = io.BytesIO()
        extraction.write_xlsx(buffer, extraction.workbook_sheets(form, items))
        response = HttpResponse(
            buffer.getvalue(),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    else:
        raise Http404
    response["Content-Disposition"] = f'attachment; filename="{found.slug}-extraction.{fmt}"'
    return response


# ---- appraisal ---------------------------------------------------------------------------


def _tool(key: str) -> appraisal.Tool:
    if key not in appraisal.TOOLS:
        raise Http404
    return appraisal.TOOLS[key]


@study_view("area:evidence")
@require_http_methods(["GET", "POST"])
def appraise(
    request: HttpRequest, access: Access, review: str, ref: str, tool: str
) -> HttpResponse:
    found = review_of(access, review)
    study = study_of(found, ref)
    chosen = _tool(tool)
    user: Any = request.user
    mine = Appraisal.objects.filter(study=study, tool=chosen.key, reviewer=user).first()
    answers: dict[str, Any] = dict(mine.answers) if mine else {}
    problems: list[str] = []
    if request.method == "POST":
        answers = appraisal_answers(chosen, request.POST)
        problems = appraisal.validate(chosen.key, answers)
        if not problems:
            mine = mine or Appraisal(study=study, tool=chosen.key, reviewer=user)
            mine.answers = answers
            mine.save()
            messages.success(request, f"{chosen.name} appraisal of {study.label} saved.")
            return redirect("evidence_study", access.study.slug, found.slug, study.ref)
    judgement = None
    if mine and not problems:
        judgement = appraisal.judge(chosen.key, answers)
    overall_override = answers.get("overrides", {}).get("overall", {})
    return render(
        request,
        "evidence/appraise.html",
        {
            "review": found,
            "study": study,
            "tool": chosen,
            "sections": appraisal_sections(chosen, answers),
            "answers": answers,
            "problems": problems,
            "judgement": judgement,
            "judgement_text": judgement_text(chosen, judgement) if judgement else "",
            "overall_override": overall_override,
            "categories": answers.get("categories", []),
        },
    )


def appraisal_answers(tool: appraisal.Tool, data: Any) -> dict[str, Any]:
    """The tool's answer mapping (see :func:`.appraisal.validate`) from a posted form."""
    answers: dict[str, Any] = {}
    comments: dict[str, str] = {}
    if tool.key == appraisal.MMAT:
        answers["categories"] = data.getlist("categories")
    for item in tool.items:
        value = data.get(f"item_{item.id}", "").strip()
        if value:
            answers[item.id] = value
        comment = data.get(f"comment_{item.id}", "").strip()
        if comment:
            comments[item.id] = comment
    if comments:
        answers["comments"] = comments
    if tool.key == appraisal.ROB2:
        overrides = {}
        for target in [*(domain.id for domain in tool.domains), "overall"]:
            judgement = data.get(f"override_{target}", "").strip()
            reason = data.get(f"reason_{target}", "").strip()
            if judgement or reason:
                overrides[target] = {"judgement": judgement, "reason": reason}
        if overrides:
            answers["overrides"] = overrides
    return answers


def appraisal_sections(tool: appraisal.Tool, answers: dict[str, Any]) -> list[dict[str, Any]]:
    """The tool's sections with each item's options and the current answers, for the page."""
    comments = answers.get("comments", {})
    overrides = answers.get("overrides", {})

    def entry(item: appraisal.Item) -> dict[str, Any]:
        return {
            "item": item,
            "options": [(code, tool.label(code)) for code in item.options],
            "value": answers.get(item.id, ""),
            "comment": comments.get(item.id, ""),
        }

    sections: list[dict[str, Any]] = []
    if tool.screening:
        sections.append(
            {"id": "S", "name": "Screening questions", "items": [entry(i) for i in tool.screening]}
        )
    for domain in tool.domains:
        sections.append(
            {
                "id": domain.id,
                "name": domain.name,
                "items": [entry(item) for item in domain.items],
                "override": overrides.get(domain.id, {}) if tool.key == appraisal.ROB2 else None,
            }
        )
    return sections


def judgement_text(tool: appraisal.Tool, judgement: appraisal.Judgement) -> str:
    if judgement.overall is not None:
        return f"Overall: {tool.label(judgement.overall)}"
    if judgement.summary:
        return "; ".join(judgement.summary.values())
    return "Incomplete"


def _appraisal_rows(review: Review, tool: str) -> list[tuple[str, Any]]:
    """One row a study: the consensus-free view takes each study's first appraisal."""
    rows = []
    seen = set()
    items = Appraisal.objects.filter(study__review=review, tool=tool).select_related("study")
    for item in items.order_by("study__label", "pk"):
        if item.study_id in seen:
            continue
        seen.add(item.study_id)
        rows.append((item.study.label, appraisal.judge(tool, item.answers)))
    return rows


@study_view("area:evidence")
def appraisal_summary(request: HttpRequest, access: Access, review: str, tool: str) -> HttpResponse:
    found = review_of(access, review)
    chosen = _tool(tool)
    rows = _appraisal_rows(found, chosen.key)
    return render(
        request,
        "evidence/appraisal.html",
        {
            "review": found,
            "tool": chosen,
            "tools": appraisal.TOOLS.values(),
            "rows": rows,
            "traffic": appraisal.traffic_light_svg(chosen.key, rows) if rows else "",
            "bars": appraisal.summary_bars_svg(chosen.key, rows) if rows else "",
        },
    )


@study_view("area:evidence")
def appraisal_figure(
    request: HttpRequest, access: Access, review: str, tool: str, chart: str, fmt: str
) -> HttpResponse:
    found = review_of(access, review)
    chosen = _tool(tool)
    if fmt not in FIGURE_TYPES or chart not in ("traffic-light", "summary"):
        raise Http404
    rows = _appraisal_rows(found, chosen.key)
    if not rows:
        raise Http404
    draw = appraisal.traffic_light_svg if chart == "traffic-light" else appraisal.summary_bars_svg
    response = HttpResponse(svg_to(draw(chosen.key, rows), fmt), content_type=FIGURE_TYPES[fmt])
    response["Content-Disposition"] = (
        f'attachment; filename="{found.slug}-{chosen.key}-{chart}.{fmt}"'
    )
    return response


def study_panels(
    request: HttpRequest, access: Access, review: Review, study: IncludedStudy
) -> dict[str, Any]:
    """The extraction and appraisal state of one study, as its page shows it: a reviewer sees
    only their own extraction until two are complete (blinded dual extraction)."""
    stored, _ = form_of(review)
    extractions = list(study.extractions.select_related("reviewer"))
    mine = next(
        (e for e in extractions if e.reviewer_id == request.user.pk and not e.is_consensus), None
    )
    complete = [e for e in extractions if not e.is_consensus and e.status == "complete"]
    appraisals = [
        (
            item,
            appraisal.TOOLS[item.tool],
            judgement_text(appraisal.TOOLS[item.tool], appraisal.judge(item.tool, item.answers)),
        )
        for item in study.appraisals.select_related("reviewer")
        if item.tool in appraisal.TOOLS
    ]
    return {
        "my_extraction": mine,
        "completed_extractions": len(complete),
        "can_reconcile": len(complete) >= 2,
        "consensus": next((e for e in extractions if e.is_consensus), None),
        "dual": stored.dual,
        "appraisals": appraisals,
        "tools": appraisal.TOOLS.values(),
    }
