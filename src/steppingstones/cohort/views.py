from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from steppingstones.core.models import Participant
from steppingstones.core.policy import Access, study_view


@study_view("area:cohort")
def index(request: HttpRequest, access: Access) -> HttpResponse:
    sites = access.sites().annotate(
        women=Count("participants", filter=Q(participants__kind=Participant.Kind.WOMAN)),
        staff=Count("participants", filter=Q(participants__kind=Participant.Kind.STAFF)),
    )
    return render(request, "cohort/index.html", {"area": "cohort", "sites": sites})
