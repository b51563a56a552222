from django.urls import path

from steppingstones.cohort import views

urlpatterns = [
    path("", views.index, name="cohort_index"),
    path("women/", views.women_list, name="cohort_women"),
    path("women/add/", views.woman_add, name="cohort_woman_add"),
    path("women/<str:pseudonym>/", views.woman_detail, name="cohort_woman"),
    path("women/<str:pseudonym>/edit/", views.woman_edit, name="cohort_woman_edit"),
    path(
        "women/<str:pseudonym>/circumstances/add/",
        views.circumstance_add,
        name="cohort_circumstance_add",
    ),
    path("women/<str:pseudonym>/birth/", views.birth_record, name="cohort_birth"),
    path("women/<str:pseudonym>/infants/<str:infant>/", views.infant_edit, name="cohort_infant"),
    path(
        "women/<str:pseudonym>/infants/<str:infant>/care/",
        views.care_period_add,
        name="cohort_care_period_add",
    ),
    path("women/<str:pseudonym>/waves/<int:wave>/", views.interview_edit, name="cohort_interview"),
    path(
        "women/<str:pseudonym>/waves/<int:wave>/files/",
        views.artefact_upload,
        name="cohort_artefact_upload",
    ),
    path(
        "women/<str:pseudonym>/files/<int:artefact_id>/",
        views.artefact_download,
        name="cohort_artefact",
    ),
    path("participants/<str:pseudonym>/consent/", views.consent_record, name="cohort_consent"),
    path("participants/<str:pseudonym>/withdraw/", views.withdraw, name="cohort_withdraw"),
    path("schedule/", views.schedule_view, name="cohort_schedule"),
    path("diary/", views.diary, name="cohort_diary"),
    path("calendar/", views.calendar_link, name="cohort_calendar"),
    path("staff/", views.staff_list, name="cohort_staff"),
    path("staff/add/", views.staff_add, name="cohort_staff_add"),
    path(
        "staff/<str:pseudonym>/interview/", views.staff_interview_add, name="cohort_staff_interview"
    ),
    path("focus-groups/add/", views.focus_group_edit, name="cohort_focus_group_add"),
    path("focus-groups/<int:group_id>/", views.focus_group_edit, name="cohort_focus_group"),
    path("consent-forms/", views.consent_forms, name="cohort_consent_forms"),
    path("consent-forms/add/", views.consent_form_add, name="cohort_consent_form_add"),
    path("import/", views.import_upload, name="cohort_import"),
    path("import/confirm/", views.import_confirm, name="cohort_import_confirm"),
    path("export/", views.export, name="cohort_export"),
    path("dictionary/", views.dictionary, name="cohort_dictionary"),
    path("waves/", views.waves_settings, name="cohort_waves"),
    path("waves/<int:wave>/", views.wave_edit, name="cohort_wave"),
]
