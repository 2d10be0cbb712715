from django.urls import path

from harbour.drugcheck import views

app_name = "drugcheck-staff"

urlpatterns = [
    path("", views.sample_new, name="samples"),
]
