from django.urls import path

from harbour.alerts import views

app_name = "alerts-staff"

urlpatterns = [
    path("", views.staff_alerts, name="list"),
    path("<uuid:alert_id>/<str:action>/", views.staff_action, name="action"),
]
