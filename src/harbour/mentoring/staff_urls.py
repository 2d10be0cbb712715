from django.urls import path

from harbour.mentoring import views

app_name = "mentoring-staff"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("propose-all/", views.propose_all, name="propose-all"),
    path("program/", views.program, name="program"),
    path("requests/new/", views.request_new, name="request-new"),
    path("requests/<uuid:request_id>/", views.request_detail, name="request"),
    path("mentors/", views.mentors, name="mentors"),
    path("mentors/<uuid:mentor_id>/", views.mentor_edit, name="mentor"),
    path("matches/<uuid:match_id>/", views.match_detail, name="match"),
]
