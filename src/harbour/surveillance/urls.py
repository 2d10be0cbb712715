from django.urls import path

from harbour.surveillance import views

app_name = "surveillance"

urlpatterns = [
    path("", views.public_summary, name="public"),
]
