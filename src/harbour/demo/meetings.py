"""Fictional demo meetings and mentoring: meetings of several fellowships in Kingston (listed
by the Lighthouse demo), French meetings in Montréal (Riverside demo), online ones; a Kingston
mentoring program with four fictional mentors and one person waiting for a mentor.

Idempotent: the meetings go through the Meeting Guide importer (unchanged the second time), and
the mentoring records are made only once."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from harbour.accounts.models import Organization
from harbour.meetings import services as meetings
from harbour.mentoring import services as mentoring
from harbour.mentoring.models import Mentor, MentorRequest, Program

DAILY = [0, 1, 2, 3, 4, 5, 6]
WEEKDAYS = [1, 2, 3, 4, 5]


def _kingston() -> list[dict[str, Any]]:
    hall = {"location": "Harbourfront Community Hall (demo)", "address": "100 Demo Street",
            "city": "Kingston", "state": "ON", "postal_code": "K7L 1A1", "country": "CA",
            "latitude": 44.2305, "longitude": -76.4810}  # fmt: skip
    church = {"location": "St. Example’s Church basement (demo)", "address": "12 Sample Avenue",
              "city": "Kingston", "state": "ON", "postal_code": "K7K 2B2", "country": "CA",
              "latitude": 44.2412, "longitude": -76.4720,
              "location_notes": "Side door on the lane; ring the bell."}  # fmt: skip
    clinic = {"location": "Lighthouse drop-in (demo)", "address": "7 Fictional Lane",
              "city": "Kingston", "state": "ON", "postal_code": "K7L 3C3", "country": "CA",
              "latitude": 44.2331, "longitude": -76.4898}  # fmt: skip
    return [
        {
            "slug": "demo-kingston-noon-aa",
            "name": "Noon Serenity",
            "fellowship": "aa",
            "day": DAILY,
            "time": "12:00",
            "end_time": "13:00",
            "types": ["O", "D", "EN", "X"],
            **hall,
        },
        {
            "slug": "demo-kingston-early-aa",
            "name": "Early Risers",
            "fellowship": "aa",
            "day": DAILY,
            "time": "07:00",
            "end_time": "08:00",
            "types": ["C", "BE", "EN"],
            **hall,
        },
        {
            "slug": "demo-kingston-na-evening",
            "name": "Clean and Serene",
            "fellowship": "na",
            "day": [1, 3, 5],
            "time": "19:00",
            "end_time": "20:30",
            "types": ["O", "NA-BT", "EN"],
            **church,
            "notes": "Coffee from 6:30. Newcomers welcome; ask for Sam at the door.",
        },
        {
            "slug": "demo-kingston-na-late",
            "name": "Late Night Hope",
            "fellowship": "na",
            "day": DAILY,
            "time": "22:00",
            "end_time": "23:00",
            "types": ["O", "EN", "CAN"],
            **church,
        },
        {
            "slug": "demo-kingston-smart",
            "name": "SMART Tuesday",
            "fellowship": "smart",
            "day": 2,
            "time": "18:00",
            "end_time": "19:30",
            "types": ["SMART-4PT", "EN", "X"],
            **clinic,
        },
        {
            "slug": "demo-kingston-smart-family",
            "name": "SMART Family & Friends",
            "fellowship": "smart",
            "day": 4,
            "time": "18:30",
            "end_time": "20:00",
            "types": ["SMART-FAM", "EN"],
            **clinic,
        },
        {
            "slug": "demo-kingston-dharma",
            "name": "Sitting Together",
            "fellowship": "dharma",
            "day": 0,
            "time": "10:00",
            "end_time": "11:30",
            "types": ["RD-MED", "EN", "A"],
            **hall,
        },
        {
            "slug": "demo-kingston-peer",
            "name": "Drop-in Peer Circle",
            "fellowship": "peer",
            "day": WEEKDAYS,
            "time": "15:00",
            "end_time": "16:00",
            "types": ["PEER-HR", "PEER-LOVED", "EN"],
            **clinic,
            "notes": "No need to be abstinent. Snacks and naloxone kits at the desk.",
        },
        {
            "slug": "demo-kingston-circle",
            "name": "Healing Circle",
            "fellowship": "circle",
            "day": 3,
            "time": "17:00",
            "end_time": "19:00",
            "types": ["CIRCLE-SMUDGE", "CIRCLE-ELDER", "EN", "O"],
            **hall,
        },
        {
            "slug": "demo-kingston-msth",
            "name": "Holding Hope Kingston",
            "fellowship": "msth",
            "day": 1,
            "time": "19:00",
            "end_time": "20:30",
            "types": ["MSTH-HOPE", "EN"],
            **church,
        },
        {
            "slug": "demo-kingston-alanon",
            "name": "Family Serenity",
            "fellowship": "alanon",
            "day": 6,
            "time": "09:30",
            "end_time": "10:30",
            "types": ["ALANON-PAR", "EN", "O"],
            **church,
        },
        {
            "slug": "demo-kingston-women-hybrid",
            "name": "Women in Recovery",
            "fellowship": "aa",
            "day": [0, 4],
            "time": "20:00",
            "end_time": "21:00",
            "types": ["W", "D", "EN"],
            **hall,
            "conference_url": "https://meet.example.org/demo-women",
            "conference_url_notes": "Passcode: demo",
        },
    ]


def _montreal() -> list[dict[str, Any]]:
    centre = {"location": "Centre communautaire du Plateau (démo)",
              "address": "200, rue de l’Exemple", "city": "Montréal", "state": "QC",
              "postal_code": "H2X 1Y4", "country": "CA", "latitude": 45.5152,
              "longitude": -73.5770}  # fmt: skip
    salle = {"location": "Salle paroissiale Saint-Fictif (démo)",
             "address": "45, avenue Imaginaire", "city": "Montréal", "state": "QC",
             "postal_code": "H2J 2K2", "country": "CA", "latitude": 45.5265,
             "longitude": -73.5830, "location_notes": "Entrée par la cour, sous-sol."}  # fmt: skip
    return [
        {
            "slug": "demo-mtl-midi",
            "name": "Groupe du midi",
            "fellowship": "aa",
            "day": DAILY,
            "time": "12:00",
            "end_time": "13:00",
            "types": ["O", "D", "FR"],
            **centre,
            "timezone": "America/Toronto",
        },
        {
            "slug": "demo-mtl-soir",
            "name": "Sérénité du soir",
            "fellowship": "aa",
            "day": DAILY,
            "time": "19:30",
            "end_time": "20:30",
            "types": ["C", "FR", "BE"],
            **salle,
        },
        {
            "slug": "demo-mtl-na",
            "name": "Juste pour aujourd’hui",
            "fellowship": "na",
            "day": [1, 3, 5],
            "time": "18:00",
            "end_time": "19:30",
            "types": ["NA-JFT", "FR", "O"],
            **centre,
        },
        {
            "slug": "demo-mtl-matin",
            "name": "Café et partage",
            "fellowship": "aa",
            "day": DAILY,
            "time": "08:30",
            "end_time": "09:30",
            "types": ["O", "FR", "X"],
            **salle,
        },
        {
            "slug": "demo-mtl-apresmidi",
            "name": "Pause de l’après-midi",
            "fellowship": "peer",
            "day": DAILY,
            "time": "15:30",
            "end_time": "16:30",
            "types": ["PEER-HR", "FR"],
            **centre,
            "notes": "Réduction des méfaits : pas besoin d’être abstinent·e.",
        },
        {
            "slug": "demo-mtl-familles",
            "name": "Familles en espoir",
            "fellowship": "msth",
            "day": 2,
            "time": "19:00",
            "end_time": "20:30",
            "types": ["MSTH-HEAL", "FR"],
            **salle,
        },
        {
            "slug": "demo-mtl-smart-bilingue",
            "name": "SMART bilingue",
            "fellowship": "smart",
            "day": 4,
            "time": "17:30",
            "end_time": "19:00",
            "types": ["SMART-4PT", "FR", "EN"],
            **centre,
        },
    ]


def _online() -> list[dict[str, Any]]:
    return [
        {
            "slug": "demo-online-night-owls",
            "name": "Night Owls Online",
            "fellowship": "aa",
            "day": DAILY,
            "time": "23:30",
            "end_time": "00:30",
            "types": ["O", "D", "EN"],
            "formatted_address": "Kingston, ON, Canada",
            "approximate": "yes",
            "conference_url": "https://meet.example.org/demo-night-owls",
            "conference_phone": "+16135550190,,123456#",
            "conference_phone_notes": "PIN 123456",
            "timezone": "America/Toronto",
        },
        {
            "slug": "demo-online-smart",
            "name": "SMART Online Evening",
            "fellowship": "smart",
            "day": [1, 3],
            "time": "20:00",
            "end_time": "21:30",
            "types": ["SMART-4PT", "EN"],
            "formatted_address": "Ontario, Canada",
            "approximate": "yes",
            "conference_url": "https://meet.example.org/demo-smart",
        },
        {
            "slug": "demo-en-ligne-na",
            "name": "NA en ligne",
            "fellowship": "na",
            "day": DAILY,
            "time": "21:00",
            "end_time": "22:00",
            "types": ["O", "FR"],
            "formatted_address": "Montréal, QC, Canada",
            "approximate": "yes",
            "conference_url": "https://meet.example.org/demo-na-fr",
        },
        {
            "slug": "demo-online-dharma",
            "name": "Morning Meditation Online",
            "fellowship": "dharma",
            "day": DAILY,
            "time": "06:30",
            "end_time": "07:15",
            "types": ["RD-MED", "EN"],
            "formatted_address": "Vancouver, BC, Canada",
            "approximate": "yes",
            "timezone": "America/Vancouver",
            "conference_url": "https://meet.example.org/demo-dharma",
        },
    ]


MENTORS = [
    ("Jordan (demo)", "+16135550171", "en", ["en"], ["twelve_step", "harm_reduction"], [],
     " K7L K7K ", 3),
    ("Amira (demo)", "+16135550172", "en", ["en", "ar"], ["smart", "medication"], ["woman"],
     "", 2),
    ("Tashina (demo)", "+16135550173", "en", ["en", "oj"], ["cultural", "twelve_step"],
     ["indigenous", "woman"], " K7L ", 2),
    ("Luc (demo)", "+16135550174", "fr", ["fr", "en"], ["twelve_step", "faith"], ["man"], "", 2),
]  # fmt: skip


@transaction.atomic
def load() -> tuple[int, int]:
    """(meetings listed, mentors) for the demo; nothing changes when run again."""
    total = 0
    for slug, items in (("demo-lighthouse", _kingston() + _online()),
                        ("demo-riverside", _montreal())):  # fmt: skip
        org = Organization.objects.filter(slug=slug).first()
        if org is None:
            continue
        for item in items:
            item.setdefault("timezone", "America/Toronto")
        report = meetings.import_meetings(
            organization=org, items=items, source="harbour demo", default_timezone=None
        )
        total += report.created + report.updated + report.unchanged
    org = Organization.objects.filter(slug="demo-lighthouse").first()
    if org is None or Program.objects.filter(organization=org).exists():
        return total, Mentor.objects.filter(organization__slug="demo-lighthouse").count()
    Program.objects.create(
        organization=org, areas=" K7L K7K K7M K7P ", checkin_every_days=14, answer_days=3,
        quiet_after_missed=2, crisis_line="1-888-688-6677",
    )  # fmt: skip
    for alias, phone, lang, languages, pathways, identities, areas, capacity in MENTORS:
        contact = meetings_phone(phone)
        Mentor.objects.create(
            organization=org, alias=alias, channel="sms", contact=contact,
            contact_index=mentoring.blind_index(contact, kind="mentoring-sms"), lang=lang,
            languages=mentoring.padded(languages), pathways=mentoring.padded(pathways),
            identities=mentoring.padded(identities), areas=areas, capacity=capacity,
            online=True, in_person=True,
        )  # fmt: skip
    MentorRequest.objects.create(
        organization=org, alias="River (demo)", channel="sms", contact="+16135550181",
        lang="en", languages=" en ", pathways=" harm_reduction twelve_step ", fsa="K7L",
        online=True, in_person=True, notes="Prefers evenings.", source="staff",
    )  # fmt: skip
    return total, len(MENTORS)


def meetings_phone(raw: str) -> str:
    from harbour.notify.addresses import normalize_phone

    return normalize_phone(raw)
