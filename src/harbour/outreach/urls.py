from django.urls import path

from harbour.outreach import views

app_name = "outreach"

urlpatterns = [
    path("", views.public, name="public"),
    path("used/", views.kit_used, name="kit-used"),
]
