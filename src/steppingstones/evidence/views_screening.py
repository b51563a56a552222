"""Review pages before extraction: sources and imports, duplicates, title/abstract and
full-text screening (single or blinded dual, AI-prioritised), conflicts, agreement, the stopping
aid, the PRISMA 2020 flow diagram and exports."""

from __future__ import annotations

import csv
import io
import re
import uuid
from html import escape
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_http_methods, require_POST

from steppingstones.core.jobs import start_job
from steppingstones.core.middleware import upload_limit
from steppingstones.core.models import Job
from steppingstones.core.policy import Access, study_view
from steppingstones.evidence import (
    agreement,
    dedup,
    prisma,
    references,
    screening_state,
    services,
    stopping,
)
from steppingstones.evidence.figures import svg_to
from steppingstones.evidence.models import (
    DuplicateGroup,
    FullText,
    PrismaOverride,
    Record,
    Review,
    ScreeningDecision,
    Source,
)
from steppingstones.evidence.references.writers import write_bibtex, write_csv, write_ris
from steppingstones.evidence.views import FIGURE_TYPES, review_of

MAX_REFERENCE_FILE_BYTES = 200 * 1024 * 1024
MAX_FULL_TEXT_BYTES = 50 * 1024 * 1024
STAGES = {"title-abstract": "Title and abstract", "full-text": "Full text"}
PREVIEW_RECORDS = 10


def _stage(stage: str) -> str:
    if stage not in STAGES:
        raise Http404
    return stage


def _posted_number(request: HttpRequest) -> int:
    value = request.POST.get("record", "")
    if not value.isdigit():
        raise Http404
    return int(value)


def _record(review: Review, number: int) -> Record:
    record = Record.objects.filter(review=review, number=number).first()
    if record is None:
        raise Http404
    return record


# ---- sources and import -----------------------------------------------------------------


class SourceForm(forms.ModelForm):
    class Meta:
        model = Source
        fields = ["name", "kind", "search_string", "searched_on"]
        widgets = {
            "search_string": forms.Textarea(attrs={"rows": 4}),
            "searched_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def __init__(self, *args: Any, review: Review, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.review = review

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        clash = Source.objects.filter(review=self.review, name__iexact=name)
        if clash.exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError("This review already has a source with this name.")
        return name


FORMAT_CHOICES = [("", "Detect from the file")] + [
    (name, name) for name in sorted(references.FORMATS)
]


class ImportForm(forms.Form):
    source = forms.ModelChoiceField(queryset=Source.objects.none())
    file = forms.FileField(
        help_text="RIS, Web of Science, BibTeX, MEDLINE (.nbib), PubMed XML, "
        "EndNote XML or CSV; at most 200 MB."
    )
    file_format = forms.ChoiceField(label="Format", choices=FORMAT_CHOICES, required=False)

    def __init__(self, *args: Any, review: Review, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["source"].queryset = review.sources.all()  # type: ignore[attr-defined]


@study_view("area:evidence")
@require_http_methods(["GET", "POST"])
def sources(request: HttpRequest, access: Access, review: str) -> HttpResponse:
    found = review_of(access, review)
    form = SourceForm(request.POST or None, review=found)
    if request.method == "POST" and form.is_valid():
        form.instance.review = found
        form.save()
        messages.success(request, f"Source {form.instance.name} added.")
        return redirect("evidence_sources", access.study.slug, found.slug)
    rows = [
        (source, sum(batch.record_count for batch in source.batches.all()))
        for source in found.sources.prefetch_related("batches")
    ]
    return render(request, "evidence/sources.html", {"review": found, "rows": rows, "form": form})


def _previews() -> Path:
    folder = Path(settings.MEDIA_ROOT) / "reference-imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _preview_path(token: str) -> Path:
    if not re.fullmatch(r"[0-9]+-[0-9]+-[0-9a-f]{32}", token):
        raise Http404
    path = _previews() / token
    if not path.exists():
        raise Http404
    return path


@upload_limit(MAX_REFERENCE_FILE_BYTES + 1024 * 1024)
@study_view("area:evidence")
@require_http_methods(["GET", "POST"])
def import_upload(request: HttpRequest, access: Access, review: str) -> HttpResponse:
    access.require("write")
    found = review_of(access, review)
    form = ImportForm(request.POST or None, request.FILES or None, review=found)
    context: dict[str, Any] = {"review": found, "form": form}
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > MAX_REFERENCE_FILE_BYTES:
            form.add_error("file", f"{upload.name} is larger than 200 MB.")
            return render(request, "evidence/import.html", context)
        data = upload.read()
        mapping = None
        try:
            chosen = form.cleaned_data["file_format"] or None
            detected = chosen or references.detect_format(data, upload.name)
            if detected == "csv":
                mapping = references.guess_mapping(_csv_headers(data))
            result = references.parse(data, format=detected, filename=upload.name, mapping=mapping)
        except references.ReferenceFormatError as error:
            context["error"] = str(error)
            return render(request, "evidence/import.html", context)
        token = f"{access.study.pk}-{request.user.pk}-{uuid.uuid4().hex}"
        (_previews() / token).write_bytes(data)
        request.session[f"reference-import-{token}"] = {
            "filename": Path(upload.name).name,
            "format": result.format,
            "source": form.cleaned_data["source"].pk,
            "mapping": mapping,
        }
        context.update(_preview_context(result, token, upload.name, data, mapping))
    return render(request, "evidence/import.html", context)


def _csv_headers(data: bytes) -> list[str]:
    """The header row of a CSV file, split on the delimiter the parser will use."""
    first = data.decode(references.detect_encoding(data), "replace").lstrip("\ufeff")
    line = first.splitlines()[0] if first else ""
    delimiter = max("\t;,", key=line.count)
    return [cell.strip() for cell in next(iter(csv.reader([line], delimiter=delimiter)), [])]


def _preview_context(
    result: Any, token: str, filename: str, data: bytes, mapping: dict[str, str] | None
) -> dict[str, Any]:
    context: dict[str, Any] = {
        "result": result,
        "preview": result.records[:PREVIEW_RECORDS],
        "token": token,
        "filename": filename,
    }
    if mapping is not None:
        context["mapping"] = mapping
        context["headers"] = _csv_headers(data)
        context["mapping_rows"] = [
            (field, mapping.get(field, "")) for field in references.CSV_FIELDS
        ]
    return context


@study_view("area:evidence")
@require_POST
def import_remap(request: HttpRequest, access: Access, review: str) -> HttpResponse:
    """The column-mapping step of a CSV import: read the saved file again with the columns the
    reviewer chose, and show the preview again."""
    access.require("write")
    found = review_of(access, review)
    token = request.POST.get("token", "")
    details = request.session.get(f"reference-import-{token}")
    if details is None or not token.startswith(f"{access.study.pk}-{request.user.pk}-"):
        raise Http404
    data = _preview_path(token).read_bytes()
    headers = _csv_headers(data)
    mapping = {
        field: request.POST[f"map_{field}"]
        for field in references.CSV_FIELDS
        if request.POST.get(f"map_{field}") in headers
    }
    form = ImportForm(initial={"source": details["source"]}, review=found)
    context: dict[str, Any] = {"review": found, "form": form}
    try:
        result = references.parse(data, format="csv", filename=details["filename"], mapping=mapping)
    except references.ReferenceFormatError as error:
        context["error"] = str(error)
        return render(request, "evidence/import.html", context)
    details["mapping"] = mapping
    request.session[f"reference-import-{token}"] = details
    context.update(_preview_context(result, token, details["filename"], data, mapping))
    return render(request, "evidence/import.html", context)


@study_view("area:evidence")
@require_POST
def import_confirm(request: HttpRequest, access: Access, review: str) -> HttpResponse:
    found = review_of(access, review)
    token = request.POST.get("token", "")
    details = request.session.pop(f"reference-import-{token}", None)
    if details is None or not token.startswith(f"{access.study.pk}-{request.user.pk}-"):
        raise Http404
    _preview_path(token)
    job = start_job(
        study=access.study,
        user=request.user,
        kind="reference-import",
        label=f"Import {details['filename']} into {found.title}",
        params={"review": found.pk, "token": token, **details},
    )
    return redirect("job", access.study.slug, job.pk)


# ---- duplicates -------------------------------------------------------------------------


@study_view("area:evidence")
@require_http_methods(["GET", "POST"])
def duplicates(request: HttpRequest, access: Access, review: str) -> HttpResponse:
    found = review_of(access, review)
    if request.method == "POST":
        job = start_job(
            study=access.study,
            user=request.user,
            kind="reference-dedup",
            label=f"Find duplicates in {found.title}",
            params={"review": found.pk, "automatic": request.POST.get("automatic") == "on"},
        )
        return redirect("job", access.study.slug, job.pk)
    groups = found.duplicate_groups.prefetch_related("records")
    counts = dict.fromkeys(DuplicateGroup.Status.values, 0)
    for group in groups:
        counts[group.status] += 1
    pending = [group for group in groups if group.status == DuplicateGroup.Status.PENDING]
    per_source = (
        Record.objects.filter(review=found)
        .values("batch__source__name")
        .annotate(before=Count("pk"), after=Count("pk", filter=Q(duplicate_of__isnull=True)))
        .order_by("batch__source__name")
    )
    by_source = [(row["batch__source__name"], (row["before"], row["after"])) for row in per_source]
    return render(
        request,
        "evidence/duplicates.html",
        {
            "review": found,
            "pending": pending[:200],
            "pending_total": len(pending),
            "counts": counts,
            "by_source": by_source,
        },
    )


def _group(review: Review, group_id: int) -> DuplicateGroup:
    group = DuplicateGroup.objects.filter(review=review, pk=group_id).first()
    if group is None:
        raise Http404
    return group


@study_view("area:evidence")
@require_http_methods(["GET", "POST"])
def duplicate_group(request: HttpRequest, access: Access, review: str, group: int) -> HttpResponse:
    found = review_of(access, review)
    item = _group(found, group)
    members = list(item.records.select_related("batch__source").order_by("number"))
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "merge":
            primary = next(
                (m for m in members if str(m.number) == request.POST.get("primary")), None
            )
            if primary is None:
                raise Http404
            services.merge(item, primary=primary, user=request.user)
            messages.success(request, f"Merged into record #{primary.number}.")
        elif action == "split":
            services.split(item, user=request.user)
            messages.success(request, "Kept apart: these records are not duplicates.")
        else:
            raise Http404
        return redirect("evidence_duplicates", access.study.slug, found.slug)
    records = [services.dedup_record(m, m.batch.source.name) for m in members]
    group_view = dedup.DuplicateGroup(
        ids=tuple(r.id for r in records),
        score=item.score,
        reason=item.reason,
        pairs=(),
        conflicts=(),
        auto=item.automatic,
        primary=dedup.choose_primary(records).id,
    )
    rows = dedup.side_by_side(group_view, records)
    return render(
        request,
        "evidence/duplicate_group.html",
        {
            "review": found,
            "group": item,
            "members": members,
            "rows": rows,
            "primary": group_view.primary,
        },
    )


# ---- screening --------------------------------------------------------------------------


def highlight(text: str, include: list[str], exclude: list[str]) -> SafeString:
    """The text escaped, with the team's keywords marked (inclusion and exclusion apart)."""
    safe = escape(text)
    words = [(w, "include") for w in include if w.strip()] + [
        (w, "exclude") for w in exclude if w.strip()
    ]
    if not words:
        return mark_safe(safe)  # noqa: S308 (escaped above)
    kinds = {escape(w).lower(): kind for w, kind in words}
    pattern = re.compile(
        r"\b("
        + "|".join(re.escape(escape(w)) for w, _ in sorted(words, key=lambda x: -len(x[0])))
        + r")(\w*)",
        re.IGNORECASE,
    )

    def mark(match: re.Match[str]) -> str:
        kind = kinds.get(match.group(1).lower(), "include")
        sign = "+" if kind == "include" else "−"
        word = match.group(1) + match.group(2)
        hidden = f'<span class="visually-hidden"> ({sign})</span>'
        return f'<mark class="kw-{kind}">{word}{hidden}</mark>'

    return mark_safe(pattern.sub(mark, safe))  # noqa: S308 (escaped above)


def _decide(request: HttpRequest, access: Access, found: Review, stage: str) -> HttpResponse:
    record = _record(found, _posted_number(request))
    if not services.stage_records(found, stage).filter(pk=record.pk).exists():
        raise Http404
    decision = request.POST.get("decision", "")
    reason = request.POST.get("reason", "").strip()
    allowed = ["include", "exclude"] + (["maybe"] if stage == "title-abstract" else [])
    if decision not in allowed:
        messages.error(request, "Choose include, exclude or maybe.")
    elif stage == "full-text" and decision == "exclude" and not reason:
        messages.error(request, "A full-text exclusion needs a reason from the criteria.")
        return redirect(f"{request.path}?record={record.number}")
    else:
        services.decide(
            record,
            stage=stage,
            user=request.user,
            decision=decision,
            reason=reason[:300],
            note=request.POST.get("note", "").strip(),
        )
        if stage == "title-abstract":
            _queue_ranking(access, found, request.user)
    return redirect("evidence_screen", access.study.slug, found.slug, stage)


@study_view("area:evidence")
@require_http_methods(["GET", "POST"])
def screen(request: HttpRequest, access: Access, review: str, stage: str) -> HttpResponse:
    found = review_of(access, review)
    stage = _stage(stage)
    if request.method == "POST":
        return _decide(request, access, found, stage)
    user: Any = request.user
    record: Record | None
    wanted = request.GET.get("record")
    if wanted and wanted.isdigit():
        record = _record(found, int(wanted))
    else:
        record = services.next_for(found, stage, user)
    summary = services.stage_summary(found, stage, user)
    mine = None
    if record is not None:
        mine = ScreeningDecision.objects.filter(
            record=record, stage=stage, reviewer=user, is_resolution=False
        ).first()
    last = (
        ScreeningDecision.objects.filter(
            record__review=found, stage=stage, reviewer=user, is_resolution=False
        )
        .order_by("-decided_at", "-pk")
        .select_related("record")
        .first()
    )
    full_text = FullText.objects.filter(record=record).first() if record else None
    return render(
        request,
        "evidence/screen.html",
        {
            "review": found,
            "stage": stage,
            "stage_name": STAGES[stage],
            "record": record,
            "title": highlight(record.title, found.include_keywords, found.exclude_keywords)
            if record
            else "",
            "abstract": highlight(record.abstract, found.include_keywords, found.exclude_keywords)
            if record
            else "",
            "mine": mine,
            "last": last,
            "summary": summary,
            "full_text": full_text,
            "reasons": found.criteria,
        },
    )


def _queue_ranking(access: Access, review: Review, user: Any) -> None:
    """Retrain in the background; one waiting job is enough however fast decisions come."""
    waiting = Job.objects.filter(
        study=access.study,
        kind="screening-rank",
        status__in=[Job.Status.QUEUED, Job.Status.RUNNING],
        params__review=review.pk,
    )
    if not waiting.exists():
        start_job(
            study=access.study,
            user=user,
            kind="screening-rank",
            label=f"Re-rank the screening queue of {review.title}",
            params={"review": review.pk},
        )


@study_view("area:evidence")
@require_POST
def undo(request: HttpRequest, access: Access, review: str, stage: str) -> HttpResponse:
    found = review_of(access, review)
    stage = _stage(stage)
    user: Any = request.user
    last = (
        ScreeningDecision.objects.filter(
            record__review=found, stage=stage, reviewer=user, is_resolution=False
        )
        .order_by("-decided_at", "-pk")
        .select_related("record")
        .first()
    )
    if last is None:
        messages.error(request, "There is no decision of yours to undo.")
        return redirect("evidence_screen", access.study.slug, found.slug, stage)
    record = last.record
    last.delete()
    if stage == "full-text":
        services.sync_included_study(record)
    messages.success(request, f"Your decision on record #{record.number} was undone.")
    return redirect(f"{request.path.rsplit('undo/', 1)[0]}?record={record.number}")


@study_view("area:evidence")
def conflicts(request: HttpRequest, access: Access, review: str, stage: str) -> HttpResponse:
    found = review_of(access, review)
    stage = _stage(stage)
    states = services.states_for(found, stage)
    ids = [pk for pk, state in states.items() if state == screening_state.CONFLICT]
    votes = services.votes_by_record(found, stage)
    users = {user.pk: user.get_username() for user in _members(access)}
    rows = [
        (
            record,
            [(users.get(v.reviewer, "?"), v.decision, v.reason) for v in votes.get(record.pk, [])],
        )
        for record in Record.objects.filter(pk__in=ids).order_by("number")
    ]
    return render(
        request,
        "evidence/conflicts.html",
        {
            "review": found,
            "stage": stage,
            "stage_name": STAGES[stage],
            "rows": rows,
            "reasons": found.criteria,
        },
    )


def _members(access: Access) -> list[Any]:
    from django.contrib.auth import get_user_model

    return list(get_user_model().objects.filter(memberships__study=access.study))


@study_view("area:evidence")
@require_POST
def resolve(request: HttpRequest, access: Access, review: str, stage: str) -> HttpResponse:
    """A third reviewer (or the pair, after discussion) settles a conflict."""
    found = review_of(access, review)
    stage = _stage(stage)
    record = _record(found, _posted_number(request))
    decision = request.POST.get("decision", "")
    if decision not in ("include", "exclude"):
        raise Http404
    states = services.states_for(found, stage)
    if states.get(record.pk) != screening_state.CONFLICT:
        raise Http404
    services.decide(
        record,
        stage=stage,
        user=request.user,
        decision=decision,
        reason=request.POST.get("reason", "")[:300],
        note=request.POST.get("note", ""),
        resolution=True,
    )
    messages.success(request, f"Record #{record.number}: {decision}d by resolution.")
    return redirect("evidence_conflicts", access.study.slug, found.slug, stage)


@study_view("area:evidence")
def screening_overview(request: HttpRequest, access: Access, review: str) -> HttpResponse:
    """Progress, agreement per reviewer pair (live) and the stopping aid."""
    found = review_of(access, review)
    users = {user.pk: user.get_username() for user in _members(access)}
    stages = []
    for stage, name in STAGES.items():
        summary = services.stage_summary(found, stage, request.user)
        triples = [
            (users.get(vote.reviewer, "?"), str(record_id), vote.decision)
            for record_id, votes in services.votes_by_record(found, stage).items()
            for vote in votes
            if not vote.is_resolution
        ]
        stages.append(
            {
                "stage": stage,
                "name": name,
                "summary": summary,
                "awaiting": summary.counts.get(screening_state.AWAITING, 0),
                "pairs": agreement.pairwise(triples),
            }
        )
    labels = services.labelled_orders(found)
    total = services.screenable(found).count()
    advice = (
        stopping.stopping_aid(
            labels,
            total,
            consecutive=stopping.default_consecutive(total),
        )
        if labels and total
        else []
    )
    return render(
        request,
        "evidence/screening.html",
        {
            "review": found,
            "stages": stages,
            "advice": advice,
            "screened": len(labels),
            "total": total,
            "relevant": sum(labels),
        },
    )


# ---- full texts ---------------------------------------------------------------------------


class FullTextForm(forms.Form):
    file = forms.FileField(required=False, help_text="A PDF, at most 50 MB.")
    not_retrieved = forms.BooleanField(required=False, label="The report could not be retrieved")
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        upload = cleaned.get("file")
        if upload is None and not cleaned.get("not_retrieved"):
            raise forms.ValidationError("Attach the PDF or say it could not be retrieved.")
        if upload is not None:
            if upload.size > MAX_FULL_TEXT_BYTES:
                self.add_error("file", f"{upload.name} is larger than 50 MB.")
            elif not upload.name.lower().endswith(".pdf") or upload.read(5) != b"%PDF-":
                self.add_error("file", f"{upload.name} is not a PDF file.")
            upload.seek(0)
        return cleaned


@upload_limit(MAX_FULL_TEXT_BYTES + 1024 * 1024)
@study_view("area:evidence")
@require_http_methods(["GET", "POST"])
def full_text(request: HttpRequest, access: Access, review: str, number: int) -> HttpResponse:
    found = review_of(access, review)
    record = _record(found, number)
    if not services.stage_records(found, "full-text").filter(pk=record.pk).exists():
        raise Http404
    current = FullText.objects.filter(record=record).first()
    form = FullTextForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data.get("file")
        item = current or FullText(record=record)
        old = item.file
        if upload is not None:
            name = f"{uuid.uuid4().hex}.pdf"
            folder = Path(settings.MEDIA_ROOT) / "full-texts"
            folder.mkdir(parents=True, exist_ok=True)
            with (folder / name).open("wb") as handle:
                for chunk in upload.chunks():
                    handle.write(chunk)
            item.file, item.original_name, item.size_bytes = name, upload.name[:255], upload.size
            item.not_retrieved = False
        else:
            item.not_retrieved = True
        item.note = form.cleaned_data["note"]
        with transaction.atomic():
            item.save()
            if old and old != item.file:
                transaction.on_commit(
                    lambda: (Path(settings.MEDIA_ROOT) / "full-texts" / old).unlink(missing_ok=True)
                )
        messages.success(request, f"Full text of record #{record.number} saved.")
        return redirect(
            f"{request.build_absolute_uri('../../../screen/full-text/')}?record={record.number}"
        )
    return render(
        request,
        "evidence/full_text.html",
        {"review": found, "record": record, "current": current, "form": form},
    )


@study_view("area:evidence")
def full_text_file(request: HttpRequest, access: Access, review: str, number: int) -> Any:
    found = review_of(access, review)
    record = _record(found, number)
    item = FullText.objects.filter(record=record).exclude(file="").first()
    if item is None:
        raise Http404
    path = Path(settings.MEDIA_ROOT) / "full-texts" / item.file
    if not path.exists():
        raise Http404
    return FileResponse(
        path.open("rb"), as_attachment=True, filename=item.original_name or "full-text.pdf"
    )


# ---- PRISMA -------------------------------------------------------------------------------


def prisma_counts(review: Review) -> prisma.PrismaCounts:
    """The PRISMA 2020 boxes computed from the records and decisions, then any overrides.

    Records from databases and registers fill the main column; records found by other methods
    (websites, organisations, citation searching) fill the other-methods column from "reports
    sought" on, as the 2020 template draws them."""
    records = list(Record.objects.filter(review=review).select_related("batch__source"))
    databases: dict[str, int] = {}
    registers: dict[str, int] = {}
    other: dict[str, int] = {}
    other_ids: set[int] = set()
    for record in records:
        source = record.batch.source
        target = {"database": databases, "register": registers}.get(source.kind, other)
        target[source.name] = target.get(source.name, 0) + 1
        if source.kind == Source.Kind.OTHER:
            other_ids.add(record.pk)
    main = [r for r in records if r.pk not in other_ids]
    duplicates_removed = sum(1 for r in main if r.duplicate_of_id is not None)
    first = services.states_for(review, "title-abstract")
    second = services.states_for(review, "full-text")
    votes = services.votes_by_record(review, "full-text")
    retrieved_not = set(
        FullText.objects.filter(record__review=review, not_retrieved=True).values_list(
            "record_id", flat=True
        )
    )

    def column(ids: set[int]) -> dict[str, Any]:
        sought = [pk for pk in ids if first.get(pk) == screening_state.INCLUDED]
        reasons: dict[str, int] = {}
        assessed = 0
        for pk in sought:
            state = second.get(pk)
            if state == screening_state.EXCLUDED:
                reason = screening_state.exclusion_reason(votes.get(pk, []))
                reasons[reason] = reasons.get(reason, 0) + 1
            if state in (screening_state.INCLUDED, screening_state.EXCLUDED):
                assessed += 1
        return {
            "sought": len(sought),
            "not_retrieved": len(retrieved_not.intersection(sought)),
            "assessed": assessed,
            "excluded": reasons,
        }

    main_ids = {r.pk for r in main if r.pk in first}
    other_screened = {pk for pk in other_ids if pk in first}
    ours, theirs = column(main_ids), column(other_screened)
    included = [pk for pk, state in second.items() if state == screening_state.INCLUDED]
    studies = (
        Record.objects.filter(pk__in=included, included_study__isnull=False)
        .values("included_study")
        .distinct()
        .count()
    )
    overrides = {
        item.box: prisma.Override(value=item.value, note=item.note)
        for item in review.prisma_overrides.all()
    }
    return prisma.PrismaCounts(
        databases=databases,
        registers=registers,
        duplicates_removed=duplicates_removed,
        records_screened=len(main_ids),
        records_excluded=sum(1 for pk in main_ids if first[pk] == screening_state.EXCLUDED),
        reports_sought=ours["sought"],
        reports_not_retrieved=ours["not_retrieved"],
        reports_assessed=ours["assessed"],
        reports_excluded=ours["excluded"],
        other_sources=other,
        other_reports_sought=theirs["sought"] if other else None,
        other_reports_not_retrieved=theirs["not_retrieved"],
        other_reports_assessed=theirs["assessed"] if other else None,
        other_reports_excluded=theirs["excluded"],
        studies_included=studies,
        reports_included=len(included),
        overrides=overrides,
    )


def _overridable(review: Review) -> dict[str, str]:
    labels = prisma.box_labels("prisma-scr" if review.is_scoping else "prisma2020")
    return {key: labels.get(key, key) for key in prisma.SCALAR_BOXES}


@study_view("area:evidence")
@require_http_methods(["GET", "POST"])
def prisma_page(request: HttpRequest, access: Access, review: str) -> HttpResponse:
    found = review_of(access, review)
    if request.method == "POST":
        box = request.POST.get("box", "")
        boxes = _overridable(found)
        if box not in boxes:
            raise Http404
        value, note = request.POST.get("value", "").strip(), request.POST.get("note", "").strip()
        if not value:
            PrismaOverride.objects.filter(review=found, box=box).delete()
            messages.success(request, f"{boxes[box]}: computed again.")
        elif not value.isdigit() or not note:
            messages.error(request, "An override needs a whole number and a note saying why.")
        else:
            PrismaOverride.objects.update_or_create(
                review=found,
                box=box,
                defaults={"value": int(value), "note": note, "set_by": _user(request)},
            )
            messages.success(request, f"{boxes[box]} set by hand.")
        return redirect("evidence_prisma", access.study.slug, found.slug)
    counts = prisma_counts(found)
    variant: prisma.Variant = "prisma-scr" if found.is_scoping else "prisma2020"
    return render(
        request,
        "evidence/prisma.html",
        {
            "review": found,
            "svg": prisma.flow_svg(counts, variant=variant, title=found.title),
            "problems": prisma.check(counts, variant=variant),
            "boxes": _overridable(found),
            "overrides": found.prisma_overrides.all(),
        },
    )


@study_view("area:evidence")
def prisma_file(request: HttpRequest, access: Access, review: str, fmt: str) -> HttpResponse:
    found = review_of(access, review)
    counts = prisma_counts(found)
    variant: prisma.Variant = "prisma-scr" if found.is_scoping else "prisma2020"
    if fmt == "csv":
        body = prisma.counts_csv(counts, variant=variant)
        response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    elif fmt in FIGURE_TYPES:
        svg = prisma.flow_svg(counts, variant=variant, title=found.title)
        response = HttpResponse(svg_to(svg, fmt), content_type=FIGURE_TYPES[fmt])
    else:
        raise Http404
    response["Content-Disposition"] = f'attachment; filename="{found.slug}-prisma.{fmt}"'
    return response


# ---- records and exports ------------------------------------------------------------------


@study_view("area:evidence")
def records(request: HttpRequest, access: Access, review: str) -> HttpResponse:
    found = review_of(access, review)
    first = services.states_for(found, "title-abstract")
    second = services.states_for(found, "full-text")
    wanted = request.GET.get("state", "")
    page = (
        max(1, int(request.GET.get("page", "1") or 1))
        if request.GET.get("page", "1").isdigit()
        else 1
    )
    rows = []
    queryset = services.screenable(found).order_by("number").only("pk", "number", "title", "year")
    for record in queryset:
        state = second.get(record.pk) or first.get(record.pk, "")
        stage = "full text" if record.pk in second else "title and abstract"
        if wanted and state != wanted:
            continue
        rows.append((record, state, stage))
    size = 100
    return render(
        request,
        "evidence/records.html",
        {
            "review": found,
            "rows": rows[(page - 1) * size : page * size],
            "count": len(rows),
            "page": page,
            "pages": max(1, -(-len(rows) // size)),
            "wanted": wanted,
            "states": [
                screening_state.UNSCREENED,
                screening_state.AWAITING,
                screening_state.INCLUDED,
                screening_state.EXCLUDED,
                screening_state.CONFLICT,
            ],
        },
    )


@study_view("area:evidence")
def export_records(
    request: HttpRequest, access: Access, review: str, which: str, fmt: str
) -> HttpResponse:
    found = review_of(access, review)
    if which not in ("included", "excluded", "all") or fmt not in ("ris", "csv", "bib"):
        raise Http404
    first = services.states_for(found, "title-abstract")
    second = services.states_for(found, "full-text")
    chosen = []
    for record in services.screenable(found).order_by("number"):
        state = second.get(record.pk) or first.get(record.pk)
        if which == "all" or state == which:
            chosen.append((record, state or ""))
    handle = io.StringIO()
    if fmt == "ris":
        write_ris([services.reference_fields(r) for r, _ in chosen], handle)
        kind = "application/x-research-info-systems"
    elif fmt == "bib":
        write_bibtex([services.reference_fields(r) for r, _ in chosen], handle)
        kind = "application/x-bibtex"
    else:
        write_csv(
            [{**services.reference_fields(r), "record": r.number, "state": s} for r, s in chosen],
            handle,
            extra_columns=("record", "state"),
        )
        kind = "text/csv"
    response = HttpResponse(handle.getvalue(), content_type=f"{kind}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{found.slug}-{which}.{fmt}"'
    return response


@study_view("area:evidence")
def decision_log(request: HttpRequest, access: Access, review: str) -> HttpResponse:
    from steppingstones.core.exports import write_csv as safe_csv

    found = review_of(access, review)
    rows = (
        ScreeningDecision.objects.filter(record__review=found)
        .select_related("record", "reviewer")
        .order_by("decided_at", "pk")
    )
    handle = io.StringIO()
    safe_csv(
        handle,
        [
            "when",
            "reviewer",
            "record",
            "title",
            "stage",
            "decision",
            "reason",
            "note",
            "resolution",
        ],
        (
            [
                row.decided_at.isoformat(),
                row.reviewer.get_username(),
                row.record.number,
                row.record.title,
                row.stage,
                row.decision,
                row.reason,
                row.note,
                "yes" if row.is_resolution else "no",
            ]
            for row in rows
        ),
    )
    response = HttpResponse(handle.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{found.slug}-decisions.csv"'
    return response


def _user(request: HttpRequest) -> Any:
    return request.user
