"""Every write of outreach: encounters and overdose responses (one record from a form, or a
batch from a device coming back online: idempotent on the device's UUID), stock receipts,
transfers and corrections, naloxone kits given and training sessions, anonymous kit-use
reports and their refills, settings, and the periodic stock notices and purges.

Stock is a ledger (:class:`StockMovement`, one row per movement) with a running balance per
team, supply and lot (:class:`StockLevel`), changed in the same transaction. Every write that
changes stock first locks the organization's :class:`Program` row, so two devices syncing at
once take turns and the balance can never go below zero (also a database constraint).

A package split by topic; every name is re-exported here, so ``services.x`` keeps working:

- ``base``: constants, the program row and its lock;
- ``checks``: checking one record or one field before anything is written;
- ``ledger``: the stock ledger (movements and balances);
- ``records``: encounters and overdose responses (forms and offline sync), removal;
- ``stock``: receipts, transfers, corrections and the periodic stock notices;
- ``naloxone``: kits given and training sessions;
- ``refills``: anonymous kit-use reports and refills;
- ``program``: settings (teams, spots, program, referral choices);
- ``retention``: the periodic purge.
"""

from harbour.outreach.models import DEFAULT_TRACKED
from harbour.outreach.services.base import (
    BREATHING_CODES,
    CLIENT_CODE,
    CLOCK_SKEW,
    CONTACT_DAYS,
    DOSES_LABEL,
    HELP_CODES,
    MAX_RECEIPT,
    NEW_PEOPLE,
    NOTES_DAYS,
    NOTES_MAX,
    OLDEST,
    OUTCOME_CODES,
    RECIPIENT_CODES,
    RETURNING_PEOPLE,
    ROUTE_CODES,
    SUBSTANCE_CODES,
    SUPPLY_LABELS,
    _actor_user,
    _locked_program,
    _tz,
    padded,
    program_for,
)
from harbour.outreach.services.checks import (
    CheckedEncounter,
    CheckedResponse,
    Context,
    Errors,
    _choices,
    _fsa,
    _int,
    _own_team,
    _place,
    _position,
    _quantity,
    _record_id,
    _require_tracked,
    _supplies,
    _supply,
    _team,
    _when,
    check_encounter,
    check_response,
)
from harbour.outreach.services.ledger import (
    MOVEMENT_COLUMNS,
    Ledger,
    _movement,
    _short_of,
)
from harbour.outreach.services.naloxone import (
    _give,
    _naloxone,
    kits_give,
    training_record,
)
from harbour.outreach.services.program import (
    _unit_name,
    _unit_store,
    program_update,
    referral_choice_set,
    spot_save,
    team_save,
)
from harbour.outreach.services.records import (
    DISTRIBUTION_COLUMNS,
    ENCOUNTER_COLUMNS,
    Plan,
    Result,
    _as_list,
    _duplicate_or_conflict,
    _existing,
    _rejected,
    _store_encounters,
    _write_encounters,
    encounters_record,
    record_remove,
    responses_record,
)
from harbour.outreach.services.refills import (
    _contact,
    _refill_notice,
    coordinators,
    kit_use_exclude,
    kit_use_report,
    refill_claim,
    refill_done,
    route_refill,
)
from harbour.outreach.services.retention import (
    purge,
)
from harbour.outreach.services.stock import (
    StockItem,
    _notice_line,
    stock_correct,
    stock_notices,
    stock_problems,
    stock_receive,
    stock_transfer,
)

__all__ = [
    "BREATHING_CODES",
    "CLIENT_CODE",
    "CLOCK_SKEW",
    "CONTACT_DAYS",
    "DEFAULT_TRACKED",
    "DISTRIBUTION_COLUMNS",
    "DOSES_LABEL",
    "ENCOUNTER_COLUMNS",
    "HELP_CODES",
    "MAX_RECEIPT",
    "MOVEMENT_COLUMNS",
    "NEW_PEOPLE",
    "NOTES_DAYS",
    "NOTES_MAX",
    "OLDEST",
    "OUTCOME_CODES",
    "RECIPIENT_CODES",
    "RETURNING_PEOPLE",
    "ROUTE_CODES",
    "SUBSTANCE_CODES",
    "SUPPLY_LABELS",
    "CheckedEncounter",
    "CheckedResponse",
    "Context",
    "Errors",
    "Ledger",
    "Plan",
    "Result",
    "StockItem",
    "_actor_user",
    "_as_list",
    "_choices",
    "_contact",
    "_duplicate_or_conflict",
    "_existing",
    "_fsa",
    "_give",
    "_int",
    "_locked_program",
    "_movement",
    "_naloxone",
    "_notice_line",
    "_own_team",
    "_place",
    "_position",
    "_quantity",
    "_record_id",
    "_refill_notice",
    "_rejected",
    "_require_tracked",
    "_short_of",
    "_store_encounters",
    "_supplies",
    "_supply",
    "_team",
    "_tz",
    "_unit_name",
    "_unit_store",
    "_when",
    "_write_encounters",
    "check_encounter",
    "check_response",
    "coordinators",
    "encounters_record",
    "kit_use_exclude",
    "kit_use_report",
    "kits_give",
    "padded",
    "program_for",
    "program_update",
    "purge",
    "record_remove",
    "referral_choice_set",
    "refill_claim",
    "refill_done",
    "responses_record",
    "route_refill",
    "spot_save",
    "stock_correct",
    "stock_notices",
    "stock_problems",
    "stock_receive",
    "stock_transfer",
    "team_save",
    "training_record",
]
