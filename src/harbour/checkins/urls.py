from django.urls import path

from harbour.checkins import views

app_name = "checkins"

urlpatterns = [
    path("", views.start, name="start"),
    path("s/<str:token>/", views.session_page, name="session"),
    path("s/<str:token>/<str:action>/", views.session_reply, name="reply"),
    path("r/<str:token>/", views.respond, name="respond"),
]
