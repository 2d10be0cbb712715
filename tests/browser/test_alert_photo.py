"""A drug alert with a photo, drafted on a phone and seen by the public once published."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from harbour.accounts.models import Organization, User
from harbour.alerts import services
from harbour.alerts.models import Alert, AlertPolicy
from harbour.core.roles import Role

from ..alerts.test_photos import GPS
from .conftest import BROWSER, check, log_in

pytestmark = BROWSER

PURPLE = """() => {
  const canvas = document.createElement("canvas");
  canvas.width = 64; canvas.height = 48;
  const pen = canvas.getContext("2d");
  pen.fillStyle = "#7b2cbf"; pen.fillRect(0, 0, 64, 48);
  return canvas.toDataURL("image/jpeg", 0.9);
}"""


def phone_photo(page: Page) -> bytes:
    """A real JPEG (drawn by Chromium), with an Exif segment holding a position added after its
    JFIF header, as a phone's camera would."""
    import base64
    import struct

    data = base64.b64decode(page.evaluate(PURPLE).split(",", 1)[1])
    assert data[:4] == b"\xff\xd8\xff\xe0"
    app0_end = 4 + struct.unpack(">H", data[4:6])[0]
    exif = b"Exif\x00\x00" + GPS
    app1 = b"\xff\xe1" + struct.pack(">H", len(exif) + 2) + exif
    return data[:app0_end] + app1 + data[app0_end:]


def test_a_photo_goes_with_the_alert_without_its_metadata(
    page: Page,
    org_a: Organization,
    make_member: Callable[..., User],
    enable_totp: Callable[[User], str],
) -> None:
    AlertPolicy.objects.create(organization=org_a, second_approval=False)
    coordinator = make_member(org_a, Role.COORDINATOR)
    log_in(page, coordinator.email, enable_totp(coordinator))
    photo = phone_photo(page)
    assert GPS in photo
    page.goto(f"/org/{org_a.slug}/alerts/")
    page.get_by_label("Title (English)").fill("Purple down with carfentanil")
    page.get_by_label("What people should know (English)").fill("Several overdoses this week.")
    page.get_by_label("Postal areas").fill("K7L")
    page.get_by_label("Area, in words (English)").fill("Downtown Kingston")
    page.get_by_label("Photo (optional)").set_input_files(
        files=[{"name": "IMG_0042.jpg", "mimeType": "image/jpeg", "buffer": photo}]
    )
    # the words for the photo are missing: said, and nothing is saved
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Say in a few words what the photo shows")).to_be_visible()
    check(page, "alert-photo-error")
    page.get_by_label("Photo (optional)").set_input_files(
        files=[{"name": "IMG_0042.jpg", "mimeType": "image/jpeg", "buffer": photo}]
    )
    page.get_by_label("What the photo shows (English)").fill("Purple chunks in a clear baggie")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Draft saved.")).to_be_visible()
    expect(page.get_by_role("link", name="See the photo")).to_be_visible()
    alert = Alert.objects.get()
    assert GPS not in bytes(alert.photo or b"")
    services.alert_submit(alert=alert, actor=coordinator)
    # the public page shows it, with its words
    page.goto(f"/alerts/{alert.pk}/")
    image = page.get_by_role("img", name="Purple chunks in a clear baggie")
    expect(image).to_be_visible()
    # the picture, without its Exif, still decodes: 64 by 48 pixels
    expect(image).to_have_js_property("naturalWidth", 64)
    expect(image).to_have_js_property("naturalHeight", 48)
    check(page, "alert-photo-public")
