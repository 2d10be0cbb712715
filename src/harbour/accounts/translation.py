from modeltranslation.translator import TranslationOptions, register

from harbour.accounts.models import Organization


@register(Organization)
class OrganizationTranslation(TranslationOptions):
    fields = ("name",)
    required_languages = ("en",)
