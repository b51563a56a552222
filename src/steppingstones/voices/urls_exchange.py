from django.urls import URLPattern, path

from steppingstones.voices import views_exchange

urlpatterns: list[URLPattern] = [
    path("exchange/", views_exchange.exchange, name="voices_exchange"),
    path("exchange/export/", views_exchange.export, name="voices_exchange_export"),
    path(
        "exchange/<uuid:job_id>/download/",
        views_exchange.download,
        name="voices_exchange_download",
    ),
]
