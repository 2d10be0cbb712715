"""An alert as OASIS Common Alerting Protocol 1.2 XML, one ``info`` block per language (en-CA and
fr-CA, as the Canadian CAP-CP profile does)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from xml.etree import ElementTree as ET

from django.conf import settings
from django.utils import timezone

from harbour.alerts.models import Alert, AlertStatus, tr
from harbour.core.views import absolute_url

NS = "urn:oasis:names:tc:emergency:cap:1.2"
INSTRUCTION = {
    "en": "Use less, go slow, do not use alone, carry naloxone. Emergency: 9-1-1.",
    "fr": "Consommez moins, allez-y lentement, ne consommez pas seul·e, ayez de la naloxone. "
    "Urgence : 9-1-1.",
}
EVENT = {"en": "Toxic drug alert", "fr": "Alerte de drogues toxiques"}
# The Canadian profile: its version as Canadian alerting systems send it (NAAD, Environment
# Canada), and the subject from its event list ("Drug Safety"); the same in every language.
CAP_CP = "profile:CAP-CP:0.4"
CAP_CP_EVENT = ("profile:CAP-CP:Event:0.4", "drugSafety")


def _time(moment: datetime) -> str:
    """CAP times: local offset, no fractions of a second, never "Z"."""
    text = timezone.localtime(moment).replace(microsecond=0).isoformat()
    return text.replace("+00:00", "-00:00")


def _sub(parent: ET.Element, tag: str, text: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{NS}}}{tag}")
    element.text = text
    return element


def cap_xml(alert: Alert) -> bytes:
    ET.register_namespace("", NS)
    root = ET.Element(f"{{{NS}}}alert")
    host = settings.HARBOUR_BASE_URL.split("//")[-1].split("/")[0] or "harbour"
    _sub(root, "identifier", f"urn:uuid:{alert.identifier}")
    _sub(root, "sender", f"alerts@{host}")
    _sub(root, "sent", _time(alert.published_at or alert.created_at))
    _sub(root, "status", "Actual")
    _sub(root, "msgType", "Cancel" if alert.status == AlertStatus.WITHDRAWN else "Alert")
    _sub(root, "scope", "Public")
    _sub(root, "code", CAP_CP)
    if alert.status == AlertStatus.WITHDRAWN:
        first_sent = _time(alert.published_at or alert.created_at)
        _sub(root, "references", f"alerts@{host},urn:uuid:{alert.identifier},{first_sent}")
    for lang in ("en", "fr"):
        title = tr(alert, "title", lang)
        body = tr(alert, "body", lang)
        appearance = tr(alert, "appearance", lang)
        info = ET.SubElement(root, f"{{{NS}}}info")
        _sub(info, "language", f"{lang}-CA")
        _sub(info, "category", "Health")
        _sub(info, "event", EVENT[lang])
        _sub(info, "responseType", "Avoid")
        _sub(info, "urgency", "Immediate")
        _sub(info, "severity", alert.severity)
        _sub(info, "certainty", "Observed" if alert.source_sample_id else "Likely")
        event_code = ET.SubElement(info, f"{{{NS}}}eventCode")
        _sub(event_code, "valueName", CAP_CP_EVENT[0])
        _sub(event_code, "value", CAP_CP_EVENT[1])
        _sub(info, "expires", _time(alert.valid_until))
        _sub(info, "senderName", str(alert.organization.name))
        _sub(info, "headline", str(title)[:140])
        _sub(info, "description", f"{body}\n\n{appearance}".strip())
        _sub(info, "instruction", INSTRUCTION[lang])
        _sub(info, "web", absolute_url("alerts:detail", alert_id=alert.pk))
        if alert.photo_type:
            photo = bytes(alert.photo or b"")
            resource = ET.SubElement(info, f"{{{NS}}}resource")
            _sub(resource, "resourceDesc", str(tr(alert, "photo_alt", lang)) or "Photo")
            _sub(resource, "mimeType", alert.photo_type)
            _sub(resource, "size", str(len(photo)))
            _sub(resource, "uri", absolute_url("alerts:photo", alert_id=alert.pk))
            # CAP 1.2 asks for SHA-1 here; it identifies the file, it protects nothing
            _sub(resource, "digest", hashlib.sha1(photo, usedforsecurity=False).hexdigest())
        area = ET.SubElement(info, f"{{{NS}}}area")
        description = tr(alert, "area_description", lang)
        _sub(area, "areaDesc", str(description))
        for code in alert.area_list:
            if code != "*":
                geocode = ET.SubElement(area, f"{{{NS}}}geocode")
                _sub(geocode, "valueName", "CA-FSA")
                _sub(geocode, "value", code)
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))
