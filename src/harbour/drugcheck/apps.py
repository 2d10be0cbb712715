from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DrugcheckConfig(AppConfig):
    name = "harbour.drugcheck"
    label = "drugcheck"
    verbose_name = _("Drug checking")
