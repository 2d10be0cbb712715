from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from harbour.core.widgets import DateInput
from harbour.surveillance.models import DetectionSettings, Level, Method


class SettingsForm(forms.ModelForm):
    methods = forms.MultipleChoiceField(
        label=_("Methods"),
        choices=Method.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "EARS and the Bayesian method compare the last 24 hours with the days before; "
            "Farrington compares the last week with the same weeks of past years (needs five "
            "years of history); the fixed threshold counts events in 24 hours in a postal area; "
            "the cluster scan looks for neighbouring postal areas busier than usual together."
        ),
    )

    class Meta:
        model = DetectionSettings
        fields = [
            "enabled", "areas", "methods", "count_threshold", "min_events", "alpha",
            "ears_alpha", "scan_days", "notify_email", "share_publicly",
        ]  # fmt: skip
        widgets = {"areas": forms.TextInput()}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["methods"].initial = self.instance.method_list()
        self.fields["alpha"].widget.attrs.update(min="0.0001", max="0.2", step="any")
        self.fields["ears_alpha"].widget.attrs.update(min="0.0001", max="0.2", step="any")
        self.fields["ears_alpha"].help_text = _(
            "Empty: the CDC's (0.001 for C1 and C2, 0.025 for C3)."
        )

    def clean_alpha(self) -> float:
        value = self.cleaned_data["alpha"]
        if not 0 < value <= 0.2:
            raise forms.ValidationError(_("Between 0.0001 and 0.2, e.g. 0.01."))
        return float(value)

    def clean_ears_alpha(self) -> float | None:
        value = self.cleaned_data.get("ears_alpha")
        if value is not None and not 0 < value <= 0.2:
            raise forms.ValidationError(_("Between 0.0001 and 0.2, or empty."))
        return value

    def clean_count_threshold(self) -> int:
        value = int(self.cleaned_data["count_threshold"])
        if not 2 <= value <= 100:
            raise forms.ValidationError(_("Between 2 and 100 events."))
        return value

    def clean_scan_days(self) -> int:
        value = int(self.cleaned_data["scan_days"])
        if not 1 <= value <= 14:
            raise forms.ValidationError(_("Between 1 and 14 days."))
        return value


class DismissForm(forms.Form):
    reason = forms.CharField(
        label=_("Why dismiss it?"),
        max_length=300,
        help_text=_("E.g. one event entered twice, a training exercise, already known."),
    )


class AreaForm(forms.Form):
    level = forms.ChoiceField(label=_("Level"), choices=Level.choices, required=False)
    area = forms.CharField(label=_("Area"), max_length=200, required=False)
    days = forms.TypedChoiceField(
        label=_("Days"), choices=[(30, "30"), (90, "90"), (180, "180"), (365, "365")],
        coerce=int, initial=90, required=False,
    )  # fmt: skip


class ReportForm(forms.Form):
    date_from = forms.DateField(label=_("From"), required=False, widget=DateInput())
    date_to = forms.DateField(label=_("To"), required=False, widget=DateInput())

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, last = data.get("date_from"), data.get("date_to")
        if first and last and first > last:
            raise forms.ValidationError(_("The start is after the end."))
        if first and last and (last - first).days > 731:
            raise forms.ValidationError(_("At most two years at a time."))
        return data
