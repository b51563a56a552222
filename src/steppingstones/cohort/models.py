"""The cohort: women and their pregnancies and infants, staff, waves, interviews, consent."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from steppingstones.core.models import Participant, Site, Study


class Sensitivity(models.TextChoices):
    STANDARD = "standard", "Standard"
    SPECIAL = "special", "Special category (health)"
    CRIMINAL = "criminal", "Possible criminal-offence data"
    SAFEGUARDING = "safeguarding", "Safeguarding"


class Wave(models.Model):
    """One interview wave of a study, with a window anchored to gestation or to the birth."""

    class Anchor(models.TextChoices):
        GESTATION = "gestation", "Weeks of gestation"
        BIRTH = "birth", "Weeks after birth (due date until born)"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="waves")
    number = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=100)
    anchor = models.CharField(max_length=10, choices=Anchor.choices)
    opens_weeks = models.DecimalField(max_digits=5, decimal_places=1)
    target_weeks = models.DecimalField(max_digits=5, decimal_places=1)
    closes_weeks = models.DecimalField(max_digits=5, decimal_places=1)

    class Meta:
        ordering = ["study", "number"]
        constraints = [
            models.UniqueConstraint(fields=["study", "number"], name="wave_number_unique"),
        ]

    def __str__(self) -> str:
        return f"Wave {self.number}: {self.name}"


class Woman(models.Model):
    """A woman recruited in pregnancy; identified everywhere by her participant's pseudonym."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Taking part"
        WITHDRAWN = "withdrawn", "Withdrawn"
        LOST = "lost", "Lost to follow-up"
        COMPLETED = "completed", "Completed"

    participant = models.OneToOneField(Participant, on_delete=models.CASCADE, related_name="woman")
    recruited_on = models.DateField()

    class Route(models.TextChoices):
        SPECIALIST_MIDWIFE = "specialist midwife", "Specialist midwife"
        ANTENATAL_CLINIC = "antenatal clinic", "Antenatal clinic"
        DRUG_SERVICE = "drug service", "Drug service"
        THIRD_SECTOR = "third-sector service", "Third-sector service"
        SOCIAL_CARE = "social care", "Social care"
        SELF = "self-referral", "Self-referral"
        OTHER = "other", "Other"

    recruitment_route = models.CharField(max_length=40, blank=True, choices=Route.choices)
    edd = models.DateField("estimated due date")
    gestation_at_recruitment_days = models.PositiveSmallIntegerField(null=True, blank=True)
    parity = models.PositiveSmallIntegerField(null=True, blank=True)
    earlier_children = models.PositiveSmallIntegerField(null=True, blank=True)
    earlier_children_removed = models.PositiveSmallIntegerField(null=True, blank=True)
    interviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The researcher who usually interviews her.",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    context_notes = models.TextField(blank=True)

    class Meta:
        ordering = ["participant__pseudonym"]

    def __str__(self) -> str:
        return self.participant.pseudonym

    @property
    def pseudonym(self) -> str:
        return self.participant.pseudonym

    @property
    def study_id(self) -> int:
        return self.participant.study_id


class Circumstance(models.Model):
    """A dated, structured fact about a woman's life (substances, treatment, housing …)."""

    class Kind(models.TextChoices):
        SUBSTANCE = "substance", "Substance use"
        OST = "ost", "Opioid substitution treatment"
        MENTAL_HEALTH = "mental-health", "Mental health"
        HOUSING = "housing", "Housing"
        DOMESTIC_ABUSE = "domestic-abuse", "Domestic abuse"
        OTHER = "other", "Other"

    DEFAULT_SENSITIVITY = {
        Kind.SUBSTANCE: Sensitivity.CRIMINAL,
        Kind.OST: Sensitivity.SPECIAL,
        Kind.MENTAL_HEALTH: Sensitivity.SPECIAL,
        Kind.HOUSING: Sensitivity.STANDARD,
        Kind.DOMESTIC_ABUSE: Sensitivity.SAFEGUARDING,
        Kind.OTHER: Sensitivity.STANDARD,
    }

    woman = models.ForeignKey(Woman, on_delete=models.CASCADE, related_name="circumstances")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    value = models.CharField(
        max_length=120, help_text="e.g. heroin, methadone, temporary accommodation"
    )
    dose = models.CharField(max_length=60, blank=True, help_text="For treatment, e.g. 60 mg")
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)
    detail = models.TextField(blank=True)
    sensitivity = models.CharField(max_length=15, choices=Sensitivity.choices)

    class Meta:
        ordering = ["kind", "starts_on"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.value}"

    @property
    def study_id(self) -> int:
        return self.woman.participant.study_id


class Pregnancy(models.Model):
    class Outcome(models.TextChoices):
        ONGOING = "ongoing", "Ongoing"
        LIVE_BIRTH = "live-birth", "Live birth"
        MULTIPLE_BIRTH = "multiple-birth", "Multiple birth"
        LOSS = "loss", "Pregnancy loss"

    woman = models.OneToOneField(Woman, on_delete=models.CASCADE, related_name="pregnancy")
    birth_date = models.DateField(null=True, blank=True)
    gestation_at_birth_days = models.PositiveSmallIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, default=Outcome.ONGOING)

    def __str__(self) -> str:
        return f"pregnancy of {self.woman}"

    @property
    def study_id(self) -> int:
        return self.woman.participant.study_id


class Infant(models.Model):
    class NeonatalCare(models.TextChoices):
        NONE = "none", "Postnatal ward with mother"
        TRANSITIONAL = "transitional", "Transitional care"
        NEONATAL_UNIT = "neonatal-unit", "Neonatal unit"

    pregnancy = models.ForeignKey(Pregnancy, on_delete=models.CASCADE, related_name="infants")
    pseudonym = models.CharField(max_length=24)
    birthweight_grams = models.PositiveIntegerField(null=True, blank=True)
    nas_scored = models.BooleanField("NAS scoring", default=False)
    nas_treated = models.BooleanField("NAS treatment", default=False)
    neonatal_care = models.CharField(
        max_length=20, choices=NeonatalCare.choices, default=NeonatalCare.NONE
    )
    length_of_stay_days = models.PositiveSmallIntegerField(null=True, blank=True)
    neonatal_summary = models.TextField(blank=True)

    class Meta:
        ordering = ["pseudonym"]

    def __str__(self) -> str:
        return self.pseudonym

    @property
    def study_id(self) -> int:
        return self.pregnancy.woman.participant.study_id


class CarePeriod(models.Model):
    """Who an infant lived with, from when to when."""

    class Status(models.TextChoices):
        WITH_MOTHER = "with-mother", "With mother"
        MOTHER_AND_BABY = "mother-and-baby", "Mother-and-baby placement"
        RESIDENTIAL = "residential", "Residential treatment with mother"
        KINSHIP = "kinship", "Kinship care"
        FOSTER = "foster", "Foster care"
        ADOPTION = "adoption", "Adoption"
        OTHER = "other", "Other"

    infant = models.ForeignKey(Infant, on_delete=models.CASCADE, related_name="care_periods")
    status = models.CharField(max_length=20, choices=Status.choices)
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["starts_on"]

    def __str__(self) -> str:
        return f"{self.infant}: {self.get_status_display()} from {self.starts_on}"

    @property
    def study_id(self) -> int:
        return self.infant.pregnancy.woman.participant.study_id


class Interview(models.Model):
    class Mode(models.TextChoices):
        IN_PERSON = "in-person", "In person"
        PHONE = "phone", "Phone"
        VIDEO = "video", "Video"

    class Status(models.TextChoices):
        BOOKED = "booked", "Booked"
        DONE = "done", "Done"
        MISSED = "missed", "Missed"
        DECLINED = "declined", "Declined"
        WITHDRAWN = "withdrawn", "Not due: withdrawn"
        LOST = "lost", "Lost to follow-up"

    RESOLVED = (Status.DONE, Status.MISSED, Status.DECLINED, Status.WITHDRAWN, Status.LOST)

    woman = models.ForeignKey(Woman, on_delete=models.CASCADE, related_name="interviews")
    wave = models.ForeignKey(Wave, on_delete=models.PROTECT, related_name="interviews")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.BOOKED)
    date = models.DateField(help_text="Booked date, or the date it took place.")
    time = models.TimeField(null=True, blank=True)
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.IN_PERSON)
    interviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Location(models.TextChoices):
        HOME = "home", "Her home"
        CLINIC = "clinic", "Clinic or hospital"
        DRUG_SERVICE = "drug service", "Drug service"
        FAMILY_CENTRE = "family centre", "Family centre"
        RESIDENTIAL = "residential service", "Residential service"
        REMOTE = "remote", "By phone or video"
        OTHER = "other", "Other"

    location_type = models.CharField(max_length=30, blank=True, choices=Location.choices)
    duration_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    reason = models.CharField(max_length=200, blank=True, help_text="Why missed, declined or lost.")

    class Meta:
        ordering = ["woman", "wave__number"]
        constraints = [
            models.UniqueConstraint(fields=["woman", "wave"], name="one_interview_per_wave"),
        ]

    def __str__(self) -> str:
        return f"{self.woman} wave {self.wave.number} ({self.get_status_display()})"

    @property
    def study_id(self) -> int:
        return self.woman.participant.study_id


class Artefact(models.Model):
    """A file from an interview: audio, transcript, diary entry, drawing or timeline."""

    class Kind(models.TextChoices):
        AUDIO = "audio", "Audio recording"
        TRANSCRIPT = "transcript", "Transcript"
        DIARY = "diary", "Diary entry"
        DRAWING = "drawing", "Drawing"
        TIMELINE = "timeline", "Visual timeline"

    interview = models.ForeignKey(Interview, on_delete=models.CASCADE, related_name="artefacts")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    file = models.FileField(upload_to="cohort/artefacts/%Y/%m/")
    original_name = models.CharField(max_length=255)
    size_bytes = models.PositiveBigIntegerField()
    uploaded_at = models.DateTimeField(auto_now_add=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.interview}"

    @property
    def study_id(self) -> int:
        return self.interview.woman.participant.study_id


class StaffMember(models.Model):
    class Role(models.TextChoices):
        SPECIALIST_MIDWIFE = "specialist-midwife", "Specialist midwife"
        MIDWIFE = "midwife", "Midwife"
        OBSTETRICIAN = "obstetrician", "Obstetrician"
        DRUG_WORKER = "drug-worker", "Drug worker"
        SOCIAL_WORKER = "social-worker", "Social worker"
        HEALTH_VISITOR = "health-visitor", "Health visitor"
        NEONATAL = "neonatal", "Neonatal nurse or doctor"
        MENTAL_HEALTH = "perinatal-mental-health", "Perinatal mental health"
        FNP = "family-nurse", "Family Nurse Partnership nurse"
        MANAGER = "manager", "Manager or commissioner"
        THIRD_SECTOR = "third-sector", "Third sector"
        OTHER = "other", "Other"

    participant = models.OneToOneField(
        Participant, on_delete=models.CASCADE, related_name="staff_member"
    )
    role = models.CharField(max_length=30, choices=Role.choices)
    service = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["participant__pseudonym"]

    def __str__(self) -> str:
        return self.participant.pseudonym

    @property
    def study_id(self) -> int:
        return self.participant.study_id


class FocusGroup(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="focus_groups")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="focus_groups")
    held_on = models.DateField()
    topic = models.CharField(max_length=200, blank=True)
    facilitator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    attendees = models.ManyToManyField(StaffMember, related_name="focus_groups", blank=True)
    duration_minutes = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["held_on"]

    def __str__(self) -> str:
        return f"Focus group at {self.site.code} on {self.held_on}"


class StaffInterview(models.Model):
    staff_member = models.ForeignKey(
        StaffMember, on_delete=models.CASCADE, related_name="interviews"
    )
    date = models.DateField()
    mode = models.CharField(max_length=10, choices=Interview.Mode.choices)
    interviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    duration_minutes = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["date"]

    def __str__(self) -> str:
        return f"Interview with {self.staff_member} on {self.date}"

    @property
    def study_id(self) -> int:
        return self.staff_member.participant.study_id


class ConsentForm(models.Model):
    """A version of the study's consent form; participants re-consent when it changes."""

    class Audience(models.TextChoices):
        WOMEN = "woman", "Women"
        STAFF = "staff", "Staff"

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="consent_forms")
    audience = models.CharField(max_length=10, choices=Audience.choices)
    version = models.CharField(max_length=20)
    effective_from = models.DateField()
    title = models.CharField(max_length=200)

    class Meta:
        ordering = ["audience", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["study", "audience", "version"], name="consent_version_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} v{self.version}"


class ConsentItem(models.Model):
    form = models.ForeignKey(ConsentForm, on_delete=models.CASCADE, related_name="items")
    code = models.SlugField(max_length=40)
    text = models.CharField(max_length=300)
    required = models.BooleanField(default=False, help_text="Needed to take part at all.")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "code"]
        constraints = [models.UniqueConstraint(fields=["form", "code"], name="consent_item_unique")]

    def __str__(self) -> str:
        return self.text


class Consent(models.Model):
    """One participant's answers to one version of the consent form."""

    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="consents")
    form = models.ForeignKey(ConsentForm, on_delete=models.PROTECT, related_name="consents")
    given_on = models.DateField()
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    answers = models.JSONField(default=dict, help_text="item code -> agreed (true/false)")

    class Meta:
        ordering = ["-given_on"]

    def __str__(self) -> str:
        return f"{self.participant} consent v{self.form.version} on {self.given_on}"

    @property
    def study_id(self) -> int:
        return self.participant.study_id


class Withdrawal(models.Model):
    class Option(models.TextChoices):
        KEEP_DATA = "keep-data", "No further contact; keep data already collected"
        REMOVE_UNANALYSED = (
            "remove-unanalysed",
            "No further contact; remove data not yet analysed",
        )
        REMOVE_ALL = "remove-all", "No further contact; remove all data that can be removed"

    participant = models.OneToOneField(
        Participant, on_delete=models.CASCADE, related_name="withdrawal"
    )
    withdrawn_on = models.DateField()
    option = models.CharField(max_length=20, choices=Option.choices)
    reason = models.CharField(max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    erasure_report = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"{self.participant} withdrew on {self.withdrawn_on}"

    @property
    def study_id(self) -> int:
        return self.participant.study_id


class CalendarToken(models.Model):
    """The secret in a researcher's calendar-feed address (calendar apps cannot sign in)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="+")
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"calendar of {self.user} in {self.study}"
