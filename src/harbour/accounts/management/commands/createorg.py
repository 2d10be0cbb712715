from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from harbour.accounts import services
from harbour.accounts.models import OrganizationType
from harbour.core.roles import Role


class Command(BaseCommand):
    help = (
        "Create an organization and, with --admin-email, invite its first admin "
        "(the invitation link is emailed and printed)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("name", help="Name in English.")
        parser.add_argument("--name-fr", default="", help="Name in French (default: the English).")
        parser.add_argument(
            "--type",
            required=True,
            choices=OrganizationType.values,
            help="Kind of organization.",
        )
        parser.add_argument("--slug", default="", help="Short name used in addresses.")
        parser.add_argument("--city", default="")
        parser.add_argument("--province", default="", help="Two-letter code, such as ON or QC.")
        parser.add_argument("--admin-email", default="", help="Invite this person as org admin.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            org = services.organization_create(
                name_en=options["name"],
                name_fr=options["name_fr"],
                type=options["type"],
                slug=options["slug"],
                city=options["city"],
                province=options["province"].upper(),
            )
        except ValidationError as exc:
            raise CommandError(
                "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
            ) from exc
        self.stdout.write(f"created organization {org.slug} ({org.id})")
        if options["admin_email"]:
            from harbour.core.views import absolute_url

            try:
                _invitation, token = services.member_invite(
                    organization=org, email=options["admin_email"], role=Role.ORG_ADMIN, actor=None
                )
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from exc
            url = absolute_url("accounts:invitation-link", token=token)
            self.stdout.write(f"invited {options['admin_email']} as org admin: {url}")
