from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.forms.utils import flatatt
from django.utils.dates import WEEKDAYS
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.text import slugify
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from harbour.core import geo
from harbour.core.forms import NearFieldMixin
from harbour.meetings import feedspec, weekly
from harbour.meetings import types as meeting_types
from harbour.meetings.models import Fellowship, Meeting, SuggestionField

RADIUS_CHOICES = [("", _("Fits the place")),
                  ("2", "2 km"), ("5", "5 km"), ("10", "10 km"), ("25", "25 km"),
                  ("40", "40 km"), ("100", "100 km")]  # fmt: skip
TIME_CHOICES = [
    ("", _("Any time")),
    ("morning", _("Morning (from 6 a.m.)")),
    ("afternoon", _("Afternoon (from noon)")),
    ("evening", _("Evening (from 5 p.m.)")),
]
AFTER = {"morning": 360, "afternoon": 720, "evening": 1020}
CANADIAN_ZONES = [
    "America/St_Johns", "America/Halifax", "America/Moncton", "America/Toronto",
    "America/Winnipeg", "America/Regina", "America/Edmonton", "America/Vancouver",
    "America/Whitehorse", "America/Yellowknife", "America/Iqaluit",
]  # fmt: skip


class QuickSelect(forms.Select):
    """A select rendered in Python: the same HTML as Django's (attributes, aria-describedby from
    the field), without a template per option, which is most of the search page's time."""

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        final = self.build_attrs(self.attrs, {**(attrs or {}), "name": name})
        chosen = {str(v) for v in (value if isinstance(value, list | tuple) else [value])}
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (option_value, " selected" if str(option_value) in chosen else "", option_label)
                for option_value, option_label in self.choices
            ),
        )
        return format_html("<select{}>{}</select>", flatatt(final), options)


def day_name(day: int) -> str:
    """The spec's day (0 = Sunday) in the current language (Django's own translations)."""
    return str(WEEKDAYS[(day - 1) % 7])


WEEKDAYS_SPEC = [1, 2, 3, 4, 5]
WEEKEND_SPEC = [0, 6]


def days_label(days: list[int] | tuple[int, ...]) -> str:
    """A weekly schedule in words: "Every day", "Monday to Friday", "Saturday and Sunday", or
    the days' names in week order (Monday first)."""
    chosen = sorted(set(days), key=lambda d: (d + 6) % 7)  # Monday first, Sunday last
    if len(chosen) == 7:
        return str(_("Every day"))
    if chosen == WEEKDAYS_SPEC:
        return str(_("Monday to Friday"))
    if sorted(chosen) == WEEKEND_SPEC:
        return str(_("Saturday and Sunday"))
    return ", ".join(day_name(d) for d in chosen)


# short human names of time zones, shown only when a meeting's zone is not the site's
ZONE_LABELS = {
    "America/St_Johns": _("Newfoundland time"),
    "America/Halifax": _("Atlantic time"),
    "America/Moncton": _("Atlantic time"),
    "America/Glace_Bay": _("Atlantic time"),
    "America/Toronto": _("Eastern time"),
    "America/Montreal": _("Eastern time"),
    "America/Iqaluit": _("Eastern time"),
    "America/New_York": _("Eastern time"),
    "America/Winnipeg": _("Central time"),
    "America/Chicago": _("Central time"),
    "America/Regina": _("Saskatchewan time"),
    "America/Edmonton": _("Mountain time"),
    "America/Yellowknife": _("Mountain time"),
    "America/Denver": _("Mountain time"),
    "America/Vancouver": _("Pacific time"),
    "America/Los_Angeles": _("Pacific time"),
    "America/Whitehorse": _("Yukon time"),
}


def zone_label(name: str) -> str:
    """ "Pacific time" for America/Vancouver; for a zone without a name here, its city's
    ("Paris time"), never the raw identifier."""
    if name in ZONE_LABELS:
        return str(ZONE_LABELS[name])
    city = name.rsplit("/", 1)[-1].replace("_", " ")
    return str(_("%(place)s time") % {"place": city})


def day_choices() -> list[tuple[str, str]]:
    return [(str(d), day_name(d)) for d in range(7)]


def _lang() -> str:
    return "fr" if (get_language() or "en").startswith("fr") else "en"


class SearchForm(NearFieldMixin, forms.Form):
    q = forms.CharField(
        label=_("Name or place"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    near = forms.CharField(
        label=_("Near (postal code)"),
        required=False,
        max_length=60,
        help_text=_("A postal code such as K7L or V6A 1A1, or latitude,longitude."),
        widget=forms.TextInput(attrs={"autocomplete": "postal-code"}),
    )
    radius = forms.ChoiceField(
        label=_("Within"),
        choices=RADIUS_CHOICES,
        required=False,
        widget=QuickSelect,
        help_text=_(
            "Fits the place: 10 km in town, 40 km in the country, wider when few meetings are near."
        ),
    )
    soon = forms.BooleanField(label=_("Starting in the next hour"), required=False)
    day = forms.ChoiceField(label=_("Day"), required=False, widget=QuickSelect)
    time = forms.ChoiceField(
        label=_("Time"), choices=TIME_CHOICES, required=False, widget=QuickSelect
    )
    attendance = forms.ChoiceField(
        label=_("How"),
        required=False,
        widget=QuickSelect,
        choices=[
            ("", _("In person or online")),
            ("in_person", _("In person")),
            ("online", _("Online or by phone")),
        ],
    )
    language = forms.ChoiceField(label=_("Language"), required=False, widget=QuickSelect)
    type = forms.ChoiceField(label=_("Type of meeting"), required=False, widget=QuickSelect)
    fellowship = forms.ChoiceField(label=_("Program"), required=False, widget=QuickSelect)
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(
        self, *args: Any, fellowships: Any = (), languages: Any = (), **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        lang = _lang()
        fields: Any = self.fields
        fields["day"].choices = [("", _("Any day")), ("today", _("Today")), *day_choices()]
        fields["language"].choices = [("", _("Any language"))] + [
            (code, meeting_types.label(code, lang)) for code in languages
        ]
        fields["type"].choices = [("", _("Any type"))] + [
            (code, meeting_types.label(code, lang)) for code in meeting_types.COMMON
        ]
        fields["fellowship"].choices = [("", _("Any program")), *fellowships]
        self.place: geo.Place | None = None


class TypesField(forms.MultipleChoiceField):
    widget = forms.CheckboxSelectMultiple


class MeetingForm(forms.Form):
    """A meeting as staff write it; field names follow the Meeting Guide spec."""

    fellowship: forms.ModelChoiceField[Fellowship] = forms.ModelChoiceField(
        label=_("Program"), queryset=Fellowship.objects.all()
    )
    name = forms.CharField(
        label=_("Name"),
        max_length=255,
        help_text=_("Short (under 64 characters); no day, time or type in it."),
    )
    slug = forms.CharField(
        label=_("Short id"),
        max_length=64,
        required=False,
        help_text=_("Letters, digits and dashes, unique. Left empty, it is made from the name."),
    )
    day = forms.MultipleChoiceField(
        label=_("Days"), widget=forms.CheckboxSelectMultiple, required=False,
        help_text=_("Leave days and time empty for meetings by appointment."),
    )  # fmt: skip
    time = forms.CharField(
        label=_("Starts at"), required=False, max_length=5,
        widget=forms.TimeInput(attrs={"type": "time"}),
    )  # fmt: skip
    end_time = forms.CharField(
        label=_("Ends at"), required=False, max_length=5,
        widget=forms.TimeInput(attrs={"type": "time"}),
    )  # fmt: skip
    timezone = forms.ChoiceField(label=_("Time zone"))
    types = TypesField(label=_("Type of meeting"), required=False)
    languages = TypesField(label=_("Languages"), required=False)
    terms = TypesField(label=_("The program’s own types"), required=False)
    other_types = forms.CharField(
        label=_("Other type codes"),
        required=False,
        max_length=300,
        help_text=_(
            "Codes Harbour does not know, kept from an imported feed, separated by spaces."
        ),
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Plain text. First names only: never anyone’s last name."),
    )  # fmt: skip
    names_checked = forms.BooleanField(
        label=_("The notes name no one by their last name"), required=False
    )
    location = forms.CharField(label=_("Place name"), required=False, max_length=255)
    address = forms.CharField(
        label=_("Street address"), required=False, max_length=255,
        help_text=_("Only the address: “upstairs” or “at the back” go in the place notes."),
    )  # fmt: skip
    city = forms.CharField(label=_("City"), required=False, max_length=120)
    state = forms.CharField(label=_("Province"), required=False, max_length=60)
    postal_code = forms.CharField(label=_("Postal code"), required=False, max_length=20)
    location_notes = forms.CharField(
        label=_("Notes about the place"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    approximate = forms.BooleanField(
        label=_("No meeting room: the address only says where an online meeting is from"),
        required=False,
    )
    conference_url = forms.CharField(
        label=_("Online meeting link"), required=False, max_length=500,
        help_text=_("A link that opens the meeting itself (https://...)."),
    )  # fmt: skip
    conference_url_notes = forms.CharField(
        label=_("Notes about the link"), required=False, max_length=500,
        help_text=_("For example the meeting ID and passcode."),
    )  # fmt: skip
    conference_phone = forms.CharField(label=_("Phone to join"), required=False, max_length=60)
    conference_phone_notes = forms.CharField(
        label=_("Notes about the phone"), required=False, max_length=500
    )
    group = forms.CharField(label=_("Group"), required=False, max_length=255)
    regions = forms.CharField(
        label=_("Region"), required=False, max_length=300,
        help_text=_("Most general first, separated by >, e.g. Kingston > Downtown."),
    )  # fmt: skip

    def __init__(self, *args: Any, meeting: Meeting | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        lang = _lang()
        fields: Any = self.fields
        fields["day"].choices = day_choices()
        zones = list(CANADIAN_ZONES)
        if meeting is not None and meeting.timezone not in zones:
            zones.append(meeting.timezone)
        fields["timezone"].choices = [  # "Atlantic time (Moncton)", never the IANA id alone
            (z, f"{zone_label(z)} ({z.rsplit('/', 1)[-1].replace('_', ' ')})") for z in zones
        ]
        fields["timezone"].initial = settings.TIME_ZONE
        spec = meeting_types.spec_types()
        fields["types"].choices = [
            (code, meeting_types.label(code, lang))
            for code in spec
            if code not in meeting_types.LANGUAGE_CODES
        ]
        fields["languages"].choices = [
            (code, meeting_types.label(code, lang))
            for code in spec
            if code in meeting_types.LANGUAGE_CODES
        ]
        self.term_owner: dict[str, str] = {}
        choices = []
        for fellowship in Fellowship.objects.all():
            for term in fellowship.vocabulary().values():
                self.term_owner[term.code] = fellowship.slug
                label = term.fr if lang == "fr" else term.en
                choices.append((term.code, f"{label} ({fellowship.name})"))
        fields["terms"].choices = choices
        self.meeting = meeting
        if meeting is not None and not self.is_bound:
            self.initial.update(self.initial_for(meeting))

    def initial_for(self, meeting: Meeting) -> dict[str, Any]:
        codes = meeting.type_codes
        known = {c for c, _l in self.fields["types"].choices}  # type: ignore[attr-defined]
        langs = {c for c, _l in self.fields["languages"].choices}  # type: ignore[attr-defined]
        terms = set(self.term_owner)
        return {
            "fellowship": meeting.fellowship_id,
            "name": meeting.name,
            "slug": meeting.slug,
            "day": [str(d) for d in meeting.day_list],
            "time": meeting.time_text,
            "end_time": meeting.end_time_text,
            "timezone": meeting.timezone,
            "types": [c for c in codes if c in known],
            "languages": [c for c in codes if c in langs],
            "terms": [c for c in codes if c in terms],
            "other_types": " ".join(c for c in codes if c not in known | langs | terms),
            "notes": meeting.notes,
            "location": meeting.location,
            "address": meeting.address,
            "city": meeting.city,
            "state": meeting.state,
            "postal_code": meeting.postal_code,
            "location_notes": meeting.location_notes,
            "approximate": meeting.approximate == "yes",
            "conference_url": meeting.conference_url,
            "conference_url_notes": meeting.conference_url_notes,
            "conference_phone": meeting.conference_phone,
            "conference_phone_notes": meeting.conference_phone_notes,
            "group": meeting.group,
            "regions": " > ".join(meeting.regions),
        }

    def _clock(self, name: str) -> str:
        value = (self.cleaned_data.get(name) or "").strip()[:5]
        if value:
            try:
                weekly.parse_hhmm(value)
            except weekly.TimeError as exc:
                raise forms.ValidationError(
                    _("Write the time like 18:30 (24-hour clock).")
                ) from exc
        return value

    def clean_time(self) -> str:
        return self._clock("time")

    def clean_end_time(self) -> str:
        return self._clock("end_time")

    def clean_slug(self) -> str:
        slug = (self.cleaned_data.get("slug") or "").strip()
        if slug and (not feedspec.SLUG.match(slug) or slug.lower() in feedspec.RESERVED):
            raise forms.ValidationError(_("Use letters, digits and dashes only."))
        return slug

    def clean_conference_url(self) -> str:
        url = (self.cleaned_data.get("conference_url") or "").strip()
        if url and not feedspec.URL.match(url):
            raise forms.ValidationError(
                _("Paste a link that starts with https:// and opens the meeting.")
            )
        return url

    def clean_conference_phone(self) -> str:
        phone = (self.cleaned_data.get("conference_phone") or "").strip()
        if phone and feedspec.conference_phone(phone) is None:
            raise forms.ValidationError(_("Digits only; + , * and # are allowed."))
        return phone

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if bool(data.get("day")) != bool(data.get("time")) and "time" not in self.errors:
            self.add_error(
                "time" if data.get("day") else "day",
                _("A weekly meeting needs days and a start time; leave both empty for meetings "
                  "by appointment."),
            )  # fmt: skip
        fellowship = data.get("fellowship")
        for code in data.get("terms") or []:
            owner = self.term_owner.get(code)
            if fellowship is not None and owner != fellowship.slug:
                self.add_error(
                    "terms", _("“%(code)s” belongs to another program.") % {"code": code}
                )
        names = feedspec.full_names(data.get("notes") or "")
        if names and not data.get("names_checked"):
            self.add_error(
                "notes",
                _("“%(name)s” looks like a full name. Write first names only (or an initial), or "
                  "tick the box below if it is not a person.") % {"name": names[0]},
            )  # fmt: skip
        if not data.get("slug") and data.get("name"):
            data["slug"] = slugify(data["name"])[:56] or "meeting"
        return data

    def listing_data(self, meeting: Meeting | None) -> dict[str, Any]:
        """The spec's fields from the form, on top of what the meeting already holds (fields
        the form does not show, such as 7th Tradition handles, are kept)."""
        data = self.cleaned_data
        base: dict[str, Any] = {}
        if meeting is not None:
            base = feedspec.feed_item(meeting.listing(), {})
            base.pop("fellowship", None)
        codes = [*data["types"], *data["languages"], *data["terms"], *data["other_types"].split()]
        out = {
            **base,
            "name": data["name"],
            "slug": data["slug"],
            "timezone": data["timezone"],
            "types": codes,
            "regions": [r.strip() for r in data["regions"].split(">") if r.strip()],
            "approximate": "yes" if data["approximate"] else "",
        }
        for name in ("notes", "location", "address", "city", "state", "postal_code",
                     "location_notes", "conference_url", "conference_url_notes",
                     "conference_phone", "conference_phone_notes", "group"):  # fmt: skip
            out[name] = data[name]
        for name in ("day", "time", "end_time"):
            out.pop(name, None)
        if data["day"]:
            out["day"] = [int(d) for d in data["day"]]
        if data["time"]:
            out["time"] = data["time"][:5]
        if data["end_time"]:
            out["end_time"] = data["end_time"][:5]
        if out.get("address"):
            out.pop("formatted_address", None)  # the parts replace an imported one-line address
        if not out.get("country") and (out.get("address") or out.get("city")):
            out["country"] = "CA"
        return out


def unique_slug(base: str, taken: Any) -> str:
    """``base``, or ``base-2``, ``base-3``... when it is taken."""
    slug, n = base, 2
    while taken(slug):
        slug = f"{base[:60]}-{n}"
        n += 1
    return slug


class SuggestionForm(forms.Form):
    field = forms.ChoiceField(label=_("What should change?"), choices=SuggestionField.choices)
    message = forms.CharField(
        label=_("Tell us more"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Please do not include anyone’s name or health details."),
    )
    suggested_value = forms.CharField(
        label=_("The right information (optional)"),
        max_length=500,
        required=False,
        help_text=_("For a new time, write it like 18:30; for a new link, paste it."),
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
