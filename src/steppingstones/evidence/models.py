"""Reviews and what they hold: included studies, extraction, appraisal, syntheses, charting.

Anything another part of the platform may cite as evidence (a pooled result, a synthesised
qualitative finding, a charted theme) carries a ``ref`` that is unique within its review and
never reused, so ``<review slug>/<ref>`` is a stable citation key (see :mod:`.citations`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from steppingstones.core.models import Study


class Review(models.Model):
    class Kind(models.TextChoices):
        SYSTEMATIC = "systematic", "Systematic review"
        MIXED = "mixed-methods", "Mixed-methods systematic review"
        SCOPING = "scoping", "Scoping review"
        RAPID = "rapid", "Rapid review"

    class Framework(models.TextChoices):
        PICO = "PICO", "PICO"
        PICOS = "PICOS", "PICOS"
        SPIDER = "SPIDER", "SPIDER"
        PCC = "PCC", "PCC (population, concept, context)"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="reviews")
    slug = models.SlugField(max_length=40)
    title = models.CharField(max_length=300)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.SYSTEMATIC)
    question = models.TextField(blank=True)
    framework = models.CharField(
        max_length=10, choices=Framework.choices, default=Framework.PICO, blank=True
    )
    framework_answers = models.JSONField(default=dict, blank=True)
    registration = models.CharField("Registration number", max_length=100, blank=True)
    criteria = models.JSONField(
        "Eligibility criteria",
        default=list,
        blank=True,
        help_text="Each criterion is also an exclusion reason in screening.",
    )
    dual_screening = models.BooleanField(
        "Two reviewers screen every record (blinded)", default=True
    )
    include_keywords = models.JSONField(default=list, blank=True)
    exclude_keywords = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    next_ref = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["study", "title"]
        constraints = [
            models.UniqueConstraint(fields=["study", "slug"], name="review_slug_unique"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_scoping(self) -> bool:
        return self.kind == self.Kind.SCOPING

    def allocate_ref(self, prefix: str) -> str:
        """The next never-used reference with ``prefix`` (e.g. ``MA-3``), saved at once."""
        locked = Review.objects.select_for_update().get(pk=self.pk)
        number = int(locked.next_ref.get(prefix, 1))
        locked.next_ref[prefix] = number + 1
        locked.save(update_fields=["next_ref"])
        self.next_ref = locked.next_ref
        return f"{prefix}-{number}"


class Source(models.Model):
    """Where records came from: a database or register searched, or another method."""

    class Kind(models.TextChoices):
        DATABASE = "database", "Database"
        REGISTER = "register", "Register"
        OTHER = "other", "Other method (websites, organisations, citation searching)"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="sources")
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.DATABASE)
    search_string = models.TextField(blank=True)
    searched_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["review", "kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["review", "name"], name="source_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class ImportBatch(models.Model):
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="batches")
    filename = models.CharField(max_length=255)
    file_format = models.CharField(max_length=20)
    encoding = models.CharField(max_length=20)
    record_count = models.PositiveIntegerField(default=0)
    warnings = models.JSONField(default=list, blank=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    imported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-imported_at"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.record_count} records)"


class Record(models.Model):
    """One search result, as imported; duplicates point at the record they were merged into."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="records")
    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="records")
    number = models.PositiveIntegerField()
    title = models.TextField(blank=True)
    abstract = models.TextField(blank=True)
    authors = models.JSONField(default=list, blank=True)
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    journal = models.CharField(max_length=500, blank=True)
    journal_abbrev = models.CharField(max_length=200, blank=True)
    volume = models.CharField(max_length=50, blank=True)
    issue = models.CharField(max_length=50, blank=True)
    pages = models.CharField(max_length=50, blank=True)
    doi = models.CharField(max_length=300, blank=True, db_index=True)
    pmid = models.CharField(max_length=20, blank=True, db_index=True)
    keywords = models.JSONField(default=list, blank=True)
    record_type = models.CharField(max_length=30, blank=True)
    url = models.CharField(max_length=1000, blank=True)
    duplicate_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="duplicates"
    )
    priority = models.FloatField(default=0.0, db_index=True)
    included_study = models.ForeignKey(
        "IncludedStudy", on_delete=models.SET_NULL, null=True, blank=True, related_name="records"
    )

    class Meta:
        ordering = ["review", "number"]
        constraints = [
            models.UniqueConstraint(fields=["review", "number"], name="record_number_unique"),
        ]
        indexes = [models.Index(fields=["review", "duplicate_of", "-priority"])]

    def __str__(self) -> str:
        return f"#{self.number} {self.title[:60]}"

    @property
    def first_author(self) -> str:
        return self.authors[0].split(",")[0] if self.authors else ""


class DuplicateGroup(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "To check"
        MERGED = "merged", "Merged"
        SPLIT = "split", "Not duplicates"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="duplicate_groups")
    records = models.ManyToManyField(Record, related_name="duplicate_groups")
    reason = models.CharField(max_length=20)
    score = models.FloatField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    automatic = models.BooleanField(default=False)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        ordering = ["review", "-score", "pk"]

    def __str__(self) -> str:
        return f"{self.reason} group ({self.score:.2f})"


class ScreeningDecision(models.Model):
    """One reviewer's decision on one record at one stage; a resolution settles a conflict."""

    class Stage(models.TextChoices):
        TITLE_ABSTRACT = "title-abstract", "Title and abstract"
        FULL_TEXT = "full-text", "Full text"

    class Decision(models.TextChoices):
        INCLUDE = "include", "Include"
        EXCLUDE = "exclude", "Exclude"
        MAYBE = "maybe", "Maybe"

    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="decisions")
    stage = models.CharField(max_length=20, choices=Stage.choices)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decision = models.CharField(max_length=10, choices=Decision.choices)
    reason = models.CharField(max_length=300, blank=True)
    note = models.TextField(blank=True)
    is_resolution = models.BooleanField(default=False)
    decided_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["record", "stage", "decided_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["record", "stage", "reviewer", "is_resolution"],
                name="one_decision_per_reviewer_stage",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.decision} {self.record} ({self.stage})"


class FullText(models.Model):
    record = models.OneToOneField(Record, on_delete=models.CASCADE, related_name="full_text")
    file = models.CharField(max_length=200, blank=True)
    original_name = models.CharField(max_length=255, blank=True)
    size_bytes = models.PositiveBigIntegerField(default=0)
    not_retrieved = models.BooleanField(default=False)
    note = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"Full text of {self.record}"


class PrismaOverride(models.Model):
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="prisma_overrides")
    box = models.CharField(max_length=80)
    value = models.PositiveIntegerField()
    note = models.TextField()
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["review", "box"], name="prisma_override_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.box} = {self.value}"


class IncludedStudy(models.Model):
    """A study (or, in a scoping review, a document) included in a review."""

    class Design(models.TextChoices):
        QUANTITATIVE = "quantitative", "Quantitative"
        QUALITATIVE = "qualitative", "Qualitative"
        MIXED = "mixed", "Mixed methods"
        DOCUMENT = "document", "Document (guidance, policy)"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="studies")
    ref = models.CharField(max_length=20)
    label = models.CharField(max_length=120, help_text="As in tables and plots, e.g. Smith 2019.")
    citation = models.TextField(blank=True)
    design = models.CharField(max_length=20, choices=Design.choices)
    doi = models.CharField("DOI", max_length=200, blank=True)

    class Meta:
        ordering = ["review", "label"]
        constraints = [
            models.UniqueConstraint(fields=["review", "ref"], name="included_study_ref_unique"),
        ]

    def __str__(self) -> str:
        return self.label


class ExtractionForm(models.Model):
    """The review's extraction form; ``definition`` is :func:`.extraction.form_to_data` output."""

    review = models.OneToOneField(Review, on_delete=models.CASCADE, related_name="extraction_form")
    definition = models.JSONField(default=dict)
    dual = models.BooleanField(
        "Two reviewers extract each study", default=True, help_text="Then a reconciliation."
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Extraction form of {self.review}"


class Extraction(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        COMPLETE = "complete", "Complete"

    study = models.ForeignKey(IncludedStudy, on_delete=models.CASCADE, related_name="extractions")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    is_consensus = models.BooleanField(default=False)
    answers = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["study", "is_consensus", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["study", "reviewer", "is_consensus"], name="one_extraction_per_reviewer"
            ),
        ]

    def __str__(self) -> str:
        return f"{'Consensus' if self.is_consensus else 'Extraction'} of {self.study}"


class Appraisal(models.Model):
    """One reviewer's appraisal of one study with one tool (see :mod:`.appraisal`)."""

    study = models.ForeignKey(IncludedStudy, on_delete=models.CASCADE, related_name="appraisals")
    tool = models.CharField(max_length=20)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    answers = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["study", "tool", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["study", "tool", "reviewer"], name="one_appraisal_per_reviewer"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tool} appraisal of {self.study}"


class MetaAnalysis(models.Model):
    """A pooled analysis; ``rows`` are the input table (as the CLI's CSV) and ``result`` the
    last computed result, kept so that what was cited stays readable."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="meta_analyses")
    ref = models.CharField(max_length=20)
    title = models.CharField(max_length=200)
    outcome = models.CharField(max_length=200, blank=True)
    measure = models.CharField(max_length=10)
    method = models.CharField(max_length=10, default="REML")
    hksj = models.BooleanField("Hartung-Knapp adjustment", default=False)
    subgroup_column = models.CharField(max_length=60, blank=True)
    moderators = models.JSONField(default=list, blank=True)
    columns = models.JSONField(default=list)
    rows = models.JSONField(default=list)
    result = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["review", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["review", "ref"], name="meta_analysis_ref_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.ref} {self.title}"


class QualitativeFinding(models.Model):
    """A finding extracted from one included qualitative study, with its supporting quotes."""

    study = models.ForeignKey(IncludedStudy, on_delete=models.CASCADE, related_name="findings")
    text = models.TextField()
    quotes = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["study", "pk"]

    def __str__(self) -> str:
        return f"{self.study}: {self.text[:60]}"


class Theme(models.Model):
    class Kind(models.TextChoices):
        DESCRIPTIVE = "descriptive", "Descriptive theme"
        ANALYTICAL = "analytical", "Analytical theme"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="themes")
    ref = models.CharField(max_length=20)
    title = models.CharField(max_length=300)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    parent = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="children"
    )
    findings = models.ManyToManyField(QualitativeFinding, blank=True, related_name="themes")

    class Meta:
        ordering = ["review", "kind", "ref"]
        constraints = [
            models.UniqueConstraint(fields=["review", "ref"], name="theme_ref_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.ref} {self.title}"


class ReviewFinding(models.Model):
    """A synthesised finding with its GRADE-CERQual assessment (see :mod:`.cerqual`)."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="review_findings")
    ref = models.CharField(max_length=20)
    statement = models.TextField()
    theme = models.ForeignKey(
        Theme, on_delete=models.SET_NULL, null=True, blank=True, related_name="review_findings"
    )
    findings = models.ManyToManyField(QualitativeFinding, blank=True, related_name="+")
    assessment = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["review", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["review", "ref"], name="review_finding_ref_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.ref} {self.statement[:60]}"


class ChartingTheme(models.Model):
    """A theme documents are charted against in a scoping review."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="charting_themes")
    ref = models.CharField(max_length=20)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["review", "name"]
        constraints = [
            models.UniqueConstraint(fields=["review", "ref"], name="charting_theme_ref_unique"),
            models.UniqueConstraint(fields=["review", "name"], name="charting_theme_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class ChartedDocument(models.Model):
    class Nation(models.TextChoices):
        UK = "UK-wide", "UK-wide"
        ENGLAND = "England", "England"
        SCOTLAND = "Scotland", "Scotland"
        WALES = "Wales", "Wales"
        NORTHERN_IRELAND = "Northern Ireland", "Northern Ireland"

    study = models.OneToOneField(IncludedStudy, on_delete=models.CASCADE, related_name="charting")
    issuing_body = models.CharField(max_length=200)
    nation = models.CharField(max_length=20, choices=Nation.choices)
    year = models.PositiveSmallIntegerField()
    document_type = models.CharField(max_length=80)
    audience = models.JSONField(default=list, blank=True)
    themes = models.ManyToManyField(ChartingTheme, blank=True, related_name="documents")
    notes = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"Charting of {self.study}"
