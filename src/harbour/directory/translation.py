from modeltranslation.translator import TranslationOptions, register

from harbour.directory import models as m


@register(m.Taxonomy)
class TaxonomyTr(TranslationOptions):
    fields = ("name", "description")


@register(m.TaxonomyTerm)
class TaxonomyTermTr(TranslationOptions):
    fields = ("name", "description", "keywords")


@register(m.DirectoryOrganization)
class DirectoryOrganizationTr(TranslationOptions):
    fields = ("name", "description")


@register(m.Program)
class ProgramTr(TranslationOptions):
    fields = ("name", "description")


@register(m.Service)
class ServiceTr(TranslationOptions):
    fields = (
        "name",
        "description",
        "application_process",
        "fees_description",
        "eligibility_description",
        "interpretation_services",
        "alert",
    )


@register(m.Location)
class LocationTr(TranslationOptions):
    fields = ("name", "description", "transportation")


@register(m.ServiceAtLocation)
class ServiceAtLocationTr(TranslationOptions):
    fields = ("description",)


@register(m.Schedule)
class ScheduleTr(TranslationOptions):
    fields = ("description", "notes")


@register(m.Phone)
class PhoneTr(TranslationOptions):
    fields = ("description",)


@register(m.Accessibility)
class AccessibilityTr(TranslationOptions):
    fields = ("description", "details")
