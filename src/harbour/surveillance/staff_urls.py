from django.urls import path

from harbour.surveillance import views

app_name = "surveillance-staff"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("area/", views.area, name="area"),
    path("settings/", views.settings_view, name="settings"),
    path("report/", views.report, name="report"),
    path("export/<str:what>.csv", views.export, name="export"),
    path("signals/<uuid:signal_id>/", views.signal_detail, name="signal"),
    path("signals/<uuid:signal_id>/<str:action>/", views.signal_action, name="signal-action"),
]
