from django.urls import path

from harbour.mentoring import views

app_name = "mentoring"

urlpatterns = [
    path("ask/", views.ask, name="ask"),
    # the link in messages: it puts the token in the session and redirects to the page below
    path("m/<str:token>/", views.link, name="link"),
    path("mine/<str:slot>/", views.link_page, name="link-page"),
]
