from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReferralsConfig(AppConfig):
    name = "harbour.referrals"
    label = "referrals"
    verbose_name = _("Referrals")

    def ready(self) -> None:
        from datetime import timedelta

        from harbour.core import schedule
        from harbour.referrals import gaps
        from harbour.referrals.tasks import purge, remind

        # referrals not acknowledged in two business days: the receiving organization, then
        # its admins (the reminders themselves are rows' due times, claimed with a CAS)
        schedule.register("referrals.remind", every=timedelta(minutes=5), task=remind)
        # the cross-organization service-gap report: a release of whole closed months
        gaps.register()
        # clients' details past their organization's retention (ReferralPolicy)
        schedule.register("referrals.purge", every=timedelta(hours=6), task=purge)
