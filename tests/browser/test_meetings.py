"""Meetings and mentoring in a real browser, on a phone, in French, checked by axe-core."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from harbour.accounts.models import Organization, User
from harbour.core.roles import Role
from harbour.meetings import services as meetings
from harbour.meetings import weekly
from harbour.mentoring import services as mentoring
from harbour.mentoring.models import Program

from .conftest import BROWSER, check, new_context

pytestmark = BROWSER


def _soon(minutes: int, tz: str = "America/Toronto") -> tuple[int, str]:
    """The spec day and HH:MM of ``minutes`` from now in ``tz`` (tests run at any hour)."""
    local = (timezone.now() + timedelta(minutes=minutes)).astimezone(weekly.zone(tz))
    return weekly.spec_day(local.date()), local.strftime("%H:%M")


def _listings(org: Organization) -> tuple[int, str]:
    """Meetings in Montréal and Kingston; returns the day and time of the ones starting soon."""
    meetings.fellowships_load()  # browser tests flush the database, data migrations included
    day, time = _soon(25)
    later_day, later = _soon(150)
    place = {"city": "Montréal", "state": "QC", "country": "CA", "timezone": "America/Toronto"}
    items = [
        {"slug": "mtl-soir", "name": "Sérénité du soir", "fellowship": "aa", "day": day,
         "time": time, "types": ["O", "FR", "BE"], "location": "Centre communautaire (démo)",
         "address": "200, rue de l’Exemple", "postal_code": "H2X 1Y4", **place},
        {"slug": "mtl-english", "name": "Downtown English", "fellowship": "aa", "day": day,
         "time": time, "types": ["EN"], "address": "45 Sample Avenue", "postal_code": "H2J 2K2",
         **place},
        {"slug": "mtl-plus-tard", "name": "Plus tard ce soir", "fellowship": "na",
         "day": later_day, "time": later, "types": ["FR"], "address": "9 rue Autre",
         "postal_code": "H2X 1Y4", **place},
        {"slug": "kingston-fr", "name": "Kingston en français", "fellowship": "aa", "day": day,
         "time": time, "types": ["FR"], "address": "1 Demo Street", "city": "Kingston",
         "postal_code": "K7L 1A1", "timezone": "America/Toronto"},
    ]  # fmt: skip
    meetings.import_meetings(organization=org, items=items)
    return day, time


def test_a_french_meeting_starting_within_the_hour_near_a_postal_code_into_the_calendar(
    browser: Browser, live_server: LiveServer, org_a: Organization
) -> None:
    # given meetings in Montréal and Kingston, one French one starting in 25 minutes near H2X
    day, time = _listings(org_a)
    context = new_context(browser, live_server.url)
    context.add_cookies([{"name": "django_language", "value": "fr", "url": live_server.url}])
    page = context.new_page()
    # when a person in Montréal, on a phone, in French, asks for French meetings starting soon
    page.goto("/meetings/")
    expect(page.locator("h1")).to_have_text("Réunions de soutien par les pairs")
    check(page, "meetings-search-fr")
    page.get_by_label("Près de (code postal)").fill("H2X")
    page.get_by_role("checkbox", name="Commence dans l’heure").check()
    page.get_by_label("Langue", exact=True).select_option(label="Français")
    page.get_by_role("button", name="Trouver des réunions").click()
    # then only the French meeting nearby is found, with when it starts
    expect(page.get_by_role("heading", name="1 réunion trouvée")).to_be_visible()
    result = page.locator("li.meeting")
    expect(result).to_have_count(1)
    expect(result.get_by_role("link", name="Sérénité du soir", exact=True)).to_be_visible()
    expect(result).to_contain_text(re.compile(r"dans \d+\u00a0min"))  # "dans 25 min"
    expect(result).to_contain_text("Nouveau/nouvelle")  # the spec's French label for BE
    check(page, "meetings-results-fr")
    # when they add it to their calendar
    with page.expect_download() as download_info:
        result.get_by_role("link", name="Ajouter à l’agenda").click()
    download = download_info.value
    assert download.suggested_filename == "mtl-soir.ics"
    with open(download.path(), encoding="utf-8", newline="") as handle:
        text = handle.read()
    # then it is a calendar file of that meeting, weekly, in Montréal's time zone
    assert text.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
    assert "SUMMARY:Sérénité du soir (Alcooliques anonymes)\r\n" in text
    assert f"RRULE:FREQ=WEEKLY;BYDAY={weekly.BYDAY[day]}\r\n" in text
    assert "DTSTART;TZID=America/Toronto:" in text and f"T{time.replace(':', '')}00\r\n" in text
    assert "BEGIN:VTIMEZONE\r\nTZID:America/Toronto\r\n" in text
    # and the meeting's own page says where it is and offers the same
    result.get_by_role("link", name="Sérénité du soir", exact=True).click()
    expect(page.locator("h1")).to_have_text("Sérénité du soir")
    expect(page.get_by_text("200, rue de l’Exemple")).to_be_visible()
    expect(page.get_by_role("link", name="Proposer une modification")).to_be_visible()
    check(page, "meeting-detail-fr")
    context.close()


def test_meeting_search_and_suggesting_a_change_work_without_javascript(
    nojs_page: Page, org_a: Organization
) -> None:
    _listings(org_a)
    page = nojs_page
    page.goto("/meetings/?near=H2X&soon=on")
    expect(page.get_by_role("heading", name="2 meetings found")).to_be_visible()
    page.get_by_role("link", name="Downtown English", exact=True).click()
    page.get_by_role("link", name="Suggest a change").click()
    page.get_by_label("What should change?").select_option(label="Day or time")
    page.get_by_label("Tell us more").fill("It starts 15 minutes later now.")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("h1")).to_have_text("Thank you")
    page.goto("/meetings/print/?near=H2X")
    expect(page.locator("h1")).to_have_text("Meeting list")
    expect(page.get_by_role("cell", name="Downtown English")).to_be_visible()


def test_staff_meetings_and_mentoring_pages_and_a_mentees_link_on_a_phone(
    page: Page,
    browser: Browser,
    live_server: LiveServer,
    org_a: Organization,
    make_member: Callable[..., User],
    enable_totp: Callable[[User], str],
) -> None:
    from .conftest import log_in

    _listings(org_a)
    coordinator = make_member(org_a, Role.COORDINATOR)
    Program.objects.create(organization=org_a, crisis_line="1-888-688-6677")
    mentor = mentoring.mentor_save(
        actor=coordinator, organization=org_a,
        data=mentoring.MentorData(alias="Jordan", channel="sms", contact="+16135550171",
                                  languages=["fr", "en"], pathways=["twelve_step"],
                                  identities=[]),
    )  # fmt: skip
    # a person asks for a mentor on the public page
    page.goto("/mentoring/ask/")
    check(page, "mentoring-ask-area")
    page.get_by_label("Your postal area").fill("K7L")
    page.get_by_role("button", name="Continue").click()
    check(page, "mentoring-ask")
    page.get_by_label("What should we call you?").fill("River")
    page.get_by_label("Mobile number or email").fill("613 555 0181")
    page.get_by_label("Language you prefer").select_option("fr")
    page.get_by_label("The path you want support with").select_option("twelve_step")
    page.get_by_label("I agree that the coordinator").check()
    page.get_by_role("button", name="Send my request").click()
    expect(page.locator("h1")).to_have_text("Thank you")
    # the coordinator finds the best match and proposes it
    log_in(page, coordinator.email, enable_totp(coordinator))
    page.goto(f"/org/{org_a.slug}/")
    page.get_by_role("link", name="Peer mentoring").click()
    check(page, "mentoring-dashboard")
    page.get_by_role("link", name="River").click()
    expect(page.get_by_text("95.0")).to_be_visible()
    check(page, "mentoring-request")
    page.locator("button[value=propose]").click()  # "Propose: Jordan" to screen readers
    expect(page.get_by_text("Match proposed.")).to_be_visible()
    page.goto("/meetings/print/?near=H2X")
    check(page, "meetings-print")
    page.goto(f"/org/{org_a.slug}/meetings/")
    expect(page.get_by_role("link", name="Sérénité du soir", exact=True)).to_be_visible()
    check(page, "meetings-staff-list")
    page.get_by_role("link", name="Add a meeting").first.click()
    check(page, "meetings-staff-edit")
    # the person opens their private link, in French, and says yes
    match = mentor.matches.get()
    context = new_context(browser, live_server.url)
    context.add_cookies([{"name": "django_language", "value": "fr", "url": live_server.url}])
    mentee = context.new_page()
    mentee.goto(f"/mentoring/m/{mentoring.link_token(match, 'mentee')}/")
    expect(mentee.get_by_role("link", name="Appelez ou textez le 9-8-8")).to_have_attribute(
        "href", "tel:988"
    )
    expect(mentee.get_by_text("+16135550171")).to_have_count(0)
    check(mentee, "mentoring-link-fr")
    mentee.get_by_role("button", name="Oui, entrons en contact").click()
    expect(mentee.get_by_text("Vous avez dit oui.")).to_be_visible()
    context.close()
