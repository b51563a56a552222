from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from steppingstones.core.policy import Access, study_view
from steppingstones.voices import access as access_policy
from steppingstones.voices.models import AgreementRound, Code, Coding, Framework, Memo, Source


@study_view("area:voices")
def index(request: HttpRequest, access: Access) -> HttpResponse:
    sources = access_policy.visible_sources(access)
    by_kind = (
        sources.values("kind")
        .annotate(
            total=Count("pk"),
            ready=Count("pk", filter=Q(status=Source.Status.READY)),
        )
        .order_by("kind")
    )
    kind_names = dict(Source.Kind.choices)
    codings = Coding.objects.filter(source__in=sources.filter(status=Source.Status.READY))
    figures = {
        "sources": sources.count(),
        "awaiting_review": sources.filter(status=Source.Status.REVIEW).count(),
        "codes": Code.objects.filter(study=access.study).count(),
        "codings": codings.count(),
        "coders": codings.values("coder_name").distinct().count(),
        "memos": Memo.objects.filter(study=access.study).count(),
        "frameworks": Framework.objects.filter(study=access.study).count(),
        "rounds": AgreementRound.objects.filter(study=access.study).count(),
    }
    return render(
        request,
        "voices/index.html",
        {
            "area": "voices",
            "figures": figures,
            "kinds": [{"name": kind_names.get(row["kind"], row["kind"]), **row} for row in by_kind],
        },
    )
