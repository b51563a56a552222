"""Journey events for women and infants, the study's event catalogue, timing rules, reference
pathways and imported event logs for pathway analytics.

An event's date may be exact, approximate ("about 20 weeks") or a range; its position on the
timeline is derived from the pregnancy (days from the birth, or from the due date while the
baby is unborn) and stored in ``timeline_days`` so that maps and analytics can sort on it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from steppingstones.cohort.models import Infant, Interview
from steppingstones.core.models import Participant, Site, Study


class Service(models.TextChoices):
    MATERNITY = "maternity", "Maternity"
    DRUG_TREATMENT = "drug-treatment", "Drug treatment"
    MENTAL_HEALTH = "mental-health", "Mental health"
    SOCIAL_CARE = "social-care", "Social care"
    NEONATAL = "neonatal", "Neonatal"
    HEALTH_VISITING = "health-visiting", "Health visiting"
    LEGAL = "legal", "Courts and legal"
    HOUSING = "housing", "Housing"
    THIRD_SECTOR = "third-sector", "Third sector and advocacy"
    RESIDENTIAL = "residential", "Residential treatment"


class EventType(models.Model):
    """One entry of a study's event catalogue (seeded from the domain brief, editable)."""

    class Shape(models.TextChoices):
        MILESTONE = "milestone", "Milestone"
        CONTACT = "contact", "Contact"
        PERIOD = "period", "Period (has an end)"

    class Subject(models.TextChoices):
        WOMAN = "woman", "Woman"
        INFANT = "infant", "Infant"
        EITHER = "either", "Woman or infant"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="event_types")
    code = models.SlugField(max_length=60)
    name = models.CharField(max_length=120)
    service = models.CharField(max_length=20, choices=Service.choices)
    shape = models.CharField(max_length=10, choices=Shape.choices, default=Shape.CONTACT)
    subject = models.CharField(max_length=10, choices=Subject.choices, default=Subject.WOMAN)
    description = models.TextField(blank=True)
    typical_timing = models.CharField(max_length=200, blank=True)
    position = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["study", "code"], name="journeys_eventtype_code")
        ]

    def __str__(self) -> str:
        return self.name


class JourneyEvent(models.Model):
    class DatePrecision(models.TextChoices):
        EXACT = "exact", "Exact date"
        APPROXIMATE = "approximate", "Approximate"
        RANGE = "range", "Between two dates"

    class Certainty(models.TextChoices):
        CERTAIN = "certain", "Certain"
        PROBABLE = "probable", "Probable"
        UNCERTAIN = "uncertain", "Uncertain"

    class SourceKind(models.TextChoices):
        INTERVIEW = "interview", "Interview"
        TIMELINE = "timeline", "Visual timeline"
        RECORD = "record", "Case record"
        DIARY = "diary", "Diary"
        OTHER = "other", "Other"

    class Experience(models.TextChoices):
        NOT_RECORDED = "", "Not recorded"
        HELPFUL = "helpful", "Helpful"
        UNHELPFUL = "unhelpful", "Unhelpful"
        STIGMATISING = "stigmatising", "Stigmatising"
        MIXED = "mixed", "Mixed"
        NEUTRAL = "neutral", "Neutral"
        DISTRESSING = "distressing", "Distressing"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="journey_events")
    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="journey_events"
    )
    infant = models.ForeignKey(
        Infant, null=True, blank=True, on_delete=models.CASCADE, related_name="journey_events"
    )
    event_type = models.ForeignKey(EventType, on_delete=models.PROTECT, related_name="events")
    service = models.CharField(max_length=20, choices=Service.choices)
    professional_role = models.CharField(max_length=120, blank=True)
    precision = models.CharField(
        max_length=12, choices=DatePrecision.choices, default=DatePrecision.EXACT
    )
    date = models.DateField(help_text="The date, the best estimate, or the start of the range.")
    date_latest = models.DateField(
        null=True, blank=True, help_text="For a range: the latest the event could have been."
    )
    approximate_text = models.CharField(
        max_length=100, blank=True, help_text='As she put it, e.g. "about 20 weeks".'
    )
    ends_on = models.DateField(null=True, blank=True, help_text="For periods: when it ended.")
    timeline_days = models.IntegerField(
        help_text="Days from the birth (negative before), or from the due date if not yet born."
    )
    certainty = models.CharField(
        max_length=10, choices=Certainty.choices, default=Certainty.CERTAIN
    )
    source_kind = models.CharField(
        max_length=10, choices=SourceKind.choices, default=SourceKind.INTERVIEW
    )
    interview = models.ForeignKey(
        Interview, null=True, blank=True, on_delete=models.SET_NULL, related_name="journey_events"
    )
    coding = models.ForeignKey(
        "voices.Coding",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="journey_events",
        help_text="The coded transcript passage this event was taken from.",
    )
    experience = models.CharField(
        max_length=15, choices=Experience.choices, default=Experience.NOT_RECORDED, blank=True
    )
    quote = models.TextField(blank=True)
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["participant", "timeline_days", "pk"]
        indexes = [models.Index(fields=["study", "participant", "timeline_days"])]

    def __str__(self) -> str:
        return f"{self.event_type} ({self.date})"


class TimingRule(models.Model):
    """A guideline timing: e.g. booking by 10 weeks' gestation, or a pre-birth planning meeting
    by 28 weeks in Scotland. Applies to one site, to a nation, or (both blank) to the study."""

    class Anchor(models.TextChoices):
        GESTATION = "gestation", "Weeks of gestation"
        BIRTH = "birth", "Days after birth"
        BEFORE_EDD = "before-edd", "Weeks before the due date"
        AFTER_EVENT = "after-event", "Days after another event"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="timing_rules")
    site = models.ForeignKey(
        Site, null=True, blank=True, on_delete=models.CASCADE, related_name="timing_rules"
    )
    nation = models.CharField(max_length=20, blank=True)
    name = models.CharField(max_length=200)
    event_type = models.ForeignKey(EventType, on_delete=models.CASCADE, related_name="rules")
    anchor = models.CharField(max_length=12, choices=Anchor.choices)
    after_event_type = models.ForeignKey(
        EventType, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    limit = models.DecimalField(
        max_digits=6, decimal_places=1, help_text="Weeks or days, as the anchor says."
    )
    at_least = models.BooleanField(
        default=False, help_text="Met when the interval is at least the limit (else at most)."
    )
    citation = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ReferencePathway(models.Model):
    """The expected order of steps (event types), each with an optional window on the timeline,
    against which each journey's conformance is checked."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="reference_pathways")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    nation = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PathwayStep(models.Model):
    pathway = models.ForeignKey(ReferencePathway, on_delete=models.CASCADE, related_name="steps")
    event_type = models.ForeignKey(EventType, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField()
    latest_day = models.IntegerField(
        null=True, blank=True, help_text="Latest timeline day (from birth) it is expected by."
    )
    required = models.BooleanField(default=True)

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return f"{self.position}. {self.event_type}"


class EventLog(models.Model):
    """An event log imported for pathway analytics (routine data), stored as Parquet in the
    canonical columns case_id, activity, timestamp, seq (plus any attributes kept)."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="event_logs")
    name = models.CharField(max_length=200)
    file = models.FileField(upload_to="journeys/logs/%Y/%m/")
    original_name = models.CharField(max_length=255)
    source_format = models.CharField(max_length=10)
    cases = models.PositiveIntegerField(default=0)
    events = models.PositiveBigIntegerField(default=0)
    attributes = models.JSONField(default=list, blank=True)
    is_synthetic = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name
