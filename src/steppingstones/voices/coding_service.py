"""Codebook, coding and memo services over the database.

Every change to the codebook writes a :class:`~steppingstones.voices.models.CodeChange` (the
change log); merges, splits and imports run in one transaction. The rules of what may be coded
and what a user may see live here, so every page applies the same ones:

* only sources with status "ready" (de-identification finished) are codable, and only they are
  shown to anyone without the "voices:raw" capability (peer researchers);
* site-limited members see only their sites' sources;
* the blind rule: while a source is in an agreement round that is still "coding", a coder of
  that round sees and changes only their own codings on that source (:func:`visible_codings`).

Positions in a text are Unicode code points into ``Source.text``, end exclusive.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Count, Max, Q, QuerySet
from django.http import Http404

from steppingstones.core.models import Study
from steppingstones.core.policy import Access
from steppingstones.voices import access as access_policy
from steppingstones.voices import codebook
from steppingstones.voices.codebook import CodebookError, CodebookImportError, CodeRecord
from steppingstones.voices.models import (
    AgreementRound,
    Code,
    CodebookVersion,
    CodeChange,
    Coding,
    FrameworkTheme,
    Memo,
    Source,
    SourceSet,
)

User = Any  # the signed-in user (django.contrib.auth), or an anonymous one
MAX_CODINGS_PER_REQUEST = 500


class CodingError(ValueError):
    """A coding that cannot be saved: the message says what is wrong."""


# ------------------------------------------------------------------------------ visibility


def visible_sources(access: Access) -> QuerySet[Source]:
    """The sources this member may open: their sites only, and only ready ones unless they may
    see text still under de-identification review."""
    return access_policy.visible_sources(access)


def source_for(access: Access, source_id: int) -> Source:
    source = visible_sources(access).filter(pk=source_id).select_related("site").first()
    if source is None:
        raise Http404
    return source


def codable_source(access: Access, source_id: int) -> Source:
    """A ready source this member may code (404 otherwise)."""
    source = source_for(access, source_id)
    if source.status != Source.Status.READY:
        raise Http404
    return source


def code_for(access: Access, code_id: int) -> Code:
    code = Code.objects.filter(study=access.study, pk=code_id).first()
    if code is None:
        raise Http404
    return code


def blind_source_ids(user: User, source_ids: Iterable[int] | None = None) -> set[int]:
    """Sources on which ``user`` is coding blind: in a round still "coding" they code in."""
    if not getattr(user, "is_authenticated", False):
        return set()
    rounds = AgreementRound.objects.filter(status=AgreementRound.Status.CODING, coders=user)
    ids = Source.objects.filter(agreement_rounds__in=rounds)
    if source_ids is not None:
        ids = ids.filter(pk__in=list(source_ids))
    return set(ids.values_list("pk", flat=True))


def is_blind(source: Source, user: User) -> bool:
    return source.pk in blind_source_ids(user, [source.pk])


def visible_codings(source: Source, user: User) -> QuerySet[Coding]:
    """The codings of ``source`` that ``user`` may see: all of them, or only their own while
    they code the source blind in an agreement round."""
    codings = Coding.objects.filter(source=source)
    if is_blind(source, user):
        codings = codings.filter(coder=user)
    return codings


def visible_codings_in(sources: QuerySet[Source], user: User) -> QuerySet[Coding]:
    """The same rule over many sources at once."""
    codings = Coding.objects.filter(source__in=sources)
    blind = blind_source_ids(user)
    if blind:
        codings = codings.exclude(Q(source_id__in=blind) & ~Q(coder=user))
    return codings


# ------------------------------------------------------------------------------ codebook


def _record(code: Code) -> CodeRecord:
    parent: Code | None = code.parent
    return CodeRecord(
        guid=code.guid,
        name=code.name,
        parent=parent.guid if parent is not None else None,
        description=code.description,
        inclusion=code.inclusion,
        exclusion=code.exclusion,
        example=code.example,
        colour=code.colour,
        is_codable=code.is_codable,
        position=code.position,
    )


def code_records(study: Study) -> list[CodeRecord]:
    return [_record(code) for code in Code.objects.filter(study=study).select_related("parent")]


@dataclass(frozen=True)
class CodeRow:
    """One line of the codebook page."""

    code: Code
    depth: int
    path: str
    codings: int
    sources: int
    has_children: bool


def codebook_rows(access: Access, user: User) -> list[CodeRow]:
    """The codebook in tree order, with the codings and sources this member can see per code."""
    codes = {c.guid: c for c in Code.objects.filter(study=access.study).select_related("parent")}
    records = [_record(c) for c in codes.values()]
    counts = (
        visible_codings_in(visible_sources(access).filter(status=Source.Status.READY), user)
        .values("code_id")
        .annotate(n=Count("pk"), s=Count("source_id", distinct=True))
    )
    by_code = {row["code_id"]: (row["n"], row["s"]) for row in counts}
    code_paths = codebook.paths(records)
    return [
        CodeRow(
            code=codes[node.code.guid],
            depth=node.depth,
            path=code_paths[node.code.guid],
            codings=by_code.get(codes[node.code.guid].pk, (0, 0))[0],
            sources=by_code.get(codes[node.code.guid].pk, (0, 0))[1],
            has_children=bool(node.children),
        )
        for node in codebook.walk(codebook.build_tree(records))
    ]


def codebook_rows_plain(study: Study) -> list[tuple[int, str]]:
    """(id, path) of every code in tree order: for choosing a code in a form."""
    codes = {c.guid: c for c in Code.objects.filter(study=study).select_related("parent")}
    records = [_record(c) for c in codes.values()]
    code_paths = codebook.paths(records)
    return [
        (codes[node.code.guid].pk, code_paths[node.code.guid])
        for node in codebook.walk(codebook.build_tree(records))
    ]


def _log(study: Study, user: User, action: str, name: str, **detail: Any) -> CodeChange:
    return CodeChange.objects.create(
        study=study,
        action=action,
        code_name=name,
        detail=detail,
        by=user if getattr(user, "is_authenticated", False) else None,
    )


def _check_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for name in codebook.EDITABLE_FIELDS:
        if name not in fields:
            continue
        value = fields[name]
        if name == "is_codable":
            clean[name] = bool(value)
            continue
        value = str(value or "").strip()
        if name == "name":
            if not value:
                raise CodebookError("a code needs a name")
            if len(value) > codebook.MAX_NAME:
                raise CodebookError(f"a code's name has at most {codebook.MAX_NAME} characters")
        if name == "colour":
            if not codebook.COLOUR_RE.match(value):
                raise CodebookError(f"“{value}” is not a colour like #1f77b4")
            value = codebook._six_digit(value)
        clean[name] = value
    return clean


def _next_position(study: Study, parent: Code | None) -> int:
    top = Code.objects.filter(study=study, parent=parent).aggregate(top=Max("position"))["top"]
    return 0 if top is None else top + 1


def create_code(
    study: Study, user: User, fields: Mapping[str, Any], parent: Code | None = None
) -> Code:
    clean = _check_fields(fields)
    if "name" not in clean:
        raise CodebookError("a code needs a name")
    if parent is not None and parent.study_id != study.pk:
        raise CodebookError("the parent code is not in this study")
    with transaction.atomic():
        code = Code.objects.create(
            study=study,
            parent=parent,
            position=_next_position(study, parent),
            created_by=user if getattr(user, "is_authenticated", False) else None,
            **clean,
        )
        _log(
            study, user, "create", code.name, guid=code.guid, parent=parent.name if parent else None
        )
    return code


def edit_code(code: Code, user: User, fields: Mapping[str, Any]) -> list[str]:
    """Change a code's fields; returns the names of the fields that changed."""
    clean = _check_fields(fields)
    changed = {
        name: [getattr(code, name), value]
        for name, value in clean.items()
        if getattr(code, name) != value
    }
    if not changed:
        return []
    with transaction.atomic():
        old_name = code.name
        for name, (_, value) in changed.items():
            setattr(code, name, value)
        code.save(update_fields=list(changed))
        _log(code.study, user, "edit", old_name, guid=code.guid, changed=changed)
    return list(changed)


def move_code(code: Code, user: User, new_parent: Code | None) -> None:
    """Put ``code`` (with its sub-codes and codings) under ``new_parent`` or at the top."""
    if new_parent is not None and new_parent.study_id != code.study_id:
        raise CodebookError("the new parent is not in this study")
    records = code_records(code.study)
    codebook.check_move(records, code.guid, new_parent.guid if new_parent else None)
    if code.parent_id == (new_parent.pk if new_parent else None):
        return
    with transaction.atomic():
        before = code.parent.name if code.parent else None
        code.parent = new_parent
        code.position = _next_position(code.study, new_parent)
        code.save(update_fields=["parent", "position"])
        _log(
            code.study,
            user,
            "move",
            code.name,
            guid=code.guid,
            **{"from": before, "to": new_parent.name if new_parent else None},
        )


def _coding_record(coding: Coding, guids: Mapping[int, str]) -> codebook.CodingRecord:
    region = (
        tuple(sorted((str(k), float(v)) for k, v in coding.region.items()))
        if isinstance(coding.region, dict)
        else None
    )
    return codebook.CodingRecord(
        id=coding.pk,
        code=guids[coding.code_id],
        source=coding.source_id,
        coder=coding.coder_name,
        start=coding.start,
        end=coding.end,
        region=region,
        time_start=coding.time_start,
        time_end=coding.time_end,
    )


def merge_codes(target: Code, merged: Sequence[Code], user: User) -> codebook.MergePlan:
    """Merge codes into ``target``: codings move (duplicates collapse), sub-codes and memos move,
    the target joins the sets, rounds and framework themes the merged codes were in, and the
    merged codes are deleted."""
    study = target.study
    if any(code.study_id != study.pk for code in merged):
        raise CodebookError("every code to merge must be in this study")
    guids = dict(Code.objects.filter(study=study).values_list("pk", "guid"))
    involved = [target.pk, *(code.pk for code in merged)]
    with transaction.atomic():
        codings = [_coding_record(c, guids) for c in Coding.objects.filter(code_id__in=involved)]
        plan = codebook.plan_merge(
            code_records(study), codings, [c.guid for c in merged], target.guid
        )
        merged_ids = [code.pk for code in merged]
        Coding.objects.filter(pk__in=plan.delete).delete()
        Coding.objects.filter(pk__in=plan.reassign).update(code=target)
        for child in Code.objects.filter(study=study, guid__in=plan.reparent):
            child.parent = target
            child.position = _next_position(study, target)
            child.save(update_fields=["parent", "position"])
        Memo.objects.filter(code_id__in=merged_ids).update(code=target)
        for item in SourceSet.objects.filter(codes__in=merged_ids).distinct():
            item.codes.add(target)
        for agreement in AgreementRound.objects.filter(codes__in=merged_ids).distinct():
            agreement.codes.add(target)
        for theme in FrameworkTheme.objects.filter(codes__in=merged_ids).distinct():
            theme.codes.add(target)
        names = [code.name for code in merged]
        Code.objects.filter(pk__in=merged_ids).delete()
        _log(
            study,
            user,
            "merge",
            target.name,
            guid=target.guid,
            merged=names,
            moved_codings=len(plan.reassign),
            collapsed_codings=len(plan.delete),
        )
    return plan


def split_code(
    code: Code,
    user: User,
    names: Sequence[str],
    assignment: Mapping[int, int],
    under_original: bool = True,
) -> list[Code]:
    """Split ``code``: create one new code per name (under the original, or beside it) and move
    each coding in ``assignment`` (coding id → index into ``names``) to its new code."""
    clean_names = [name.strip() for name in names if name.strip()]
    if len(clean_names) != len([n for n in names if n.strip()]) or not clean_names:
        raise CodebookError("give a name for each new code")
    guids = dict(Code.objects.filter(study=code.study).values_list("pk", "guid"))
    codings = [_coding_record(c, guids) for c in Coding.objects.filter(code=code)]
    plan = codebook.plan_split(codings, code.guid, assignment, len(clean_names))
    parent = code if under_original else code.parent
    with transaction.atomic():
        created = []
        for name in clean_names:
            new = Code.objects.create(
                study=code.study,
                parent=parent,
                name=name[: codebook.MAX_NAME],
                colour=code.colour,
                position=_next_position(code.study, parent),
                created_by=user if getattr(user, "is_authenticated", False) else None,
            )
            created.append(new)
        for index, new in enumerate(created):
            ids = [coding_id for coding_id, i in plan.items() if i == index]
            Coding.objects.filter(pk__in=ids).update(code=new)
        _log(
            code.study,
            user,
            "split",
            code.name,
            guid=code.guid,
            into=clean_names,
            moved_codings={
                name: sum(1 for i in plan.values() if i == index)
                for index, name in enumerate(clean_names)
            },
        )
    return created


def delete_code(code: Code, user: User) -> int:
    """Delete a code and its codings; its sub-codes move up to its parent. Returns the number of
    codings deleted."""
    with transaction.atomic():
        count = Coding.objects.filter(code=code).count()
        children = list(code.children.all())
        for child in children:
            child.parent = code.parent
            child.position = _next_position(code.study, code.parent)
            child.save(update_fields=["parent", "position"])
        _log(
            code.study,
            user,
            "delete",
            code.name,
            guid=code.guid,
            deleted_codings=count,
            children_moved_up=[c.name for c in children],
        )
        code.delete()
    return count


def mark_version(study: Study, user: User, label: str = "") -> CodebookVersion:
    with transaction.atomic():
        top = (
            CodebookVersion.objects.select_for_update()
            .filter(study=study)
            .aggregate(top=Max("number"))["top"]
        )
        version = CodebookVersion.objects.create(
            study=study,
            number=(top or 0) + 1,
            label=label.strip()[:200],
            snapshot=codebook.snapshot(code_records(study)),
            created_by=user if getattr(user, "is_authenticated", False) else None,
        )
        _log(study, user, "version", f"v{version.number}", label=version.label)
    return version


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int


def import_codebook(study: Study, user: User, filename: str, data: bytes) -> ImportResult:
    """Read a ``.qdc``, ``.csv`` or ``.xlsx`` codebook and add it to the study's codebook, all or
    nothing: codes whose GUID the codebook has are updated (and moved), the others created."""
    existing = {c.guid: c for c in Code.objects.filter(study=study)}
    records = codebook.read_codebook(filename, data, existing)
    merged = {guid: _record(code) for guid, code in existing.items()}
    for record in records:
        merged[record.guid] = record
    # The result must still be a tree: no code under its own descendant.
    for record in records:
        if record.parent and record.guid in _ancestors(merged, record.parent):
            raise CodebookImportError(
                [f"code “{record.name}”: its parent would be one of its own sub-codes"]
            )
    created = updated = 0
    with transaction.atomic():
        saved: dict[str, Code] = dict(existing)
        for record in records:  # parents come first in every format we read
            fields = {
                "name": record.name,
                "description": record.description,
                "inclusion": record.inclusion,
                "exclusion": record.exclusion,
                "example": record.example,
                "colour": record.colour,
                "is_codable": record.is_codable,
            }
            parent = saved.get(record.parent) if record.parent else None
            if record.guid in existing:
                code = existing[record.guid]
                for name, value in fields.items():
                    setattr(code, name, value)
                code.parent = parent
                code.save()
                updated += 1
            else:
                code = Code.objects.create(
                    study=study,
                    guid=record.guid,
                    parent=parent,
                    position=record.position,
                    created_by=user if getattr(user, "is_authenticated", False) else None,
                    **fields,
                )
                created += 1
            saved[record.guid] = code
        _log(study, user, "import", filename[:200], created=created, updated=updated)
    return ImportResult(created, updated)


def _ancestors(records: Mapping[str, CodeRecord], guid: str) -> set[str]:
    found: set[str] = set()
    current: str | None = guid
    while current and current not in found:
        found.add(current)
        record = records.get(current)
        current = record.parent if record else None
    return found


# --------------------------------------------------------------------------------- codings


@dataclass(frozen=True)
class Selection:
    """Where a coding goes: a text range, an image region or a media time range."""

    start: int | None = None
    end: int | None = None
    region: dict[str, int] | None = None
    time_start: float | None = None
    time_end: float | None = None


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool):
        raise CodingError(f"{what} must be a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise CodingError(f"{what} must be a number") from None
    if not math.isfinite(number):
        raise CodingError(f"{what} must be a finite number")
    return number


def _integer(value: Any, what: str) -> int:
    number = _number(value, what)
    if number != int(number):
        raise CodingError(f"{what} must be a whole number")
    return int(number)


def check_selection(source: Source, data: Mapping[str, Any]) -> Selection:
    """Validate a selection against the source: code-point offsets inside the text, a region
    inside the image, a time range inside the recording."""
    if source.media == Source.Media.TEXT:
        if data.get("start") in (None, "") or data.get("end") in (None, ""):
            raise CodingError("a text coding needs a start and an end position")
        start, end = _integer(data["start"], "start"), _integer(data["end"], "end")
        length = len(source.text)
        if start < 0 or end > length:
            raise CodingError(f"positions must lie between 0 and {length} (the text's length)")
        if start >= end:
            raise CodingError("the end must come after the start (select at least one character)")
        if not source.text[start:end].strip():
            raise CodingError("the selection holds only spaces")
        return Selection(start=start, end=end)
    if source.media == Source.Media.IMAGE:
        region = data.get("region") if isinstance(data.get("region"), Mapping) else data
        assert isinstance(region, Mapping)
        values = {}
        for name in ("x", "y", "width", "height"):
            if region.get(name) in (None, ""):
                raise CodingError("an image coding needs x, y, width and height")
            values[name] = _integer(region[name], name)
        if values["x"] < 0 or values["y"] < 0:
            raise CodingError("x and y must not be negative")
        if values["width"] < 1 or values["height"] < 1:
            raise CodingError("width and height must be at least 1 pixel")
        if source.width and values["x"] + values["width"] > source.width:
            raise CodingError(f"the region goes past the image's width ({source.width} pixels)")
        if source.height and values["y"] + values["height"] > source.height:
            raise CodingError(f"the region goes past the image's height ({source.height} pixels)")
        return Selection(region=values)
    if data.get("time_start") in (None, "") or data.get("time_end") in (None, ""):
        raise CodingError("a media coding needs a start and an end time")
    begin = _number(data["time_start"], "start time")
    finish = _number(data["time_end"], "end time")
    if begin < 0:
        raise CodingError("the start time must not be negative")
    if finish <= begin:
        raise CodingError("the end time must come after the start time")
    if source.duration_seconds is not None and finish > source.duration_seconds + 1e-6:
        raise CodingError(
            f"the end time is past the recording's end ({source.duration_seconds:.1f} s)"
        )
    return Selection(time_start=round(begin, 3), time_end=round(finish, 3))


def add_codings(
    source: Source, codes: Sequence[Code], user: Any, selection: Selection
) -> list[Coding]:
    """Apply each code to the selection as ``user``; applying a code a second time to the same
    place by the same coder returns the existing coding."""
    if source.status != Source.Status.READY:
        raise CodingError("this source is still awaiting de-identification review")
    if not codes:
        raise CodingError("choose a code to apply")
    for code in codes:
        if code.study_id != source.study_id:
            raise CodingError("that code is not in this study's codebook")
        if not code.is_codable:
            raise CodingError(f"“{code.name}” is a grouping code and cannot be applied")
    place = {
        "start": selection.start,
        "end": selection.end,
        "time_start": selection.time_start,
        "time_end": selection.time_end,
    }
    result = []
    with transaction.atomic():
        for code in codes:
            existing = [
                c
                for c in Coding.objects.filter(source=source, code=code, coder=user, **place)
                if c.region == selection.region
            ]
            if existing:
                result.append(existing[0])
                continue
            result.append(
                Coding.objects.create(
                    source=source,
                    code=code,
                    coder=user,
                    coder_name=user.get_username(),
                    region=selection.region,
                    **place,
                )
            )
    return result


def coding_for(access: Access, user: User, coding_id: int) -> Coding:
    """A coding this member may see (its source visible and ready, and the blind rule)."""
    coding = (
        Coding.objects.filter(pk=coding_id, source__study=access.study)
        .select_related("source", "code")
        .first()
    )
    if coding is None:
        raise Http404
    if not visible_sources(access).filter(pk=coding.source_id).exists():
        raise Http404
    if not visible_codings(coding.source, user).filter(pk=coding.pk).exists():
        raise Http404
    return coding


def remove_coding(coding: Coding) -> None:
    coding.delete()


def coding_payload(coding: Coding) -> dict[str, Any]:
    """The compact form the coding page paints from."""
    return {
        "id": coding.pk,
        "code": coding.code_id,
        "start": coding.start,
        "end": coding.end,
        "region": coding.region,
        "time_start": coding.time_start,
        "time_end": coding.time_end,
        "coder": coding.coder_name,
    }


def excerpt(source: Source, coding: Coding, limit: int = 240) -> str:
    """What a coding covers, in words: the text (shortened) or the region or time range."""
    if coding.start is not None and coding.end is not None:
        text = source.text[coding.start : coding.end]
        return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
    if coding.region:
        r = coding.region
        return f"Region {r.get('width')}×{r.get('height')} px at ({r.get('x')}, {r.get('y')})"
    if coding.time_start is not None and coding.time_end is not None:
        return f"{format_time(coding.time_start)} to {format_time(coding.time_end)}"
    return ""


def format_time(seconds: float) -> str:
    tenths = round(seconds * 10)
    whole, tenth = divmod(tenths, 10)
    return f"{whole // 3600:d}:{whole % 3600 // 60:02d}:{whole % 60:02d}.{tenth}"


# ----------------------------------------------------------------------------------- memos


def visible_memos(access: Access, user: User) -> QuerySet[Memo]:
    """Memos on the study's codes, and on sources and codings this member may see."""
    sources = visible_sources(access)
    codings = visible_codings_in(sources, user)
    return (
        Memo.objects.filter(study=access.study)
        .filter(
            Q(source__isnull=True) | Q(source__in=sources),
        )
        .filter(Q(coding__isnull=True) | Q(coding__in=codings))
        .select_related("source", "code", "coding__code")
    )


def save_memo(
    study: Study,
    user: Any,
    text: str,
    title: str = "",
    *,
    memo: Memo | None = None,
    source: Source | None = None,
    code: Code | None = None,
    coding: Coding | None = None,
) -> Memo:
    if not text.strip():
        raise CodingError("a memo needs some text")
    if memo is None:
        targets = [t for t in (source, code, coding) if t is not None]
        if len(targets) > 1:
            raise CodingError("a memo is about one source, one code, one coding or the project")
        memo = Memo(
            study=study,
            source=source,
            code=code,
            coding=coding,
            author=user,
            author_name=user.get_username(),
        )
    memo.title = title.strip()[:200]
    memo.text = text.strip()
    memo.save()
    return memo


def may_edit_memo(memo: Memo, user: Any, access: Access) -> bool:
    """Authors edit their own memos; a study manager may tidy anyone's."""
    return access.can("write") and (
        memo.author_id == getattr(user, "pk", None) or access.can("members:manage")
    )


# ----------------------------------------------------------------------- search and code


@dataclass(frozen=True)
class Hit:
    source_id: int
    source_name: str
    start: int
    end: int
    before: str
    text: str
    after: str

    @property
    def key(self) -> str:
        return f"{self.source_id}:{self.start}:{self.end}"


def search_and_hits(
    access: Access, query: str, extend: str = "hit", limit: int = 500
) -> tuple[list[Hit], int]:
    """Find a word, phrase or proximity query in the ready sources this member can see.

    ``extend`` widens each hit to its "sentence" or "paragraph" (what a researcher usually wants
    to code) or keeps the matched words ("hit"). Returns at most ``limit`` hits and the total.
    """
    from steppingstones.voices.retrieval import search

    sources = {
        str(pk): (name, text)
        for pk, name, text in visible_sources(access)
        .filter(status=Source.Status.READY, media=Source.Media.TEXT)
        .values_list("pk", "name", "text")
    }
    found = search({pk: text for pk, (_, text) in sources.items()}, query)
    hits: list[Hit] = []
    seen: set[tuple[str, int, int]] = set()
    for hit in found:
        name, text = sources[hit.document_id]
        start, end = widen(text, hit.start, hit.end, extend)
        if (hit.document_id, start, end) in seen:
            continue
        seen.add((hit.document_id, start, end))
        hits.append(
            Hit(
                source_id=int(hit.document_id),
                source_name=name,
                start=start,
                end=end,
                before=text[max(0, start - 80) : start],
                text=text[start:end],
                after=text[end : end + 80],
            )
        )
    return hits[:limit], len(hits)


def widen(text: str, start: int, end: int, extend: str) -> tuple[int, int]:
    if extend == "paragraph":
        left = text.rfind("\n", 0, start) + 1
        right = text.find("\n", end)
        return left, len(text) if right == -1 else right
    if extend == "sentence":
        left = start
        while left > 0 and text[left - 1] not in ".!?\n":
            left -= 1
        while left < start and text[left].isspace():
            left += 1
        right = end
        while right < len(text) and text[right - 1] not in ".!?" and text[right] != "\n":
            right += 1
        return left, right
    return start, end


def apply_to_hits(
    access: Access, user: Any, code: Code, keys: Iterable[str]
) -> tuple[int, list[str]]:
    """Apply ``code`` to each chosen hit (``source:start:end``), all or none."""
    parsed: list[tuple[int, int, int]] = []
    errors = []
    for key in keys:
        try:
            source_id, start, end = (int(part) for part in key.split(":"))
        except ValueError:
            errors.append(f"“{key}” is not a search result")
            continue
        parsed.append((source_id, start, end))
    if len(parsed) > MAX_CODINGS_PER_REQUEST:
        errors.append(f"apply a code to at most {MAX_CODINGS_PER_REQUEST} passages at once")
    if errors:
        return 0, errors
    sources = {
        s.pk: s
        for s in visible_sources(access).filter(
            pk__in={p[0] for p in parsed}, status=Source.Status.READY
        )
    }
    count = 0
    with transaction.atomic():
        for source_id, start, end in parsed:
            source = sources.get(source_id)
            if source is None:
                errors.append(f"source {source_id} is not one you can code")
                continue
            try:
                selection = check_selection(source, {"start": start, "end": end})
                add_codings(source, [code], user, selection)
            except CodingError as error:
                errors.append(f"{source.name} {start}–{end}: {error}")
                continue
            count += 1
        if errors:
            transaction.set_rollback(True)
            return 0, errors
    return count, []
