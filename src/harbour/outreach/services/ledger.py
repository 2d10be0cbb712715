"""The stock ledger: movements and running balances, changed in memory and written in one go."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from harbour.outreach import bulk, inventory
from harbour.outreach.models import (
    StockLevel,
    StockMovement,
    Supply,
    Team,
)

# --- the stock ledger -------------------------------------------------------------------------


MOVEMENT_COLUMNS = (
    "team",
    "supply",
    "lot",
    "expires_on",
    "change",
    "kind",
    "at",
    "other_team",
    "distribution",
    "response",
    "note",
    "actor",
)


def _movement(**values: Any) -> tuple[Any, ...]:
    """One ledger row, as a tuple in MOVEMENT_COLUMNS order (models given as objects or ids)."""
    row = []
    for column in MOVEMENT_COLUMNS:
        value = values.get(
            column, values.get(f"{column}_id", "" if column in {"lot", "note"} else None)
        )
        row.append(getattr(value, "pk", value))
    return tuple(row)


class Ledger:
    """Stock of some teams, loaded once, changed in memory, written in one go (bulk insert of
    the movements, one conditional UPDATE per lot). Callers hold the program lock."""

    def __init__(self, team_ids: Iterable[Any], supplies: Iterable[str]) -> None:
        self.levels: dict[tuple[Any, str], list[StockLevel]] = {}
        self.delta: dict[int, int] = {}
        self.movements: list[tuple[Any, ...]] = []
        team_ids, supplies = list(team_ids), list(supplies)
        if team_ids and supplies:
            for level in StockLevel.objects.filter(team_id__in=team_ids, supply__in=supplies):
                self.levels.setdefault((level.team_id, level.supply), []).append(level)

    def on_hand(self, team_id: Any, supply: str) -> int:
        return sum(x.quantity for x in self.levels.get((team_id, supply), []))

    def plan(self, team_id: Any, supply: str, quantity: int) -> list[tuple[StockLevel, int]] | None:
        lots = self.levels.get((team_id, supply), [])
        by_pk: dict[Any, StockLevel] = {x.pk: x for x in lots}
        chosen = inventory.allocate(
            [inventory.Lot(x.pk, x.lot, x.expires_on, x.quantity) for x in lots], quantity
        )
        return None if chosen is None else [(by_pk[pk], n) for pk, n in chosen]

    def reserve(self, plan: list[tuple[StockLevel, int]]) -> None:
        """Take the plan's units off the balance (so later records see what is left)."""
        for level, n in plan:
            level.quantity -= n
            self.delta[level.pk] = self.delta.get(level.pk, 0) - n

    def log(self, plan: list[tuple[StockLevel, int]], **movement: Any) -> None:
        """The ledger rows of a reserved plan."""
        for level, n in plan:
            self.movements.append(
                _movement(
                    team_id=level.team_id,
                    supply=level.supply,
                    lot=level.lot,
                    expires_on=level.expires_on,
                    change=-n,
                    **movement,
                )
            )

    def take(self, plan: list[tuple[StockLevel, int]], **movement: Any) -> None:
        self.reserve(plan)
        self.log(plan, **movement)

    def put(
        self,
        team_id: Any,
        supply: str,
        quantity: int,
        *,
        lot: str = "",
        expires_on: date | None = None,
        **movement: Any,
    ) -> StockLevel:
        level = next((x for x in self.levels.get((team_id, supply), []) if x.lot == lot), None)
        if level is None:
            level, _created = StockLevel.objects.get_or_create(
                team_id=team_id, supply=supply, lot=lot, defaults={"expires_on": expires_on}
            )
            self.levels.setdefault((team_id, supply), []).append(level)
        level.quantity += quantity
        self.delta[level.pk] = self.delta.get(level.pk, 0) + quantity
        self.movements.append(
            _movement(
                team_id=team_id,
                supply=supply,
                lot=lot,
                expires_on=level.expires_on,
                change=quantity,
                **movement,
            )
        )
        return level

    def write(self) -> None:
        bulk.insert(StockMovement, MOVEMENT_COLUMNS, self.movements)
        changes = [(change, pk, change) for pk, change in self.delta.items() if change]
        # never below zero, whatever happened since the balances were read (the database
        # constraint says the same); one statement for all the lots
        if bulk.update_stock(changes) != len(changes):
            # only if something changed stock without the program lock: refuse it all
            raise ValidationError(_("The stock changed while saving; please try again."))
        self.movements, self.delta = [], {}


def _short_of(team: Team, supply: str, wanted: int, left: int) -> str:
    return ngettext(
        "Not enough %(supply)s in the stock of %(team)s: %(wanted)s given, %(left)s left. "
        "Record a receipt or a transfer first.",
        "Not enough %(supply)s in the stock of %(team)s: %(wanted)s given, %(left)s left. "
        "Record a receipt or a transfer first.",
        wanted,
    ) % {"supply": Supply(supply).label, "team": team.name, "wanted": wanted, "left": left}
