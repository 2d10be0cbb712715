"""Mentoring fixtures: a program, mentors and requests made through the services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from harbour.core.roles import Role
from harbour.mentoring import services
from harbour.mentoring.models import Program


@pytest.fixture
def coordinator(org_a, make_member):  # type: ignore[no-untyped-def]
    return make_member(org_a, Role.COORDINATOR)


@pytest.fixture
def program(org_a):  # type: ignore[no-untyped-def]
    return Program.objects.create(
        organization=org_a, areas=" K7L K7K ", checkin_every_days=14, answer_days=3,
        quiet_after_missed=2, proposal_days=7, purge_days=90, crisis_line="1-888-688-6677",
    )  # fmt: skip


@pytest.fixture
def make_mentor(org_a, coordinator) -> Callable[..., Any]:  # type: ignore[no-untyped-def]
    def make(alias: str = "Jordan", contact: str = "+16135550171", **kwargs: Any) -> Any:
        data = services.MentorData(
            alias=alias, channel=kwargs.pop("channel", "sms"), contact=contact,
            languages=kwargs.pop("languages", ["en"]),
            pathways=kwargs.pop("pathways", ["twelve_step", "harm_reduction"]),
            identities=kwargs.pop("identities", []), **kwargs,
        )  # fmt: skip
        return services.mentor_save(actor=coordinator, organization=org_a, data=data)

    return make


@pytest.fixture
def make_request(org_a, program) -> Callable[..., Any]:  # type: ignore[no-untyped-def]
    def make(alias: str = "River", contact: str = "+16135550181", **kwargs: Any) -> Any:
        data = services.RequestData(
            alias=alias, channel=kwargs.pop("channel", "sms"), contact=contact,
            languages=kwargs.pop("languages", ["en"]),
            pathways=kwargs.pop("pathways", ["harm_reduction"]), fsa=kwargs.pop("fsa", "K7L"),
            **kwargs,
        )  # fmt: skip
        return services.request_create(organization=org_a, data=data)

    return make
