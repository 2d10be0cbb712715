from django.urls import path

from harbour.mentoring import views

app_name = "mentoring"

urlpatterns = [
    path("ask/", views.ask, name="ask"),
    path("m/<str:token>/", views.link, name="link"),
]
