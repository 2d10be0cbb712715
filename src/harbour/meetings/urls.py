from django.urls import path

from harbour.meetings import views

app_name = "meetings"

urlpatterns = [
    path("", views.search, name="search"),
    path("feed.json", views.feed_json, name="feed"),
    path("calendar.ics", views.search_calendar, name="calendar"),
    path("print/", views.print_list, name="print"),
    path("<str:slug>/", views.detail, name="detail"),
    path("<str:slug>/calendar.ics", views.meeting_calendar, name="meeting-calendar"),
    path("<str:slug>/suggest/", views.suggest, name="suggest"),
]
