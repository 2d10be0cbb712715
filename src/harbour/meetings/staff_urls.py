from django.urls import path

from harbour.meetings import views

app_name = "meetings-staff"

urlpatterns = [
    path("", views.staff_list, name="list"),
    path("new/", views.staff_edit, name="new"),
    path("suggestions/", views.staff_suggestions, name="suggestions"),
    path("suggestions/<uuid:suggestion_id>/<str:decision>/", views.staff_review, name="review"),
    path("<uuid:meeting_id>/", views.staff_edit, name="edit"),
    path("<uuid:meeting_id>/archive/", views.staff_archive, name="archive"),
]
