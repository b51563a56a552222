from django.urls import URLPattern, path

from steppingstones.journeys import views_analytics as views

urlpatterns: list[URLPattern] = [
    path("analytics/", views.home, name="journeys_analytics"),
    path("analytics/map/", views.process_map, name="journeys_process_map"),
    path("analytics/variants/", views.variants, name="journeys_variants"),
    path("analytics/milestones/", views.milestones, name="journeys_milestones"),
    path("analytics/timings/", views.timings, name="journeys_timings"),
    path("analytics/conformance/", views.conformance, name="journeys_conformance"),
    path("analytics/dropoff/", views.dropoff, name="journeys_dropoff"),
    path(
        "analytics/export/<slug:result>.<str:fmt>",
        views.export_result,
        name="journeys_analytics_export",
    ),
    path(
        "analytics/cohort-log.<str:fmt>", views.cohort_log_export, name="journeys_cohort_log_export"
    ),
    path("analytics/logs/", views.logs, name="journeys_logs"),
    path("analytics/logs/<int:log_id>/analyse/", views.log_analyse, name="journeys_log_analyse"),
    path("analytics/logs/<int:log_id>.<str:fmt>", views.log_export, name="journeys_log_export"),
    path("analytics/logs/<int:log_id>/delete/", views.log_delete, name="journeys_log_delete"),
    path("analytics/rules/", views.rule_list, name="journeys_rules"),
    path("analytics/rules/add/", views.rule_edit, name="journeys_rule_add"),
    path("analytics/rules/<int:rule_id>/", views.rule_edit, name="journeys_rule_edit"),
    path("analytics/pathways/", views.pathway_list, name="journeys_pathways"),
    path("analytics/pathways/add/", views.pathway_edit, name="journeys_pathway_add"),
    path("analytics/pathways/<int:pathway_id>/", views.pathway_edit, name="journeys_pathway_edit"),
]
