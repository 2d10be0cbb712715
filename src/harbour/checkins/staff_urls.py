from django.urls import path

from harbour.checkins import views

app_name = "checkins-staff"

urlpatterns = [
    path("", views.board, name="board"),
    path("start/", views.board_start, name="start"),
    path("duty/", views.board_duty, name="duty"),
    path("settings/", views.program_settings, name="program"),
    path("responders/", views.responders, name="responders"),
    path("responders/<uuid:responder_id>/", views.responder_toggle, name="responder"),
    path("s/<uuid:session_id>/", views.board_session, name="session"),
    path("s/<uuid:session_id>/outcome/", views.board_outcome, name="outcome"),
    path("s/<uuid:session_id>/contact/", views.board_contact, name="contact"),
]
