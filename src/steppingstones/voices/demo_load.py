"""Storing the demo study's Voices part (see demo_content.py): transcripts, codebook, codings by
two coders, memos, cases, sets, an agreement round and a filled framework matrix.

Runs after the cohort part (parts run in name order) and does nothing when the demo study
already has voices sources.
"""

from __future__ import annotations

import base64
import json
import random
import uuid
from collections import defaultdict
from typing import Any

from django.contrib.auth import get_user_model

from steppingstones.cohort.models import FocusGroup, Interview, Woman
from steppingstones.core import identity_store
from steppingstones.core.demo import DemoStudy
from steppingstones.core.demo_load import demo_part
from steppingstones.core.identity import seal
from steppingstones.core.models import Study
from steppingstones.core.progress import Progress
from steppingstones.voices import demo_content as content
from steppingstones.voices.deidentify import LabelMap, detect
from steppingstones.voices.documents import find_label_turns
from steppingstones.voices.models import (
    AgreementRound,
    Case,
    Code,
    Coding,
    Framework,
    FrameworkCell,
    FrameworkTheme,
    LabelSet,
    Memo,
    Redaction,
    Source,
    SourceSet,
)

WOMEN_PER_SITE = 3
PRIMARY_CODER = "demo-researcher"
SECOND_CODER = "demo-peer-researcher"
REVIEW_INTERVIEWS = (("EL-W05", 1), ("AA-W08", 4))
PATH_LABELS = {
    "kept": "Baby stayed with her",
    "placement": "Mother-and-baby placement",
    "separated": "Separated from her baby",
}
SEPARATED = {"foster", "kinship", "adoption"}
TOGETHER_IN_PLACEMENT = {"mother-and-baby", "residential"}


def raw_binding(study_id: int, source: Source) -> str:
    return f"study:{study_id}/voices-source:{source.guid}"


def seal_raw(source: Source, raw: str, filename: str, key: bytes) -> str:
    values = {
        "text": raw,
        "original": base64.b64encode(raw.encode("utf-8")).decode("ascii"),
        "filename": filename,
    }
    return seal(values, key, raw_binding(source.study_id, source))


def turns_of(
    text: str, participant: str | None, speaker_map: dict[str, str]
) -> list[dict[str, Any]]:
    """Speaker turns as stored on a source: label, role, participant and offsets."""
    out = []
    for turn in find_label_turns(text):
        if turn.speaker in (content.INTERVIEWER, content.FACILITATOR):
            role, who = turn.speaker.lower(), None
        elif turn.speaker in speaker_map:
            role, who = "staff", speaker_map[turn.speaker]
        else:
            role, who = "participant", participant
        out.append(
            {
                "speaker": turn.speaker,
                "role": role,
                "participant": who,
                "start_char": turn.start_char,
                "end_char": turn.end_char,
                "start_seconds": turn.start_seconds,
                "end_seconds": turn.end_seconds,
            }
        )
    return out


def path_of(woman: Woman) -> str:
    statuses = {
        period.status
        for infant in woman.pregnancy.infants.all()
        for period in infant.care_periods.all()
    }
    if statuses & SEPARATED:
        return "separated"
    if statuses & TOGETHER_IN_PLACEMENT:
        return "placement"
    return "kept"


def choose_women(study: Study) -> list[tuple[Woman, str, list[Interview]]]:
    """Per site, a few women who completed the study with three or more interviews: one
    separated from her baby and one in a placement where the site has them, then the first
    others by pseudonym."""
    women = (
        Woman.objects.filter(participant__study=study, status=Woman.Status.COMPLETED)
        .select_related("participant__site", "pregnancy")
        .prefetch_related("pregnancy__infants__care_periods")
        .order_by("participant__pseudonym")
    )
    by_site: dict[str, list[tuple[Woman, str, list[Interview]]]] = defaultdict(list)
    for woman in women:
        done = list(
            woman.interviews.filter(status=Interview.Status.DONE)
            .select_related("wave")
            .order_by("wave__number")
        )
        if len(done) >= 3:
            by_site[woman.participant.site.code].append((woman, path_of(woman), done))
    chosen: list[tuple[Woman, str, list[Interview]]] = []
    for code in sorted(by_site):
        candidates = by_site[code]
        picked: list[tuple[Woman, str, list[Interview]]] = []
        for wanted in ("separated", "placement"):
            first = next((c for c in candidates if c[1] == wanted), None)
            if first is not None:
                picked.append(first)
        for candidate in candidates:
            if len(picked) >= WOMEN_PER_SITE:
                break
            if candidate not in picked:
                picked.append(candidate)
        chosen.extend(sorted(picked[:WOMEN_PER_SITE], key=lambda c: c[0].participant.pseudonym))
    return chosen


def _guid() -> str:
    return str(uuid.uuid4()).upper()


@demo_part("voices")
def load_voices(study: Study, plan: DemoStudy, progress: Progress) -> None:
    if Source.objects.filter(study=study).exists():
        return
    users = get_user_model().objects
    primary = users.get(username=PRIMARY_CODER)
    second = users.get(username=SECOND_CODER)
    key = identity_store.load_key()
    codes = _store_codebook(study, primary)
    chosen = choose_women(study)
    progress.start(len(chosen) + 3, "Demo transcripts")
    sources: list[tuple[Source, str, Woman | None, content.Transcript]] = []
    for woman, path, interviews in chosen:
        site = woman.participant.site
        scottish = site.nation == "scotland"
        for item in interviews:
            pseudonym = woman.participant.pseudonym
            transcript = content.interview(
                pseudonym, item.wave.number, item.wave.name, path, scottish=scottish
            )
            filename = f"{pseudonym}-wave{item.wave.number}.txt"
            source = Source.objects.create(
                study=study,
                site=site,
                name=f"{pseudonym} wave {item.wave.number} interview",
                kind=Source.Kind.INTERVIEW,
                participant=woman.participant,
                interview=item,
                wave=item.wave,
                status=Source.Status.READY,
                format="txt",
                original_name=filename,
                encoding="utf-8",
                text=transcript.text,
                turns=turns_of(transcript.text, pseudonym, {}),
                description=(
                    f"{content.SYNTHETIC_DESCRIPTION} Wave {item.wave.number} interview "
                    f"({item.wave.name.lower()}) with {pseudonym}."
                ),
                created_by=primary,
            )
            source.raw_sealed = seal_raw(source, transcript.text, filename, key)
            source.save(update_fields=["raw_sealed"])
            sources.append((source, path, woman, transcript))
        progress.advance()
    group_source = _store_focus_group(study, primary, key)
    if group_source is not None:
        sources.append(group_source)
    progress.advance()
    _store_review_sources(study, primary, key)
    progress.advance()
    selections = _store_codings(codes, sources, primary, second)
    _store_agreement_round(study, codes, sources, primary, second)
    _store_memos(study, codes, sources, selections, primary)
    _store_cases_and_sets(study, codes, sources)
    _store_framework(study, codes, sources)
    progress.advance()
    progress.finish()


def _store_codebook(study: Study, user: Any) -> dict[str, Code]:
    codes: dict[str, Code] = {}
    for position, (demo, parent) in enumerate(content.walk_codes()):
        codes[demo.key] = Code.objects.create(
            study=study,
            parent=codes[parent.key] if parent else None,
            name=demo.name,
            description=demo.description,
            inclusion=demo.inclusion,
            exclusion=demo.exclusion,
            example=demo.example,
            colour=demo.colour,
            is_codable=demo.is_codable,
            position=position,
            created_by=user,
        )
    return codes


def _store_focus_group(
    study: Study, user: Any, key: bytes
) -> tuple[Source, str, Woman | None, content.Transcript] | None:
    group = (
        FocusGroup.objects.filter(study=study, site__code="EL", topic__icontains="birth")
        .select_related("site")
        .order_by("held_on")
        .first()
    )
    if group is None:
        return None
    attendees = list(
        group.attendees.select_related("participant").order_by("participant__pseudonym")
    )
    labels = sorted({speaker for speaker, _, _ in content.FOCUS_GROUP_LINES} - {"Facilitator"})
    speaker_map = {
        label: member.participant.pseudonym
        for label, member in zip(labels, attendees, strict=False)
    }
    transcript = content.focus_group(group.site.name, group.topic)
    filename = f"focus-group-{group.site.code}-{group.held_on:%Y%m%d}.txt"
    source = Source.objects.create(
        study=study,
        site=group.site,
        name=f"{group.site.code} staff focus group {group.held_on:%B %Y}",
        kind=Source.Kind.FOCUS_GROUP,
        focus_group=group,
        status=Source.Status.READY,
        format="txt",
        original_name=filename,
        encoding="utf-8",
        text=transcript.text,
        turns=turns_of(transcript.text, None, speaker_map),
        speaker_map=speaker_map,
        description=f"{content.SYNTHETIC_DESCRIPTION} Staff focus group: {group.topic}.",
        created_by=user,
    )
    source.raw_sealed = seal_raw(source, transcript.text, filename, key)
    source.save(update_fields=["raw_sealed"])
    return source, "", None, transcript


def _store_review_sources(study: Study, user: Any, key: bytes) -> None:
    """Two interviews awaiting de-identification review: raw text sealed, suggestions stored
    as positions and kinds only, no de-identified text yet."""
    for index, (pseudonym, wave_number) in enumerate(REVIEW_INTERVIEWS):
        item = (
            Interview.objects.filter(
                woman__participant__study=study,
                woman__participant__pseudonym=pseudonym,
                wave__number=wave_number,
            )
            .select_related("woman__participant__site", "wave")
            .first()
        )
        if item is None:
            continue
        participant = item.woman.participant
        raw = content.review_text(index, pseudonym)
        filename = f"{pseudonym}-wave{wave_number}.txt"
        source = Source.objects.create(
            study=study,
            site=participant.site,
            name=f"{pseudonym} wave {wave_number} interview",
            kind=Source.Kind.INTERVIEW,
            participant=participant,
            interview=item,
            wave=item.wave,
            status=Source.Status.REVIEW,
            format="txt",
            original_name=filename,
            encoding="utf-8",
            turns=turns_of(raw, pseudonym, {}),
            description=(
                f"{content.SYNTHETIC_DESCRIPTION} Its names, places and numbers are invented, "
                "so the de-identification review has something to show."
            ),
            created_by=user,
        )
        source.raw_sealed = seal_raw(source, raw, filename, key)
        source.save(update_fields=["raw_sealed"])
        Redaction.objects.bulk_create(
            Redaction(
                source=source,
                start=span.start,
                end=span.end,
                kind=span.kind,
                label=span.label,
                detector=span.source[:30],
            )
            for span in detect(raw)
        )
        label_key = f"participant:{pseudonym}"
        label_set, _ = LabelSet.objects.get_or_create(study=study, key=label_key)
        state = json.dumps(LabelMap().to_dict())
        label_set.labels_sealed = seal(
            {"labels": state}, key, f"study:{study.pk}/voices-labels:{label_key}"
        )
        label_set.save()


def _siblings(codes: dict[str, Code], key: str) -> list[str]:
    for demo in content.CODEBOOK:
        child_keys = [c.key for c in demo.children]
        if key in child_keys:
            return [k for k in child_keys if k != key]
    return []


def _first_sentence_end(text: str, start: int, end: int) -> int:
    stop = text.find(". ", start, end)
    return stop + 1 if stop != -1 else end


def _store_codings(
    codes: dict[str, Code],
    sources: list[tuple[Source, str, Woman | None, content.Transcript]],
    primary: Any,
    second: Any,
) -> dict[tuple[int, int, int], str]:
    """The primary coder codes every passage; the second coder codes the transcripts of the
    first woman at each site and the focus group, agreeing mostly but not always."""
    selections: dict[tuple[int, int, int], str] = {}
    second_women: set[int] = set()
    seen_sites: set[int] = set()
    for _source, _path, woman, _ in sources:
        if woman is not None and woman.participant.site_id not in seen_sites:
            seen_sites.add(woman.participant.site_id)
            second_women.add(woman.pk)
    rows: list[Coding] = []

    def add(source: Source, code: str, start: int, end: int, user: Any) -> None:
        selection = selections.setdefault((source.pk, start, end), _guid())
        rows.append(
            Coding(
                source=source,
                code=codes[code],
                selection_guid=selection,
                coder=user,
                coder_name=user.username,
                start=start,
                end=end,
            )
        )

    for source, _path, woman, transcript in sources:
        both = woman is None or woman.pk in second_women
        rng = random.Random(f"second-coder/{source.name}")
        for start, end, code, also, _summary in transcript.passages:
            add(source, code, start, end, primary)
            if also:
                add(source, also, start, end, primary)
            if not both:
                continue
            roll = rng.random()
            if roll < 0.70:
                add(source, code, start, end, second)
            elif roll < 0.85:
                add(source, code, start, _first_sentence_end(source.text, start, end), second)
            elif roll < 0.95 and _siblings(codes, code):
                add(source, rng.choice(_siblings(codes, code)), start, end, second)
            if also and rng.random() < 0.6:
                add(source, also, start, end, second)
    Coding.objects.bulk_create(rows)
    return selections


def _store_agreement_round(
    study: Study,
    codes: dict[str, Code],
    sources: list[tuple[Source, str, Woman | None, content.Transcript]],
    primary: Any,
    second: Any,
) -> None:
    both = [
        source
        for source, *_ in sources
        if source.codings.filter(coder_name=second.username).exists()
        and source.kind == Source.Kind.INTERVIEW
    ]
    if not both:
        return
    chosen = both[:: max(1, len(both) // 4)][:4]
    round_ = AgreementRound.objects.create(
        study=study,
        name="Demo agreement round: first transcripts",
        status=AgreementRound.Status.COMPARING,
        created_by=primary,
    )
    round_.sources.set(chosen)
    round_.coders.set([primary, second])
    used = Coding.objects.filter(source__in=chosen).values_list("code_id", flat=True)
    round_.codes.set(Code.objects.filter(pk__in=set(used)))


def _store_memos(
    study: Study,
    codes: dict[str, Code],
    sources: list[tuple[Source, str, Woman | None, content.Transcript]],
    selections: dict[tuple[int, int, int], str],
    author: Any,
) -> None:
    for title, text, code in content.MEMOS:
        Memo.objects.create(
            study=study,
            title=title,
            text=text,
            code=codes[code] if code else None,
            author=author,
            author_name=author.username,
        )
    first = sources[0][0]
    Memo.objects.create(
        study=study,
        title=f"Reading {first.name}",
        text=(
            "First read of this transcript: the account moves from fear of services to "
            "relief at a midwife who listens. A demo memo, not a finding."
        ),
        source=first,
        author=author,
        author_name=author.username,
    )
    coding = Coding.objects.filter(source=first, coder=author).order_by("start").first()
    if coding is not None:
        Memo.objects.create(
            study=study,
            title="Why this passage is coded here",
            text=(
                f"Coded {coding.code.name} because she describes it as the turning point of "
                "the interview. A demo memo."
            ),
            source=first,
            coding=coding,
            author=author,
            author_name=author.username,
        )


def _store_cases_and_sets(
    study: Study,
    codes: dict[str, Code],
    sources: list[tuple[Source, str, Woman | None, content.Transcript]],
) -> None:
    per_woman: dict[int, list[Source]] = defaultdict(list)
    women: dict[int, tuple[Woman, str]] = {}
    for source, path, woman, _ in sources:
        if woman is not None:
            per_woman[woman.pk].append(source)
            women[woman.pk] = (woman, path)
    for pk, (woman, path) in sorted(women.items(), key=lambda w: w[1][0].participant.pseudonym):
        case = Case.objects.create(
            study=study,
            name=woman.participant.pseudonym,
            description="A woman in the synthetic demo cohort.",
            participant=woman.participant,
            variables={"Pathway after birth": PATH_LABELS[path]},
        )
        case.sources.set(per_woman[pk])
    first_wave = SourceSet.objects.create(
        study=study,
        name="Wave 1 interviews",
        description="Every early-pregnancy interview of the demo.",
    )
    first_wave.sources.set(
        [s for s, _, w, _ in sources if w is not None and s.wave and s.wave.number == 1]
    )
    around_birth = SourceSet.objects.create(
        study=study,
        name="Around birth",
        description="Codes about birth, placements and separation.",
    )
    around_birth.codes.set(
        [codes[k] for k in ("ward", "nas", "discharge", "mab", "removal", "after-removal")]
    )


def _store_framework(
    study: Study,
    codes: dict[str, Code],
    sources: list[tuple[Source, str, Woman | None, content.Transcript]],
) -> None:
    """Women x themes x waves; each theme gathers a top-level code and its children; every
    cell with coded passages gets the summaries of those passages."""
    framework = Framework.objects.create(
        study=study, name="Women's care pathways", case_kind=Framework.CaseKind.WOMEN
    )
    themes: dict[str, FrameworkTheme] = {}
    for position, demo in enumerate(content.CODEBOOK):
        theme = FrameworkTheme.objects.create(
            framework=framework, name=demo.name, position=position
        )
        theme.codes.set([codes[demo.key], *(codes[c.key] for c in demo.children)])
        themes[demo.key] = theme
    summaries: dict[tuple[int, str, int], list[str]] = defaultdict(list)
    for source, _path, woman, transcript in sources:
        if woman is None or source.wave_id is None:
            continue
        for _start, _end, code, also, summary in transcript.passages:
            for key in dict.fromkeys(content.theme_of(k) for k in (code, also) if k is not None):
                cell = summaries[(woman.participant_id, key, source.wave_id)]
                if summary not in cell:
                    cell.append(summary)
    FrameworkCell.objects.bulk_create(
        FrameworkCell(
            framework=framework,
            participant_id=participant_id,
            theme=themes[key],
            wave_id=wave_id,
            summary=" ".join(texts),
        )
        for (participant_id, key, wave_id), texts in sorted(summaries.items())
    )
