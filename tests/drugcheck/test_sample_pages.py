"""Site staff open, correct and show a sample: dates in ISO for the browser in both languages,
corrections audited with a reason, published months never changed, and a large-print code for
the person with nothing else about the sample."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine
from django import forms
from django.utils import translation

from harbour.core import releases
from harbour.core.models import AuditEvent
from harbour.core.roles import Role
from harbour.core.widgets import DateInput
from harbour.drugcheck import services
from harbour.drugcheck.models import Sample

pytestmark = pytest.mark.django_db

FORM = {
    "collected_on": "2026-11-20",
    "site": "Main site",
    "city": "Kingston",
    "fsa": "K7L",
    "expected": "down",
    "form": "powder",
    "fentanyl_strip": "positive",
    "ftir": "fentanyl 12\nno library match\ncaffeine",
}


def sample_of(org, actor, day=date(2026, 11, 20)):  # type: ignore[no-untyped-def]
    data = services.SampleIn(
        collected_on=day, site="Main site", city="Kingston", fsa="K7L", expected="down",
        notes="left quickly", strips={"fentanyl-strip": "positive"},
        components=[services.ComponentIn(name="fentanyl", percent=None)],
    )  # fmt: skip
    return services.sample_record(actor=actor, organization=org, data=data)


def every_form_class() -> list[type[forms.BaseForm]]:
    import importlib
    import pkgutil

    import harbour

    found: list[type[forms.BaseForm]] = []
    for module in pkgutil.walk_packages(harbour.__path__, "harbour."):
        if module.name.endswith(".forms"):
            mod = importlib.import_module(module.name)
            found += [
                v
                for v in vars(mod).values()
                if isinstance(v, type)
                and issubclass(v, forms.BaseForm)
                and hasattr(v, "base_fields")
            ]
    return found


def test_every_date_input_in_harbour_is_filled_with_an_iso_date():
    dated = [
        (cls.__name__, name, field.widget)
        for cls in every_form_class()
        for name, field in cls.base_fields.items()
        if getattr(field.widget, "input_type", "") == "date"
    ]
    assert len(dated) >= 10  # drug checking, surveillance, outreach, check-ins, alerts, ...
    for _cls, _name, widget in dated:
        assert isinstance(widget, DateInput) or widget.format == "%Y-%m-%d", (_cls, _name)
    for lang in ("en", "fr"):
        with translation.override(lang):
            for _cls, name, widget in dated:
                assert 'value="2026-02-12"' in widget.render(name, date(2026, 2, 12))


def test_the_sample_form_in_french_has_its_date(staff_client, org_a, make_member):
    worker = make_member(org_a, Role.PEER_WORKER)
    client = staff_client(worker)
    client.cookies["django_language"] = "fr"
    with time_machine.travel(datetime(2026, 12, 2, 17, 0, tzinfo=UTC), tick=False):
        page = client.get(f"/org/{org_a.slug}/drugcheck/").content.decode()
    assert 'type="date" name="collected_on" value="2026-12-02"' in page
    # and a date typed the French way is still understood
    client.post(f"/org/{org_a.slug}/drugcheck/", {**FORM, "collected_on": "21/11/2026"})
    assert Sample.objects.get().collected_on == date(2026, 11, 21)


def test_recent_samples_open_for_their_organization_only(staff_client, org_a, org_b, make_member):
    worker = make_member(org_a, Role.PEER_WORKER)
    sample = sample_of(org_a, worker)
    client = staff_client(worker)
    listing = client.get(f"/org/{org_a.slug}/drugcheck/").content.decode()
    detail_url = f"/org/{org_a.slug}/drugcheck/{sample.pk}/"
    assert f'href="{detail_url}"' in listing and "2026-11-20" in listing
    detail = client.get(detail_url).content.decode()
    assert sample.display_code in detail and "left quickly" in detail
    assert 'value="2026-11-20"' in detail and "Fentanyl 12" not in detail
    # another organization's staff, a viewer and a stranger's guess: nothing
    stranger = staff_client(make_member(org_b, Role.ORG_ADMIN))
    assert stranger.get(detail_url).status_code == 404
    assert stranger.get(f"/org/{org_b.slug}/drugcheck/{sample.pk}/").status_code == 404
    assert stranger.get(f"/org/{org_b.slug}/drugcheck/{sample.pk}/code/").status_code == 404
    viewer = staff_client(make_member(org_a, Role.VIEWER))
    assert viewer.get(detail_url).status_code == 403
    assert client.get(f"/org/{org_a.slug}/drugcheck/not-a-uuid/").status_code == 404


def test_a_correction_is_saved_with_its_reason_in_the_audit_trail(staff_client, org_a, make_member):
    worker = make_member(org_a, Role.PEER_WORKER)
    sample = sample_of(org_a, worker)
    client = staff_client(worker)
    url = f"/org/{org_a.slug}/drugcheck/{sample.pk}/"
    refused = client.post(url, {**FORM, "reason": ""})
    assert refused.status_code == 200 and "This field is required." in refused.content.decode()
    phone = client.post(url, {**FORM, "reason": "call 613-555-0142"}).content.decode()
    assert "Leave out phone numbers" in phone
    done = client.post(
        url,
        {**FORM, "fentanyl_strip": "negative", "ftir": "caffeine", "colour": "white",
         "reason": "wrong strip entered"},
    )  # fmt: skip
    assert done.status_code == 302 and done["Location"] == url
    sample.refresh_from_db()
    assert sample.colour == "white" and sample.notes == ""
    assert sample.tests.get(method="fentanyl-strip").result == "negative"
    assert [c.substance.code for c in sample.components.all()] == ["caffeine"]
    event = AuditEvent.objects.get(action="drugcheck-sample-correct")
    assert event.actor == worker and event.object_id == str(sample.pk)
    assert event.metadata == {
        "fields": ["colour", "notes", "strips", "ftir"],
        "reason": "wrong strip entered",
        "published": False,
    }
    # the same again changes nothing and adds no event
    client.post(url, {**FORM, "fentanyl_strip": "negative", "ftir": "caffeine",
                      "colour": "white", "reason": "again"})  # fmt: skip
    assert AuditEvent.objects.filter(action="drugcheck-sample-correct").count() == 1
    # the person's lookup shows the corrected result
    lookup = client.post("/drugcheck/result/", {"code": sample.display_code}).content.decode()
    assert "<strong>Caffeine</strong>" in lookup and "<strong>Fentanyl" not in lookup


def test_a_published_month_never_changes(staff_client, org_a, make_member, run_tasks):
    from harbour.core.tasks import make_releases

    worker = make_member(org_a, Role.PEER_WORKER)
    sample = sample_of(org_a, worker, day=date(2026, 10, 14))
    with time_machine.travel(datetime(2026, 11, 10, 17, 0, tzinfo=UTC), tick=False):
        make_releases.enqueue()
        run_tasks()
    published = releases.latest("drugcheck")
    assert published is not None and published.period_start == date(2026, 10, 1)
    before = published.data
    client = staff_client(worker)
    url = f"/org/{org_a.slug}/drugcheck/{sample.pk}/"
    page = client.get(url).content.decode()
    assert "Published figures never change" in page and "October 2026" in page
    # moving it out of the published month is refused
    moved = client.post(url, {**FORM, "collected_on": "2026-11-02", "reason": "wrong day"})
    assert "already published on the board" in moved.content.decode()
    # a correction within the month is saved; the release stays as published
    client.post(url, {**FORM, "collected_on": "2026-10-15", "fentanyl_strip": "negative",
                      "reason": "wrong strip entered"})  # fmt: skip
    sample.refresh_from_db()
    assert sample.collected_on == date(2026, 10, 15)
    published.refresh_from_db()
    assert published.data == before
    event = AuditEvent.objects.get(action="drugcheck-sample-correct")
    assert event.metadata["published"] is True
    client.cookies["django_language"] = "fr"
    page = client.get(url).content.decode()
    assert "Les chiffres publiés ne changent jamais" in page and "octobre 2026" in page


def test_the_code_to_show_has_the_code_and_where_to_look_it_up_only(
    staff_client, org_a, make_member, settings
):
    settings.HARBOUR_BASE_URL = "https://harbour.example.org"
    worker = make_member(org_a, Role.PEER_WORKER)
    sample = sample_of(org_a, worker)
    client = staff_client(worker)
    recorded = client.post(f"/org/{org_a.slug}/drugcheck/", FORM).content.decode()
    newest = Sample.objects.exclude(pk=sample.pk).get()
    assert f"/org/{org_a.slug}/drugcheck/{newest.pk}/code/" in recorded
    assert "Show this code to the person" in recorded
    page = client.get(f"/org/{org_a.slug}/drugcheck/{sample.pk}/code/").content.decode()
    assert f'<p class="sample-code sample-code-large">{sample.display_code}</p>' in page
    assert "https://harbour.example.org/drugcheck/result/" in page
    main = page.split("<main")[1].split("</main>")[0]
    for private in (
        "Main site",
        "Kingston",
        "K7L",
        "left quickly",
        "Bought as",
        "Fentanyl",
        "2026",
    ):
        assert private not in main, private
    client.cookies["django_language"] = "fr"
    page = client.get(f"/org/{org_a.slug}/drugcheck/{sample.pk}/code/").content.decode()
    assert "Votre code d’échantillon" in page
