"""Forms: thin. They turn what a person typed into the records the services check (the
services give the errors, in the person's language, so a form and a device get the same)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from harbour.core.widgets import DateInput
from harbour.outreach.models import (
    MAX_DOSES,
    MAX_PEOPLE,
    MAX_QUANTITY,
    NALOXONE,
    Breathing,
    EmsCame,
    Help,
    KitKind,
    Outcome,
    Recipient,
    Route,
    Substance,
    Supply,
    UnitKind,
)

NUMBER = {"inputmode": "numeric", "pattern": "[0-9]*", "class": "count"}


def _count(label: Any, high: int, initial: int = 0, required: bool = False) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        required=required,
        initial=initial,
        widget=forms.NumberInput(attrs={**NUMBER, "min": 0, "max": high}),
    )


def _when_field(label: Any) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=False,
        help_text=_("Leave empty for now."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )


def apply_errors(
    form: forms.Form, exc: ValidationError, aliases: dict[str, str] | None = None
) -> None:
    """A service's field errors onto the form's fields (or the top of the form)."""
    aliases = aliases or {}
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for name, messages in exc.message_dict.items():
        target = aliases.get(name, name)
        if target in form.fields:
            form.add_error(target, messages)
        else:
            form.add_error(None, messages)


def apply_result(form: forms.Form, errors: dict[str, list[str]], aliases: dict[str, str]) -> None:
    apply_errors(form, ValidationError(errors), aliases)


class PlaceMixin(forms.Form):
    """Team, named spot or postal area, and the device position (filled by "Use my location",
    rounded to about 100 m by the server)."""

    def add_place_fields(self, teams: list[tuple[str, str]], spots: list[tuple[str, str]]) -> None:
        self.fields["team"] = forms.ChoiceField(label=_("Team or site"), choices=teams)
        self.fields["spot"] = forms.ChoiceField(
            label=_("Named spot"),
            choices=[("", _("— none, use the postal area —")), *spots],
            required=False,
        )
        self.fields["fsa"] = forms.CharField(
            label=_("Postal area"),
            max_length=7,
            required=False,
            help_text=_("First three characters, like K7L. Not needed with a named spot."),
            widget=forms.TextInput(attrs={"autocapitalize": "characters", "size": 4}),
        )
        self.fields["lat"] = forms.CharField(required=False, widget=forms.HiddenInput)
        self.fields["lng"] = forms.CharField(required=False, widget=forms.HiddenInput)


class EncounterForm(PlaceMixin):
    id = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        teams: list[tuple[str, str]],
        spots: list[tuple[str, str]],
        referrals: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.add_place_fields(teams, spots)
        self.fields["people_new"] = _count(_("New people"), MAX_PEOPLE)
        self.fields["people_returning"] = _count(_("Returning people"), MAX_PEOPLE)
        for supply in Supply:
            self.fields[f"supply-{supply.value}"] = _count(supply.label, MAX_QUANTITY)
        self.fields["naloxone_recipient"] = forms.ChoiceField(
            label=_("Naloxone given to"),
            choices=Recipient.choices,
            initial=Recipient.PWUD,
            widget=forms.RadioSelect,
            required=False,
        )
        self.fields["naloxone_trained"] = forms.BooleanField(
            label=_("Shown how to use it"), required=False, initial=True
        )
        self.fields["services"] = forms.MultipleChoiceField(
            label=_("Services"),
            choices=Help.choices,
            widget=forms.CheckboxSelectMultiple,
            required=False,
        )
        self.fields["referrals"] = forms.MultipleChoiceField(
            label=_("Referred to"),
            choices=referrals,
            widget=forms.CheckboxSelectMultiple,
            required=False,
        )
        self.fields["occurred_at"] = _when_field(_("When"))
        self.fields["notes"] = forms.CharField(
            label=_("Short notes"),
            max_length=500,
            required=False,
            help_text=_("No names, no descriptions of people."),
            widget=forms.Textarea(attrs={"rows": 2}),
        )
        self.fields["client_code"] = forms.CharField(
            label=_("Client code (optional)"),
            max_length=16,
            required=False,
            help_text=_("A pseudonymous code, never a name, only if the person agrees."),
            widget=forms.TextInput(attrs={"autocapitalize": "characters", "autocomplete": "off"}),
        )
        self.fields["consent"] = forms.BooleanField(
            label=_("The person agreed to their code being kept"), required=False
        )
        if not self.is_bound and "id" not in self.initial:
            self.initial["id"] = uuid.uuid4()

    def supply_fields(self) -> list[Any]:
        return [self[f"supply-{s.value}"] for s in Supply]

    def record(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "id": data["id"],
            "team": data.get("team"),
            "spot": data.get("spot"),
            "fsa": data.get("fsa"),
            "lat": data.get("lat"),
            "lng": data.get("lng"),
            "occurred_at": data.get("occurred_at"),
            "people_new": data.get("people_new"),
            "people_returning": data.get("people_returning"),
            "supplies": {
                s.value: data.get(f"supply-{s.value}")
                for s in Supply
                if data.get(f"supply-{s.value}")
            },
            "naloxone_recipient": data.get("naloxone_recipient") or Recipient.PWUD,
            "naloxone_trained": bool(data.get("naloxone_trained")),
            "services": data.get("services") or [],
            "referrals": data.get("referrals") or [],
            "notes": data.get("notes") or "",
            "client_code": data.get("client_code") or "",
            "consent": bool(data.get("consent")),
        }


ENCOUNTER_ALIASES = {"position": "fsa", "supplies": "supply-naloxone-nasal"}


class ResponseForm(PlaceMixin):
    id = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(
        self, *args: Any, teams: list[tuple[str, str]], spots: list[tuple[str, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.add_place_fields(teams, spots)
        self.fields["occurred_at"] = _when_field(_("When"))
        self.fields["naloxone_doses"] = _count(_("Naloxone doses given"), MAX_DOSES)
        self.fields["route"] = forms.ChoiceField(
            label=_("How"),
            choices=Route.choices,
            initial=Route.NASAL,
            widget=forms.RadioSelect,
            required=False,
        )
        self.fields["kits_nasal"] = _count(_("Nasal kits used from our stock"), 10)
        self.fields["kits_injectable"] = _count(_("Injectable kits used from our stock"), 10)
        self.fields["breathing"] = forms.ChoiceField(
            label=_("Breathing when you arrived"),
            choices=Breathing.choices,
            initial=Breathing.UNKNOWN,
            widget=forms.RadioSelect,
            required=False,
        )
        self.fields["oxygen"] = forms.BooleanField(label=_("Oxygen given"), required=False)
        self.fields["outcome"] = forms.ChoiceField(
            label=_("Outcome"),
            choices=Outcome.choices,
            widget=forms.RadioSelect,
            required=False,
        )
        self.fields["substances"] = forms.MultipleChoiceField(
            label=_("Suspected substances"),
            choices=Substance.choices,
            widget=forms.CheckboxSelectMultiple,
            required=False,
        )
        self.fields["notes"] = forms.CharField(
            label=_("Short notes"),
            max_length=500,
            required=False,
            help_text=_("No names, no descriptions of people."),
            widget=forms.Textarea(attrs={"rows": 2}),
        )
        if not self.is_bound and "id" not in self.initial:
            self.initial["id"] = uuid.uuid4()

    def record(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            key: data.get(key)
            for key in (
                "id",
                "team",
                "spot",
                "fsa",
                "lat",
                "lng",
                "occurred_at",
                "naloxone_doses",
                "route",
                "kits_nasal",
                "kits_injectable",
                "breathing",
                "oxygen",
                "outcome",
                "substances",
                "notes",
            )
        }


RESPONSE_ALIASES = {"position": "fsa", "kits": "kits_nasal"}


# --- the public "I used a kit" form -----------------------------------------------------------


class KitUseForm(forms.Form):
    id = forms.UUIDField(widget=forms.HiddenInput)
    used_on = forms.DateField(
        label=_("When did you use it?"),
        widget=DateInput(),
    )
    fsa = forms.CharField(
        label=_("Where (postal area)"),
        max_length=7,
        required=False,
        help_text=_("The first three characters of the postal code nearby, like K7L. Optional."),
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "size": 4}),
    )
    kit_kind = forms.ChoiceField(
        label=_("What kind of kit?"),
        choices=KitKind.choices,
        initial=KitKind.NASAL,
        widget=forms.RadioSelect,
    )
    doses = forms.IntegerField(
        label=_("How many doses did you give?"),
        initial=1,
        widget=forms.NumberInput(attrs={**NUMBER, "min": 1, "max": MAX_DOSES}),
    )
    outcome = forms.ChoiceField(
        label=_("What happened to the person?"),
        choices=[
            (Outcome.RECOVERED, _("They woke up or started breathing again")),
            (Outcome.EMS_ATTENDED, _("Paramedics came and looked after them")),
            (Outcome.TRANSPORTED, _("They were taken to hospital")),
            (Outcome.DECEASED, _("They died")),
            (Outcome.UNKNOWN, _("I don’t know")),
        ],
        widget=forms.RadioSelect,
    )
    ems_came = forms.ChoiceField(
        label=_("Did paramedics (EMS) come?"),
        choices=EmsCame.choices,
        initial=EmsCame.UNKNOWN,
        widget=forms.RadioSelect,
    )
    want_refill = forms.BooleanField(label=_("I would like a new kit"), required=False)
    contact = forms.CharField(
        label=_("How can the team reach you about a new kit? (optional)"),
        max_length=120,
        required=False,
        help_text=_(
            "A phone number or email. Kept private and erased once you have a kit, "
            "or after 30 days. Leave empty to stay anonymous: pick one up at any site."
        ),
    )
    # people leave it empty; bots fill every field
    website = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("id", uuid.uuid4())
            self.initial.setdefault("used_on", timezone.localdate())


# --- stock and naloxone (staff) ---------------------------------------------------------------


def supply_choices(tracked: list[str]) -> list[tuple[str, Any]]:
    labels = dict(Supply.choices)
    return [(code, labels[code]) for code in tracked if code in labels]


class ReceiptForm(forms.Form):
    def __init__(
        self, *args: Any, teams: list[tuple[str, str]], tracked: list[str], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"] = forms.ChoiceField(label=_("Team or site"), choices=teams)
        self.fields["supply"] = forms.ChoiceField(
            label=_("Supply"), choices=supply_choices(tracked)
        )
        self.fields["quantity"] = forms.IntegerField(
            label=_("Quantity"), widget=forms.NumberInput(attrs={**NUMBER, "min": 1})
        )
        self.fields["lot"] = forms.CharField(
            label=_("Lot number"),
            max_length=40,
            required=False,
            help_text=_("Needed for naloxone (on the box)."),
        )
        self.fields["expires_on"] = forms.DateField(
            label=_("Expiry date"),
            required=False,
            help_text=_("Needed for naloxone."),
            widget=DateInput(),
        )
        self.fields["note"] = forms.CharField(
            label=_("From where (optional)"), max_length=200, required=False
        )


class TransferForm(forms.Form):
    def __init__(
        self, *args: Any, teams: list[tuple[str, str]], tracked: list[str], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["from_team"] = forms.ChoiceField(label=_("From"), choices=teams)
        self.fields["to_team"] = forms.ChoiceField(label=_("To"), choices=teams)
        self.fields["supply"] = forms.ChoiceField(
            label=_("Supply"), choices=supply_choices(tracked)
        )
        self.fields["quantity"] = forms.IntegerField(
            label=_("Quantity"), widget=forms.NumberInput(attrs={**NUMBER, "min": 1})
        )
        self.fields["note"] = forms.CharField(
            label=_("Note (optional)"), max_length=200, required=False
        )


class CorrectForm(forms.Form):
    counted = forms.IntegerField(
        label=_("Counted on the shelf"),
        required=False,
        widget=forms.NumberInput(attrs={**NUMBER, "min": 0}),
    )
    thrown_away = forms.IntegerField(
        label=_("Or: thrown away (expired or damaged)"),
        required=False,
        widget=forms.NumberInput(attrs={**NUMBER, "min": 1}),
    )
    note = forms.CharField(label=_("Why (optional)"), max_length=200, required=False)


class RemoveForm(forms.Form):
    reason = forms.CharField(
        label=_("What was wrong with it"),
        help_text=_("For example: logged twice, wrong team. Kept with the removal."),
        max_length=200,
    )


class KitsGiveForm(forms.Form):
    def __init__(self, *args: Any, teams: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"] = forms.ChoiceField(label=_("Site or team"), choices=teams)
        self.fields["supply"] = forms.ChoiceField(
            label=_("Kind of kit"),
            choices=supply_choices(list(NALOXONE)),
            widget=forms.RadioSelect,
            initial=Supply.NALOXONE_NASAL,
        )
        self.fields["quantity"] = forms.IntegerField(
            label=_("Kits"), initial=1, widget=forms.NumberInput(attrs={**NUMBER, "min": 1})
        )
        self.fields["recipient"] = forms.ChoiceField(
            label=_("Given to"),
            choices=Recipient.choices,
            initial=Recipient.PWUD,
            widget=forms.RadioSelect,
        )
        self.fields["trained"] = forms.BooleanField(
            label=_("Shown how to use it"), required=False, initial=True
        )
        self.fields["given_at"] = _when_field(_("When"))


class TrainingForm(forms.Form):
    def __init__(self, *args: Any, teams: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"] = forms.ChoiceField(label=_("Site or team"), choices=teams)
        self.fields["held_on"] = forms.DateField(
            label=_("Date"),
            initial=timezone.localdate,
            widget=DateInput(),
        )
        self.fields["people_trained"] = forms.IntegerField(
            label=_("People trained"), widget=forms.NumberInput(attrs={**NUMBER, "min": 1})
        )
        self.fields["audience"] = forms.ChoiceField(
            label=_("Mostly"), choices=Recipient.choices, initial=Recipient.PWUD
        )
        self.fields["kits_given"] = forms.IntegerField(
            label=_("Kits given at the session"),
            required=False,
            initial=0,
            widget=forms.NumberInput(attrs={**NUMBER, "min": 0}),
        )
        self.fields["supply"] = forms.ChoiceField(
            label=_("Kind of kit"),
            choices=supply_choices(list(NALOXONE)),
            initial=Supply.NALOXONE_NASAL,
        )


# --- settings (coordinators) ------------------------------------------------------------------


class ProgramForm(forms.Form):
    tracked = forms.MultipleChoiceField(
        label=_("Supplies kept in stock"),
        choices=Supply.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("What teams give out of these is deducted from their stock."),
    )
    areas = forms.CharField(
        label=_("Postal areas served"),
        max_length=400,
        required=False,
        help_text=_(
            "Separated by spaces, e.g. K7L K7K. Refill requests from these areas come to you."
        ),
    )
    expiry_warning_days = forms.IntegerField(
        label=_("Warn this many days before naloxone expires"),
        initial=60,
        widget=forms.NumberInput(attrs={**NUMBER, "min": 1, "max": 365}),
    )
    cover_weeks = forms.IntegerField(
        label=_("Weeks an order should cover"),
        initial=4,
        widget=forms.NumberInput(attrs={**NUMBER, "min": 1, "max": 26}),
    )
    low_stock_weeks = forms.IntegerField(
        label=_("Low stock: less than this many weeks of use left"),
        initial=1,
        widget=forms.NumberInput(attrs={**NUMBER, "min": 1, "max": 12}),
    )


class TeamForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80)
    kind = forms.ChoiceField(label=_("Kind"), choices=UnitKind.choices, initial=UnitKind.TEAM)
    fsa = forms.CharField(label=_("Usual postal area"), max_length=7, required=False)


class SpotForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80, help_text=_("A place, never a person."))
    fsa = forms.CharField(label=_("Postal area"), max_length=7)


class ReferralSearchForm(forms.Form):
    q = forms.CharField(label=_("Service name or kind of help"), max_length=100, required=False)


class PeriodForm(forms.Form):
    first = forms.DateField(label=_("From"), widget=DateInput())
    last = forms.DateField(label=_("To"), widget=DateInput())
    shared = forms.BooleanField(
        label=_("Version to share outside the organization (numbers under 5 hidden)"),
        required=False,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, last = data.get("first"), data.get("last")
        if first and last:
            if first > last:
                self.add_error("last", _("The end comes before the start."))
            elif last - first > timedelta(days=731):
                self.add_error("last", _("Choose at most two years."))
        return data
