from django.urls import path

from harbour.alerts import views

app_name = "alerts-staff"

urlpatterns = [
    path("", views.staff_alerts, name="list"),
    path("reports/", views.staff_reports, name="reports"),
    path("reports/<uuid:report_id>/<str:action>/", views.staff_report_action, name="report"),
    path("<uuid:alert_id>/", views.staff_review, name="review"),
    path("<uuid:alert_id>/edit/", views.staff_edit, name="edit"),
    path("<uuid:alert_id>/<str:action>/", views.staff_action, name="action"),
]
