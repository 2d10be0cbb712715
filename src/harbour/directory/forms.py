from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from harbour.core import geo
from harbour.core.forms import NearFieldMixin
from harbour.directory.models import SuggestionField

RADIUS_CHOICES = [
    ("2", "2 km"),
    ("5", "5 km"),
    ("10", "10 km"),
    ("25", "25 km"),
    ("50", "50 km"),
    ("100", "100 km"),
]


class SearchForm(NearFieldMixin, forms.Form):
    q = forms.CharField(
        label=_("What do you need?"),
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={"placeholder": _("e.g. naloxone, detox, shelter"), "type": "search"}
        ),
    )
    near = forms.CharField(
        label=_("Near (postal code)"),
        required=False,
        max_length=60,
        help_text=_("A postal code such as K7L or V6A 1A1, or latitude,longitude."),
        widget=forms.TextInput(attrs={"autocomplete": "postal-code"}),
    )
    radius = forms.ChoiceField(
        label=_("Within"), choices=RADIUS_CHOICES, initial="25", required=False
    )
    open_now = forms.BooleanField(label=_("Open now"), required=False)
    open_at = forms.DateTimeField(
        label=_("Or open at"),
        required=False,
        help_text=_("A day and time, in the site’s time zone."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    category = forms.ChoiceField(label=_("Type of help"), required=False)
    attributes = forms.MultipleChoiceField(
        label=_("Only show services that are"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    sort = forms.ChoiceField(
        label=_("Sort by"),
        choices=[("distance", _("Distance")), ("relevance", _("Best match"))],
        required=False,
        initial="distance",
    )
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        categories: Sequence[Any] = (),
        attributes: Sequence[Any] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        category: Any = self.fields["category"]
        category.choices = [("", _("All types of help"))] + [(t.code, t.name) for t in categories]
        attribute: Any = self.fields["attributes"]
        attribute.choices = [(t.code, t.name) for t in attributes]
        self.place: geo.Place | None = None


class SuggestionForm(forms.Form):
    field = forms.ChoiceField(label=_("What is wrong?"), choices=SuggestionField.choices)
    message = forms.CharField(
        label=_("Tell us more"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Please do not include anyone’s name or health details."),
    )
    suggested_value = forms.CharField(
        label=_("The right information (optional)"), max_length=500, required=False
    )
    contact = forms.CharField(
        label=_("How can we reach you about it? (optional)"),
        max_length=200,
        required=False,
        help_text=_("Leave empty to stay anonymous."),
    )
    website = forms.CharField(required=False, widget=forms.HiddenInput)  # a trap for bots


class ReviewForm(forms.Form):
    note = forms.CharField(label=_("Note (optional)"), max_length=1000, required=False)


class ServiceEditForm(forms.Form):
    name_en = forms.CharField(label=_("Name (English)"), max_length=300)
    name_fr = forms.CharField(label=_("Name (French)"), max_length=300, required=False)
    description_en = forms.CharField(
        label=_("Description (English)"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )
    description_fr = forms.CharField(
        label=_("Description (French)"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )
    url = forms.URLField(label=_("Website"), required=False, max_length=500, assume_scheme="https")
    email = forms.EmailField(label=_("Email"), required=False)
    status = forms.ChoiceField(label=_("Status"), choices=[])
    eligibility_description_en = forms.CharField(
        label=_("Who can use it (English)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )
    eligibility_description_fr = forms.CharField(
        label=_("Who can use it (French)"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    fees_description_en = forms.CharField(label=_("Fees (English)"), required=False)
    fees_description_fr = forms.CharField(label=_("Fees (French)"), required=False)
    alert_en = forms.CharField(label=_("Alert (English)"), required=False)
    alert_fr = forms.CharField(label=_("Alert (French)"), required=False)
    verified = forms.BooleanField(label=_("I checked this listing today"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from harbour.directory.models import ServiceStatus

        status: Any = self.fields["status"]
        status.choices = ServiceStatus.choices
