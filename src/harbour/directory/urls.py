from django.urls import path

from harbour.directory import views

app_name = "directory"

urlpatterns = [
    path("", views.search, name="search"),
    path("service/<uuid:service_id>/", views.service_detail, name="service"),
    path("service/<uuid:service_id>/suggest/", views.suggest, name="suggest"),
]
