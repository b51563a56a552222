"""What the qualitative workbench stores: sources, their de-identification, the codebook, codings,
memos, cases and sets, agreement rounds and the framework matrix.

Positions in a text source are Unicode code points into ``Source.text`` (the de-identified text),
end exclusive, as REFI-QDA counts them. The raw text a source was uploaded with never sits in a
plain column: it is sealed with the study's identity key (``raw_sealed``) or, by study setting,
deleted once de-identification is finished.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from steppingstones.cohort.models import FocusGroup, Interview, Wave
from steppingstones.core.models import Participant, Site, Study


def _guid() -> str:
    return str(uuid.uuid4()).upper()


class VoicesSettings(models.Model):
    class RawText(models.TextChoices):
        KEEP_PROTECTED = (
            "keep-protected",
            "Keep the raw text, encrypted, for de-identification staff",
        )
        DELETE = "delete", "Delete the raw text once de-identification is finished"

    study = models.OneToOneField(Study, on_delete=models.CASCADE, related_name="voices_settings")
    raw_text = models.CharField(
        max_length=20, choices=RawText.choices, default=RawText.KEEP_PROTECTED
    )
    max_upload_megabytes = models.PositiveIntegerField(default=200)

    def __str__(self) -> str:
        return f"Voices settings of {self.study}"


class LabelSet(models.Model):
    """Replacement labels kept consistent across one document set (a woman's or a group's
    documents): the same person is ``[partner]`` in every wave. The mapping from the original
    words to labels identifies people, so it is sealed like the raw text."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="label_sets")
    key = models.CharField(max_length=80, help_text="participant:<pseudonym> or group:<id>")
    labels_sealed = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["study", "key"], name="voices_labelset_unique")
        ]

    def __str__(self) -> str:
        return self.key


class Source(models.Model):
    class Kind(models.TextChoices):
        INTERVIEW = "interview", "Interview transcript"
        FOCUS_GROUP = "focus-group", "Focus-group transcript"
        STAFF_INTERVIEW = "staff-interview", "Staff interview transcript"
        DIARY_AUDIO = "diary-audio", "Audio diary"
        DIARY_VIDEO = "diary-video", "Video diary"
        DIARY_TEXT = "diary-text", "Written diary"
        DRAWING = "drawing", "Drawing"
        TIMELINE = "timeline", "Visual timeline"
        NOTE = "note", "Field note"

    class Status(models.TextChoices):
        REVIEW = "review", "Awaiting de-identification review"
        READY = "ready", "De-identified, ready for analysis"

    class Media(models.TextChoices):
        TEXT = "text", "Text"
        AUDIO = "audio", "Audio"
        VIDEO = "video", "Video"
        IMAGE = "image", "Image"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="voice_sources")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="voice_sources")
    guid = models.CharField(max_length=36, default=_guid, editable=False)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    media = models.CharField(max_length=10, choices=Media.choices, default=Media.TEXT)
    participant = models.ForeignKey(
        Participant, null=True, blank=True, on_delete=models.CASCADE, related_name="voice_sources"
    )
    interview = models.ForeignKey(
        Interview, null=True, blank=True, on_delete=models.SET_NULL, related_name="voice_sources"
    )
    focus_group = models.ForeignKey(
        FocusGroup, null=True, blank=True, on_delete=models.CASCADE, related_name="voice_sources"
    )
    wave = models.ForeignKey(
        Wave, null=True, blank=True, on_delete=models.PROTECT, related_name="voice_sources"
    )
    transcript_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="transcripts",
        help_text="For a transcript of an audio or video diary: the recording it is aligned to.",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REVIEW)
    format = models.CharField(max_length=10, blank=True, help_text="txt, docx, odt, pdf, vtt…")
    original_name = models.CharField(max_length=255, blank=True)
    encoding = models.CharField(max_length=30, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    text = models.TextField(blank=True, help_text="The de-identified text every analysis uses.")
    turns = models.JSONField(
        default=list,
        blank=True,
        help_text="Speaker turns: speaker, role, participant, start/end char, start/end seconds.",
    )
    speaker_map = models.JSONField(default=dict, blank=True)
    raw_sealed = models.TextField(
        blank=True, help_text="Raw normalised text and original bytes, sealed with the study key."
    )
    raw_deleted_at = models.DateTimeField(null=True, blank=True)
    file = models.FileField(
        upload_to="voices/media/%Y/%m/", blank=True, help_text="Audio, video or image."
    )
    content_type = models.CharField(max_length=100, blank=True)
    size_bytes = models.PositiveBigIntegerField(default=0)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["study", "guid"], name="voices_source_guid_unique")
        ]

    def __str__(self) -> str:
        return self.name


class Redaction(models.Model):
    """One identifier found in, or added to, a source's raw text, and the reviewer's decision.

    The identifying words themselves are not stored here: only where they are, what kind they
    are and the label that replaces them. The review screen reads them from the sealed raw text.
    """

    class Decision(models.TextChoices):
        PENDING = "pending", "To review"
        ACCEPTED = "accepted", "Replace"
        REJECTED = "rejected", "Keep (not an identifier)"
        ADDED = "added", "Added by a reviewer"

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="redactions")
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    kind = models.CharField(max_length=30)
    label = models.CharField(max_length=80)
    detector = models.CharField(max_length=30, default="pattern")
    decision = models.CharField(max_length=10, choices=Decision.choices, default=Decision.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["source", "start"]

    def __str__(self) -> str:
        return f"{self.kind} {self.start}-{self.end}"


class Code(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="voice_codes")
    guid = models.CharField(max_length=36, default=_guid, editable=False)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    inclusion = models.TextField("Inclusion criteria", blank=True)
    exclusion = models.TextField("Exclusion criteria", blank=True)
    example = models.TextField(blank=True)
    colour = models.CharField(max_length=7, default="#1f77b4")
    is_codable = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["study", "guid"], name="voices_code_guid_unique")
        ]

    def __str__(self) -> str:
        return self.name


class CodebookVersion(models.Model):
    """A frozen copy of the codebook, taken when a researcher marks a version."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="codebook_versions")
    number = models.PositiveIntegerField()
    label = models.CharField(max_length=200, blank=True)
    snapshot = models.JSONField(default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["study", "number"], name="voices_codebook_version")
        ]

    def __str__(self) -> str:
        return f"v{self.number} {self.label}".strip()


class CodeChange(models.Model):
    """The codebook's change log: every create, edit, move, merge, split and delete."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="code_changes")
    action = models.CharField(max_length=20)
    code_name = models.CharField(max_length=200)
    detail = models.JSONField(default=dict, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.action} {self.code_name}"


class Coding(models.Model):
    """A code applied to a text range, an image region or a media time range, by one coder."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="codings")
    code = models.ForeignKey(Code, on_delete=models.CASCADE, related_name="codings")
    guid = models.CharField(max_length=36, default=_guid, editable=False)
    selection_guid = models.CharField(max_length=36, default=_guid)
    coder = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    coder_name = models.CharField(
        max_length=150, help_text="The coder's user name, or the name an imported project gave."
    )
    start = models.PositiveIntegerField(null=True, blank=True)
    end = models.PositiveIntegerField(null=True, blank=True)
    region = models.JSONField(
        null=True, blank=True, help_text="Image region in pixels: {x, y, width, height}."
    )
    time_start = models.FloatField(null=True, blank=True)
    time_end = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["source", "start", "pk"]
        indexes = [models.Index(fields=["source", "coder_name"])]

    def __str__(self) -> str:
        return f"{self.code} in {self.source}"


class Memo(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="voice_memos")
    guid = models.CharField(max_length=36, default=_guid, editable=False)
    title = models.CharField(max_length=200, blank=True)
    text = models.TextField()
    source = models.ForeignKey(
        Source, null=True, blank=True, on_delete=models.CASCADE, related_name="memos"
    )
    code = models.ForeignKey(
        Code, null=True, blank=True, on_delete=models.CASCADE, related_name="memos"
    )
    coding = models.ForeignKey(
        Coding, null=True, blank=True, on_delete=models.CASCADE, related_name="memos"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_name = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return self.title or self.text[:60]


class Case(models.Model):
    """A unit of analysis (a woman, a staff member, a service) with variables, as REFI-QDA has."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="voice_cases")
    guid = models.CharField(max_length=36, default=_guid, editable=False)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    participant = models.ForeignKey(
        Participant, null=True, blank=True, on_delete=models.CASCADE, related_name="voice_cases"
    )
    variables = models.JSONField(default=dict, blank=True)
    sources = models.ManyToManyField(Source, related_name="cases", blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SourceSet(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="voice_sets")
    guid = models.CharField(max_length=36, default=_guid, editable=False)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    sources = models.ManyToManyField(Source, related_name="sets", blank=True)
    codes = models.ManyToManyField(Code, related_name="sets", blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AgreementRound(models.Model):
    """Coders code the same sources blind to each other; then agreement and reconciliation."""

    class Status(models.TextChoices):
        CODING = "coding", "Coding (blind)"
        COMPARING = "comparing", "Comparing and reconciling"
        CLOSED = "closed", "Closed"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="agreement_rounds")
    name = models.CharField(max_length=200)
    sources = models.ManyToManyField(Source, related_name="agreement_rounds")
    coders = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="+")
    codes = models.ManyToManyField(Code, related_name="agreement_rounds", blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.CODING)
    consensus_coder_name = models.CharField(max_length=150, default="consensus")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class AgreementResolution(models.Model):
    round = models.ForeignKey(AgreementRound, on_delete=models.CASCADE, related_name="resolutions")
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="+")
    code = models.ForeignKey(Code, on_delete=models.CASCADE, related_name="+")
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    apply = models.BooleanField(help_text="Whether the consensus coding keeps the code here.")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True)
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["source", "start"]

    def __str__(self) -> str:
        return f"{self.code} {self.start}-{self.end}: {'apply' if self.apply else 'drop'}"


class Framework(models.Model):
    """A framework matrix: cases × themes (× waves). Themes group codes."""

    class CaseKind(models.TextChoices):
        WOMEN = "woman", "Women"
        STAFF = "staff", "Staff"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="frameworks")
    name = models.CharField(max_length=200)
    case_kind = models.CharField(max_length=10, choices=CaseKind.choices, default=CaseKind.WOMEN)
    by_wave = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class FrameworkTheme(models.Model):
    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="themes")
    name = models.CharField(max_length=200)
    position = models.PositiveIntegerField(default=0)
    codes = models.ManyToManyField(Code, related_name="framework_themes", blank=True)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class FrameworkCell(models.Model):
    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="cells")
    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="+")
    theme = models.ForeignKey(FrameworkTheme, on_delete=models.CASCADE, related_name="cells")
    wave = models.ForeignKey(
        Wave, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    summary = models.TextField(blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["framework", "participant", "theme", "wave"], name="voices_cell_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.participant} × {self.theme}"
