from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("meetings/_work_links.html", takes_context=True)
def meetings_work_links(context: Any, org: Any) -> dict[str, Any]:
    """The meetings and mentoring links of an organization's "Work" list, by the user's role."""
    from harbour.meetings.views import work_links

    return {"links": work_links(context["request"].user, org)}
