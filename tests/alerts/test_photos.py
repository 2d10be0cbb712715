"""Photos on alerts: kept without where and when they were taken, served only with the alert,
in the CAP message as a resource."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib
from datetime import timedelta
from xml.etree import ElementTree as ET

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from harbour.alerts import images, services
from harbour.alerts.models import Alert, AlertPolicy
from harbour.core.roles import Role

from .test_alerts import CAP, assert_valid_cap

pytestmark = pytest.mark.django_db

GPS = b"GPS 44.2312N 76.4860W Pixel 7 serial 1A2B3C"


def jpeg(*, exif: bytes = GPS, width: int = 640, height: int = 480) -> bytes:
    """A real JPEG (Pillow) with Exif (``exif`` as its description, the phone's make and a GPS
    position) and a comment segment."""
    tags = Image.Exif()
    tags[0x010F], tags[0x010E] = "Google", exif.decode()
    tags[0x8825] = {1: "N", 2: (44.0, 13.0, 52.32), 3: "W", 4: (76.0, 29.0, 9.6)}
    out = io.BytesIO()
    Image.new("RGB", (width, height), (120, 40, 160)).save(
        out, format="JPEG", exif=tags, comment=b"taken at 12 Princess St"
    )
    return out.getvalue()


def png(*, text: bytes = b"Comment\x00" + GPS) -> bytes:
    """A real two-pixel PNG with a text chunk and an Exif chunk."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    out = io.BytesIO()
    Image.new("RGB", (2, 1)).save(out, format="PNG")
    data = out.getvalue()
    iend = data.rindex(b"IEND") - 4
    return data[:iend] + chunk(b"tEXt", text) + chunk(b"eXIf", b"MM\x00*" + GPS) + data[iend:]


def test_a_jpeg_loses_its_exif_and_comments_and_keeps_its_picture():
    cleaned = images.clean(jpeg())
    assert (cleaned.content_type, cleaned.width, cleaned.height) == ("image/jpeg", 640, 480)
    assert GPS not in cleaned.data and b"Exif" not in cleaned.data
    assert b"Princess" not in cleaned.data
    # the picture is the same (re-encoded: close, not byte for byte)
    kept = Image.open(io.BytesIO(cleaned.data))
    assert kept.size == (640, 480)
    assert all(
        abs(a - b) <= 4 for a, b in zip(kept.getpixel((10, 10)), (120, 40, 160), strict=True)
    )
    assert not kept.info.get("exif") and not kept.getexif()


def test_a_png_loses_its_text_and_exif_chunks():
    cleaned = images.clean(png())
    assert (cleaned.content_type, cleaned.width, cleaned.height) == ("image/png", 2, 1)
    assert GPS not in cleaned.data and b"tEXt" not in cleaned.data and b"eXIf" not in cleaned.data
    assert cleaned.data.endswith(b"IEND\xaeB`\x82")


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"GIF89a" + bytes(40), "not-an-image"),
        (b"<svg onload=alert(1)>", "not-an-image"),
        (jpeg()[:40], "broken"),
        (png()[:30], "broken"),
        (jpeg(width=9000), "too-big"),
        (b"\xff\xd8\xff" + bytes(images.MAX_BYTES), "too-large"),
    ],
)
def test_anything_else_is_refused_with_a_reason(data, code):
    with pytest.raises(images.ImageRejected) as error:
        images.clean(data)
    assert error.value.code == code


def draft(org, actor):  # type: ignore[no-untyped-def]
    return services.alert_draft(
        actor=actor, organization=org, title_en="Purple down", body_en="Very strong.",
        areas=["K7L"], area_description_en="Downtown",
        valid_until=timezone.now() + timedelta(days=1),
    )  # fmt: skip


def test_staff_add_a_photo_with_words_for_it_and_it_is_served_only_once_published(
    client, staff_client, org_a, org_b, make_member
):
    # given an outreach worker's draft with a photo
    worker = make_member(org_a, Role.OUTREACH_WORKER, email="w@example.org")
    page = staff_client(worker)
    response = page.post(
        f"/org/{org_a.slug}/alerts/",
        {"title_en": "Purple down", "body_en": "Very strong.", "severity": "Severe",
         "areas": "K7L", "area_description_en": "Downtown", "valid_days": "3",
         "photo": SimpleUploadedFile("IMG_0042.jpg", jpeg(), content_type="image/jpeg"),
         "photo_alt_en": "Purple chunks in a small clear baggie"},
    )  # fmt: skip
    assert response.status_code == 302
    alert = Alert.objects.get()
    assert alert.photo_type == "image/jpeg" and GPS not in bytes(alert.photo)
    assert (alert.photo_width, alert.photo_height) == (640, 480)
    # then staff of the organization see it; the public and other organizations do not
    assert page.get(f"/alerts/{alert.pk}/photo").status_code == 200
    client.logout()
    assert client.get(f"/alerts/{alert.pk}/photo").status_code == 404
    assert (
        staff_client(make_member(org_b, Role.ORG_ADMIN, email="b@example.org"))
        .get(f"/alerts/{alert.pk}/photo")
        .status_code
        == 404
    )
    # and once published, anyone, with the words for it on the alert's page
    AlertPolicy.objects.create(organization=org_a, second_approval=False)
    services.alert_submit(
        alert=alert, actor=make_member(org_a, Role.COORDINATOR, email="c@example.org")
    )
    client.logout()
    served = client.get(f"/alerts/{alert.pk}/photo")
    assert served.status_code == 200 and served["Content-Type"] == "image/jpeg"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert served.content == bytes(alert.photo)
    detail = client.get(f"/alerts/{alert.pk}/").content.decode()
    assert 'alt="Purple chunks in a small clear baggie"' in detail
    assert 'width="640" height="480"' in detail


def test_a_photo_needs_its_words_and_a_picture(staff_client, org_a, make_member):
    worker = make_member(org_a, Role.OUTREACH_WORKER, email="w@example.org")
    page = staff_client(worker)
    data = {"title_en": "Purple down", "body_en": "Very strong.", "severity": "Severe",
            "areas": "K7L", "area_description_en": "Downtown", "valid_days": "3"}  # fmt: skip
    no_words = page.post(
        f"/org/{org_a.slug}/alerts/",
        {**data, "photo": SimpleUploadedFile("a.jpg", jpeg(), content_type="image/jpeg")},
    ).content.decode()
    assert "Say in a few words what the photo shows" in no_words
    not_a_picture = page.post(
        f"/org/{org_a.slug}/alerts/",
        {**data, "photo_alt_en": "x",
         "photo": SimpleUploadedFile("a.jpg", b"<html>", content_type="image/jpeg")},
    ).content.decode()  # fmt: skip
    assert "The photo must be a JPEG or PNG picture." in not_a_picture
    page.cookies["django_language"] = "fr"
    french = page.post(
        f"/org/{org_a.slug}/alerts/",
        {**data, "photo_alt_en": "x",
         "photo": SimpleUploadedFile("a.png", png()[:30], content_type="image/png")},
    ).content.decode()  # fmt: skip
    assert "La photo est endommagée ou n’est pas une image." in french
    assert Alert.objects.count() == 0  # nothing half-saved


def test_only_a_drafts_photo_changes(org_a, make_member):
    worker = make_member(org_a, Role.OUTREACH_WORKER, email="w@example.org")
    alert = draft(org_a, worker)
    services.alert_photo_set(alert=alert, actor=worker, data=png(), alt_en="Two pixels")
    AlertPolicy.objects.create(organization=org_a, second_approval=False)
    services.alert_submit(alert=alert, actor=make_member(org_a, Role.COORDINATOR, email="c@x.org"))
    with pytest.raises(ValidationError) as error:
        services.alert_photo_set(alert=alert, actor=worker, data=png(), alt_en="Again")
    assert list(error.value.message_dict) == ["photo"]


def test_the_cap_message_carries_the_photo_as_a_resource(client, org_a, make_member):
    worker = make_member(org_a, Role.OUTREACH_WORKER, email="w@example.org")
    alert = draft(org_a, worker)
    services.alert_photo_set(
        alert=alert, actor=worker, data=jpeg(), alt_en="Purple chunks", alt_fr="Morceaux violets"
    )
    AlertPolicy.objects.create(organization=org_a, second_approval=False)
    services.alert_submit(alert=alert, actor=make_member(org_a, Role.COORDINATOR, email="c@x.org"))
    document = client.get(f"/alerts/{alert.pk}/cap.xml").content
    assert_valid_cap(document)
    root = ET.fromstring(document)  # noqa: S314 -- Harbour's own output
    stored = bytes(Alert.objects.get().photo)
    resources = [info.find(f"{CAP}resource") for info in root.findall(f"{CAP}info")]
    assert [r.findtext(f"{CAP}resourceDesc") for r in resources] == [
        "Purple chunks",
        "Morceaux violets",
    ]
    for resource in resources:
        assert resource.findtext(f"{CAP}mimeType") == "image/jpeg"
        assert resource.findtext(f"{CAP}size") == str(len(stored))
        assert resource.findtext(f"{CAP}uri").endswith(f"/alerts/{alert.pk}/photo")
        assert resource.findtext(f"{CAP}digest") == hashlib.sha1(stored).hexdigest()  # noqa: S324
