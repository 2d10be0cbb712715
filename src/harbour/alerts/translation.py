from modeltranslation.translator import TranslationOptions, register

from harbour.alerts import models as m


@register(m.Alert)
class AlertTr(TranslationOptions):
    fields = ("title", "body", "appearance", "area_description", "photo_alt")
