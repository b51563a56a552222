from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from steppingstones.core.policy import Access, study_view


@study_view("area:evidence")
def index(request: HttpRequest, access: Access) -> HttpResponse:
    return render(request, "evidence/index.html", {"area": "evidence"})
