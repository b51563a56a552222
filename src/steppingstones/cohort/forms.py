from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone

from steppingstones.cohort.dates import parse_gestation
from steppingstones.cohort.models import (
    Artefact,
    CarePeriod,
    Circumstance,
    FocusGroup,
    Infant,
    Interview,
    StaffInterview,
    StaffMember,
    Wave,
    Withdrawal,
    Woman,
)

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MAX_ARTEFACT_BYTES = 500 * 1024 * 1024
ARTEFACT_TYPES = {
    Artefact.Kind.AUDIO: (".mp3", ".m4a", ".wav", ".ogg", ".webm", ".mp4"),
    Artefact.Kind.TRANSCRIPT: (".txt", ".docx", ".odt", ".pdf", ".vtt", ".srt"),
    Artefact.Kind.DIARY: (".txt", ".docx", ".pdf", ".mp3", ".m4a", ".wav", ".mp4", ".jpg", ".png"),
    Artefact.Kind.DRAWING: (".jpg", ".jpeg", ".png", ".pdf"),
    Artefact.Kind.TIMELINE: (".jpg", ".jpeg", ".png", ".pdf"),
}


class GestationField(forms.CharField):
    def to_python(self, value: Any) -> int | None:  # type: ignore[override]
        text = super().to_python(value)
        if not text:
            return None
        try:
            return parse_gestation(text)
        except ValueError as error:
            raise forms.ValidationError(str(error)) from error


class WomanForm(forms.ModelForm):
    gestation_at_recruitment = GestationField(
        required=False, help_text="Weeks+days, e.g. 12+3.", label="Gestation at recruitment"
    )

    class Meta:
        model = Woman
        fields = [
            "recruited_on",
            "recruitment_route",
            "edd",
            "parity",
            "earlier_children",
            "earlier_children_removed",
            "interviewer",
            "context_notes",
        ]
        widgets = {
            "recruited_on": DATE,
            "edd": DATE,
            "context_notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, interviewers: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["interviewer"].queryset = interviewers  # type: ignore[attr-defined]
        if self.instance.pk and self.instance.gestation_at_recruitment_days is not None:
            from steppingstones.cohort.dates import format_gestation

            self.initial["gestation_at_recruitment"] = format_gestation(
                self.instance.gestation_at_recruitment_days
            )

    def save(self, commit: bool = True) -> Woman:
        self.instance.gestation_at_recruitment_days = self.cleaned_data.get(
            "gestation_at_recruitment"
        )
        return super().save(commit)


class NewWomanForm(WomanForm):
    site: forms.ModelChoiceField = forms.ModelChoiceField(queryset=None)

    class Meta(WomanForm.Meta):
        fields = ["site", *WomanForm.Meta.fields]

    def __init__(self, *args: Any, sites: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites  # type: ignore[attr-defined]


class CircumstanceForm(forms.ModelForm):
    class Meta:
        model = Circumstance
        fields = ["kind", "value", "dose", "starts_on", "ends_on", "detail"]
        widgets = {"starts_on": DATE, "ends_on": DATE, "detail": forms.Textarea(attrs={"rows": 2})}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("starts_on") and data.get("ends_on") and data["ends_on"] < data["starts_on"]:
            self.add_error("ends_on", "The end is before the start.")
        return data


class BirthForm(forms.Form):
    birth_date = forms.DateField(widget=DATE)
    gestation_at_birth = GestationField(help_text="Weeks+days, e.g. 38+2.")
    outcome = forms.ChoiceField(
        choices=[
            ("live-birth", "Live birth"),
            ("multiple-birth", "Multiple birth"),
            ("loss", "Pregnancy loss"),
        ]
    )
    infants = forms.IntegerField(
        min_value=0, max_value=4, initial=1, help_text="Babies born (0 for a loss)."
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        outcome, infants = data.get("outcome"), data.get("infants")
        if data.get("birth_date") and data["birth_date"] > timezone.localdate():
            self.add_error("birth_date", "A birth cannot be recorded before it happens.")
        if outcome == "loss" and infants:
            self.add_error("infants", "A pregnancy loss has no infants to record.")
        if outcome == "live-birth" and infants not in (None, 1):
            self.add_error("infants", "A live birth of one baby: choose multiple birth for more.")
        if outcome == "multiple-birth" and infants is not None and infants < 2:
            self.add_error("infants", "A multiple birth has two or more babies.")
        return data


class InfantForm(forms.ModelForm):
    class Meta:
        model = Infant
        fields = [
            "birthweight_grams",
            "nas_scored",
            "nas_treated",
            "neonatal_care",
            "length_of_stay_days",
            "neonatal_summary",
        ]
        widgets = {"neonatal_summary": forms.Textarea(attrs={"rows": 3})}


class CarePeriodForm(forms.ModelForm):
    class Meta:
        model = CarePeriod
        fields = ["status", "starts_on", "ends_on", "note"]
        widgets = {"starts_on": DATE, "ends_on": DATE}


class InterviewForm(forms.ModelForm):
    class Meta:
        model = Interview
        fields = [
            "wave",
            "status",
            "date",
            "time",
            "mode",
            "interviewer",
            "location_type",
            "duration_minutes",
            "reason",
        ]
        widgets = {"date": DATE, "time": forms.TimeInput(attrs={"type": "time"})}

    def __init__(self, *args: Any, waves: Any, interviewers: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["wave"].queryset = waves  # type: ignore[attr-defined]
        self.fields["interviewer"].queryset = interviewers  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        status = data.get("status")
        if status in ("missed", "declined", "lost") and not data.get("reason"):
            self.add_error("reason", "Say why, for the retention record.")
        if status == "done" and data.get("date") and data["date"] > timezone.localdate():
            self.add_error("date", "An interview cannot be done on a date still to come.")
        return data


class ArtefactForm(forms.Form):
    kind = forms.ChoiceField(choices=Artefact.Kind.choices)
    file = forms.FileField()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        upload, kind = data.get("file"), data.get("kind")
        if upload is None or kind is None:
            return data
        if upload.size > MAX_ARTEFACT_BYTES:
            self.add_error("file", f"{upload.name} is larger than 500 MB.")
        name = upload.name.lower()
        allowed = ARTEFACT_TYPES[Artefact.Kind(kind)]
        if not name.endswith(allowed):
            self.add_error("file", f"{upload.name}: a {kind} must be one of {', '.join(allowed)}.")
        return data


class StaffForm(forms.ModelForm):
    site: forms.ModelChoiceField = forms.ModelChoiceField(queryset=None)

    class Meta:
        model = StaffMember
        fields = ["site", "role", "service"]

    def __init__(self, *args: Any, sites: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites  # type: ignore[attr-defined]


class FocusGroupForm(forms.ModelForm):
    class Meta:
        model = FocusGroup
        fields = ["site", "held_on", "topic", "facilitator", "duration_minutes", "attendees"]
        widgets = {"held_on": DATE, "attendees": forms.CheckboxSelectMultiple}

    def __init__(self, *args: Any, sites: Any, staff: Any, users: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites  # type: ignore[attr-defined]
        self.fields["attendees"].queryset = staff  # type: ignore[attr-defined]
        self.fields["facilitator"].queryset = users  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        site = data.get("site")
        for member in data.get("attendees") or []:
            if site is not None and member.participant.site_id != site.pk:
                self.add_error("attendees", f"{member} works at another site.")
        return data


class StaffInterviewForm(forms.ModelForm):
    class Meta:
        model = StaffInterview
        fields = ["date", "mode", "interviewer", "duration_minutes"]
        widgets = {"date": DATE}

    def __init__(self, *args: Any, users: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["interviewer"].queryset = users  # type: ignore[attr-defined]


class ConsentFormForm(forms.Form):
    audience = forms.ChoiceField(choices=[("woman", "Women"), ("staff", "Staff")])
    version = forms.CharField(max_length=20)
    title = forms.CharField(max_length=200)
    effective_from = forms.DateField(widget=DATE)
    items = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="One item a line as code | text, with * after the code for items needed to "
        "take part, e.g. <code>audio* | I agree to the interview being audio recorded</code>.",
    )

    def clean_items(self) -> list[tuple[str, str, bool]]:
        items = []
        for number, line in enumerate(self.cleaned_data["items"].splitlines(), start=1):
            if not line.strip():
                continue
            if "|" not in line:
                raise forms.ValidationError(f"Line {number} needs code | text.")
            code, text = (part.strip() for part in line.split("|", 1))
            required = code.endswith("*")
            code = code.rstrip("*").strip()
            if not code or not text:
                raise forms.ValidationError(f"Line {number} needs both a code and a text.")
            items.append((code, text, required))
        if not items:
            raise forms.ValidationError("A consent form needs at least one item.")
        codes = [code for code, _, _ in items]
        if len(set(codes)) != len(codes):
            raise forms.ValidationError("Each item code may appear once.")
        return items


class WithdrawalForm(forms.ModelForm):
    confirm = forms.BooleanField(
        label="I have checked this is the option the participant chose", required=True
    )

    class Meta:
        model = Withdrawal
        fields = ["withdrawn_on", "option", "reason"]
        widgets = {"withdrawn_on": DATE}


class WaveForm(forms.ModelForm):
    class Meta:
        model = Wave
        fields = ["name", "anchor", "opens_weeks", "target_weeks", "closes_weeks"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        opens, target, closes = (
            data.get(k) for k in ("opens_weeks", "target_weeks", "closes_weeks")
        )
        if None not in (opens, target, closes) and not opens <= target <= closes:  # type: ignore[operator]
            raise forms.ValidationError("A window opens before its target and closes after it.")
        return data


class ImportForm(forms.Form):
    file = forms.FileField(help_text="CSV or XLSX, with sheets women, infants and interviews.")
