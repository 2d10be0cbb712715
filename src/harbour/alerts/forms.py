from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from harbour.alerts import images
from harbour.alerts.models import ReportKind, Severity
from harbour.alerts.services import PHOTO_ERRORS, parse_areas
from harbour.core.widgets import DateInput


class AreasField(forms.CharField):
    def clean(self, value: Any) -> list[str]:
        text = super().clean(value)
        try:
            return parse_areas(text or "")
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from exc


class SubscribeForm(forms.Form):
    email = forms.EmailField(label=_("Email"), max_length=254)
    areas = AreasField(
        label=_("Postal areas"),
        max_length=200,
        help_text=_("The first three characters of postal codes, e.g. K7L K7K. Empty: everywhere."),
        required=False,
    )
    lang = forms.ChoiceField(
        label=_("Language"), choices=[("en", "English"), ("fr", "Français")], initial="en"
    )


class AlertForm(forms.Form):
    title_en = forms.CharField(label=_("Title (English)"), max_length=140)
    title_fr = forms.CharField(label=_("Title (French)"), max_length=140, required=False)
    body_en = forms.CharField(
        label=_("What people should know (English)"), widget=forms.Textarea(attrs={"rows": 4})
    )
    body_fr = forms.CharField(
        label=_("What people should know (French)"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
    )
    appearance_en = forms.CharField(
        label=_("What it looks like, packaging (English)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )
    appearance_fr = forms.CharField(
        label=_("What it looks like, packaging (French)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )
    severity = forms.ChoiceField(label=_("Severity"), choices=Severity.choices, initial="Severe")
    areas = AreasField(
        label=_("Postal areas"),
        max_length=200,
        required=False,
        help_text=_("e.g. K7L K7K. Empty: every subscriber."),
    )
    area_description_en = forms.CharField(label=_("Area, in words (English)"), max_length=200)
    area_description_fr = forms.CharField(
        label=_("Area, in words (French)"), max_length=200, required=False
    )
    valid_days = forms.IntegerField(
        label=_("Valid for (days)"), min_value=1, max_value=90, initial=7
    )
    photo = forms.FileField(
        label=_("Photo (optional)"),
        required=False,
        help_text=_(
            "Of the drug or its packaging: JPEG or PNG, at most 1.5 MB. Where and when it was "
            "taken, and the phone's details, are removed before it is kept. No faces."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png"}),
    )
    photo_alt_en = forms.CharField(
        label=_("What the photo shows (English)"), max_length=200, required=False
    )
    photo_alt_fr = forms.CharField(
        label=_("What the photo shows (French)"), max_length=200, required=False
    )

    TEXTS = (
        "title_en", "title_fr", "body_en", "body_fr", "appearance_en", "appearance_fr",
        "severity", "areas", "area_description_en", "area_description_fr",
    )  # fmt: skip

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:  # a draft's photo is set once, with the draft
            for name in ("photo", "photo_alt_en", "photo_alt_fr"):
                del self.fields[name]

    @classmethod
    def initial_from(cls, alert: Any) -> dict[str, Any]:
        import math

        left = (alert.valid_until - timezone.now()).total_seconds() / 86400
        initial = {name: getattr(alert, name) or "" for name in cls.TEXTS}
        initial["areas"] = " ".join(alert.area_list)
        initial["valid_days"] = min(max(math.ceil(left), 1), 90)
        return initial

    def texts(self) -> dict[str, Any]:
        """The cleaned fields as the alert services take them."""
        data = self.cleaned_data
        found = {name: data.get(name) or "" for name in self.TEXTS}
        found["areas"] = data.get("areas") or []
        found["valid_until"] = self.valid_until()
        return found

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("photo") and not (data.get("photo_alt_en") or "").strip():
            self.add_error(
                "photo_alt_en",
                _("Say in a few words what the photo shows, for people who cannot see it."),
            )
        return data

    def clean_photo(self) -> Any:
        upload = self.cleaned_data.get("photo")
        if not upload:
            return None
        if upload.size > images.MAX_BYTES:
            raise forms.ValidationError(PHOTO_ERRORS["too-large"])
        try:
            return images.clean(upload.read())
        except images.ImageRejected as exc:
            raise forms.ValidationError(PHOTO_ERRORS[exc.code]) from exc

    def valid_until(self) -> Any:
        return timezone.now() + timedelta(days=self.cleaned_data["valid_days"])


class ReportForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What happened?"), choices=ReportKind.choices, widget=forms.RadioSelect
    )
    sold_as = forms.CharField(label=_("Sold as"), max_length=120, required=False)
    looks_like = forms.CharField(
        label=_("What it looks like"),
        max_length=200,
        required=False,
        help_text=_("Colour, texture, stamp, packaging."),
    )
    what_happened = forms.CharField(
        label=_("Effects, what happened"),
        max_length=1000,
        min_length=5,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Please no names, phone numbers or addresses."),
    )
    city = forms.CharField(label=_("City or town"), max_length=120, required=False)
    fsa = forms.CharField(
        label=_("Postal area"),
        max_length=7,
        required=False,
        help_text=_(
            "The first three characters of a postal code, e.g. V6A. It tells us which local "
            "team reads your report: without it, no one may see it."
        ),
    )
    happened_on = forms.DateField(label=_("When"), required=False, widget=DateInput())
    # left empty by people; bots fill every field
    website = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_fsa(self) -> str:
        value = str(self.cleaned_data.get("fsa") or "").strip()
        if not value:
            return ""
        try:
            return parse_areas(value[:3])[0]
        except (ValidationError, IndexError) as exc:
            raise forms.ValidationError(_("Enter three characters such as V6A.")) from exc


class ReportAreasForm(forms.Form):
    areas = forms.CharField(
        label=_("Postal areas whose community reports we review"),
        max_length=400,
        required=False,
        help_text=_(
            "First three characters, separated by spaces, e.g. K7L K7K. A report goes to the "
            "most local organization listing its area; from an area nobody lists, to no one."
        ),
    )

    def clean_areas(self) -> list[str]:
        return parse_areas(self.cleaned_data.get("areas") or "")
