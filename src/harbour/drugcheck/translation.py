from modeltranslation.translator import TranslationOptions, register

from harbour.drugcheck import models as m


@register(m.Substance)
class SubstanceTr(TranslationOptions):
    fields = ("name",)
