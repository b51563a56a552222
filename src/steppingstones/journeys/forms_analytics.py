"""Forms of the pathway analytics pages: timing rules, reference pathways, event-log import."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms import BaseInlineFormSet, inlineformset_factory

from steppingstones.core.models import Site, Study

from .jobs import FORMATS
from .models import EventType, PathwayStep, ReferencePathway, TimingRule

NATIONS = [("", "Any nation"), *Site.Nation.choices]
MAX_LOG_BYTES = 500 * 1024 * 1024


class RuleForm(forms.ModelForm):
    nation = forms.ChoiceField(choices=NATIONS, required=False)

    class Meta:
        model = TimingRule
        fields = [
            "name",
            "event_type",
            "anchor",
            "after_event_type",
            "limit",
            "at_least",
            "site",
            "nation",
            "citation",
        ]
        labels = {
            "event_type": "Event",
            "after_event_type": "Measured after (for “days after another event”)",
            "at_least": "Met when the interval is at least the limit (otherwise at most)",
            "site": "Only at this site",
        }
        help_texts = {
            "limit": "Weeks for gestation and before the due date; days after the birth or "
            "another event. 10 with “weeks of gestation” means by 10+0 weeks.",
            "site": "Leave empty for every site (of the nation, if one is chosen).",
        }

    def __init__(self, *args: Any, study: Study, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        types = EventType.objects.filter(study=study, is_active=True)
        self.fields["event_type"].queryset = types  # type: ignore[attr-defined]
        self.fields["after_event_type"].queryset = types  # type: ignore[attr-defined]
        self.fields["site"].queryset = Site.objects.filter(study=study)  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("anchor") == TimingRule.Anchor.AFTER_EVENT and not data.get("after_event_type"):
            self.add_error("after_event_type", "Choose the event the interval is measured from.")
        if data.get("anchor") != TimingRule.Anchor.AFTER_EVENT:
            data["after_event_type"] = None
        limit = data.get("limit")
        if limit is not None and limit < 0:
            self.add_error("limit", "The limit cannot be negative.")
        return data


class PathwayForm(forms.ModelForm):
    nation = forms.ChoiceField(choices=NATIONS, required=False)

    class Meta:
        model = ReferencePathway
        fields = ["name", "nation", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class _Steps(BaseInlineFormSet):  # type: ignore[type-arg]
    def clean(self) -> None:
        super().clean()
        positions = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if data and not data.get("DELETE") and data.get("event_type"):
                positions.append(data.get("position"))
        if len(positions) != len(set(positions)):
            raise forms.ValidationError("Two steps have the same position: give each its own.")


StepFormSet = inlineformset_factory(
    ReferencePathway,
    PathwayStep,
    formset=_Steps,
    fields=["position", "event_type", "latest_day", "required"],
    extra=3,
    can_delete=True,
    labels={"latest_day": "Latest day (from the birth)"},
)


def step_formset(study: Study, **kwargs: Any) -> Any:
    formset = StepFormSet(**kwargs)
    types = EventType.objects.filter(study=study)
    for form in formset.forms:
        form.fields["event_type"].queryset = types  # type: ignore[attr-defined]
    formset.empty_form.fields["event_type"].queryset = types  # type: ignore[attr-defined]
    return formset


class LogImportForm(forms.Form):
    file = forms.FileField(
        help_text="CSV (any delimiter, optionally gzipped), Parquet, XES (IEEE 1849, .xes or "
        ".xes.gz) or OCEL 2.0 JSON; up to 500 MB."
    )
    format = forms.ChoiceField(choices=list(FORMATS.items()))
    name = forms.CharField(max_length=200, required=False, help_text="Defaults to the file name.")
    case = forms.CharField(
        label="Case column", required=False, help_text="CSV and Parquet; default case_id."
    )
    activity = forms.CharField(
        label="Activity column", required=False, help_text="Default activity."
    )
    timestamp = forms.CharField(
        label="Timestamp column", required=False, help_text="Default timestamp."
    )
    timestamp_format = forms.CharField(
        required=False,
        help_text="Only when dates are not ISO 8601, e.g. %d/%m/%Y %H:%M (strptime codes).",
    )
    naive_timezone = forms.CharField(
        label="Time zone of times without an offset", initial="Europe/London", required=False
    )
    object_type = forms.CharField(
        label="OCEL object type that makes a case",
        required=False,
        help_text="OCEL only; may be left empty when the log has one object type.",
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_LOG_BYTES:
            raise forms.ValidationError("The file is larger than 500 MB.")
        return upload

    def clean_naive_timezone(self) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        zone = self.cleaned_data.get("naive_timezone") or "UTC"
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise forms.ValidationError(f"Unknown time zone {zone!r}.") from error
        return zone

    def options(self) -> dict[str, str]:
        keys = (
            "case",
            "activity",
            "timestamp",
            "timestamp_format",
            "naive_timezone",
            "object_type",
        )
        return {key: self.cleaned_data.get(key) or "" for key in keys}
