from modeltranslation.translator import TranslationOptions, register

from harbour.meetings import models as m


@register(m.Fellowship)
class FellowshipTr(TranslationOptions):
    fields = ("name",)
