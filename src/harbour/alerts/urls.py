from django.urls import path

from harbour.alerts import views

app_name = "alerts"

urlpatterns = [
    path("", views.alert_list, name="list"),
    path("feed.rss", views.feed_rss, name="rss"),
    path("feed.atom", views.feed_atom, name="atom"),
    path("feed.json", views.feed_json, name="json"),
    path("subscribe/", views.subscribe, name="subscribe"),
    path("report/", views.report, name="report"),
    path("sw.js", views.service_worker, name="sw"),
    path("push/subscribe/", views.push_subscribe, name="push-subscribe"),
    path("confirm/<str:token>/", views.confirm, name="confirm"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("<uuid:alert_id>/", views.alert_detail, name="detail"),
    path("<uuid:alert_id>/cap.xml", views.alert_cap, name="cap"),
    path("<uuid:alert_id>/photo", views.alert_photo, name="photo"),
]
