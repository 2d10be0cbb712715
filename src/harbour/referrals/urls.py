from django.urls import path

from harbour.referrals import views

app_name = "referrals"

urlpatterns = [
    path("refer/", views.refer_from_listing, name="refer"),
    path("contact-me/<uuid:service_id>/", views.contact_me, name="contact-me"),
]
