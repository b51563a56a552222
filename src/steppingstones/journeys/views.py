from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from steppingstones.core.policy import Access, study_view
from steppingstones.journeys.models import EventLog, JourneyEvent, ReferencePathway, TimingRule


@study_view("area:journeys")
def index(request: HttpRequest, access: Access) -> HttpResponse:
    events = JourneyEvent.objects.filter(study=access.study)
    if access.site_ids is not None:
        events = events.filter(participant__site_id__in=access.site_ids)
    by_service = events.values("service").annotate(total=Count("pk")).order_by("-total")
    service_names = dict(JourneyEvent._meta.get_field("service").choices or [])
    figures = {
        "women": events.values("participant").distinct().count(),
        "events": events.count(),
        "logs": EventLog.objects.filter(study=access.study).count(),
        "rules": TimingRule.objects.filter(study=access.study).count(),
        "pathways": ReferencePathway.objects.filter(study=access.study).count(),
    }
    return render(
        request,
        "journeys/index.html",
        {
            "area": "journeys",
            "figures": figures,
            "services": [
                {"name": service_names.get(row["service"], row["service"]), "total": row["total"]}
                for row in by_service
            ],
        },
    )
