from __future__ import annotations

from typing import Any

from django import forms

from steppingstones.evidence.meta import METHODS
from steppingstones.evidence.meta_input import MEASURE_COLUMNS, MetaFileError, read_study_table
from steppingstones.evidence.models import (
    ChartedDocument,
    ChartingTheme,
    IncludedStudy,
    MetaAnalysis,
    QualitativeFinding,
    Review,
    ReviewFinding,
    Theme,
)

FRAMEWORK_PARTS = {
    "PICO": ("Population", "Intervention", "Comparison", "Outcome"),
    "PICOS": ("Population", "Intervention", "Comparison", "Outcome", "Study design"),
    "SPIDER": ("Sample", "Phenomenon of interest", "Design", "Evaluation", "Research type"),
    "PCC": ("Population", "Concept", "Context"),
}
MEASURE_NAMES = {
    "RR": "Risk ratio (2×2 counts)",
    "OR": "Odds ratio (2×2 counts)",
    "RD": "Risk difference (2×2 counts)",
    "MD": "Mean difference",
    "SMD": "Standardised mean difference (Hedges' g)",
    "PR": "Raw proportion",
    "PLO": "Logit proportion",
    "PAS": "Arcsine proportion",
    "PFT": "Double-arcsine proportion (Freeman-Tukey)",
    "ZCOR": "Fisher's z correlation",
    "GEN": "Supplied yi and vi",
}
METHOD_NAMES = {
    "EE": "Common effect (inverse variance)",
    "DL": "DerSimonian-Laird",
    "REML": "Restricted maximum likelihood",
    "ML": "Maximum likelihood",
    "PM": "Paule-Mandel",
    "HE": "Hedges",
    "SJ": "Sidik-Jonkman",
}


class ReviewForm(forms.ModelForm):
    class Meta:
        model = Review
        fields = [
            "title",
            "slug",
            "kind",
            "question",
            "framework",
            "registration",
            "dual_screening",
        ]
        help_texts = {"slug": "Short name used in addresses and citation keys, e.g. integrated."}
        widgets = {"question": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, study: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.study = study
        framework = self.instance.framework or "PICO"
        for part in sorted({p for parts in FRAMEWORK_PARTS.values() for p in parts}):
            self.fields[f"part_{part}"] = forms.CharField(
                label=part,
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
                initial=self.instance.framework_answers.get(part, ""),
                help_text="Used by: "
                + ", ".join(k for k, parts in FRAMEWORK_PARTS.items() if part in parts),
            )
        self.framework_default = framework
        self.fields["criteria_text"] = forms.CharField(
            label="Eligibility criteria",
            required=False,
            widget=forms.Textarea(attrs={"rows": 5}),
            initial="\n".join(self.instance.criteria),
            help_text="One a line, e.g. “Not about pregnant or postnatal women”. Each is an "
            "exclusion reason in screening and in the PRISMA diagram.",
        )
        for name, label in (
            ("include_keywords", "Inclusion keywords"),
            ("exclude_keywords", "Exclusion keywords"),
        ):
            self.fields[f"{name}_text"] = forms.CharField(
                label=label,
                required=False,
                initial=", ".join(getattr(self.instance, name)),
                help_text="Separated by commas; highlighted in titles and abstracts.",
            )

    def clean_slug(self) -> str:
        slug: str = self.cleaned_data["slug"]
        clash = Review.objects.filter(study=self.study, slug=slug).exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError("Another review of this study has this short name.")
        return slug

    def save(self, commit: bool = True) -> Review:
        self.instance.study = self.study
        self.instance.criteria = [
            line.strip()
            for line in self.cleaned_data.get("criteria_text", "").splitlines()
            if line.strip()
        ]
        for name in ("include_keywords", "exclude_keywords"):
            text = self.cleaned_data.get(f"{name}_text", "")
            setattr(self.instance, name, [w.strip() for w in text.split(",") if w.strip()])
        parts = FRAMEWORK_PARTS.get(self.cleaned_data.get("framework") or "", ())
        self.instance.framework_answers = {
            part: self.cleaned_data[f"part_{part}"].strip()
            for part in parts
            if self.cleaned_data.get(f"part_{part}", "").strip()
        }
        review: Review = super().save(commit)
        return review


class IncludedStudyForm(forms.ModelForm):
    class Meta:
        model = IncludedStudy
        fields = ["label", "design", "citation", "doi"]
        widgets = {"citation": forms.Textarea(attrs={"rows": 3})}


class MetaAnalysisForm(forms.ModelForm):
    table = forms.CharField(
        label="Data (CSV)",
        widget=forms.Textarea(attrs={"rows": 10, "spellcheck": "false"}),
        help_text=(
            "One row a study, with a header: <code>study</code> and the measure's columns "
            "(2×2: ai,bi,ci,di; means: m1i,sd1i,n1i,m2i,sd2i,n2i; proportions: xi,ni; "
            "correlations: ri,ni; supplied: yi,vi). Extra columns may hold subgroups."
        ),
    )
    data_file = forms.FileField(label="Or upload a CSV file", required=False)
    moderator_text = forms.CharField(
        label="Moderators for meta-regression",
        required=False,
        help_text="Numeric columns of the data, separated by commas (optional).",
    )

    class Meta:
        model = MetaAnalysis
        fields = ["title", "outcome", "measure", "method", "hksj", "subgroup_column"]
        help_texts = {"subgroup_column": "A column of the data to analyse subgroups by (optional)."}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["measure"] = forms.ChoiceField(
            choices=[(key, f"{key}: {MEASURE_NAMES[key]}") for key in MEASURE_COLUMNS]
        )
        self.fields["method"] = forms.ChoiceField(
            choices=[(key, f"{key}: {METHOD_NAMES.get(key, key)}") for key in METHODS],
            initial="REML",
        )
        self.fields["table"].required = False
        if self.instance.pk and self.instance.rows:
            self.initial["table"] = table_text(self.instance.columns, self.instance.rows)
            self.initial["moderator_text"] = ", ".join(self.instance.moderators)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        upload = cleaned.get("data_file")
        text = cleaned.get("table") or ""
        if upload is not None:
            if upload.size > 5 * 1024 * 1024:
                raise forms.ValidationError("The file is larger than 5 MB.")
            try:
                text = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError as error:
                raise forms.ValidationError(
                    f"{upload.name}: not UTF-8 text (byte {error.start})"
                ) from error
        if not text.strip():
            self.add_error("table", "Paste the data or upload a CSV file.")
            return cleaned
        measure = cleaned.get("measure")
        if not measure:
            return cleaned
        try:
            read_study_table(text, measure)
        except MetaFileError as error:
            self.add_error("table", f"Data {error}")
            return cleaned
        columns, rows = parse_rows(text)
        group = (cleaned.get("subgroup_column") or "").strip()
        if group and group not in columns:
            self.add_error("subgroup_column", f"The data have no column {group!r}.")
        names = [n.strip() for n in (cleaned.get("moderator_text") or "").split(",") if n.strip()]
        missing = [name for name in names if name not in columns]
        if missing:
            self.add_error("moderator_text", f"The data have no column {', '.join(missing)}.")
        cleaned["moderators"] = names
        cleaned["columns"], cleaned["rows"] = columns, rows
        return cleaned

    def save(self, commit: bool = True) -> MetaAnalysis:
        self.instance.columns = self.cleaned_data["columns"]
        self.instance.rows = self.cleaned_data["rows"]
        self.instance.moderators = self.cleaned_data.get("moderators", [])
        analysis: MetaAnalysis = super().save(commit)
        return analysis


def parse_rows(text: str) -> tuple[list[str], list[list[str]]]:
    import csv
    import io

    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = [name.strip() for name in next(reader)]
    rows = [[cell.strip() for cell in row] for row in reader if any(cell.strip() for cell in row)]
    return header, rows


def table_text(columns: list[str], rows: list[list[str]]) -> str:
    import csv
    import io

    handle = io.StringIO()
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return handle.getvalue()


class QuotesField(forms.CharField):
    """Quotes one per line, optionally ending with ``(p. 12)`` for the page."""

    widget = forms.Textarea(attrs={"rows": 4})

    def to_python(self, value: Any) -> list[dict[str, str]]:  # type: ignore[override]
        import re

        quotes = []
        for line in (super().to_python(value) or "").splitlines():
            line = line.strip()
            if not line:
                continue
            match = re.match(r"^(.*?)\s*\(p(?:p)?\.?\s*([\w\-–]+)\)\s*$", line)
            if match:
                quotes.append({"quote": match.group(1).strip(), "page": match.group(2)})
            else:
                quotes.append({"quote": line, "page": ""})
        return quotes


def quotes_text(quotes: list[dict[str, str]]) -> str:
    return "\n".join(
        f"{item['quote']} (p. {item['page']})" if item.get("page") else item["quote"]
        for item in quotes
    )


class QualitativeFindingForm(forms.ModelForm):
    quotes = QuotesField(
        required=False,
        help_text="Supporting quotes, one per line; end a line with (p. 12) to give its page.",
    )

    class Meta:
        model = QualitativeFinding
        fields = ["text"]
        labels = {"text": "Finding"}
        widgets = {"text": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["quotes"] = quotes_text(self.instance.quotes)

    def save(self, commit: bool = True) -> QualitativeFinding:
        self.instance.quotes = self.cleaned_data["quotes"]
        finding: QualitativeFinding = super().save(commit)
        return finding


class ThemeForm(forms.ModelForm):
    class Meta:
        model = Theme
        fields = ["title", "kind", "parent", "findings"]
        widgets = {"findings": forms.CheckboxSelectMultiple}
        help_texts = {"parent": "An analytical theme this descriptive theme feeds (optional)."}

    def __init__(self, *args: Any, review: Review, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        parents = Theme.objects.filter(review=review, kind=Theme.Kind.ANALYTICAL)
        if self.instance.pk:
            parents = parents.exclude(pk=self.instance.pk)
        self.fields["parent"].queryset = parents  # type: ignore[attr-defined]
        self.fields["findings"].queryset = (  # type: ignore[attr-defined]
            QualitativeFinding.objects.filter(study__review=review).select_related("study")
        )
        self.fields["findings"].label_from_instance = _finding_label  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("parent") and cleaned.get("kind") == Theme.Kind.ANALYTICAL:
            self.add_error("parent", "An analytical theme has no parent theme.")
        return cleaned


def _finding_label(finding: QualitativeFinding) -> str:
    return f"{finding.study.label}: {finding.text[:120]}"


CONCERNS = [
    ("no or very minor", "No or very minor concerns"),
    ("minor", "Minor concerns"),
    ("moderate", "Moderate concerns"),
    ("serious", "Serious concerns"),
]
CONFIDENCE = [
    ("high", "High confidence"),
    ("moderate", "Moderate confidence"),
    ("low", "Low confidence"),
    ("very low", "Very low confidence"),
]
COMPONENTS = [
    ("methodological_limitations", "Methodological limitations"),
    ("coherence", "Coherence"),
    ("adequacy", "Adequacy of data"),
    ("relevance", "Relevance"),
]


class ReviewFindingForm(forms.ModelForm):
    class Meta:
        model = ReviewFinding
        fields = ["statement", "theme", "findings"]
        labels = {
            "statement": "Summarised review finding",
            "findings": "Contributing study findings",
        }
        widgets = {
            "statement": forms.Textarea(attrs={"rows": 3}),
            "findings": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args: Any, review: Review, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["theme"].queryset = Theme.objects.filter(review=review)  # type: ignore[attr-defined]
        self.fields["findings"].queryset = (  # type: ignore[attr-defined]
            QualitativeFinding.objects.filter(study__review=review).select_related("study")
        )
        self.fields["findings"].label_from_instance = _finding_label  # type: ignore[attr-defined]
        assessment = self.instance.assessment or {}
        for key, label in COMPONENTS:
            part = assessment.get("components", {}).get(key, {})
            self.fields[f"{key}_concern"] = forms.ChoiceField(
                label=f"{label}: concerns",
                choices=CONCERNS,
                initial=part.get("concern", "no or very minor"),
            )
            self.fields[f"{key}_explanation"] = forms.CharField(
                label=f"{label}: explanation",
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
                initial=part.get("explanation", ""),
            )
        self.fields["overall"] = forms.ChoiceField(
            label="Overall CERQual assessment of confidence",
            choices=CONFIDENCE,
            initial=assessment.get("overall", "high"),
            help_text="Every finding starts as high confidence; downgrade for concerns.",
        )
        self.fields["overall_explanation"] = forms.CharField(
            label="Explanation of the overall assessment",
            required=False,
            widget=forms.Textarea(attrs={"rows": 3}),
            initial=assessment.get("explanation", ""),
        )

    def assessment_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "components": {
                key: {
                    "concern": data[f"{key}_concern"],
                    "explanation": data[f"{key}_explanation"].strip(),
                }
                for key, _ in COMPONENTS
            },
            "overall": data["overall"],
            "explanation": data["overall_explanation"].strip(),
        }


class ChartingThemeForm(forms.ModelForm):
    class Meta:
        model = ChartingTheme
        fields = ["name", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: Any, review: Review, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.review = review

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        clash = ChartingTheme.objects.filter(review=self.review, name__iexact=name)
        if clash.exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError("This review already has a theme with this name.")
        return name


class AudienceField(forms.CharField):
    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().to_python(value) or ""
        return [part.strip() for part in text.split(";") if part.strip()]


class ChartedDocumentForm(forms.ModelForm):
    audience = AudienceField(
        required=False, help_text="Separate audiences with semicolons, e.g. midwives; GPs."
    )

    class Meta:
        model = ChartedDocument
        fields = ["issuing_body", "nation", "year", "document_type", "audience", "themes", "notes"]
        widgets = {
            "themes": forms.CheckboxSelectMultiple,
            "notes": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {"document_type": "Type of document", "themes": "Themes addressed"}

    def __init__(self, *args: Any, review: Review, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["themes"].queryset = ChartingTheme.objects.filter(review=review)  # type: ignore[attr-defined]
        if self.instance.pk:
            self.initial["audience"] = "; ".join(self.instance.audience)

    def clean_year(self) -> int:
        year: int = self.cleaned_data["year"]
        if not 1900 <= year <= 2100:
            raise forms.ValidationError("Give the year of publication, e.g. 2021.")
        return year
