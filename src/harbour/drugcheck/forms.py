from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from harbour.core.widgets import DateInput
from harbour.drugcheck.models import ExpectedClass, Method, SampleForm, StripResult

YES_NO = [("", _("Not known")), ("yes", _("Yes")), ("no", _("No"))]
# one strip per kind on this form: "mixed" comes from several strips (imports)
STRIP_CHOICES = [
    ("", _("Not done")),
    *((value, label) for value, label in StripResult.choices if value != StripResult.MIXED),
]
STRIP_FIELDS = {
    "fentanyl_strip": Method.FENTANYL_STRIP,
    "benzo_strip": Method.BENZO_STRIP,
    "xylazine_strip": Method.XYLAZINE_STRIP,
    "nitazene_strip": Method.NITAZENE_STRIP,
}


def _yes_no(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


class LookupForm(forms.Form):
    code = forms.CharField(
        label=_("Sample code"),
        max_length=20,
        help_text=_("The code on the card you were given, for example 7KQ2-M9XD-4T."),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        ),
    )


class BoardForm(forms.Form):
    """Which released month to show: nothing finer than a month."""

    month = forms.ChoiceField(label=_("Month"), required=False)

    def __init__(self, *args: Any, months: Sequence[date] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["month"].choices = [  # type: ignore[attr-defined]
            (f"{m:%Y-%m}", date_format(m, "YEAR_MONTH_FORMAT")) for m in months
        ]


class SampleEntryForm(forms.Form):
    """A sample in under a minute on a phone: the common fields first, sensible defaults."""

    collected_on = forms.DateField(label=_("Date"), widget=DateInput())
    site = forms.CharField(label=_("Site"), max_length=200)
    city = forms.CharField(label=_("City or town"), max_length=120, required=False)
    fsa = forms.RegexField(
        label=_("Postal area"),
        regex=r"^[A-Za-z][0-9][A-Za-z]$",
        required=False,
        help_text=_("The first three characters of a postal code, e.g. V6A. Never a full address."),
        error_messages={"invalid": _("Enter three characters such as V6A.")},
    )
    expected = forms.CharField(
        label=_("Bought as"),
        max_length=200,
        required=False,
        help_text=_("In the person’s words, e.g. “down”, “crystal”, “Xanax”."),
    )
    expected_class = forms.ChoiceField(
        label=_("Kind of drug expected"),
        choices=[("", _("Worked out from “bought as”")), *ExpectedClass.choices],
        required=False,
    )
    form = forms.ChoiceField(label=_("Form"), choices=SampleForm.choices, initial="powder")
    colour = forms.CharField(label=_("Colour"), max_length=80, required=False)
    already_used = forms.ChoiceField(label=_("Already used?"), choices=YES_NO, required=False)
    overdose = forms.ChoiceField(label=_("Linked to an overdose?"), choices=YES_NO, required=False)
    fentanyl_strip = forms.ChoiceField(
        label=_("Fentanyl test strip"), choices=STRIP_CHOICES, required=False
    )
    benzo_strip = forms.ChoiceField(
        label=_("Benzodiazepine test strip"), choices=STRIP_CHOICES, required=False
    )
    xylazine_strip = forms.ChoiceField(
        label=_("Xylazine test strip"), choices=STRIP_CHOICES, required=False
    )
    nitazene_strip = forms.ChoiceField(
        label=_("Nitazene test strip"), choices=STRIP_CHOICES, required=False
    )
    ftir = forms.CharField(
        label=_("FTIR found"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "One component per line, main component first, with a percent if known: "
            "“fentanyl 8”, “caffeine”. Write “no library match” or “uncertain match” as such."
        ),
    )
    notes = forms.CharField(
        label=_("Notes for staff"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Never a name or anything that could identify the person."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["collected_on"].initial = timezone.localdate()

    def clean_fsa(self) -> str:
        return str(self.cleaned_data.get("fsa") or "").upper()

    def clean_ftir(self) -> list[tuple[str, float | None]]:
        lines = []
        for number, raw in enumerate(str(self.cleaned_data.get("ftir") or "").splitlines(), 1):
            text = raw.strip()
            if not text:
                continue
            name, _sep, last = text.rpartition(" ")
            percent: float | None = None
            if name and last.rstrip("%").replace(".", "", 1).isdigit():
                percent = float(last.rstrip("%"))
                if not 0 <= percent <= 100:
                    raise forms.ValidationError(
                        _("Line %(n)s: a percent is between 0 and 100."), params={"n": number}
                    )
                text = name.strip()
            lines.append((text, percent))
        return lines

    def yes_no(self, name: str) -> bool | None:
        return _yes_no(self.cleaned_data.get(name) or "")


def _yes_no_value(value: bool | None) -> str:
    return {True: "yes", False: "no"}.get(value, "")  # type: ignore[arg-type]


class SampleCorrectForm(SampleEntryForm):
    """The same fields as when it was recorded, filled in, and why it is corrected."""

    reason = forms.CharField(
        label=_("Why are you correcting it?"),
        max_length=300,
        help_text=_("For example “wrong strip result entered”. Kept in the audit trail."),
    )

    @classmethod
    def initial_for(cls, sample: Any) -> dict[str, Any]:
        strips = {t.method: t.result for t in sample.tests.all()}
        ftir = []
        for c in sample.components.all():
            if c.test is None or c.test.method != Method.FTIR:
                continue
            if c.match == "no-library-match":
                name = "no library match"
            elif c.match == "uncertain" and not (c.reported_name or c.substance):
                name = "uncertain match"
            else:
                name = c.reported_name or (c.substance.name if c.substance else "")
            ftir.append(f"{name} {c.percent.normalize():f}" if c.percent is not None else name)
        return {
            "collected_on": sample.collected_on,
            "site": sample.site,
            "city": sample.city,
            "fsa": sample.fsa,
            "expected": sample.expected,
            "expected_class": sample.expected_class,
            "form": sample.form,
            "colour": sample.colour,
            "already_used": _yes_no_value(sample.already_used),
            "overdose": _yes_no_value(sample.overdose),
            "notes": sample.notes,
            "ftir": "\n".join(ftir),
            **{name: strips.get(str(method), "") for name, method in STRIP_FIELDS.items()},
        }
