from django.urls import path

from . import views

app_name = "trials"

# Registry ids may hold slashes (CTRI/2020/03/024059), hence <path:...>; the more specific routes come first.
urlpatterns = [
    path("", views.search, name="search"),
    path("export.csv", views.export, {"fmt": "csv"}, name="export-csv"),
    path("export.json", views.export, {"fmt": "json"}, name="export-json"),
    path("compare/", views.compare, name="compare"),
    path("compare.csv", views.compare_csv, name="compare-csv"),
    path("compare/tray/", views.tray_change, name="tray"),
    path("trials/<path:registry_id>/source/<int:source_id>/", views.trial_source, name="source"),
    path("trials/<path:registry_id>.json", views.trial_json, name="json"),
    path("trials/<path:registry_id>/", views.trial_detail, name="detail"),
]
