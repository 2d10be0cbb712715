from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from harbour.core import geo
from harbour.core.forms import NearFieldMixin
from harbour.directory import addresses
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
        max_length=100,
        help_text=_(
            "A postal code such as K7L or V6A 1A1, a street address such as 123 Princess St, "
            "or an intersection such as Princess & Division."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "postal-code"}),
    )
    radius = forms.ChoiceField(
        label=_("Within"), choices=RADIUS_CHOICES, initial="25", required=False
    )
    open_now = forms.BooleanField(label=_("Open now"), required=False)
    include_unknown_hours = forms.BooleanField(
        label=_("Include places with unknown hours"), required=False
    )
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
        # a street address was asked for but only its postal area could be used
        self.address_fallback = False

    def clean_near(self) -> str:
        """A postal code or a position (``NearFieldMixin``), else a street address or an
        intersection found in the loaded addresses. Nothing typed here is logged."""
        try:
            return super().clean_near()
        except forms.ValidationError:
            near = self.cleaned_data.get("near", "").strip()
            if not re.search(r"[^\W\d_]{3}", near):  # no word in it: not an address
                raise
        if addresses.available():
            place = addresses.geocode(near)
            if place is not None:
                self.place = place
                return near
        postal = addresses.postal_code_in(near)
        fallback = geo.fsa_centroid(postal) if postal else None
        if fallback is not None:
            self.place = fallback
            self.address_fallback = True
            return near
        if addresses.available():
            raise forms.ValidationError(
                _(
                    "We could not find “%(address)s”. Check the street name and number, add the "
                    "city after a comma, or enter a postal code such as K7L."
                ),
                params={"address": near},
            )
        raise forms.ValidationError(
            _(
                "Street addresses cannot be looked up on this site yet. Enter a postal code "
                "such as K7L 1A1, or use your location."
            )
        )


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
