from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from harbour.core.widgets import DateInput
from harbour.mentoring.models import LANGUAGES, Channel, Identity, Pathway


class _Preferences(forms.Form):
    """What a person asking for a mentor prefers (first choices first)."""

    alias = forms.CharField(
        label=_("What should we call you?"),
        max_length=60,
        help_text=_("A first name or a nickname. Never your full name."),
    )
    channel = forms.ChoiceField(
        label=_("How should we reach you?"),
        choices=Channel.choices,
        widget=forms.RadioSelect,
        initial=Channel.SMS,
    )
    contact = forms.CharField(
        label=_("Mobile number or email"),
        max_length=200,
        help_text=_("Stored encrypted. Your mentor gets it only after you both say yes."),
    )
    language = forms.ChoiceField(label=_("Language you prefer"), choices=LANGUAGES)
    also_languages = forms.MultipleChoiceField(
        label=_("Other languages you are comfortable with"),
        choices=LANGUAGES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    pathway = forms.ChoiceField(
        label=_("The path you want support with"),
        choices=[("", _("No preference: open to any")), *Pathway.choices],
        required=False,
    )
    also_pathways = forms.MultipleChoiceField(
        label=_("Other paths that would be fine"),
        choices=Pathway.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    identities = forms.MultipleChoiceField(
        label=_("A mentor who shares this with me (optional)"),
        choices=Identity.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    online = forms.BooleanField(label=_("Online or by phone is fine"), required=False, initial=True)
    in_person = forms.BooleanField(label=_("In person is fine"), required=False, initial=True)
    fsa = forms.CharField(
        label=_("Postal area (to meet in person)"),
        max_length=7,
        required=False,
        help_text=_("The first three characters of your postal code, e.g. K7L."),
    )
    notes = forms.CharField(
        label=_("Anything else the coordinator should know (optional)"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Please no last names or health details."),
    )

    def languages(self) -> list[str]:
        data = self.cleaned_data
        return list(dict.fromkeys([data["language"], *data.get("also_languages", [])]))

    def pathways(self) -> list[str]:
        data = self.cleaned_data
        if not data.get("pathway"):
            return []
        return list(dict.fromkeys([data["pathway"], *data.get("also_pathways", [])]))


class AreaForm(forms.Form):
    """The first step of asking: where the person is, so that only a program serving that
    area gets the request (and the person learns at once when none does)."""

    fsa = forms.CharField(
        label=_("Your postal area"),
        max_length=7,
        help_text=_(
            "The first three characters of your postal code, e.g. K7L. It tells us which "
            "mentoring program serves you."
        ),
    )

    def clean_fsa(self) -> str:
        from harbour.alerts.services import parse_areas

        try:
            # a whole postal code ("H2X 1Y4") is fine: its first three characters are the area
            found = parse_areas("".join((self.cleaned_data.get("fsa") or "").split())[:3])
        except forms.ValidationError as exc:
            raise forms.ValidationError(
                _("A postal area is a letter, a digit and a letter, e.g. K7L.")
            ) from exc
        if not found:
            raise forms.ValidationError(_("This field is required."))
        return found[0]


class AskForm(_Preferences):
    program = forms.ChoiceField(label=_("Where"), choices=[])
    consent = forms.BooleanField(
        label=_("I agree that the coordinator sees what I wrote here to find me a mentor."),
    )
    website = forms.CharField(required=False, widget=forms.HiddenInput)  # a trap for bots

    field_order = ["program"]

    def __init__(self, *args: Any, programs: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # the postal area was given in the first step: it decided which programs are offered
        self.fields["fsa"].widget = forms.HiddenInput()
        self.fields["fsa"].required = True
        field: Any = self.fields["program"]
        field.choices = [(str(p.pk), str(p.organization.name)) for p in programs]
        if len(field.choices) == 1:
            field.initial = field.choices[0][0]
            field.widget = forms.HiddenInput()


class StaffRequestForm(_Preferences):
    agreed = forms.BooleanField(
        label=_("The person agreed that we keep this to find them a mentor."),
    )
    lang = forms.ChoiceField(
        label=_("Language of our messages"), choices=[("en", "English"), ("fr", "Français")]
    )


class MentorForm(forms.Form):
    alias = forms.CharField(label=_("Name they go by"), max_length=60,
                            help_text=_("A first name or a nickname."))  # fmt: skip
    channel = forms.ChoiceField(label=_("Reach them by"), choices=Channel.choices,
                                widget=forms.RadioSelect, initial=Channel.SMS)  # fmt: skip
    contact = forms.CharField(label=_("Mobile number or email"), max_length=200)
    lang = forms.ChoiceField(
        label=_("Language of our messages"), choices=[("en", "English"), ("fr", "Français")]
    )
    languages = forms.MultipleChoiceField(
        label=_("Languages"), choices=LANGUAGES, widget=forms.CheckboxSelectMultiple
    )
    pathways = forms.MultipleChoiceField(
        label=_("Pathways they can support"), choices=Pathway.choices,
        widget=forms.CheckboxSelectMultiple,
    )  # fmt: skip
    identities = forms.MultipleChoiceField(
        label=_("Identities they are happy to share (optional)"), choices=Identity.choices,
        widget=forms.CheckboxSelectMultiple, required=False,
    )  # fmt: skip
    online = forms.BooleanField(label=_("Meets online or by phone"), required=False, initial=True)
    in_person = forms.BooleanField(label=_("Meets in person"), required=False, initial=True)
    areas = forms.CharField(
        label=_("Postal areas they meet in"), max_length=200, required=False,
        help_text=_("e.g. K7L K7K. Empty: anywhere the program serves."),
    )  # fmt: skip
    capacity = forms.IntegerField(label=_("How many people at once"), min_value=1, max_value=20,
                                  initial=2)  # fmt: skip
    trained_on = forms.DateField(
        label=_("Peer mentor training completed on"), required=False,
        widget=DateInput(),
    )  # fmt: skip
    lived_experience = forms.BooleanField(
        label=_("Has lived or living experience"), required=False, initial=True
    )
    active = forms.BooleanField(label=_("Taking new people"), required=False, initial=True)


class ProgramForm(forms.Form):
    enabled = forms.BooleanField(label=_("Taking requests"), required=False)
    areas = forms.CharField(
        label=_("Postal areas served"), max_length=200, required=False,
        help_text=_("e.g. K7L K7K. Empty: anywhere (online mentoring)."),
    )  # fmt: skip
    checkin_every_days = forms.IntegerField(label=_("Days between check-ins"), min_value=1,
                                            max_value=90)  # fmt: skip
    answer_days = forms.IntegerField(label=_("Days to answer a check-in reminder"), min_value=1,
                                     max_value=30)  # fmt: skip
    quiet_after_missed = forms.IntegerField(
        label=_("Missed check-ins in a row before the coordinator is told"), min_value=1,
        max_value=10,
    )  # fmt: skip
    proposal_days = forms.IntegerField(
        label=_("Days both people have to accept a proposed match"), min_value=1, max_value=30
    )
    purge_days = forms.IntegerField(
        label=_("Days after a request closes before its contact details are erased"),
        min_value=1, max_value=365,
    )  # fmt: skip
    crisis_line = forms.CharField(label=_("Crisis line shown to people"), max_length=40,
                                  required=False)  # fmt: skip
