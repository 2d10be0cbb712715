"""Drug checking: vocabulary, samples, lookup by code, the public board, importers, lab API."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.http import Http404

from harbour.core.models import AuditEvent
from harbour.core.roles import Role
from harbour.drugcheck import importers, selectors, services
from harbour.drugcheck.models import Component, Match, Method, Sample, SampleTest, Substance

pytestmark = pytest.mark.django_db

DATA = Path(__file__).resolve().parents[1] / "data" / "drugcheck"
UNC = [DATA / "unc_analysis_dataset.csv", DATA / "unc_lab_detail.csv"]
DCBC = DATA / "drugcheckingbc_sample.csv"


def record(org, actor, **kwargs):  # type: ignore[no-untyped-def]
    data = services.SampleIn(collected_on=date(2026, 11, 20), site="Main site", **kwargs)
    return services.sample_record(actor=actor, organization=org, data=data)


def test_vocabulary_is_loaded_with_classes_french_names_and_aliases():
    # loaded by migration; loading again changes nothing
    count = Substance.objects.count()
    assert count >= 150
    assert services.substances_load() == count
    by_code = {s.code: s for s in Substance.objects.all()}
    assert by_code["fentanyl"].substance_class == "fentanyl"
    assert by_code["carfentanil"].substance_class == "carfentanil"
    assert by_code["bromazolam"].substance_class == "designer-benzodiazepine"
    assert by_code["xylazine"].substance_class == "xylazine" and by_code["xylazine"].high_risk
    assert by_code["medetomidine"].substance_class == "medetomidine"
    assert by_code["caffeine"].substance_class == "cut" and not by_code["caffeine"].high_risk
    assert by_code["isotonitazene"].substance_class == "nitazene"
    assert by_code["4-anpp"].substance_class == "impurity"
    assert by_code["cocaine"].name_fr == "Cocaïne"
    vocabulary = services.Vocabulary()
    assert vocabulary.find("Fentanyl or Analog") == by_code["fentanyl"]
    assert vocabulary.find("Cocaine Base") == by_code["cocaine"]
    assert vocabulary.find("Crystal Meth") == by_code["methamphetamine"]


def test_staff_record_a_sample_with_an_unguessable_code_and_an_audit_event(org_a, make_member):
    worker = make_member(org_a, Role.PEER_WORKER)
    sample = record(
        org_a,
        worker,
        expected="down",
        strips={"fentanyl-strip": "positive"},
        components=[services.ComponentIn(name="Fentanyl or Analog", role="primary")],
    )
    assert len(sample.code) == 10 and set(sample.code) <= set(services.CODE_ALPHABET)
    assert sample.display_code == f"{sample.code[:4]}-{sample.code[4:8]}-{sample.code[8:]}"
    assert sample.expected_class == "opioid"
    assert [c.substance.code for c in sample.components.all()] == ["fentanyl"]
    event = AuditEvent.objects.get(action="drugcheck-sample-record")
    assert event.organization_id == org_a.id and event.actor == worker
    assert {record(org_a, worker).code for _ in range(20)}.isdisjoint({sample.code})


def test_other_organizations_and_viewers_cannot_record(org_a, org_b, make_member):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(Http404):
        record(org_a, make_member(org_b, Role.ORG_ADMIN))
    with pytest.raises(PermissionDenied):
        record(org_a, make_member(org_a, Role.VIEWER))
    assert Sample.objects.count() == 0


def test_lookup_by_code_is_forgiving_and_says_the_same_for_every_wrong_code(client, org_a, admin_a):
    sample = record(
        org_a,
        admin_a,
        expected="crystal",
        components=[services.ComponentIn(name="methamphetamine", role="primary")],
    )
    typed = sample.display_code.lower().replace("0", "o")
    page = client.post("/drugcheck/result/", {"code": typed}).content.decode()
    assert "methamphetamine" in page.lower()
    assert "No test can tell you a drug is safe" in page
    wrong = client.post("/drugcheck/result/", {"code": "ZZZZ-ZZZZ-ZZ"}).content.decode()
    short = client.post("/drugcheck/result/", {"code": "ABC"}).content.decode()
    message = "No result with this code."
    assert message in wrong and message in short and "methamphetamine" not in wrong
    # the code never travels in the address
    assert "methamphetamine" not in client.get(f"/drugcheck/result/?code={typed}").content.decode()


def test_lookup_is_rate_limited(client):
    answers = [
        client.post("/drugcheck/result/", {"code": f"AAAA-AAAA-{n:02d}"}).status_code
        for n in range(12)
    ]
    assert answers[:10] == [200] * 10 and answers[10:] == [429, 429]


def test_unc_import_loads_every_sample_and_substance_once():
    from harbour.accounts.models import Organization

    org = Organization.objects.create(name="UNC", slug="unc")
    result = importers.import_files(fmt="unc", paths=UNC, organization=org)
    assert (result.created, Sample.objects.count(), Component.objects.count()) == (20, 20, 115)
    sample = Sample.objects.get(external_id="728")
    assert sample.collected_on == date(2022, 10, 20)
    assert (sample.city, sample.expected, sample.form) == (
        "Kalkaska",
        "heroin; fentanyl",
        "residue",
    )
    assert sample.expected_class == "opioid" and sample.already_used is True
    assert sample.tests.get().method == Method.GCMS
    again = importers.import_files(fmt="unc", paths=UNC, organization=org)
    assert (again.created, again.unchanged, Sample.objects.count()) == (0, 20, 20)


def test_dcbc_import_reads_strips_and_the_ftir_list(org_a):
    result = importers.import_files(fmt="drugcheckingbc", paths=[DCBC], organization=org_a)
    assert result.created == 8 and Sample.objects.count() == 8
    assert Component.objects.count() == 14
    assert Component.objects.filter(match=Match.NO_LIBRARY_MATCH).count() == 1
    assert Component.objects.filter(match=Match.UNCERTAIN).count() == 1
    strips = sorted(SampleTest.objects.exclude(result="").values_list("method", "result"))
    assert strips.count(("fentanyl-strip", "positive")) == 5
    assert strips.count(("benzo-strip", "invalid")) == 1
    assert ("benzo-strip", "positive") in strips
    assert len(strips) == 13  # N/A is "not done": no row
    erythritol = Substance.objects.get(code="erythritol")
    assert Component.objects.filter(substance=erythritol).count() == 1
    assert (
        importers.import_files(fmt="drugcheckingbc", paths=[DCBC], organization=org_a).unchanged
        == 8
    )


def test_bad_files_are_rejected_whole_with_line_numbers(tmp_path, org_a):
    bad = tmp_path / "bad.csv"
    lines = DCBC.read_text().splitlines()
    lines[2] = lines[2].replace('"2026-10-01"', '"first of October"')
    lines[3] = lines[3].replace('"False","False"', '"Maybe","False"')
    lines[5] = lines[5].replace("['Fentanyl or Analog', 'Bromazolam'", "__import__('os')")
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(importers.ImportFailed) as failed:
        importers.import_files(fmt="drugcheckingbc", paths=[bad], organization=org_a)
    errors = failed.value.result.errors
    assert errors[0].startswith("bad.csv: line 3: column Date: 'first of October'")
    assert errors[1].startswith("bad.csv: line 4: column Fentanyl Test Strip: 'Maybe'")
    assert errors[2].startswith("bad.csv: line 6: column FTIR Spectrometer:")
    assert len(errors) == 3 and Sample.objects.count() == 0
    folder = tmp_path / "unc"
    folder.mkdir()
    for path in UNC:
        shutil.copy(path, folder / path.name)
    detail = folder / "unc_lab_detail.csv"
    detail.write_text(detail.read_text().replace('"424","xylazine"', '"9999","xylazine"', 1))
    with pytest.raises(importers.ImportFailed) as failed:
        importers.import_files(
            fmt="unc", paths=[folder / "unc_analysis_dataset.csv", detail], organization=org_a
        )
    assert failed.value.result.errors == [
        "unc_lab_detail.csv: line 2: column sampleid: no sample '9999' in the analysis dataset"
    ]


def test_import_command(org_a, capsys):
    call_command("import-drugcheck", str(DCBC), format="drugcheckingbc", org=org_a.slug)
    assert capsys.readouterr().out.strip() == (
        "sample: 8 new, 0 changed, 0 unchanged; component: 14 new, 0 changed, 0 unchanged"
    )
    with pytest.raises(CommandError, match="no organization"):
        call_command("import-drugcheck", str(DCBC), format="drugcheckingbc", org="nope")


def test_board_is_a_release_of_closed_months_counting_its_published_results(client, org_a):
    from harbour.core import releases

    # given eight samples checked in October 2026, and no release yet
    importers.import_files(fmt="drugcheckingbc", paths=[DCBC], organization=org_a)
    page = client.get("/drugcheck/").content.decode()
    assert "The first monthly release of drug-checking results is not out yet" in page
    # when the release of October is made a week after the month closes
    made = releases.make_due(now=datetime(2026, 11, 8, 17, 0, tzinfo=UTC))
    assert [r.kind for r in made if r.kind == "drugcheck"] == ["drugcheck"]
    data = releases.latest("drugcheck").data  # type: ignore[union-attr]
    # then the figures are strings: counts of the 8 results it publishes, exact (5 bought as
    # opioids), with shares of at least 5 samples only
    assert (data["month"], data["samples"], data["opioid"]) == ("2026-10", "8", "5")
    assert set(data["watched"]) == {"fentanyl", "benzodiazepines", "xylazine", "nitazenes"}
    assert all(v.isdigit() for v in data["watched"].values())
    assert [(r["region"], r["samples"]) for r in data["regions"]] == [
        ("Kamloops", "2"), ("Vancouver", "4"), ("Victoria", "2"),
    ]  # fmt: skip
    # and each result with its month and region only
    assert len(data["results"]) == 8
    assert {(r["month"], r["region"]) for r in data["results"]} == {
        ("2026-10", "Vancouver"), ("2026-10", "Victoria"), ("2026-10", "Kamloops"),
    }  # fmt: skip
    full = client.get("/drugcheck/").content.decode()
    assert "<svg" in full and "Figures for October 2026, published" in full
    assert "Fentanyl" in full and "Harbour Test Site" not in full and "Oct. 1," not in full


def test_matched_expectation_rules():
    rule = selectors.matched_expectation
    assert rule("opioid", None, {"fentanyl", "cut"}) is True
    assert rule("opioid", None, {"fentanyl", "designer-benzodiazepine"}) is False
    assert rule("opioid", "opioid", {"fentanyl"}) is False  # bought as heroin, got fentanyl
    assert rule("opioid", "fentanyl", {"carfentanil"}) is True
    assert rule("stimulant", None, {"cut"}) is None  # nothing active identified
    assert rule("other", None, {"stimulant"}) is None


def test_lab_confirms_through_the_api_with_its_key(client, org_a, org_b, admin_a, make_member):
    from harbour.accounts.services import api_key_create

    sample = record(org_a, admin_a, expected="down")
    key = api_key_create(
        organization=org_a, name="Lab", role=Role.OUTREACH_WORKER, actor=admin_a
    ).secret
    body = {
        "method": "gcms",
        "completed_on": "2026-11-21",
        "components": [
            {"name": "fentanyl", "role": "primary", "percent": "7.5"},
            {"name": "bromazolam", "role": "trace"},
            {"match": "no-library-match", "role": "unknown"},
        ],
    }
    url = f"/api/v1/drugcheck/samples/{sample.display_code}/lab"
    response = client.post(
        url, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}"
    )
    assert response.status_code == 201, response.content
    found = response.json()["components"]
    assert sorted(
        (c["role"], c["substance"] or "", c["substance_class"] or "", c["match"]) for c in found
    ) == [
        ("primary", "fentanyl", "fentanyl", "match"),
        ("trace", "bromazolam", "designer-benzodiazepine", "match"),
        ("unknown", "", "", "no-library-match"),
    ]
    # again: replaces, never duplicates
    client.post(url, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert sample.components.count() == 3
    admin_b = make_member(org_b, Role.ORG_ADMIN)
    other = api_key_create(
        organization=org_b, name="Lab", role=Role.ORG_ADMIN, actor=admin_b
    ).secret
    stranger = client.post(
        url, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {other}"
    )
    assert stranger.status_code == 404 and stranger.json()["code"]
    bad = client.post(
        url,
        {**body, "method": "ftir"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert bad.status_code == 400 and "gcms or lcms" in bad.json()["detail"]
    nameless = client.post(
        url,
        {**body, "components": [{"role": "primary"}]},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )
    assert nameless.status_code == 422


def test_staff_enter_a_sample_on_the_page(staff_client, org_a, make_member):
    worker = make_member(org_a, Role.PEER_WORKER)
    client = staff_client(worker)
    url = f"/org/{org_a.slug}/drugcheck/"
    form = {
        "collected_on": "2026-11-20",
        "site": "Main site",
        "city": "Kingston",
        "fsa": "k7l",
        "expected": "down",
        "form": "powder",
        "fentanyl_strip": "positive",
        "ftir": "fentanyl 12\nno library match\ncaffeine",
    }
    page = client.post(url, form).content.decode()
    sample = Sample.objects.get()
    assert sample.display_code in page and sample.fsa == "K7L"
    found = [
        (c.substance.code if c.substance else c.match, c.percent) for c in sample.components.all()
    ]
    assert ("fentanyl", 12) in found and ("no-library-match", None) in found
    assert sample.tests.get(method="fentanyl-strip").result == "positive"
    assert sample.expected_class == "opioid"  # worked out from "down"
    # the kind of drug is left to "bought as" unless staff choose one
    blank = client.get(url).content.decode()
    assert re.search(r'<option value="" selected>Worked out from', blank)
    client.post(url, {**form, "expected": "crystal", "ftir": ""})
    assert Sample.objects.get(expected="crystal").expected_class == "stimulant"
    client.cookies["django_language"] = "fr"
    wrong = client.post(url, {**form, "fsa": "K7L 1A1"}).content.decode()
    assert "Entrez trois caractères" in wrong
    assert Sample.objects.count() == 2
    stranger = make_member(make_org_b(), Role.ORG_ADMIN)
    assert staff_client(stranger).get(url).status_code == 404


def make_org_b():  # type: ignore[no-untyped-def]
    from harbour.accounts.models import Organization

    return Organization.objects.create(name="Other", slug="other-org")
