from django.urls import path

from harbour.checkins import views

app_name = "checkins"

urlpatterns = [
    path("", views.start, name="start"),
    # the links in texts carry a token: opened once, they lead on to the pages without it
    path("s/<str:token>/", views.session_link, name="session"),
    path("me/", views.session_page, name="mine"),
    path("me/confirm/", views.session_confirm, name="confirm"),
    path("me/<str:action>/", views.session_reply, name="reply"),
    path("r/<str:token>/", views.respond_link, name="respond-link"),
    path("r/", views.respond, name="respond"),
]
