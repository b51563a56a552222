"""Forms of the journey-map pages: an event, a catalogue entry, an import, a comparison and a
composite journey."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone

from steppingstones.cohort.models import Infant, Interview, Woman
from steppingstones.journeys import events as services
from steppingstones.journeys.models import EventType, JourneyEvent, Service

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class EventForm(forms.Form):
    event_type = forms.ModelChoiceField(queryset=EventType.objects.none(), label="Event")
    when = forms.CharField(
        label="When",
        max_length=100,
        help_text="A date (2024-03-01), a range (2024-03-01 to 2024-03-14), or as she put it: "
        '"about 20 weeks", "week 32", "at birth", "day 5", "around 3 months old".',
    )
    ends_on = forms.DateField(
        required=False, widget=DATE, label="Ended on", help_text="For periods only."
    )
    infant = forms.ModelChoiceField(
        queryset=Infant.objects.none(), required=False, label="Infant (for events about a baby)"
    )
    service = forms.ChoiceField(
        choices=[("", "The event type's own service"), *Service.choices], required=False
    )
    professional_role = forms.CharField(max_length=120, required=False, label="Professional role")
    certainty = forms.ChoiceField(choices=JourneyEvent.Certainty.choices)
    source_kind = forms.ChoiceField(choices=JourneyEvent.SourceKind.choices, label="Source")
    interview = forms.ModelChoiceField(
        queryset=Interview.objects.none(), required=False, label="Told in interview"
    )
    experience = forms.ChoiceField(
        choices=JourneyEvent.Experience.choices, required=False, label="Her experience of it"
    )
    quote = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(
        self, *args: Any, woman: Woman, editing: JourneyEvent | None = None, **kwargs: Any
    ) -> None:
        if editing is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "event_type": editing.event_type_id,
                "when": services.when_text(editing),
                "ends_on": editing.ends_on,
                "infant": editing.infant_id,
                "service": editing.service,
                "professional_role": editing.professional_role,
                "certainty": editing.certainty,
                "source_kind": editing.source_kind,
                "interview": editing.interview_id,
                "experience": editing.experience,
                "quote": editing.quote,
                "note": editing.note,
            }
        super().__init__(*args, **kwargs)
        self.woman = woman
        self.editing = editing
        types: QuerySet[EventType] = services.active_types(woman.participant.study)
        if editing is not None:
            types = EventType.objects.filter(study=woman.participant.study).filter(
                pk__in=[*types.values_list("pk", flat=True), editing.event_type_id]
            )
        self.fields["event_type"].queryset = types  # type: ignore[attr-defined]
        self.fields["infant"].queryset = Infant.objects.filter(  # type: ignore[attr-defined]
            pregnancy__woman=woman
        )
        self.fields["interview"].queryset = (  # type: ignore[attr-defined]
            Interview.objects.filter(woman=woman).select_related("wave").order_by("wave__number")
        )

    def event_data(self) -> services.EventData:
        data = self.cleaned_data
        return services.EventData(
            event_type=data["event_type"],
            when=data["when"],
            infant=data.get("infant"),
            ends_on=data.get("ends_on"),
            service=data.get("service", ""),
            professional_role=data.get("professional_role", ""),
            certainty=data["certainty"],
            source_kind=data["source_kind"],
            interview=data.get("interview"),
            experience=data.get("experience", ""),
            quote=data.get("quote", ""),
            note=data.get("note", ""),
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        problems = services.check_event(
            self.woman,
            self.event_data(),
            timezone.localdate(),
            editing=self.editing.pk if self.editing is not None else None,
        )
        for problem in problems:
            self.add_error("when", str(problem))
        return cleaned


class PassageEventForm(EventForm):
    """An event taken from a coded passage of one of her de-identified transcripts."""

    coding: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        queryset=None,
        label="Coded passage",
        widget=forms.RadioSelect,
        help_text="The passage becomes the event's quote; its interview and wave come along.",
    )

    field_order = ["coding"]

    def __init__(self, *args: Any, woman: Woman, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, woman=woman, **kwargs)
        passages = services.passages_of(woman, user)
        field = self.fields["coding"]
        field.queryset = passages  # type: ignore[attr-defined]
        field.label_from_instance = (  # type: ignore[attr-defined]
            lambda coding: (
                f"{coding.source.name} · {coding.code.name}: "
                f"“{_shorten(services.passage_text(coding))}”"
            )
        )
        for name in ("quote", "interview", "source_kind"):
            del self.fields[name]

    def event_data(self) -> services.EventData:
        data = self.cleaned_data
        base = services.EventData(
            event_type=data["event_type"],
            when=data["when"],
            infant=data.get("infant"),
            ends_on=data.get("ends_on"),
            service=data.get("service", ""),
            professional_role=data.get("professional_role", ""),
            certainty=data["certainty"],
            experience=data.get("experience", ""),
            note=data.get("note", ""),
        )
        return services.from_passage(self.woman, data["coding"], base)


def _shorten(text: str, limit: int = 140) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


class EventTypeForm(forms.ModelForm):
    class Meta:
        model = EventType
        fields = [
            "code",
            "name",
            "service",
            "shape",
            "subject",
            "typical_timing",
            "description",
            "position",
            "is_active",
        ]
        labels = {"is_active": "In use (switched-off types stay on stored events)"}
        help_texts = {"code": "Lower case and hyphens; used by imports. It cannot change later."}

    def __init__(self, *args: Any, study: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.study = study
        if self.instance.pk:
            self.fields["code"].disabled = True

    def clean_code(self) -> str:
        code = str(self.cleaned_data["code"]).lower()
        if self.instance.pk:
            return str(self.instance.code)
        if EventType.objects.filter(study=self.study, code=code).exists():
            raise forms.ValidationError(f"The catalogue already has an event type {code!r}.")
        return code


class ImportForm(forms.Form):
    file = forms.FileField(
        label="Events file (CSV, UTF-8)",
        help_text="One event per row, with the columns listed below.",
    )


class CompareForm(forms.Form):
    women = forms.MultipleChoiceField(
        label="Women to compare (up to four)",
        widget=forms.CheckboxSelectMultiple,
        choices=[],
    )

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["women"].choices = choices  # type: ignore[attr-defined]

    def clean_women(self) -> list[str]:
        chosen = list(self.cleaned_data["women"])
        if len(chosen) > 4:
            raise forms.ValidationError(f"Choose at most four women ({len(chosen)} chosen).")
        return chosen


class CompositeForm(forms.Form):
    GROUPS = [
        ("all", "All women"),
        ("separated", "Women whose baby was separated from them"),
        ("home", "Women whose baby stayed with them"),
        ("conference", "Women with a pre-birth conference"),
    ]
    site = forms.ChoiceField(label="Site", required=False)
    group = forms.ChoiceField(choices=GROUPS, label="Which women")
    quotes = forms.BooleanField(
        required=False,
        label="Include one short quote per event (check quotes cannot identify anyone first)",
    )

    def __init__(self, *args: Any, sites: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["site"].choices = [("", "All my sites"), *sites]  # type: ignore[attr-defined]
