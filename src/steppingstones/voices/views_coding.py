"""Codebook, coding and memo pages.

Every view resolves the study through :func:`study_view`; sources come from
:func:`coding_service.visible_sources` (site limits, ready-only for peer researchers) and codings
from :func:`coding_service.visible_codings` (the blind rule of agreement rounds).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_http_methods, require_POST

from steppingstones.core.middleware import upload_limit
from steppingstones.core.policy import Access, study_view
from steppingstones.voices import codebook
from steppingstones.voices import coding_service as service
from steppingstones.voices.codebook import CodebookError, CodebookImportError
from steppingstones.voices.models import Code, CodebookVersion, CodeChange, Coding, Memo, Source

AREA = "area:voices"
MAX_CODEBOOK_BYTES = 10 * 1024 * 1024
SHORTCUT_KEYS = "123456789"
EXPORT_TYPES = {
    "qdc": ("application/xml", codebook.write_qdc),
    "csv": ("text/csv; charset=utf-8", codebook.write_csv),
    "xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        codebook.write_xlsx,
    ),
}


# ------------------------------------------------------------------------------------ forms


class CodeForm(forms.Form):
    name = forms.CharField(max_length=codebook.MAX_NAME)
    parent = forms.TypedChoiceField(
        label="Parent code", required=False, coerce=int, empty_value=None
    )
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    inclusion = forms.CharField(
        label="Inclusion criteria",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="When to apply this code.",
    )
    exclusion = forms.CharField(
        label="Exclusion criteria",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="When not to apply it, and which code to use instead.",
    )
    example = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    colour = forms.CharField(
        max_length=7,
        initial=codebook.DEFAULT_COLOUR,
        widget=forms.TextInput(attrs={"type": "color"}),
    )
    is_codable = forms.BooleanField(
        label="Can be applied to data (untick for a grouping code)", required=False, initial=True
    )

    def __init__(self, *args: Any, choices: list[tuple[Any, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        parent = self.fields["parent"]
        assert isinstance(parent, forms.TypedChoiceField)
        parent.choices = [("", "(top level)"), *choices]

    def clean_colour(self) -> str:
        colour = str(self.cleaned_data["colour"])
        if not codebook.COLOUR_RE.match(colour):
            raise forms.ValidationError("Give a colour like #1f77b4.")
        return colour


class ImportForm(forms.Form):
    file = forms.FileField(
        label="Codebook file",
        help_text="A REFI-QDA codebook (.qdc) from NVivo, ATLAS.ti, MAXQDA, QualCoder or "
        "Taguette, or a CSV or XLSX with the columns of an export.",
    )


class MemoForm(forms.Form):
    title = forms.CharField(max_length=200, required=False)
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}))


def _code_choices(access: Access, exclude: set[int] | None = None) -> list[tuple[int, str]]:
    rows = service.codebook_rows_plain(access.study)
    return [(pk, path) for pk, path in rows if not exclude or pk not in exclude]


# --------------------------------------------------------------------------------- codebook


@study_view(AREA)
def codebook_page(request: HttpRequest, access: Access) -> HttpResponse:
    rows = service.codebook_rows(access, request.user)
    return render(
        request,
        "voices/coding/codebook.html",
        {
            "rows": rows,
            "versions": CodebookVersion.objects.filter(study=access.study)[:5],
            "changes": CodeChange.objects.filter(study=access.study).select_related("by")[:10],
        },
    )


@require_http_methods(["GET", "POST"])
@study_view(AREA)
def code_new(request: HttpRequest, access: Access) -> HttpResponse:
    access.require("write")
    form = CodeForm(
        request.POST or None,
        choices=_code_choices(access),
        initial={"parent": request.GET.get("parent") or None},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        parent = service.code_for(access, data["parent"]) if data["parent"] else None
        try:
            code = service.create_code(access.study, request.user, data, parent)
        except CodebookError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Code “{code.name}” created.")
            if "another" in request.POST:
                return redirect(
                    reverse("voices_code_new", args=[access.study.slug])
                    + f"?parent={parent.pk if parent else ''}"
                )
            return redirect("voices_codebook", study_slug=access.study.slug)
    return render(request, "voices/coding/code_form.html", {"form": form, "code": None})


@require_http_methods(["GET", "POST"])
@study_view(AREA)
def code_edit(request: HttpRequest, access: Access, code_id: int) -> HttpResponse:
    access.require("write")
    code = service.code_for(access, code_id)
    below = codebook.descendants(service.code_records(access.study), code.guid) | {code.guid}
    exclude = set(
        Code.objects.filter(study=access.study, guid__in=below).values_list("pk", flat=True)
    )
    form = CodeForm(
        request.POST or None,
        choices=_code_choices(access, exclude),
        initial={
            "name": code.name,
            "parent": code.parent_id,
            "description": code.description,
            "inclusion": code.inclusion,
            "exclusion": code.exclusion,
            "example": code.example,
            "colour": code.colour,
            "is_codable": code.is_codable,
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            changed = service.edit_code(code, request.user, data)
            if data["parent"] != code.parent_id:
                parent = service.code_for(access, data["parent"]) if data["parent"] else None
                service.move_code(code, request.user, parent)
                changed.append("parent")
        except CodebookError as error:
            form.add_error(None, str(error))
        else:
            if changed:
                messages.success(request, f"Code “{code.name}” saved ({', '.join(changed)}).")
            return redirect("voices_code", study_slug=access.study.slug, code_id=code.pk)
    return render(request, "voices/coding/code_form.html", {"form": form, "code": code})


@study_view(AREA)
def code_detail(request: HttpRequest, access: Access, code_id: int) -> HttpResponse:
    code = service.code_for(access, code_id)
    sources = service.visible_sources(access).filter(status=Source.Status.READY)
    codings = (
        service.visible_codings_in(sources, request.user)
        .filter(code=code)
        .select_related("source")
        .order_by("source__name", "start", "time_start", "pk")
    )
    total = codings.count()
    shown = [
        {"coding": coding, "excerpt": service.excerpt(coding.source, coding)}
        for coding in codings[:200]
    ]
    records = service.code_records(access.study)
    below = codebook.descendants(records, code.guid) | {code.guid}
    below_ids = set(
        Code.objects.filter(study=access.study, guid__in=below).values_list("pk", flat=True)
    )
    return render(
        request,
        "voices/coding/code.html",
        {
            "code": code,
            "path": codebook.paths(records).get(code.guid, code.name),
            "codings": shown,
            "total": total,
            "children": code.children.all(),
            "move_choices": _code_choices(access, below_ids),
            "merge_choices": _code_choices(access, {code.pk}),
            "memos": service.visible_memos(access, request.user).filter(code=code),
        },
    )


def _code_from_post(request: HttpRequest, access: Access, name: str) -> Code | None:
    value = request.POST.get(name, "")
    if not value:
        return None
    if not value.isdigit():
        raise Http404
    return service.code_for(access, int(value))


@require_POST
@study_view(AREA)
def code_move(request: HttpRequest, access: Access, code_id: int) -> HttpResponse:
    code = service.code_for(access, code_id)
    parent = _code_from_post(request, access, "parent")
    try:
        service.move_code(code, request.user, parent)
    except CodebookError as error:
        messages.error(request, f"Not moved: {error}.")
    else:
        where = f"under “{parent.name}”" if parent else "to the top level"
        messages.success(request, f"“{code.name}” moved {where}.")
    return redirect("voices_code", study_slug=access.study.slug, code_id=code.pk)


@require_POST
@study_view(AREA)
def code_merge(request: HttpRequest, access: Access, code_id: int) -> HttpResponse:
    """Merge this code into the chosen target."""
    code = service.code_for(access, code_id)
    target = _code_from_post(request, access, "target")
    if target is None:
        messages.error(request, "Not merged: choose the code to merge into.")
        return redirect("voices_code", study_slug=access.study.slug, code_id=code.pk)
    try:
        plan = service.merge_codes(target, [code], request.user)
    except CodebookError as error:
        messages.error(request, f"Not merged: {error}.")
        return redirect("voices_code", study_slug=access.study.slug, code_id=code.pk)
    messages.success(
        request,
        f"“{code.name}” merged into “{target.name}”: {len(plan.reassign)} codings moved, "
        f"{len(plan.delete)} duplicates collapsed.",
    )
    return redirect("voices_code", study_slug=access.study.slug, code_id=target.pk)


@require_http_methods(["GET", "POST"])
@study_view(AREA)
def code_split(request: HttpRequest, access: Access, code_id: int) -> HttpResponse:
    access.require("write")
    code = service.code_for(access, code_id)
    sources = service.visible_sources(access).filter(status=Source.Status.READY)
    codings = list(
        service.visible_codings_in(sources, request.user)
        .filter(code=code)
        .select_related("source")
        .order_by("source__name", "start", "time_start", "pk")[:1000]
    )
    names = [request.POST.get(f"name{i}", "") for i in range(1, 5)]
    errors: list[str] = []
    if request.method == "POST":
        visible_ids = {coding.pk for coding in codings}
        assignment: dict[int, int] = {}
        for key in request.POST:
            value = request.POST.get(key, "")
            if key.startswith("coding-") and value:
                raw_id = key.removeprefix("coding-")
                if not raw_id.isdigit() or int(raw_id) not in visible_ids or not value.isdigit():
                    raise Http404
                assignment[int(raw_id)] = int(value) - 1
        given = [name for name in names if name.strip()]
        # The form numbers new codes 1-4 as typed; keep only those with names.
        index_map = {i: n for n, i in enumerate(i for i, name in enumerate(names) if name.strip())}
        try:
            mapped: dict[int, int] = {}
            for coding_id, index in assignment.items():
                if index not in index_map:
                    raise CodebookError(
                        f"a coding is assigned to new code {index + 1}, which has no name"
                    )
                mapped[coding_id] = index_map[index]
            created = service.split_code(
                code,
                request.user,
                given,
                mapped,
                under_original=request.POST.get("place") != "beside",
            )
        except CodebookError as error:
            errors.append(str(error))
        else:
            messages.success(
                request,
                f"“{code.name}” split: created {', '.join('“' + c.name + '”' for c in created)}; "
                f"{len(mapped)} codings moved.",
            )
            return redirect("voices_code", study_slug=access.study.slug, code_id=code.pk)
    rows = [
        {
            "coding": coding,
            "excerpt": service.excerpt(coding.source, coding),
            "chosen": request.POST.get(f"coding-{coding.pk}", ""),
        }
        for coding in codings
    ]
    return render(
        request,
        "voices/coding/code_split.html",
        {"code": code, "rows": rows, "names": names, "errors": errors, "slots": range(1, 5)},
    )


@require_POST
@study_view(AREA)
def code_delete(request: HttpRequest, access: Access, code_id: int) -> HttpResponse:
    code = service.code_for(access, code_id)
    if request.POST.get("confirm") != code.name:
        messages.error(request, f"Not deleted: type the code's name “{code.name}” to confirm.")
        return redirect("voices_code", study_slug=access.study.slug, code_id=code.pk)
    count = service.delete_code(code, request.user)
    messages.success(request, f"Code “{code.name}” deleted with its {count} codings.")
    return redirect("voices_codebook", study_slug=access.study.slug)


@require_http_methods(["GET", "POST"])
@study_view(AREA)
def codebook_versions(request: HttpRequest, access: Access) -> HttpResponse:
    if request.method == "POST":
        version = service.mark_version(access.study, request.user, request.POST.get("label", ""))
        messages.success(request, f"Codebook version {version.number} marked.")
        return redirect("voices_codebook_versions", study_slug=access.study.slug)
    versions = list(CodebookVersion.objects.filter(study=access.study).select_related("created_by"))
    changes = CodeChange.objects.filter(study=access.study).select_related("by")[:500]
    return render(
        request,
        "voices/coding/versions.html",
        {"versions": versions, "changes": changes},
    )


@study_view(AREA)
def codebook_version(request: HttpRequest, access: Access, number: int) -> HttpResponse:
    version = CodebookVersion.objects.filter(study=access.study, number=number).first()
    if version is None:
        raise Http404
    previous = (
        CodebookVersion.objects.filter(study=access.study, number__lt=number)
        .order_by("-number")
        .first()
    )
    records = codebook.from_snapshot(version.snapshot)
    since_previous = codebook.diff(
        codebook.from_snapshot(previous.snapshot) if previous else [], records
    )
    to_current = codebook.diff(records, service.code_records(access.study))
    return render(
        request,
        "voices/coding/version.html",
        {
            "version": version,
            "previous": previous,
            "rows": version.snapshot,
            "since_previous": since_previous,
            "to_current": to_current,
        },
    )


@upload_limit(MAX_CODEBOOK_BYTES + 64 * 1024)
@require_http_methods(["GET", "POST"])
@study_view(AREA)
def codebook_import(request: HttpRequest, access: Access) -> HttpResponse:
    access.require("write")
    form = ImportForm(request.POST or None, request.FILES or None)
    errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > MAX_CODEBOOK_BYTES:
            errors.append(f"{upload.name}: larger than {MAX_CODEBOOK_BYTES // 1024 // 1024} MB")
        else:
            try:
                result = service.import_codebook(
                    access.study, request.user, Path(upload.name).name, upload.read()
                )
            except CodebookImportError as error:
                errors.extend(error.errors)
            else:
                messages.success(
                    request,
                    f"Codebook imported: {result.created} codes created, {result.updated} updated.",
                )
                return redirect("voices_codebook", study_slug=access.study.slug)
    return render(request, "voices/coding/import.html", {"form": form, "errors": errors})


@study_view(AREA)
def codebook_export(request: HttpRequest, access: Access, fmt: str) -> HttpResponse:
    if fmt not in EXPORT_TYPES:
        raise Http404
    records = service.code_records(access.study)
    if not records:
        messages.error(request, "The codebook has no codes to export yet.")
        return redirect("voices_codebook", study_slug=access.study.slug)
    content_type, write = EXPORT_TYPES[fmt]
    response = HttpResponse(write(records), content_type=content_type)
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = (
        f'attachment; filename="{access.study.slug}-codebook-{stamp}.{fmt}"'
    )
    return response


# ----------------------------------------------------------------------------------- coding


def paragraphs_html(text: str) -> SafeString:
    """The text as one paragraph per line, each carrying the code-point offset of its first
    character (``data-o``): the page maps a selection back to exact positions from these."""
    parts = []
    offset = 0
    for number, line in enumerate(text.split("\n")):
        if line:
            parts.append(f'<p id="t{number}" data-o="{offset}">{escape(line)}</p>')
        offset += len(line) + 1
    return mark_safe("".join(parts))  # noqa: S308 (every piece of text is escaped above)


def _file_url(access: Access, source: Source) -> str | None:
    if not source.file:
        return None
    try:
        return reverse("voices_source_file", args=[access.study.slug, source.pk])
    except NoReverseMatch:
        return None


def _source_url(access: Access, source: Source) -> str | None:
    try:
        return reverse("voices_source", args=[access.study.slug, source.pk])
    except NoReverseMatch:
        return None


@study_view(AREA)
def code_source(request: HttpRequest, access: Access, source_id: int) -> HttpResponse:
    source = service.source_for(access, source_id)
    context: dict[str, Any] = {"source": source, "source_url": _source_url(access, source)}
    if source.status != Source.Status.READY:
        return render(request, "voices/coding/not_ready.html", context)
    rows = service.codebook_rows(access, request.user)
    codable = [row for row in rows if row.code.is_codable]
    keys = {row.code.pk: SHORTCUT_KEYS[i] for i, row in enumerate(codable[: len(SHORTCUT_KEYS)])}
    codings = service.visible_codings(source, request.user).order_by("start", "time_start", "pk")
    if source.media == Source.Media.TEXT:
        payload_codings: list[Any] = [
            [c[0], c[1], c[2], c[3], c[4]]
            for c in codings.values_list("pk", "code_id", "start", "end", "coder_name")
        ]
    else:
        payload_codings = [service.coding_payload(c) for c in codings]
    payload = {
        "media": source.media,
        "codes": [
            {
                "id": row.code.pk,
                "name": row.code.name,
                "path": row.path,
                "colour": row.code.colour,
                "codable": row.code.is_codable,
                "key": keys.get(row.code.pk, ""),
            }
            for row in rows
        ],
        "codings": payload_codings,
        "canWrite": access.can("write"),
        "width": source.width,
        "height": source.height,
        "duration": source.duration_seconds,
    }
    context.update(
        {
            "rows": rows,
            "code_rows": [(row, keys.get(row.code.pk, "")) for row in rows],
            "media_codings": []
            if source.media == Source.Media.TEXT
            else [
                {"coding": c, "excerpt": service.excerpt(source, c)}
                for c in codings.select_related("code")
            ],
            "payload": payload,
            "count": len(payload_codings),
            "blind": service.is_blind(source, request.user),
            "file_url": _file_url(access, source),
            "text_html": paragraphs_html(source.text) if source.media == Source.Media.TEXT else "",
            "memo_count": service.visible_memos(access, request.user).filter(source=source).count(),
        }
    )
    return render(request, "voices/coding/code_source.html", context)


def _wants_json(request: HttpRequest) -> bool:
    return request.content_type == "application/json" or "application/json" in request.headers.get(
        "Accept", ""
    )


@require_POST
@study_view(AREA)
def codings_add(request: HttpRequest, access: Access, source_id: int) -> HttpResponse:
    """Save codings: JSON ``{"codes": [id, ...], "start": n, "end": n}`` (or ``region`` /
    ``time_start`` and ``time_end``) from the coding page's script, or the page's plain form."""
    source = service.codable_source(access, source_id)
    as_json = _wants_json(request)
    data: dict[str, Any]
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            return JsonResponse({"error": "the request is not JSON"}, status=400)
        if not isinstance(data, dict):
            return JsonResponse({"error": "the request is not a JSON object"}, status=400)
        code_ids = data.get("codes") or ([data["code"]] if "code" in data else [])
    else:
        data = {key: request.POST.get(key) for key in request.POST}
        code_ids = request.POST.getlist("codes")
    try:
        ids = {int(pk) for pk in code_ids}
    except (TypeError, ValueError):
        ids = set()
    codes = list(Code.objects.filter(study=access.study, pk__in=ids))
    back = reverse("voices_code_source", args=[access.study.slug, source.pk])
    try:
        if len(codes) != len(ids):
            raise service.CodingError("that code is not in this study's codebook")
        selection = service.check_selection(source, data)
        saved = service.add_codings(source, codes, request.user, selection)
    except service.CodingError as error:
        if as_json:
            return JsonResponse({"error": str(error)}, status=400)
        messages.error(request, f"Not coded: {error}.")
        return redirect(back)
    if as_json:
        return JsonResponse({"codings": [service.coding_payload(c) for c in saved]}, status=201)
    messages.success(request, f"Coded with {', '.join(c.name for c in codes)}.")
    return redirect(back)


@require_POST
@study_view(AREA)
def coding_delete(request: HttpRequest, access: Access, coding_id: int) -> HttpResponse:
    coding = service.coding_for(access, request.user, coding_id)
    source = coding.source
    service.remove_coding(coding)
    if _wants_json(request):
        return JsonResponse({"deleted": coding_id})
    messages.success(request, f"Coding “{coding.code.name}” removed.")
    return redirect("voices_code_source", study_slug=access.study.slug, source_id=source.pk)


# ------------------------------------------------------------------------------------ memos


def _memo_page(
    request: HttpRequest,
    access: Access,
    *,
    subject: str,
    back: str,
    source: Source | None = None,
    code: Code | None = None,
    coding: Coding | None = None,
) -> HttpResponse:
    memos = service.visible_memos(access, request.user)
    if source is not None:
        memos = memos.filter(source=source)
    elif code is not None:
        memos = memos.filter(code=code)
    else:
        memos = memos.filter(coding=coding)
    form = MemoForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        service.save_memo(
            access.study,
            request.user,
            form.cleaned_data["text"],
            form.cleaned_data["title"],
            source=source,
            code=code,
            coding=coding,
        )
        messages.success(request, "Memo saved.")
        return redirect(request.path)
    return render(
        request,
        "voices/coding/memos.html",
        {
            "memos": [(memo, service.may_edit_memo(memo, request.user, access)) for memo in memos],
            "form": form,
            "subject": subject,
            "back": back,
            "excerpt": service.excerpt(coding.source, coding) if coding else "",
        },
    )


@require_http_methods(["GET", "POST"])
@study_view(AREA)
def source_memos(request: HttpRequest, access: Access, source_id: int) -> HttpResponse:
    source = service.source_for(access, source_id)
    if source.status != Source.Status.READY:
        raise Http404
    back = reverse("voices_code_source", args=[access.study.slug, source.pk])
    return _memo_page(
        request, access, subject=f"the source “{source.name}”", back=back, source=source
    )


@require_http_methods(["GET", "POST"])
@study_view(AREA)
def code_memos(request: HttpRequest, access: Access, code_id: int) -> HttpResponse:
    code = service.code_for(access, code_id)
    back = reverse("voices_code", args=[access.study.slug, code.pk])
    return _memo_page(request, access, subject=f"the code “{code.name}”", back=back, code=code)


@require_http_methods(["GET", "POST"])
@study_view(AREA)
def coding_memos(request: HttpRequest, access: Access, coding_id: int) -> HttpResponse:
    coding = service.coding_for(access, request.user, coding_id)
    if coding.source.status != Source.Status.READY:
        raise Http404
    back = reverse("voices_code_source", args=[access.study.slug, coding.source_id])
    subject = f"a coding of “{coding.code.name}” in “{coding.source.name}”"
    return _memo_page(request, access, subject=subject, back=back, coding=coding)


def _memo_for(request: HttpRequest, access: Access, memo_id: int) -> Memo:
    memo = service.visible_memos(access, request.user).filter(pk=memo_id).first()
    if memo is None or not service.may_edit_memo(memo, request.user, access):
        raise Http404
    return memo


def _memo_back(access: Access, memo: Memo) -> str:
    if memo.coding_id:
        return reverse("voices_coding_memos", args=[access.study.slug, memo.coding_id])
    if memo.source_id:
        return reverse("voices_source_memos", args=[access.study.slug, memo.source_id])
    if memo.code_id:
        return reverse("voices_code_memos", args=[access.study.slug, memo.code_id])
    return reverse("voices_memos", args=[access.study.slug])


@require_http_methods(["GET", "POST"])
@study_view(AREA)
def memo_edit(request: HttpRequest, access: Access, memo_id: int) -> HttpResponse:
    memo = _memo_for(request, access, memo_id)
    form = MemoForm(request.POST or None, initial={"title": memo.title, "text": memo.text})
    if request.method == "POST" and form.is_valid():
        service.save_memo(
            access.study,
            request.user,
            form.cleaned_data["text"],
            form.cleaned_data["title"],
            memo=memo,
        )
        messages.success(request, "Memo saved.")
        return redirect(_memo_back(access, memo))
    return render(
        request,
        "voices/coding/memo_edit.html",
        {"memo": memo, "form": form, "back": _memo_back(access, memo)},
    )


@require_POST
@study_view(AREA)
def memo_delete(request: HttpRequest, access: Access, memo_id: int) -> HttpResponse:
    memo = _memo_for(request, access, memo_id)
    back = _memo_back(access, memo)
    memo.delete()
    messages.success(request, "Memo deleted.")
    return redirect(back)


@require_http_methods(["GET", "POST"])
@study_view(AREA)
def memos(request: HttpRequest, access: Access) -> HttpResponse:
    """Every memo this member can see, newest first; and a new memo about the whole project."""
    form = MemoForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        service.save_memo(
            access.study, request.user, form.cleaned_data["text"], form.cleaned_data["title"]
        )
        messages.success(request, "Project memo saved.")
        return redirect(request.path)
    shown = service.visible_memos(access, request.user)[:500]
    return render(
        request,
        "voices/coding/all_memos.html",
        {"memos": shown, "form": form, "can_write": access.can("write")},
    )


# ----------------------------------------------------------------------- search and code


@require_http_methods(["GET", "POST"])
@study_view(AREA)
def search_code(request: HttpRequest, access: Access) -> HttpResponse:
    """Find a word or phrase across the sources this member can see; code the ticked hits."""
    params = request.POST if request.method == "POST" else request.GET
    query = params.get("q", "").strip()
    extend = params.get("extend", "sentence")
    if extend not in ("hit", "sentence", "paragraph"):
        extend = "sentence"
    errors: list[str] = []
    if request.method == "POST":
        code = _code_from_post(request, access, "code")
        if code is None:
            errors.append("Choose the code to apply.")
        elif not request.POST.getlist("hit"):
            errors.append("Tick at least one passage to code.")
        else:
            count, errors = service.apply_to_hits(
                access, request.user, code, request.POST.getlist("hit")
            )
            if not errors:
                messages.success(request, f"Coded {count} passages with “{code.name}”.")
                url = reverse("voices_search_code", args=[access.study.slug])
                return redirect(f"{url}?{_query_string(query, extend)}")
    hits: list[service.Hit] = []
    total = 0
    if query:
        from steppingstones.voices.retrieval import QueryError

        try:
            hits, total = service.search_and_hits(access, query, extend)
        except QueryError as error:
            errors.append(f"The search cannot be read: {error}")
    return render(
        request,
        "voices/coding/search_code.html",
        {
            "query": query,
            "extend": extend,
            "hits": hits,
            "total": total,
            "codes": _code_choices_codable(access),
            "errors": errors,
            "ticked": set(request.POST.getlist("hit")),
        },
    )


def _query_string(query: str, extend: str) -> str:
    from urllib.parse import urlencode

    return urlencode({"q": query, "extend": extend})


def _code_choices_codable(access: Access) -> list[tuple[int, str]]:
    codable = set(
        Code.objects.filter(study=access.study, is_codable=True).values_list("pk", flat=True)
    )
    return [(pk, path) for pk, path in service.codebook_rows_plain(access.study) if pk in codable]
