from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from harbour.accounts.models import Organization
from harbour.referrals.lifecycle import Action
from harbour.referrals.models import (
    RETENTION_DAYS_MAX,
    RETENTION_DAYS_MIN,
    ConsentMethod,
    ContactMethod,
    EraseReason,
    Priority,
    Purpose,
    SharedField,
)

# languages named in their own language (a person finds theirs without reading ours)
LANGUAGE_CHOICES = [
    ("en", "English"),
    ("fr", "Français"),
    ("es", "Español"),
    ("pt", "Português"),
    ("ar", "العربية"),
    ("zh", "中文"),
    ("pa", "ਪੰਜਾਬੀ"),
    ("tl", "Tagalog"),
    ("cr", "Nēhiyawēwin (Cree)"),
    ("oj", "Anishinaabemowin (Ojibwe)"),
    ("iu", "ᐃᓄᒃᑎᑐᑦ (Inuktitut)"),
]
LANGUAGE_NAMES = dict(LANGUAGE_CHOICES)

ACTION_LABELS: dict[str, Any] = {
    Action.SEND: _("Send"),
    Action.DISCARD: _("Discard the draft"),
    Action.RECEIVE: _("Acknowledge"),
    Action.ACCEPT: _("Accept"),
    Action.DECLINE: _("Decline"),
    Action.REDIRECT: _("Redirect elsewhere"),
    Action.START: _("Start: first contact made"),
    Action.COMPLETE: _("Completed: they got help"),
    Action.UNSUCCESSFUL: _("Close as unsuccessful"),
    Action.CANCEL: _("Cancel"),
    Action.HOLD: _("Put on hold (waitlist)"),
    Action.RESUME: _("Resume"),
    Action.WITHDRAW: _("Withdraw"),
    Action.ENTERED_IN_ERROR: _("Mark as entered in error"),
}

REASON_LABELS: dict[str, Any] = {
    "not_eligible": _("Not eligible"),
    "no_capacity": _("No capacity"),
    "other": _("Other (say why in the note)"),
    "no_show": _("Did not come"),
    "could_not_contact": _("Could not reach them"),
    "better_fit": _("Another service fits better"),
    "waitlist": _("Waitlist: no place yet"),
    "client_request": _("The person asked"),
    "no_longer_needed": _("No longer needed"),
    "duplicate": _("Duplicate"),
    "wrong_client": _("Wrong person"),
    "wrong_organization": _("Wrong organization"),
}

VALID_DAYS = [
    (30, _("30 days")),
    (90, _("90 days")),
    (180, _("6 months")),
    (365, _("1 year")),
    (730, _("2 years")),
]


class ClientForm(forms.Form):
    alias = forms.CharField(
        label=_("Alias or preferred name"),
        max_length=80,
        help_text=_("What they want to be called. Never a full legal name unless they ask."),
    )
    contact_method = forms.ChoiceField(
        label=_("How to reach them"),
        choices=ContactMethod.choices,
        initial=ContactMethod.WORKER,
        widget=forms.RadioSelect,
    )
    phone = forms.CharField(
        label=_("Phone"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    email = forms.CharField(
        label=_("Email"),
        max_length=254,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "email", "autocomplete": "off"}),
    )
    contact_notes = forms.CharField(
        label=_("Contact notes"),
        max_length=500,
        required=False,
        help_text=_("Which worker, when to call, whether a message may be left."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    language = forms.ChoiceField(label=_("Language"), choices=LANGUAGE_CHOICES, initial="en")
    birth_year = forms.IntegerField(
        label=_("Year of birth (optional)"),
        required=False,
        min_value=1900,
        max_value=2100,
        help_text=_("Only if it helps tell two people with the same alias apart."),
    )
    confirm_new = forms.BooleanField(
        label=_("This is a different person: record them anyway"), required=False
    )


class ConsentForm(forms.Form):
    organizations = forms.ModelMultipleChoiceField(
        label=_("Share with"),
        queryset=Organization.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The partner organizations the person agreed to."),
    )
    shared = forms.MultipleChoiceField(
        label=_("What may be shared"),
        choices=SharedField.choices,
        initial=[SharedField.ALIAS, SharedField.CONTACT, SharedField.LANGUAGE, SharedField.NEEDS],
        widget=forms.CheckboxSelectMultiple,
    )
    purpose = forms.ChoiceField(label=_("Purpose"), choices=Purpose.choices[:2])
    method = forms.ChoiceField(
        label=_("How they agreed"),
        choices=ConsentMethod.choices[:2],
        initial=ConsentMethod.VERBAL,
        widget=forms.RadioSelect,
    )
    valid_days = forms.TypedChoiceField(
        label=_("Valid for"), choices=VALID_DAYS, coerce=int, initial=180
    )

    def __init__(self, *args: Any, organizations: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["organizations"]
        assert isinstance(field, forms.ModelMultipleChoiceField)
        field.queryset = organizations if organizations is not None else Organization.objects.none()

    def valid_until(self) -> Any:
        return timezone.now() + timedelta(days=self.cleaned_data["valid_days"])


class ReferralForm(forms.Form):
    client = forms.ChoiceField(label=_("Who is being referred"))
    receiver = forms.ModelChoiceField(
        label=pgettext_lazy("referral", "To"),
        queryset=Organization.objects.none(),
        required=False,
        empty_label=_("Choose an organization"),
    )
    service_type = forms.ChoiceField(label=_("Type of help"), required=False)
    needs = forms.CharField(
        label=_("What they need"),
        max_length=2000,
        required=False,
        help_text=_("Shared only if their consent includes what they need."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    priority = forms.ChoiceField(
        label=_("Priority"), choices=Priority.choices, initial=Priority.ROUTINE,
        widget=forms.RadioSelect,
    )  # fmt: skip

    def __init__(
        self,
        *args: Any,
        clients: list[tuple[str, str]] | None = None,
        receivers: Any = None,
        service_types: list[tuple[str, str]] | None = None,
        with_service: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        client = self.fields["client"]
        assert isinstance(client, forms.ChoiceField)
        client.choices = [("", _("Choose a client")), *(clients or [])]
        receiver = self.fields["receiver"]
        assert isinstance(receiver, forms.ModelChoiceField)
        receiver.queryset = receivers if receivers is not None else Organization.objects.none()
        kinds = self.fields["service_type"]
        assert isinstance(kinds, forms.ChoiceField)
        kinds.choices = [("", _("Not sure")), *(service_types or [])]
        if with_service:
            del self.fields["receiver"]
            del self.fields["service_type"]
        else:
            receiver.required = True


class ActionForm(forms.Form):
    action = forms.ChoiceField(choices=[(a.value, a.value) for a in Action])
    version = forms.IntegerField(min_value=0)
    reason_code = forms.ChoiceField(
        label=_("Reason"), choices=[("", "—"), *REASON_LABELS.items()], required=False
    )
    note = forms.CharField(
        label=_("Note (both organizations see it)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    redirect_to = forms.ModelChoiceField(
        label=_("Redirect to"),
        queryset=Organization.objects.filter(is_active=True),
        required=False,
    )


class MessageForm(forms.Form):
    body = forms.CharField(
        label=_("Message"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    internal = forms.BooleanField(required=False, widget=forms.HiddenInput)


class SelfReferralForm(forms.Form):
    alias = forms.CharField(
        label=_("What should they call you?"),
        max_length=40,
        help_text=_("A first name or a nickname is enough."),
    )
    contact_method = forms.ChoiceField(
        label=_("How should they contact you?"),
        choices=[
            (ContactMethod.PHONE.value, _("Phone call or text")),
            (ContactMethod.EMAIL.value, _("Email")),
        ],
        initial=ContactMethod.PHONE,
        widget=forms.RadioSelect,
    )
    phone = forms.CharField(
        label=_("Phone number"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    email = forms.CharField(
        label=_("Email address"),
        max_length=254,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "email", "autocomplete": "email"}),
    )
    best_time = forms.CharField(
        label=_("Best time to reach you (optional)"),
        max_length=200,
        required=False,
        help_text=_("For example: weekday mornings; text first; do not leave a message."),
    )
    language = forms.ChoiceField(
        label=_("Language"), choices=[("en", "English"), ("fr", "Français")], initial="en"
    )
    needs = forms.CharField(
        label=_("What would you like help with? (optional)"),
        max_length=1000,
        required=False,
        help_text=_("A few words are enough. No need to share anything you do not want to."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    consent = forms.BooleanField(label=_("I agree"), required=True)
    # left empty by people; bots fill every field
    website = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        method = data.get("contact_method")
        if method == ContactMethod.PHONE and not (data.get("phone") or "").strip():
            self.add_error("phone", _("Give a phone number, or choose email."))
        if method == ContactMethod.EMAIL and not (data.get("email") or "").strip():
            self.add_error("email", _("Give an email address, or choose phone."))
        return data


class GapFilterForm(forms.Form):
    """Which of the periods a release offers (the whole release or one of its disjoint
    parts): never a window of the reader's choosing."""

    period = forms.ChoiceField(label=_("Period"), required=False)

    def __init__(self, *args: Any, periods: Sequence[tuple[str, str]] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["period"].choices = list(periods)  # type: ignore[attr-defined]


class EraseClientForm(forms.Form):
    reason = forms.ChoiceField(label=_("Why"), choices=EraseReason.choices)
    confirm = forms.BooleanField(
        label=_("I understand this cannot be undone"),
        required=True,
    )


class RetentionForm(forms.Form):
    retention_days = forms.IntegerField(
        label=_("Days a client's details are kept after their last referral closed"),
        min_value=RETENTION_DAYS_MIN,
        max_value=RETENTION_DAYS_MAX,
    )
