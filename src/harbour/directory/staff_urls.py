from django.urls import path

from harbour.directory import staff_views

app_name = "directory-staff"

urlpatterns = [
    path("", staff_views.listings, name="listings"),
    path("suggestions/", staff_views.suggestions, name="suggestions"),
    path("suggestions/<uuid:suggestion_id>/<str:decision>/", staff_views.review, name="review"),
    path("<uuid:service_id>/edit/", staff_views.edit, name="edit"),
    path("duplicates/", staff_views.duplicates, name="duplicates"),
    path("duplicates/merge/", staff_views.merge, name="merge"),
    path("duplicates/dismiss/", staff_views.dismiss, name="dismiss"),
]
