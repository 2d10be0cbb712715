from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Load clearly fictional demo organizations and staff accounts (idempotent) and print "
        "the demo logins. Refused in production."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("demo data is not loaded in production (HARBOUR_ENV=production)")
        from harbour.demo.data import DEMO_PASSWORD, load

        logins = load()
        from harbour.demo.directory import load as load_directory

        count = load_directory()
        self.stdout.write(
            f"Directory: {count} services (Kingston listings and fictional demo services)."
        )
        from harbour.demo.drugcheck import load as load_drugcheck

        samples = load_drugcheck()
        self.stdout.write(f"Drug checking: {samples} new fictional samples at two demo sites.")
        from harbour.demo.alerts import load as load_alerts

        alerts = load_alerts()
        self.stdout.write(f"Alerts: {alerts} new fictional alerts (one published, one to approve).")
        from harbour.demo.checkins import load as load_checkins

        ended = load_checkins()
        self.stdout.write(
            f"Check-ins: a Kingston program with 3 fictional responders, {ended} ended sessions."
        )
        from harbour.demo.outreach import load as load_outreach

        encounters = load_outreach()
        self.stdout.write(
            f"Outreach: {encounters} new fictional encounters, stock and naloxone for two demo "
            "organizations."
        )
        from harbour.demo.surveillance import load as load_surveillance

        events = load_surveillance()
        self.stdout.write(
            f"Spikes and trends: {events} new fictional overdose events, a burst in downtown "
            "Kingston, and PHAC's published figures."
        )
        from harbour.demo.referrals import load as load_referrals

        referrals = load_referrals()
        self.stdout.write(
            f"Referrals: {referrals} new fictional referrals from Lighthouse to the Bayview "
            "Recovery Centre, one in each state."
        )
        from harbour.demo.meetings import load as load_meetings

        listed, mentors = load_meetings()
        self.stdout.write(
            f"Meetings: {listed} fictional meetings in Kingston, Montréal (in French) and online; "
            f"a Kingston mentoring program with {mentors} fictional mentors and a request."
        )
        from harbour.core.releases import make_due

        made = make_due()
        self.stdout.write(
            f"Releases: {len(made)} kinds of public figures released for their last closed "
            "periods (the worker makes the next ones every hour)."
        )
        self.stdout.write(self.style.SUCCESS("Demo data ready. Demo logins (all fictional):"))
        width = max(len(email) for email, _, _ in logins)
        for email, role, org in logins:
            self.stdout.write(f"  {email:<{width}}  {role:<16} {org}")
        self.stdout.write(f"  password for every demo account: {DEMO_PASSWORD}")
        from harbour.notify.senders import sms_backend

        if "console" in settings.EMAIL_BACKEND and sms_backend() == "console":
            self.stdout.write(
                "Messages: every email and every text message the demo sends (check-in codes, "
                "prompts and responder call-outs, mentoring links, alerts) is printed below by "
                "the worker, texts between '--- SMS' lines; nothing leaves the machine."
            )
        if not settings.DEMO_MODE:
            self.stdout.write(
                "  (HARBOUR_DEMO_MODE is off: staff will be asked to set up two-factor "
                "authentication at first sign-in)"
            )
