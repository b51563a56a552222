"""Voices analysis pages: retrieval, full-text search, code frequencies and co-occurrence, the
framework matrix, and inter-coder agreement rounds. The work is done in ``analysis`` (the bridge
to the database) and the plain modules ``retrieval``, ``framework`` and ``agreement``."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_http_methods, require_POST

from steppingstones.core.exports import write_csv
from steppingstones.core.models import Membership
from steppingstones.core.policy import Access, study_view
from steppingstones.voices import analysis, framework, retrieval
from steppingstones.voices.analysis import Corpus, FrameworkData
from steppingstones.voices.models import AgreementRound, Code, Framework, FrameworkTheme

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PAGE_SIZE = 200
BLANK_THEMES = 3


# ---- shared helpers --------------------------------------------------------------------------


def source_url(study_slug: str, source_id: int) -> str | None:
    """The coding page of a source if it exists, else its page, else nothing."""
    for name in ("voices_code_source", "voices_source"):
        try:
            return reverse(name, args=[study_slug, source_id])
        except NoReverseMatch:
            continue
    return None


def _filters(request: HttpRequest, corpus: Corpus) -> retrieval.PassageFilter:
    attributes: dict[str, set[str]] = {}
    for item in request.GET.getlist("attribute"):
        name, _, value = item.partition("=")
        if name and value:
            attributes.setdefault(name, set()).add(value)

    def chosen(key: str) -> set[str] | None:
        values = {v for v in request.GET.getlist(key) if v}
        return values or None

    return retrieval.PassageFilter(
        sites=chosen("site"),
        waves=chosen("wave"),
        attributes=attributes,
        speaker_roles=chosen("role"),
        coders=chosen("coder"),
    )


def _filter_context(request: HttpRequest, corpus: Corpus) -> dict[str, Any]:
    return {
        "sites": corpus.site_order,
        "waves": corpus.wave_order,
        "attributes": [
            (name, value, f"{name}={value}")
            for name, values in corpus.attribute_values().items()
            for value in values
        ],
        "roles": corpus.speaker_roles(),
        "coders": corpus.coders(),
        "chosen": {
            key: set(request.GET.getlist(key))
            for key in ("site", "wave", "attribute", "role", "coder")
        },
    }


def _export(
    name: str, fmt: str, header: Sequence[str], rows: Sequence[Sequence[Any]], sheet: str
) -> HttpResponse:
    if fmt == "csv":
        handle = io.StringIO()
        write_csv(handle, header, rows)
        response = HttpResponse(handle.getvalue(), content_type="text/csv; charset=utf-8")
    elif fmt == "xlsx":
        response = HttpResponse(analysis.xlsx_bytes({sheet: (header, rows)}), content_type=XLSX)
    else:
        raise Http404
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


def _query_string(request: HttpRequest, **changes: str) -> str:
    query = request.GET.copy()
    for key, value in changes.items():
        query[key] = value
    return query.urlencode()


# ---- retrieval -------------------------------------------------------------------------------


@study_view("area:voices")
def retrieve(request: HttpRequest, access: Access) -> HttpResponse:
    corpus = analysis.load_corpus(access)
    filters = _filters(request, corpus)
    query = request.GET.get("q", "").strip()
    error = ""
    found: list[retrieval.Passage] = []
    if query:
        try:
            found = retrieval.passages(
                query,
                corpus.codings,
                corpus.documents,
                filters,
                names=corpus.query_names,
                texts=corpus.texts,
            )
        except retrieval.QueryError as problem:
            error = str(problem)
    found.sort(key=lambda p: (_source_order(corpus, p.document_id), p.start, p.end))
    fmt = request.GET.get("format")
    if fmt and query and not error:
        header = ["Source", "Site", "Wave", "Participant", "Start", "End", "Text"]
        rows = [_passage_row(corpus, p) for p in found]
        return _export(f"{access.study.slug}-retrieval", fmt, header, rows, "Passages")
    return render(
        request,
        "voices/analysis/retrieve.html",
        {
            "area": "voices",
            "query": query,
            "error": error,
            "passages": [_passage_view(access, corpus, p) for p in found[:PAGE_SIZE]],
            "total": len(found),
            "shown": min(len(found), PAGE_SIZE),
            "documents": len({p.document_id for p in found}),
            "codes": [corpus.label(c) for c in corpus.code_order],
            "hidden": corpus.hidden,
            "export_csv": _query_string(request, format="csv"),
            "export_xlsx": _query_string(request, format="xlsx"),
            **_filter_context(request, corpus),
        },
    )


def _source_order(corpus: Corpus, document_id: str) -> tuple[str, int]:
    row = corpus.sources[document_id]
    return (row.name.casefold(), row.id)


def _passage_row(corpus: Corpus, passage: retrieval.Passage | retrieval.SearchHit) -> list[Any]:
    row = corpus.sources[passage.document_id]
    return [
        row.name,
        row.site,
        row.wave or "",
        row.participant or "",
        passage.start,
        passage.end,
        passage.text or "",
    ]


def _passage_view(access: Access, corpus: Corpus, passage: Any) -> dict[str, Any]:
    row = corpus.sources[passage.document_id]
    return {
        "source": row,
        "start": passage.start,
        "end": passage.end,
        "text": passage.text,
        "url": source_url(access.study.slug, row.id),
    }


@study_view("area:voices")
def search(request: HttpRequest, access: Access) -> HttpResponse:
    corpus = analysis.load_corpus(access)
    filters = _filters(request, corpus)
    narrowed = corpus.narrowed(
        retrieval.PassageFilter(filters.sites, filters.waves, None, filters.attributes)
    )
    query = request.GET.get("q", "").strip()
    within_query = request.GET.get("within", "").strip()
    error = ""
    hits: list[retrieval.SearchHit] = []
    if query:
        try:
            within: list[retrieval.Passage] | None = None
            if within_query:
                within = retrieval.passages(
                    within_query,
                    corpus.codings,
                    corpus.documents,
                    filters,
                    names=corpus.query_names,
                )
            elif filters.speaker_roles is not None:
                within = _spoken_by(narrowed, filters.speaker_roles)
            hits = retrieval.search(narrowed.texts, query, within=within)
        except retrieval.QueryError as problem:
            error = str(problem)
    hits.sort(key=lambda h: (_source_order(corpus, h.document_id), h.start, h.end))
    fmt = request.GET.get("format")
    if fmt and query and not error:
        header = ["Source", "Site", "Wave", "Participant", "Start", "End", "Match", "Context"]
        rows = [[*_passage_row(corpus, h)[:6], h.text, _context(corpus, h)[1]] for h in hits]
        return _export(f"{access.study.slug}-search", fmt, header, rows, "Hits")
    shown = []
    for hit in hits[:PAGE_SIZE]:
        before, _, after = _context(corpus, hit)
        view = _passage_view(access, corpus, hit)
        view.update({"before": before, "after": after})
        shown.append(view)
    return render(
        request,
        "voices/analysis/search.html",
        {
            "area": "voices",
            "query": query,
            "within": within_query,
            "error": error,
            "hits": shown,
            "total": len(hits),
            "shown": len(shown),
            "documents": len({h.document_id for h in hits}),
            "hidden": corpus.hidden,
            "export_csv": _query_string(request, format="csv"),
            "export_xlsx": _query_string(request, format="xlsx"),
            **_filter_context(request, corpus),
        },
    )


def _spoken_by(corpus: Corpus, roles: Iterable[str]) -> list[retrieval.Passage]:
    """The turns of the chosen speaker roles, as passages."""
    wanted = set(roles)
    found: list[retrieval.Passage] = []
    for doc, info in corpus.documents.items():
        spoken = retrieval.merge_ranges((t.start, t.end) for t in info.turns if t.role in wanted)
        found.extend(retrieval.Passage(doc, start, end) for start, end in spoken)
    return found


def _context(corpus: Corpus, hit: Any, size: int = 80) -> tuple[str, str, str]:
    text = corpus.texts[hit.document_id]
    before = text[max(0, hit.start - size) : hit.start]
    after = text[hit.end : hit.end + size]
    return before, before + hit.text + after, after


# ---- counts ----------------------------------------------------------------------------------

CHART_CODES = 12


def _frequency_long_rows(corpus: Corpus) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for by in ("wave", "site"):
        found = retrieval.frequencies(corpus.codings, corpus.documents, by=by)
        per_group = analysis.documents_per_group(corpus, by)
        known = corpus.wave_order if by == "wave" else corpus.site_order
        groups = analysis.group_order(list(per_group), known)
        for code in sorted(found, key=corpus.code_sort_key):
            for group in groups:
                counts = found[code].get(group)
                total = per_group.get(group, 0)
                coded = counts.documents if counts else 0
                rows.append(
                    [
                        corpus.label(code),
                        by,
                        group,
                        counts.references if counts else 0,
                        coded,
                        counts.participants if counts else 0,
                        total,
                        round(100.0 * coded / total, 1) if total else "",
                    ]
                )
    return rows


@study_view("area:voices")
def frequencies(request: HttpRequest, access: Access) -> HttpResponse:
    corpus = analysis.load_corpus(access)
    narrowed = corpus.narrowed(_filters(request, corpus))
    measure = request.GET.get("measure", "references")
    if measure not in analysis.MEASURES:
        measure = "references"
    typed: analysis.Measure = measure  # type: ignore[assignment]
    fmt = request.GET.get("format")
    if fmt:
        header = [
            "Code",
            "By",
            "Group",
            "References",
            "Documents coded",
            "Participants coded",
            "Documents in group",
            "Percent of documents coded",
        ]
        return _export(
            f"{access.study.slug}-code-frequencies",
            fmt,
            header,
            _frequency_long_rows(narrowed),
            "Frequencies",
        )
    waves, by_wave = analysis.frequency_table(narrowed, "wave", typed)
    sites, by_site = analysis.frequency_table(narrowed, "site", typed)
    picked = set(request.GET.getlist("code"))
    charted = [row for row in by_wave if row[0] in picked] if picked else []
    if not charted:
        charted = sorted(by_wave, key=lambda row: -sum(v or 0 for v in row[1]))[:CHART_CODES]
        charted.sort(key=lambda row: corpus.code_sort_key(row[0]))
    chart = analysis.small_multiples_svg(
        waves,
        [(corpus.label(code), values) for code, values in charted],
        title="Codes across waves",
        measure=analysis.MEASURES[measure],
    )
    return render(
        request,
        "voices/analysis/frequencies.html",
        {
            "area": "voices",
            "measure": measure,
            "measures": analysis.MEASURES,
            "waves": waves,
            "site_groups": sites,
            "by_wave": [(corpus.label(c), values) for c, values in by_wave],
            "by_site": [(corpus.label(c), values) for c, values in by_site],
            "wave_documents": analysis.documents_per_group(narrowed, "wave"),
            "site_documents": analysis.documents_per_group(narrowed, "site"),
            "chart": chart if by_wave else "",
            "charted": len(charted),
            "code_choices": [(code, corpus.label(code)) for code, _ in by_wave],
            "picked": picked,
            "hidden": corpus.hidden,
            "export_csv": _query_string(request, format="csv"),
            "export_xlsx": _query_string(request, format="xlsx"),
            **_filter_context(request, corpus),
            "waves_filter": corpus.wave_order,
        },
    )


@study_view("area:voices")
def cooccurrence(request: HttpRequest, access: Access) -> HttpResponse:
    corpus = analysis.load_corpus(access)
    narrowed = corpus.narrowed(_filters(request, corpus))
    found = retrieval.cooccurrence(narrowed.codings)
    order = sorted(range(len(found.codes)), key=lambda i: corpus.code_sort_key(found.codes[i]))
    labels = [corpus.label(found.codes[i]) for i in order]
    overlaps = [[int(found.overlaps[i, j]) for j in order] for i in order]
    documents = [[int(found.documents[i, j]) for j in order] for i in order]
    fmt = request.GET.get("format")
    if fmt:
        header = ["Code", "With code", "Overlapping passages", "Documents with an overlap"]
        rows = [
            [labels[i], labels[j], overlaps[i][j], documents[i][j]]
            for i in range(len(labels))
            for j in range(len(labels))
            if i != j and overlaps[i][j]
        ]
        if fmt == "xlsx":
            sheets = {
                "Pairs": (header, rows),
                "Overlaps": (
                    ["Code", *labels],
                    [[a, *r] for a, r in zip(labels, overlaps, strict=True)],
                ),
                "Documents": (
                    ["Code", *labels],
                    [[a, *r] for a, r in zip(labels, documents, strict=True)],
                ),
            }
            response = HttpResponse(analysis.xlsx_bytes(sheets), content_type=XLSX)
            response["Content-Disposition"] = (
                f'attachment; filename="{access.study.slug}-co-occurrence.xlsx"'
            )
            return response
        return _export(f"{access.study.slug}-co-occurrence", fmt, header, rows, "Pairs")
    pairs = sorted(
        (
            (overlaps[i][j], documents[i][j], labels[i], labels[j])
            for i in range(len(labels))
            for j in range(i + 1, len(labels))
            if overlaps[i][j]
        ),
        reverse=True,
    )
    return render(
        request,
        "voices/analysis/cooccurrence.html",
        {
            "area": "voices",
            "labels": labels,
            "rows": [
                (label, list(zip(overlaps[i], documents[i], strict=True)))
                for i, label in enumerate(labels)
            ],
            "pairs": pairs,
            "chart": analysis.heatmap_svg(labels, overlaps, title="Code co-occurrence")
            if labels
            else "",
            "hidden": corpus.hidden,
            "export_csv": _query_string(request, format="csv"),
            "export_xlsx": _query_string(request, format="xlsx"),
            **_filter_context(request, corpus),
        },
    )


# ---- framework matrix ------------------------------------------------------------------------


def _framework(access: Access, framework_id: int) -> Framework:
    return get_object_or_404(Framework, pk=framework_id, study=access.study)


def _theme_rows(access: Access, found: Framework | None) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    if found is not None:
        for theme in found.themes.prefetch_related("codes"):
            rows.append(
                {"id": theme.pk, "name": theme.name, "codes": {c.pk for c in theme.codes.all()}}
            )
    rows.extend({"id": "", "name": "", "codes": set()} for _ in range(BLANK_THEMES))
    return rows


def _code_choices(access: Access) -> list[tuple[int, str]]:
    codes = list(Code.objects.filter(study=access.study))
    labels, _ = analysis.code_labels(codes)
    return [(int(code), labels[code]) for code in analysis.codebook_order(codes)]


def _save_framework_form(
    request: HttpRequest, access: Access, found: Framework | None
) -> Framework | str:
    """The framework the form describes, saved; or what is wrong with the form."""
    name = request.POST.get("name", "").strip()
    case_kind = request.POST.get("case_kind", "")
    if not name:
        return "Give the framework a name."
    if case_kind not in Framework.CaseKind.values:
        return "Choose whether the cases are women or staff."
    themes = []
    try:
        count = min(int(request.POST.get("theme_count", "0")), 200)
    except ValueError:
        count = 0
    for index in range(count):
        raw_id = request.POST.get(f"theme-{index}-id", "")
        codes = [int(c) for c in request.POST.getlist(f"theme-{index}-codes") if c.isdigit()]
        themes.append(
            analysis.ThemeInput(
                int(raw_id) if raw_id.isdigit() else None,
                request.POST.get(f"theme-{index}-name", ""),
                tuple(codes),
            )
        )
    try:
        return analysis.save_framework(
            access.study.pk, name, case_kind, request.POST.get("by_wave") == "on", themes, found
        )
    except ValueError as problem:
        return str(problem).capitalize() + "."


@study_view("area:voices")
@require_http_methods(["GET", "POST"])
def frameworks(request: HttpRequest, access: Access) -> HttpResponse:
    error = ""
    if request.method == "POST":
        saved = _save_framework_form(request, access, None)
        if isinstance(saved, Framework):
            messages.success(request, f"Framework “{saved.name}” created.")
            return redirect("voices_framework", access.study.slug, saved.pk)
        error = saved
    return render(
        request,
        "voices/analysis/frameworks.html",
        {
            "area": "voices",
            "frameworks": Framework.objects.filter(study=access.study).prefetch_related("themes"),
            "form_framework": None,
            "theme_rows": _theme_rows(access, None),
            "code_choices": _code_choices(access),
            "case_kinds": Framework.CaseKind.choices,
            "error": error,
            "posted_name": request.POST.get("name", ""),
        },
    )


@study_view("area:voices")
@require_http_methods(["GET", "POST"])
def framework_edit(request: HttpRequest, access: Access, framework_id: int) -> HttpResponse:
    found = _framework(access, framework_id)
    error = ""
    if request.method == "POST":
        saved = _save_framework_form(request, access, found)
        if isinstance(saved, Framework):
            messages.success(request, "Framework saved.")
            return redirect("voices_framework", access.study.slug, saved.pk)
        error = saved
    return render(
        request,
        "voices/analysis/framework_edit.html",
        {
            "area": "voices",
            "framework": found,
            "theme_rows": _theme_rows(access, found),
            "code_choices": _code_choices(access),
            "case_kinds": Framework.CaseKind.choices,
            "error": error,
        },
    )


def _wave_keys(access: Access, data: FrameworkData) -> list[tuple[str, str]]:
    """(URL key, label) of the framework's waves: the wave number, or "all"."""
    if not data.framework.by_wave:
        return [("all", analysis.ALL_WAVES)]
    numbers = dict(analysis.Wave.objects.filter(study=access.study).values_list("pk", "number"))
    return [(str(numbers[pk]), label) for label, pk in data.wave_ids.items() if pk is not None]


def _wave_of_key(access: Access, data: FrameworkData, key: str) -> str:
    for wave_key, label in _wave_keys(access, data):
        if wave_key == key:
            return label
    raise Http404


def _coder(request: HttpRequest) -> str | None:
    return request.GET.get("coder") or None


def _cell_view(data: FrameworkData, cell: framework.Cell) -> dict[str, Any]:
    return {
        "cell": cell,
        "theme_id": data.theme_ids[cell.theme],
        "passages": len(cell.passages),
    }


@study_view("area:voices")
def framework_matrix(request: HttpRequest, access: Access, framework_id: int) -> HttpResponse:
    found = _framework(access, framework_id)
    data = analysis.load_framework(access, found, _coder(request))
    waves = _wave_keys(access, data)
    view = request.GET.get("view", "wave")
    wave_key = request.GET.get("wave", waves[0][0] if waves else "all")
    label = _wave_of_key(access, data, wave_key) if waves else ""
    rows = []
    if view == "cube":
        for case in data.matrix.cases:
            trajectory = framework.case_trajectory(data.matrix, case)
            for position, (key, wave) in enumerate(waves):
                rows.append(
                    {
                        "case": case,
                        "first": position == 0,
                        "span": len(waves),
                        "wave_key": key,
                        "wave": wave,
                        "cells": [
                            _cell_view(data, trajectory[theme][position])
                            for theme in data.matrix.themes
                        ],
                    }
                )
    elif waves:
        for case, cells in framework.cross_section(data.matrix, label).items():
            rows.append(
                {"case": case, "wave_key": wave_key, "cells": [_cell_view(data, c) for c in cells]}
            )
    return render(
        request,
        "voices/analysis/framework.html",
        {
            "area": "voices",
            "framework": found,
            "data": data,
            "view": view,
            "waves": waves,
            "wave_key": wave_key,
            "wave_label": label,
            "rows": rows,
            "coders": data.corpus.coders(),
            "coder": data.coder or "",
            "coder_query": f"?coder={data.coder}" if data.coder else "",
        },
    )


@study_view("area:voices")
@require_http_methods(["GET", "POST"])
def framework_cell(
    request: HttpRequest,
    access: Access,
    framework_id: int,
    pseudonym: str,
    theme_id: int,
    wave_key: str,
) -> HttpResponse:
    found = _framework(access, framework_id)
    person = get_object_or_404(analysis.framework_participants(access, found), pseudonym=pseudonym)
    theme = get_object_or_404(FrameworkTheme, pk=theme_id, framework=found)
    wave = None
    if found.by_wave:
        if not wave_key.isdigit():
            raise Http404
        wave = get_object_or_404(analysis.Wave, study=access.study, number=int(wave_key))
    elif wave_key != "all":
        raise Http404
    if request.method == "POST":
        analysis.save_summary(
            found, person, theme, wave, request.POST.get("summary", ""), request.user
        )
        messages.success(request, f"Summary for {person.pseudonym} × {theme.name} saved.")
        target = reverse("voices_framework", args=[access.study.slug, found.pk])
        query = f"?wave={wave_key}" if found.by_wave else ""
        return redirect(target + query)
    data = analysis.load_framework(access, found, _coder(request))
    label = _wave_of_key(access, data, wave_key)
    cell = (
        data.matrix.cell(person.pseudonym, theme.name, label)
        if person.pseudonym in data.matrix.cases
        else framework.Cell(person.pseudonym, theme.name, label)
    )
    passages = [
        {
            "source": data.source(ref),
            "start": ref.start,
            "end": ref.end,
            "text": data.passage_text(ref),
            "url": source_url(access.study.slug, int(ref.document_id)),
        }
        for ref in cell.passages
    ]
    stored = found.cells.filter(participant=person, theme=theme, wave=wave).first()
    return render(
        request,
        "voices/analysis/framework_cell.html",
        {
            "area": "voices",
            "framework": found,
            "person": person,
            "theme": theme,
            "wave_key": wave_key,
            "wave_label": label,
            "cell": cell,
            "stored": stored,
            "passages": passages,
            "codes": [data.corpus.label(c) for c in data.theme_codes.get(theme.name, [])],
            "coder": data.coder or "",
        },
    )


@study_view("area:voices")
def framework_case(
    request: HttpRequest, access: Access, framework_id: int, pseudonym: str
) -> HttpResponse:
    found = _framework(access, framework_id)
    get_object_or_404(analysis.framework_participants(access, found), pseudonym=pseudonym)
    data = analysis.load_framework(access, found, _coder(request))
    if pseudonym not in data.matrix.cases:
        raise Http404
    trajectory = framework.case_trajectory(data.matrix, pseudonym)
    waves = _wave_keys(access, data)
    themes = [
        {
            "name": theme,
            "id": data.theme_ids[theme],
            "cells": [
                {
                    "wave_key": key,
                    "wave": label,
                    "cell": cell,
                    "passages": [
                        {"source": data.source(ref), "text": data.passage_text(ref)}
                        for ref in cell.passages
                    ],
                }
                for (key, label), cell in zip(waves, trajectory[theme], strict=True)
            ],
        }
        for theme in data.matrix.themes
    ]
    return render(
        request,
        "voices/analysis/framework_case.html",
        {
            "area": "voices",
            "framework": found,
            "pseudonym": pseudonym,
            "themes": themes,
            "waves": waves,
            "coder": data.coder or "",
        },
    )


@study_view("area:voices")
def framework_wave(
    request: HttpRequest, access: Access, framework_id: int, wave_key: str
) -> HttpResponse:
    found = _framework(access, framework_id)
    data = analysis.load_framework(access, found, _coder(request))
    label = _wave_of_key(access, data, wave_key)
    theme_name = request.GET.get("theme", "")
    themes = [t for t in data.matrix.themes if not theme_name or t == theme_name]
    if theme_name and not themes:
        raise Http404
    section = framework.cross_section(data.matrix, label)
    cases = []
    for case, cells in section.items():
        chosen = [c for c in cells if c.theme in themes]
        cases.append(
            {
                "case": case,
                "cells": [
                    {
                        "cell": cell,
                        "theme_id": data.theme_ids[cell.theme],
                        "passages": [
                            {"source": data.source(ref), "text": data.passage_text(ref)}
                            for ref in cell.passages
                        ],
                    }
                    for cell in chosen
                ],
            }
        )
    return render(
        request,
        "voices/analysis/framework_wave.html",
        {
            "area": "voices",
            "framework": found,
            "wave_key": wave_key,
            "wave_label": label,
            "waves": _wave_keys(access, data),
            "themes": data.matrix.themes,
            "theme": theme_name,
            "cases": cases,
            "coder": data.coder or "",
        },
    )


@study_view("area:voices")
def framework_coverage(request: HttpRequest, access: Access, framework_id: int) -> HttpResponse:
    found = _framework(access, framework_id)
    data = analysis.load_framework(access, found, _coder(request))
    report = framework.coverage(data.matrix)
    keys = {label: key for key, label in _wave_keys(access, data)}

    def link(cell: framework.Cell) -> dict[str, Any]:
        return {"cell": cell, "theme_id": data.theme_ids[cell.theme], "wave_key": keys[cell.wave]}

    return render(
        request,
        "voices/analysis/framework_coverage.html",
        {
            "area": "voices",
            "framework": found,
            "report": report,
            "percent": round(100 * report.summarised / report.cells, 1) if report.cells else 0,
            "missing": [link(c) for c in report.missing_summaries],
            "unsupported": [link(c) for c in report.unsupported_summaries],
        },
    )


@study_view("area:voices")
def framework_export(
    request: HttpRequest, access: Access, framework_id: int, fmt: str
) -> HttpResponse:
    found = _framework(access, framework_id)
    data = analysis.load_framework(access, found, _coder(request))
    matrix = data.labelled()
    buffer = io.BytesIO()
    if fmt == "xlsx":
        framework.to_xlsx(matrix, buffer)
        kind = XLSX
    elif fmt == "docx":
        framework.to_docx(matrix, buffer, title=found.name)
        kind = DOCX
    else:
        raise Http404
    response = HttpResponse(buffer.getvalue(), content_type=kind)
    response["Content-Disposition"] = f'attachment; filename="framework-{found.pk}.{fmt}"'
    return response


# ---- inter-coder agreement -------------------------------------------------------------------

METHODS = {"character": "Characters", "segment": "Coded segments"}


def _round(access: Access, round_id: int) -> AgreementRound:
    return get_object_or_404(analysis.visible_rounds(access), pk=round_id)


def _can_manage_rounds(access: Access) -> bool:
    return access.can("write") and access.role in analysis.ROUND_MANAGERS


def _coder_members(access: Access) -> list[Any]:
    memberships = Membership.objects.filter(
        study=access.study, role__in=list(analysis.CODER_ROLES)
    ).select_related("user")
    return sorted((m.user for m in memberships), key=lambda u: u.get_username())


def _create_round(request: HttpRequest, access: Access) -> AgreementRound | str:
    name = request.POST.get("name", "").strip()
    sources = analysis.visible_sources(access).filter(
        pk__in=[v for v in request.POST.getlist("sources") if v.isdigit()]
    )
    members = {u.pk: u for u in _coder_members(access)}
    coders = [
        members[int(v)] for v in request.POST.getlist("coders") if v.isdigit() and int(v) in members
    ]
    codes = Code.objects.filter(
        study=access.study, pk__in=[v for v in request.POST.getlist("codes") if v.isdigit()]
    )
    consensus = request.POST.get("consensus_coder_name", "").strip() or "consensus"
    if not name:
        return "Give the round a name."
    if not sources.exists():
        return "Choose at least one ready source."
    if len(coders) < 2:
        return "Choose at least two coders."
    if consensus in {u.get_username() for u in coders}:
        return "The consensus coder name must differ from every coder's user name."
    with transaction.atomic():
        created = AgreementRound.objects.create(
            study=access.study,
            name=name,
            consensus_coder_name=consensus[:150],
            created_by=request.user,  # type: ignore[misc]
        )
        created.sources.set(sources)
        created.coders.set(coders)
        created.codes.set(codes)
    return created


@study_view("area:voices")
@require_http_methods(["GET", "POST"])
def agreement_rounds(request: HttpRequest, access: Access) -> HttpResponse:
    manager = _can_manage_rounds(access)
    error = ""
    if request.method == "POST":
        if not manager:
            raise Http404
        created = _create_round(request, access)
        if isinstance(created, AgreementRound):
            messages.success(request, f"Round “{created.name}” created: coders code blind now.")
            return redirect("voices_agreement_round", access.study.slug, created.pk)
        error = created
    rounds = analysis.visible_rounds(access).prefetch_related("coders", "sources")
    return render(
        request,
        "voices/analysis/agreement_rounds.html",
        {
            "area": "voices",
            "rounds": rounds,
            "manager": manager,
            "error": error,
            "posted_name": request.POST.get("name", ""),
            "sources": analysis.visible_sources(access)
            .exclude(text="")
            .select_related("site", "participant")
            .order_by("name"),
            "members": _coder_members(access),
            "code_choices": _code_choices(access),
        },
    )


@study_view("area:voices")
def agreement_round(request: HttpRequest, access: Access, round_id: int) -> HttpResponse:
    found = _round(access, round_id)
    blind = found.status == AgreementRound.Status.CODING
    method = request.GET.get("method", "character")
    if method not in METHODS:
        method = "character"
    results: list[dict[str, Any]] = []
    sample = None
    if not blind:
        sample = analysis.round_sample(found)
        for item in analysis.round_results(sample, method):  # type: ignore[arg-type]
            results.append(
                {
                    "code": sample.label(item.code_id),
                    "result": item,
                    "coded": [item.coded.get(coder, 0) for coder in sample.coders],
                }
            )
    return render(
        request,
        "voices/analysis/agreement_round.html",
        {
            "area": "voices",
            "round": found,
            "blind": blind,
            "counts": analysis.coder_counts(found),
            "coders": analysis.round_coders(found),
            "sources": found.sources.select_related("site").order_by("name"),
            "codes": found.codes.all(),
            "method": method,
            "methods": METHODS,
            "results": results,
            "sample": sample,
            "manager": _can_manage_rounds(access),
            "statuses": AgreementRound.Status.choices,
            "resolutions": found.resolutions.count(),
        },
    )


@study_view("area:voices")
@require_POST
def agreement_status(request: HttpRequest, access: Access, round_id: int) -> HttpResponse:
    found = _round(access, round_id)
    if not _can_manage_rounds(access):
        raise Http404
    status = request.POST.get("status", "")
    if status not in AgreementRound.Status.values:
        raise Http404
    found.status = status
    found.save(update_fields=["status"])
    messages.success(request, f"Round “{found.name}” is now: {found.get_status_display()}.")
    return redirect("voices_agreement_round", access.study.slug, found.pk)


def _pair(request: HttpRequest, coders: Sequence[str]) -> tuple[str, str]:
    source = request.POST if request.method == "POST" else request.GET
    a, b = source.get("a", ""), source.get("b", "")
    if a in coders and b in coders and a != b:
        return a, b
    return coders[0], coders[1]


@study_view("area:voices")
@require_http_methods(["GET", "POST"])
def agreement_disagreements(request: HttpRequest, access: Access, round_id: int) -> HttpResponse:
    found = _round(access, round_id)
    blind = found.status == AgreementRound.Status.CODING
    coders = analysis.round_coders(found)
    if request.method == "POST":
        if found.status != AgreementRound.Status.COMPARING or len(coders) < 2:
            raise Http404
        a, b = _pair(request, coders)
        decisions = []
        for key in request.POST.getlist("item"):
            choice = request.POST.get(f"decision-{key}", "")
            if choice not in ("keep", "drop"):
                continue
            try:
                source_id, code_id, start, end = (int(part) for part in key.split(":"))
            except ValueError:
                raise Http404 from None
            decisions.append(
                analysis.Decision(
                    source_id,
                    code_id,
                    start,
                    end,
                    choice == "keep",
                    request.POST.get(f"note-{key}", ""),
                )
            )
        if not decisions:
            messages.error(request, "Choose keep or drop for at least one disagreement.")
        else:
            try:
                result = analysis.record_decisions(found, decisions, request.user, a, b)
            except ValueError as problem:
                messages.error(request, str(problem).capitalize() + ".")
            else:
                messages.success(
                    request,
                    f"{len(decisions)} decision(s) recorded; the consensus coding now has "
                    f"{len(result.codings)} coding(s); "
                    f"{len(result.unresolved)} disagreement(s) still open.",
                )
        url = reverse("voices_agreement_disagreements", args=[access.study.slug, found.pk])
        return redirect(f"{url}?a={a}&b={b}")
    rows: list[dict[str, Any]] = []
    a = b = ""
    if not blind and len(coders) >= 2:
        a, b = _pair(request, coders)
        sample = analysis.round_sample(found)
        for row in analysis.disagreement_rows(sample, a, b):
            item = row.disagreement
            text = sample.texts.get(item.document_id, "")
            rows.append(
                {
                    "key": row.key,
                    "item": item,
                    "code": sample.label(item.code_id),
                    "source": sample.sources.get(item.document_id),
                    "before": text[max(0, item.start - 60) : item.start],
                    "after": text[item.end : item.end + 60],
                    "a_coded": item.coded_by == a,
                    "resolution": row.resolution,
                }
            )
    return render(
        request,
        "voices/analysis/agreement_disagreements.html",
        {
            "area": "voices",
            "round": found,
            "blind": blind,
            "coders": coders,
            "a": a,
            "b": b,
            "rows": rows,
            "open": sum(1 for r in rows if r["resolution"] is None),
            "can_decide": found.status == AgreementRound.Status.COMPARING and access.can("write"),
        },
    )


@study_view("area:voices")
def agreement_export(request: HttpRequest, access: Access, round_id: int, fmt: str) -> HttpResponse:
    found = _round(access, round_id)
    if found.status == AgreementRound.Status.CODING:
        raise Http404
    sample = analysis.round_sample(found)
    header = [
        "Code",
        "Method",
        "Units",
        "Units agreed",
        "Percent agreement",
        "Cohen's kappa",
        "Krippendorff's alpha",
        "Unitized alpha",
        *[f"Units coded by {coder}" for coder in sample.coders],
        "Units coded by all",
    ]
    rows = []
    for method in METHODS:
        for item in analysis.round_results(sample, method):  # type: ignore[arg-type]
            rows.append(
                [
                    sample.label(item.code_id),
                    method,
                    item.units,
                    item.agreed,
                    round(item.percent, 2),
                    "" if item.kappa is None else round(item.kappa, 4),
                    "" if item.alpha is None else round(item.alpha, 4),
                    "" if item.unitized_alpha is None else round(item.unitized_alpha, 4),
                    *[item.coded.get(coder, 0) for coder in sample.coders],
                    item.coded_by_all,
                ]
            )
    return _export(f"agreement-round-{found.pk}", fmt, header, rows, "Agreement")
