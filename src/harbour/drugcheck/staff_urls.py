from django.urls import path

from harbour.drugcheck import views

app_name = "drugcheck-staff"

urlpatterns = [
    path("", views.sample_new, name="samples"),
    path("<uuid:sample_id>/", views.sample_detail, name="sample"),
    path("<uuid:sample_id>/code/", views.sample_code, name="sample-code"),
]
