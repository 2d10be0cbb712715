from django.urls import path

from harbour.outreach import views

app_name = "outreach-staff"

urlpatterns = [
    path("", views.home, name="home"),
    path("log/", views.log_encounter, name="log"),
    path("overdose/", views.log_response, name="overdose"),
    path("records/", views.records, name="records"),
    path("records/<str:kind>/<uuid:record_id>/remove/", views.record_remove, name="record-remove"),
    path("status.json", views.status, name="status"),
    path("sw.js", views.service_worker, name="sw"),
    path("manifest.webmanifest", views.manifest, name="manifest"),
    path("stock/", views.stock, name="stock"),
    path("stock/<int:level_id>/", views.stock_correct, name="stock-correct"),
    path("naloxone/", views.naloxone, name="naloxone"),
    path("refills/", views.refills, name="refills"),
    path("refills/<uuid:report_id>/<str:action>/", views.refill_action, name="refill"),
    path("report/", views.report, name="report"),
    path("report.csv", views.report_csv, name="report-csv"),
    path("settings/", views.program_settings, name="settings"),
]
