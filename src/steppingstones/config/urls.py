from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.urls import URLPattern, URLResolver, include, path

from steppingstones.cohort import views as cohort_views
from steppingstones.core import account_views, audit_views, job_views, member_views, views

study_patterns: list[URLPattern | URLResolver] = [
    path("", views.dashboard, name="dashboard"),
    path("participants/", views.participant_list, name="participants"),
    path("participants/<str:pseudonym>/identity/", views.identity_detail, name="identity"),
    path("participants/<str:pseudonym>/identity/edit/", views.identity_edit, name="identity_edit"),
    path("sites/<str:site_code>/", views.site_detail, name="site"),
    path("members/", member_views.member_list, name="members"),
    path("members/add/", member_views.member_add, name="member_add"),
    path("members/<int:member_id>/", member_views.member_edit, name="member_edit"),
    path("members/<int:member_id>/password/", member_views.member_password, name="member_password"),
    path("audit/", audit_views.audit_list, name="audit"),
    path("audit/export/", audit_views.audit_export, name="audit_export"),
    path("jobs/<uuid:job_id>/", job_views.job_detail, name="job"),
    path("jobs/<uuid:job_id>/download/", job_views.job_download, name="job_download"),
    path("evidence/", include("steppingstones.evidence.urls")),
    path("cohort/", include("steppingstones.cohort.urls")),
    path("voices/", include("steppingstones.voices.urls")),
    path("journeys/", include("steppingstones.journeys.urls")),
    path("model/", include("steppingstones.model.urls")),
]

# The admin signs people in through the platform's own page (lockout, two-factor, audit).
admin.site.login = login_required(admin.site.login)  # type: ignore[method-assign]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/login/", account_views.login_view, name="login"),
    path("accounts/login/verify/", account_views.login_verify, name="login_verify"),
    path("accounts/logout/", account_views.logout_view, name="logout"),
    path("accounts/password/", account_views.password_change, name="password_change"),
    path("accounts/two-factor/", account_views.two_factor, name="two_factor"),
    path("switch/", views.switch_study, name="switch_study"),
    path("calendar/<str:token>.ics", cohort_views.calendar_feed, name="cohort_calendar_feed"),
    path("s/<slug:study_slug>/", include(study_patterns)),
    path("admin/", admin.site.urls),
]

# Reachable without signing in; the URL-walk test holds every other view to a log-in.
# The calendar feed is reached by its secret address (calendar apps cannot sign in); it answers
# 404 to any other.
PUBLIC_URL_NAMES = frozenset({"healthz", "login", "login_verify", "cohort_calendar_feed"})
