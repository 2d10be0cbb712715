"""Harbour's Meeting Guide feed (``/meetings/feed.json``): every listed meeting with every spec
field Harbour holds, ``timezone`` always, ``updated`` in the spec's UTC format, the meeting's page
as ``url`` (unless the listing has its own) and its "suggest a change" page as ``feedback_url``.
Only public information: meetings hold no contact people, and notes are checked for last names
when staff write them and when feeds are imported."""

from __future__ import annotations

import json
from datetime import UTC
from typing import Any

from harbour.meetings import feedspec, selectors, services


def build(*, organization: str = "", fellowship: str = "") -> list[dict[str, Any]]:
    pages = services.own_pages()
    items = []
    for row in selectors.feed_rows(organization=organization, fellowship=fellowship):
        row["types"] = row["types"].split()
        row["fellowship"] = row.pop("fellowship__slug")
        where = ", ".join(
            p for p in (row["organization__city"], row["organization__province"]) if p
        )
        extra = {
            "url": f"{pages}{row['slug']}/",
            "feedback_url": f"{pages}{row['slug']}/suggest/",
            "updated": row["updated_at"].astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
            # the same feed whatever the reader's language (it is cached once for everyone)
            "entity": row["organization__name_en"] or row["organization__name_fr"],
            "entity_location": where,
        }
        items.append(feedspec.feed_item(row, extra))
    return items


def render(items: list[dict[str, Any]]) -> bytes:
    return json.dumps(items, ensure_ascii=False, separators=(",", ":")).encode()
