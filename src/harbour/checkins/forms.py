from __future__ import annotations

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from harbour.checkins.models import Outcome, Program, Responder, Route
from harbour.checkins.services import MAX_MINUTES, MIN_MINUTES, padded_areas
from harbour.core.widgets import DateInput

MINUTE_CHOICES = [(m, _("%(n)s minutes") % {"n": m}) for m in (5, 10, 15, 20, 30, 45, 60)]


class StartForm(forms.Form):
    alias = forms.CharField(
        label=_("What should we call you?"),
        max_length=40,
        help_text=_("A first name or a nickname. Never your full name."),
    )
    phone = forms.CharField(
        label=_("Your mobile number"),
        max_length=30,
        help_text=_("We text you when your time is up. Reply OK if you are all right."),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    minutes = forms.TypedChoiceField(
        label=_("Check on me in"), choices=MINUTE_CHOICES, coerce=int, initial=10
    )
    address = forms.CharField(
        label=_("Where are you?"),
        max_length=500,
        required=False,
        help_text=_("The address, so someone can come if you do not answer."),
    )
    access_notes = forms.CharField(
        label=_("How to get in"),
        max_length=500,
        required=False,
        help_text=_("Buzzer, door, floor, where the key is."),
    )
    fsa = forms.CharField(
        label=_("Postal area"),
        max_length=7,  # a whole postal code is welcome: only its area (K7L) is kept
        help_text=_(
            "The first three characters of your postal code, e.g. K7L: we check that someone "
            "can come to you before the timer starts."
        ),
    )
    contact_1 = forms.CharField(
        label=_("A friend to text if you do not answer (optional)"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel"}),
    )
    contact_2 = forms.CharField(
        label=_("Another friend (optional)"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel"}),
    )
    substance = forms.CharField(
        label=_("What are you using? (optional)"), max_length=80, required=False
    )
    route = forms.ChoiceField(
        label=_("How? (optional)"), choices=[("", "—"), *Route.choices], required=False
    )
    position = forms.CharField(widget=forms.HiddenInput, required=False)
    nonce = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        if not self.is_bound:
            self.initial["nonce"] = uuid.uuid4().hex


class OperatorStartForm(StartForm):
    training = forms.BooleanField(
        label=_("Training session (reaches training responders only)"), required=False
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["alias"].label = _("What the caller wants to be called")
        self.fields["phone"].required = False
        self.fields["phone"].label = _("Caller's mobile number (optional)")
        self.fields["phone"].help_text = _("Without it, the prompt is you calling them back.")
        self.fields["fsa"].required = False
        self.fields["minutes"] = forms.IntegerField(
            label=_("Minutes"), min_value=MIN_MINUTES, max_value=MAX_MINUTES, initial=10
        )


class MoreForm(forms.Form):
    minutes = forms.TypedChoiceField(
        label=_("More time"), choices=MINUTE_CHOICES, coerce=int, initial=10
    )


class OutcomeForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("What happened?"),
        choices=[
            (Outcome.RESPONDER_OK, _("They were okay")),
            (Outcome.NALOXONE, _("I gave naloxone")),
            (Outcome.EMS_CALLED, _("EMS called (911)")),
            (Outcome.OTHER, _("Something else")),
        ],
        widget=forms.RadioSelect,
    )
    naloxone_doses = forms.IntegerField(
        label=_("Doses of naloxone given"), min_value=1, max_value=20, required=False
    )

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("outcome") == Outcome.NALOXONE and not data.get("naloxone_doses"):
            self.add_error("naloxone_doses", _("How many doses of naloxone?"))
        return data


class DebriefForm(forms.Form):
    feeling = forms.ChoiceField(
        label=_("How are you doing after this call?"),
        choices=[
            ("good", _("Okay")),
            ("shaken", _("Shaken")),
            ("need-support", _("I need support")),
        ],
        widget=forms.RadioSelect,
    )
    call_me = forms.BooleanField(
        label=_("I would like someone from the team to call me"), required=False
    )
    notes = forms.CharField(
        label=_("Anything the team should know (no names)"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ResponderForm(forms.ModelForm):
    phone = forms.CharField(label=_("Mobile number"), max_length=30)
    areas = forms.CharField(
        label=_("Postal areas they cover"),
        max_length=400,
        required=False,
        help_text=_("Separated by spaces, e.g. K7L K7K. Empty: all areas."),
    )

    class Meta:
        model = Responder
        fields = ["alias", "lang", "naloxone_trained_until", "on_call", "training"]
        widgets = {
            "lang": forms.Select(choices=[("en", "English"), ("fr", "Français")]),
            "naloxone_trained_until": DateInput(),
        }

    def clean_areas(self) -> str:
        return padded_areas(self.cleaned_data.get("areas") or "")


class ProgramForm(forms.ModelForm):
    class Meta:
        model = Program
        fields = [
            "enabled", "is_default", "areas", "grace_seconds", "accept_seconds",
            "arrival_seconds", "purge_hours", "crisis_line",
        ]  # fmt: skip

    def clean_areas(self) -> str:
        return padded_areas(self.cleaned_data.get("areas") or "")
