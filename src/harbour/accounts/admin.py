from django.contrib import admin
from modeltranslation.admin import TranslationAdmin

from harbour.accounts.models import ApiKey, Invitation, Membership, Organization, User


@admin.register(User)
class UserAdmin(admin.ModelAdmin[User]):
    list_display = ("email", "display_name", "is_active", "is_demo", "last_login")
    search_fields = ("email", "display_name")
    exclude = ("password",)


@admin.register(Organization)
class OrganizationAdmin(TranslationAdmin):
    list_display = ("name", "slug", "type", "city", "is_active")
    search_fields = ("name_en", "name_fr", "slug")


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin[Membership]):
    list_display = ("user", "organization", "role")
    list_filter = ("role",)


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin[Invitation]):
    list_display = ("email", "organization", "role", "expires_at", "accepted_at", "revoked_at")
    readonly_fields = ("token_hash",)


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin[ApiKey]):
    list_display = ("name", "organization", "prefix", "role", "revoked_at")
    readonly_fields = ("prefix", "key_hash")
