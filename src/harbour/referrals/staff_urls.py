from django.urls import path

from harbour.referrals import views

app_name = "referrals-staff"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("new/", views.referral_new, name="new"),
    path("gaps/", views.gaps, name="gaps"),
    path("clients/", views.clients, name="clients"),
    path("clients/new/", views.client_new, name="client-new"),
    path("clients/retention/", views.retention, name="retention"),
    path("clients/<uuid:client_id>/", views.client_detail, name="client"),
    path("clients/<uuid:client_id>/edit/", views.client_edit, name="client-edit"),
    path("clients/<uuid:client_id>/erase/", views.client_erase, name="client-erase"),
    path("clients/<uuid:client_id>/consent/", views.consent_new, name="consent"),
    path(
        "clients/<uuid:client_id>/consent/<uuid:consent_id>/revoke/",
        views.consent_revoke,
        name="consent-revoke",
    ),
    path("r/<uuid:referral_id>/", views.referral_detail, name="detail"),
    path("r/<uuid:referral_id>/act/", views.referral_act, name="act"),
    path("r/<uuid:referral_id>/message/", views.referral_message, name="message"),
    path("r/<uuid:referral_id>/fhir.json", views.referral_fhir, name="fhir"),
]
