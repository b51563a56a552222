"""Evidence pages: reviews, included studies, meta-analyses, qualitative synthesis, charting.

Extraction and appraisal pages are in :mod:`.views_extraction`.
"""

from __future__ import annotations

import io
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.db.models import Count, Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from steppingstones.core.middleware import upload_limit
from steppingstones.core.policy import Access, study_view
from steppingstones.evidence import cerqual, charting, pooling
from steppingstones.evidence.figures import svg_to
from steppingstones.evidence.forms import (
    FRAMEWORK_PARTS,
    MEASURE_NAMES,
    METHOD_NAMES,
    ChartedDocumentForm,
    ChartingThemeForm,
    IncludedStudyForm,
    MetaAnalysisForm,
    QualitativeFindingForm,
    ReviewFindingForm,
    ReviewForm,
    ThemeForm,
)
from steppingstones.evidence.meta import MetaInputError
from steppingstones.evidence.meta_input import RATIO_MEASURES, MetaFileError
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

FORM_PAGE = "evidence/form.html"
FIGURE_TYPES = {
    "svg": "image/svg+xml",
    "png": "image/png",
    "pdf": "application/pdf",
}


def review_of(access: Access, slug: str) -> Review:
    review = Review.objects.filter(study=access.study, slug=slug).first()
    if review is None:
        raise Http404
    return review


def study_of(review: Review, ref: str) -> IncludedStudy:
    study = IncludedStudy.objects.filter(review=review, ref=ref).first()
    if study is None:
        raise Http404
    return study


def form_page(
    request: HttpRequest,
    access: Access,
    *,
    title: str,
    form: Any,
    back: str,
    review: Review | None = None,
    **extra: Any,
) -> HttpResponse:
    context = {"title": title, "form": form, "back": back, "review": review, **extra}
    return render(request, FORM_PAGE, context)


@study_view("area:evidence")
def index(request: HttpRequest, access: Access) -> HttpResponse:
    reviews = Review.objects.filter(study=access.study).annotate(
        study_count=Count("studies", distinct=True)
    )
    return render(request, "evidence/index.html", {"reviews": reviews})


@study_view("area:evidence")
@require_http_methods(["GET", "POST"])
def review_add(request: HttpRequest, access: Access) -> HttpResponse:
    access.require("write")
    form = ReviewForm(request.POST or None, study=access.study)
    if request.method == "POST" and form.is_valid():
        review = form.save()
        messages.success(request, f"Review “{review.title}” created.")
        return redirect("evidence_review", access.study.slug, review.slug)
    return form_page(
        request,
        access,
        title="New review",
        form=form,
        back=reverse("evidence_index", args=[access.study.slug]),
        framework_parts=FRAMEWORK_PARTS,
    )


@study_view("area:evidence")
@require_http_methods(["GET", "POST"])
def review_edit(request: HttpRequest, access: Access, review: str) -> HttpResponse:
    access.require("write")
    found = review_of(access, review)
    form = ReviewForm(request.POST or None, instance=found, study=access.study)
    if request.method == "POST" and form.is_valid():
        found = form.save()
        messages.success(request, "Review saved.")
        return redirect("evidence_review", access.study.slug, found.slug)
    return form_page(
        request,
        access,
        title=f"Edit {found.title}",
        form=form,
        review=found,
        back=reverse("evidence_review", args=[access.study.slug, found.slug]),
    )


@study_view("area:evidence")
def review_detail(request: HttpRequest, access: Access, review: str) -> HttpResponse:
    found = review_of(access, review)
    studies = found.studies.annotate(
        extraction_count=Count("extractions", distinct=True),
        appraisal_count=Count("appraisals", distinct=True),
        finding_count=Count("findings", distinct=True),
    )
    framework = [
        (part, found.framework_answers.get(part, ""))
        for part in FRAMEWORK_PARTS.get(found.framework, ())
    ]
    return render(
        request,
        "evidence/review.html",
        {
            "review": found,
            "studies": studies,
            "framework": framework,
            "analyses": found.meta_analyses.all(),
            "finding_count": found.review_findings.count(),
            "theme_count": found.charting_themes.count(),
        },
    )


@study_view("area:evidence")
@require_http_methods(["GET", "POST"])
def study_add(request: HttpRequest, access: Access, review: str) -> HttpResponse:
    access.require("write")
    found = review_of(access, review)
    initial = {"design": "document"} if found.is_scoping else {}
    form = IncludedStudyForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            form.instance.review = found
            form.instance.ref = found.allocate_ref("S")
            study = form.save()
        messages.success(request, f"{study.label} added as {study.ref}.")
        return redirect("evidence_study", access.study.slug, found.slug, study.ref)
    return form_page(
        request,
        access,
        title="Add an included study",
        form=form,
        review=found,
        back=reverse("evidence_review", args=[access.study.slug, found.slug]),
    )


@study_view("area:evidence")
@require_http_methods(["GET", "POST"])
def study_edit(request: HttpRequest, access: Access, review: str, ref: str) -> HttpResponse:
    access.require("write")
    found = review_of(access, review)
    study = study_of(found, ref)
    form = IncludedStudyForm(request.POST or None, instance=study)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Study saved.")
        return redirect("evidence_study", access.study.slug, found.slug, study.ref)
    return form_page(
        request,
        access,
        title=f"Edit {study.label}",
        form=form,
        review=found,
        back=reverse("evidence_study", args=[access.study.slug, found.slug, study.ref]),
    )


@study_view("area:evidence")
def study_detail(request: HttpRequest, access: Access, review: str, ref: str) -> HttpResponse:
    from steppingstones.evidence.views_extraction import study_panels

    found = review_of(access, review)
    study = study_of(found, ref)
    context = {
        "review": found,
        "study": study,
        "findings": study.findings.all(),
        "charting": ChartedDocument.objects.filter(study=study).first(),
        **study_panels(request, access, found, study),
    }
    return render(request, "evidence/study.html", context)


# ---- meta-analysis ----------------------------------------------------------------------


def _analysis(review: Review, ref: str) -> MetaAnalysis:
    analysis = MetaAnalysis.objects.filter(review=review, ref=ref).first()
    if analysis is None:
        raise Http404
    return analysis


def _run(analysis: MetaAnalysis) -> dict[str, Any]:
    return pooling.analyse(
        analysis.columns,
        analysis.rows,
        measure=analysis.measure,
        method=analysis.method,
        hksj=analysis.hksj,
        subgroup_column=analysis.subgroup_column,
        moderators=analysis.moderators,
    )


def _save_analysis(form: MetaAnalysisForm, review: Review) -> MetaAnalysis | None:
    analysis = form.save(commit=False)
    try:
        analysis.result = _run(analysis)
    except (MetaFileError, MetaInputError, ValueError) as error:
        form.add_error(None, f"The analysis cannot run: {error}")
        return None
    with transaction.atomic():
        if not analysis.pk:
            analysis.review = review
            analysis.ref = review.allocate_ref("MA")
        analysis.save()
    return analysis


@upload_limit(6 * 1024 * 1024)
@study_view("area:evidence")
@require_http_methods(["GET", "POST"])
def meta_add(request: HttpRequest, access: Access, review: str) -> HttpResponse:
    access.require("write")
    found = review_of(access, review)
    form = MetaAnalysisForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        analysis = _save_analysis(form, found)
        if analysis is not None:
            messages.success(request, f"Analysis {analysis.ref} saved.")
            return redirect("evidence_meta", access.study.slug, found.slug, analysis.ref)
    return form_page(
        request,
        access,
        title="New meta-analysis",
        form=form,
        review=found,
        multipart=True,
        back=reverse("evidence_review", args=[access.study.slug, found.slug]),
    )


@study_view("area:evidence")
@require_http_methods(["GET", "POST"])
def meta_edit(request: HttpRequest, access: Access, review: str, ref: str) -> HttpResponse:
    access.require("write")
    found = review_of(access, review)
    analysis = _analysis(found, ref)
    form = MetaAnalysisForm(request.POST or None, request.FILES or None, instance=analysis)
    if request.method == "POST" and form.is_valid() and _save_analysis(form, found) is not None:
        messages.success(request, f"Analysis {analysis.ref} saved.")
        return redirect("evidence_meta", access.study.slug, found.slug, analysis.ref)
    return form_page(
        request,
        access,
        title=f"Edit {analysis.ref}",
        form=form,
        review=found,
        multipart=True,
        back=reverse("evidence_meta", args=[access.study.slug, found.slug, analysis.ref]),
    )


def _subgroup_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"name": name, **values} for name, values in report.get("subgroups", {}).items()]


@study_view("area:evidence")
def meta_detail(request: HttpRequest, access: Access, review: str, ref: str) -> HttpResponse:
    found = review_of(access, review)
    analysis = _analysis(found, ref)
    report = analysis.result
    return render(
        request,
        "evidence/meta.html",
        {
            "review": found,
            "analysis": analysis,
            "report": report,
            "ratio": analysis.measure in RATIO_MEASURES,
            "measure_name": MEASURE_NAMES.get(analysis.measure, analysis.measure),
            "method_name": METHOD_NAMES.get(analysis.method, analysis.method),
            "subgroups": _subgroup_rows(report),
            "forest": pooling.forest(report),
            "funnel": pooling.funnel(report) if report["k"] >= 3 else "",
            "citation_key": f"{found.slug}/{analysis.ref}",
        },
    )


@study_view("area:evidence")
def meta_figure(
    request: HttpRequest, access: Access, review: str, ref: str, figure: str, fmt: str
) -> HttpResponse:
    found = review_of(access, review)
    analysis = _analysis(found, ref)
    if fmt not in FIGURE_TYPES or figure not in ("forest", "funnel"):
        raise Http404
    report = analysis.result
    if figure == "forest":
        svg = pooling.forest(report)
    else:
        if report["k"] < 3:
            raise Http404
        svg = pooling.funnel(report, contours=request.GET.get("contours") == "1")
    response = HttpResponse(svg_to(svg, fmt), content_type=FIGURE_TYPES[fmt])
    filename = f"{found.slug}-{analysis.ref}-{figure}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# ---- qualitative evidence synthesis ------------------------------------------------------


@study_view("area:evidence")
@require_http_methods(["GET", "POST"])
def finding_add(request: HttpRequest, access: Access, review: str, ref: str) -> HttpResponse:
    access.require("write")
    found = review_of(access, review)
    study = study_of(found, ref)
    form = QualitativeFindingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.instance.study = study
        form.save()
        messages.success(request, "Finding added.")
        return redirect("evidence_study", access.study.slug, found.slug, study.ref)
    return form_page(
        request,
        access,
        title=f"Add a finding from {study.label}",
        form=form,
        review=found,
        back=reverse("evidence_study", args=[access.study.slug, found.slug, study.ref]),
    )


@study_view("area:evidence")
@require_http_methods(["GET", "POST"])
def finding_edit(
    request: HttpRequest, access: Access, review: str, ref: str, finding: int
) -> HttpResponse:
    access.require("write")
    found = review_of(access, review)
    study = study_of(found, ref)
    item = QualitativeFinding.objects.filter(study=study, pk=finding).first()
    if item is None:
        raise Http404
    form = QualitativeFindingForm(request.POST or None, instance=item)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Finding saved.")
        return redirect("evidence_study", access.study.slug, found.slug, study.ref)
    return form_page(
        request,
        access,
        title=f"Edit a finding from {study.label}",
        form=form,
        review=found,
        back=reverse("evidence_study", args=[access.study.slug, found.slug, study.ref]),
    )


def _assessment(data: dict[str, Any]) -> cerqual.Assessment | None:
    if not data:
        return None
    components = data["components"]
    return cerqual.Assessment(
        methodological_limitations=cerqual.Component(**components["methodological_limitations"]),
        coherence=cerqual.Component(**components["coherence"]),
        adequacy=cerqual.Component(**components["adequacy"]),
        relevance=cerqual.Component(**components["relevance"]),
        overall=data["overall"],
        explanation=data["explanation"],
    )


def _soqf_rows(review: Review) -> list[dict[str, Any]]:
    """The Summary of Qualitative Findings, numbered by each finding's citable reference."""
    items = list(
        review.review_findings.select_related("theme").prefetch_related(
            Prefetch("findings", queryset=QualitativeFinding.objects.select_related("study"))
        )
    )
    findings = []
    assessments = {}
    for item in items:
        studies = sorted({finding.study.label for finding in item.findings.all()})
        findings.append(
            cerqual.ReviewFinding(
                id=item.ref,
                summary=item.statement,
                studies=studies,
                theme_id=item.theme.ref if item.theme else None,
            )
        )
        assessment = _assessment(item.assessment)
        if assessment is not None:
            assessments[item.ref] = assessment
    rows = cerqual.summary_of_qualitative_findings(findings, assessments, allow_unassessed=True)
    for item, row in zip(items, rows, strict=True):
        row["#"] = item.ref
    return rows


def _soqf_display(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "ref": row["#"],
            "finding": row["Summarised review finding"],
            "studies": row["Studies contributing to the review finding"],
            "confidence": row["CERQual assessment of confidence"],
            "explanation": row["Explanation of CERQual assessment"],
        }
        for row in rows
    ]


@study_view("area:evidence")
def synthesis(request: HttpRequest, access: Access, review: str) -> HttpResponse:
    found = review_of(access, review)
    themes = Theme.objects.filter(review=found).prefetch_related(
        Prefetch("findings", queryset=QualitativeFinding.objects.select_related("study"))
    )
    analytical = [theme for theme in themes if theme.kind == Theme.Kind.ANALYTICAL]
    descriptive = [theme for theme in themes if theme.kind == Theme.Kind.DESCRIPTIVE]
    return render(
        request,
        "evidence/synthesis.html",
        {
            "review": found,
            "analytical": analytical,
            "unparented": [theme for theme in descriptive if theme.parent_id is None],
            "descriptive": descriptive,
            "rows": _soqf_display(_soqf_rows(found)),
            "finding_total": QualitativeFinding.objects.filter(study__review=found).count(),
        },
    )


@study_view("area:evidence")
def soqf_csv(request: HttpRequest, access: Access, review: str) -> HttpResponse:
    found = review_of(access, review)
    handle = io.StringIO()
    cerqual.write_soqf_csv(handle, _soqf_rows(found))
    response = HttpResponse(handle.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{found.slug}-soqf.csv"'
    return response


def _referenced_edit(
    request: HttpRequest,
    access: Access,
    review: str,
    ref: str | None,
    *,
    model: Any,
    form_class: Any,
    prefix: str,
    noun: str,
    back: str,
) -> HttpResponse:
    """Add or edit a review item that carries a citable reference (allocated on creation)."""
    access.require("write")
    found = review_of(access, review)
    item = model.objects.filter(review=found, ref=ref).first() if ref else None
    if ref and item is None:
        raise Http404
    form = form_class(request.POST or None, instance=item, review=found)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            if item is None:
                form.instance.review = found
                form.instance.ref = found.allocate_ref(prefix)
            form.save()
        messages.success(request, f"{noun.capitalize()} {form.instance.ref} saved.")
        return redirect(back, access.study.slug, found.slug)
    return form_page(
        request,
        access,
        title=f"Edit {noun} {item.ref}" if item else f"New {noun}",
        form=form,
        review=found,
        back=reverse(back, args=[access.study.slug, found.slug]),
    )


@study_view("area:evidence")
@require_http_methods(["GET", "POST"])
def theme_edit(
    request: HttpRequest, access: Access, review: str, ref: str | None = None
) -> HttpResponse:
    return _referenced_edit(
        request,
        access,
        review,
        ref,
        model=Theme,
        form_class=ThemeForm,
        prefix="T",
        noun="theme",
        back="evidence_synthesis",
    )


@study_view("area:evidence")
@require_http_methods(["GET", "POST"])
def review_finding_edit(
    request: HttpRequest, access: Access, review: str, ref: str | None = None
) -> HttpResponse:
    access.require("write")
    found = review_of(access, review)
    item = ReviewFinding.objects.filter(review=found, ref=ref).first() if ref else None
    if ref and item is None:
        raise Http404
    form = ReviewFindingForm(request.POST or None, instance=item, review=found)
    warnings: list[str] = []
    if request.method == "POST" and form.is_valid():
        assessment = form.assessment_data()
        problems = cerqual.validate_assessment(_assessment(assessment))  # type: ignore[arg-type]
        errors = [problem for problem in problems if not problem.startswith("Warning")]
        warnings = [problem for problem in problems if problem.startswith("Warning")]
        if errors:
            for problem in errors:
                form.add_error(None, problem)
        elif warnings and request.POST.get("confirmed") != "1":
            pass
        else:
            with transaction.atomic():
                if item is None:
                    form.instance.review = found
                    form.instance.ref = found.allocate_ref("QF")
                form.instance.assessment = assessment
                form.save()
            messages.success(request, f"Finding {form.instance.ref} saved.")
            return redirect("evidence_synthesis", access.study.slug, found.slug)
    suggested = ""
    if item is not None and item.assessment:
        suggested = cerqual.suggest_overall(_components(item.assessment))
    return form_page(
        request,
        access,
        title=f"Review finding {item.ref}" if item else "New review finding",
        form=form,
        review=found,
        warnings=warnings,
        suggested=suggested,
        back=reverse("evidence_synthesis", args=[access.study.slug, found.slug]),
    )


def _components(data: dict[str, Any]) -> Any:
    assessment = _assessment(data)
    assert assessment is not None
    return cerqual.components_of(assessment)


# ---- scoping-review charting -------------------------------------------------------------


def _charted(review: Review) -> list[charting.ChartedDocument]:
    documents = ChartedDocument.objects.filter(study__review=review).select_related("study")
    documents = documents.prefetch_related("themes")
    return [
        charting.ChartedDocument(
            id=document.study.ref,
            title=document.study.label,
            issuing_body=document.issuing_body,
            nation=document.nation,
            year=document.year,
            type=document.document_type,
            audience=list(document.audience),
            themes=[theme.name for theme in document.themes.all()],
        )
        for document in documents
    ]


@study_view("area:evidence")
def charting_overview(request: HttpRequest, access: Access, review: str) -> HttpResponse:
    found = review_of(access, review)
    documents = _charted(found)
    themes = ChartingTheme.objects.filter(review=found).annotate(document_count=Count("documents"))
    context: dict[str, Any] = {"review": found, "documents": documents, "themes": themes}
    if documents:
        grid = charting.evidence_map(documents, rows="themes", columns="nation")
        context.update(
            nation_chart=charting.bar_chart_svg(
                charting.counts_by(documents, "nation"), "Documents by nation"
            ),
            year_chart=charting.year_chart_svg(
                charting.counts_by(documents, "year"), "Documents by year of publication"
            ),
            theme_chart=charting.bar_chart_svg(
                charting.counts_by(documents, "themes"), "Documents by theme"
            ),
            evidence_map=charting.evidence_map_svg(grid, "Evidence map: theme by nation"),
        )
    return render(request, "evidence/charting.html", context)


@study_view("area:evidence")
def charting_csv(request: HttpRequest, access: Access, review: str) -> HttpResponse:
    found = review_of(access, review)
    handle = io.StringIO()
    charting.write_chart_csv(
        handle,
        _charted(found),
        ["id", "title", "issuing_body", "nation", "year", "type", "audience", "themes"],
    )
    response = HttpResponse(handle.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{found.slug}-charting.csv"'
    return response


@study_view("area:evidence")
@require_http_methods(["GET", "POST"])
def charting_theme_edit(
    request: HttpRequest, access: Access, review: str, ref: str | None = None
) -> HttpResponse:
    return _referenced_edit(
        request,
        access,
        review,
        ref,
        model=ChartingTheme,
        form_class=ChartingThemeForm,
        prefix="CT",
        noun="charting theme",
        back="evidence_charting",
    )


@study_view("area:evidence")
@require_http_methods(["GET", "POST"])
def charting_edit(request: HttpRequest, access: Access, review: str, ref: str) -> HttpResponse:
    access.require("write")
    found = review_of(access, review)
    study = study_of(found, ref)
    document = ChartedDocument.objects.filter(study=study).first()
    form = ChartedDocumentForm(request.POST or None, instance=document, review=found)
    if request.method == "POST" and form.is_valid():
        form.instance.study = study
        form.save()
        messages.success(request, f"Charting of {study.label} saved.")
        return redirect("evidence_study", access.study.slug, found.slug, study.ref)
    return form_page(
        request,
        access,
        title=f"Chart {study.label}",
        form=form,
        review=found,
        back=reverse("evidence_study", args=[access.study.slug, found.slug, study.ref]),
    )


@study_view("area:evidence")
def citation(request: HttpRequest, access: Access, review: str, ref: str) -> HttpResponse:
    """Where a citation key ``<review>/<ref>`` leads: the page of the cited evidence."""
    from steppingstones.evidence.citations import resolve

    cited = resolve(access.study, f"{review}/{ref}")
    if cited is None:
        raise Http404
    return redirect(cited.url)
