from django.urls import path

from harbour.accounts import views

app_name = "accounts"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("invitation/", views.invitation, name="invitation"),
    path("invitation/<str:token>/", views.invitation_link, name="invitation-link"),
    path("<slug:slug>/", views.organization_detail, name="organization"),
    path("<slug:slug>/members/", views.members, name="members"),
    path("<slug:slug>/members/<uuid:membership_id>/role/", views.member_role, name="member-role"),
    path(
        "<slug:slug>/members/<uuid:membership_id>/remove/",
        views.member_remove,
        name="member-remove",
    ),
    path(
        "<slug:slug>/invitations/<uuid:invitation_id>/revoke/",
        views.invitation_revoke,
        name="invitation-revoke",
    ),
    path("<slug:slug>/api-keys/", views.api_keys, name="api-keys"),
    path("<slug:slug>/api-keys/<uuid:key_id>/revoke/", views.api_key_revoke, name="api-key-revoke"),
    path("<slug:slug>/audit/", views.audit_trail, name="audit"),
]
