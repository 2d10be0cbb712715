from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DrugcheckConfig(AppConfig):
    name = "harbour.drugcheck"
    label = "drugcheck"
    verbose_name = _("Drug checking")

    def ready(self) -> None:
        from harbour.drugcheck import board

        # the public results board: a release of whole closed months
        board.register()
