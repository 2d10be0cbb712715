"""Every write of the surveillance app: events (from other apps and from CSV), settings,
detection runs and what coordinators do with signals.

Other apps record overdose events through :func:`event_record` only (outreach responses,
check-ins that needed naloxone, anonymous reports); the same event sent twice (a retry, a
re-import) is stored once, by its ``(source, source_ref)``.

One module per topic; every public name is here, so ``services.x`` and
``from harbour.surveillance.services import x`` keep working.
"""

from harbour.surveillance.services.config import settings_for, settings_update
from harbour.surveillance.services.detection import (
    DAILY_STEPS,
    FARRINGTON_WEEKS,
    POISSON_GAMMA_BASELINE,
    SCAN_HISTORY_DAYS,
    SCAN_P_VALUE,
    Found,
    Series,
    detect,
    detect_all,
    find_signals,
    visible_events,
)
from harbour.surveillance.services.events import (
    CLOCK_SKEW,
    EARLIEST,
    EventIn,
    event_exclude,
    event_record,
)
from harbour.surveillance.services.imports import (
    FALSE_WORDS,
    MAP_FIELDS,
    MAX_ERRORS,
    TRUE_WORDS,
    ImportError_,
    ImportResult,
    events_import,
    parse_mapping,
)
from harbour.surveillance.services.published import (
    published_import,
    published_import_cdc,
    shipped_harms,
)
from harbour.surveillance.services.review import signal_dismiss, signal_to_alert

__all__ = [
    "CLOCK_SKEW",
    "DAILY_STEPS",
    "EARLIEST",
    "FALSE_WORDS",
    "FARRINGTON_WEEKS",
    "MAP_FIELDS",
    "MAX_ERRORS",
    "POISSON_GAMMA_BASELINE",
    "SCAN_HISTORY_DAYS",
    "SCAN_P_VALUE",
    "TRUE_WORDS",
    "EventIn",
    "Found",
    "ImportError_",
    "ImportResult",
    "Series",
    "detect",
    "detect_all",
    "event_exclude",
    "event_record",
    "events_import",
    "find_signals",
    "parse_mapping",
    "published_import",
    "published_import_cdc",
    "settings_for",
    "settings_update",
    "shipped_harms",
    "signal_dismiss",
    "signal_to_alert",
    "visible_events",
]
