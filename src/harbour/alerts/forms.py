from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from harbour.alerts.models import Severity
from harbour.alerts.services import parse_areas


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
        label=_("What it looks like, packaging"),
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
    area_description_en = forms.CharField(label=_("Area, in words"), max_length=200)
    valid_days = forms.IntegerField(
        label=_("Valid for (days)"), min_value=1, max_value=90, initial=7
    )

    def valid_until(self) -> Any:
        return timezone.now() + timedelta(days=self.cleaned_data["valid_days"])
