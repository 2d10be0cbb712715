"""Published national series (PHAC, CDC) shipped with Harbour or uploaded."""

from __future__ import annotations

import csv
import io
import logging
import re
from datetime import date

from django.db import transaction

from harbour.surveillance.models import (
    PublishedSeries,
)
from harbour.surveillance.services.imports import MAX_ERRORS, ImportError_

log = logging.getLogger(__name__)


# --- published series (PHAC) ------------------------------------------------------------------


def shipped_harms() -> str:
    """PHAC's quarterly overall numbers, as shipped with Harbour (``surveillance/data``)."""
    from importlib import resources

    path = resources.files("harbour.surveillance").joinpath("data", "phac_harms_quarterly.csv")
    return path.read_text("utf-8")


_QUARTER = re.compile(r"^(\d{4}) Q([1-4])$")


def published_import(*, text: str, filename: str = "SubstanceHarmsData.csv") -> int:
    """PHAC's opioid- and stimulant-related harms (Health Infobase CSV): the overall numbers by
    quarter are kept ("Suppressed" or blank values as missing). Replaces what was loaded."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    need = {"Substance", "Source", "Specific_Measure", "Region", "Time_Period", "Year_Quarter",
            "Unit", "Value", "Disaggregator"}  # fmt: skip
    missing = sorted(need - set(reader.fieldnames or []))
    if missing:
        raise ImportError_([f"{filename}:1: missing columns {', '.join(missing)}"])
    rows: dict[tuple[str, ...], PublishedSeries] = {}
    errors = []
    for line, raw in enumerate(reader, start=2):
        if raw["Time_Period"] != "By quarter" or raw["Specific_Measure"] != "Overall numbers":
            continue
        if raw["Disaggregator"].strip() or raw["Unit"] not in {"Number", "Crude rate"}:
            continue
        match = _QUARTER.match(raw["Year_Quarter"].strip())
        if not match:
            errors.append(f"{filename}:{line}: column 'Year_Quarter': {raw['Year_Quarter']!r}")
            continue
        value_text = raw["Value"].strip()
        value: float | None = None
        if value_text and value_text.lower() not in {"suppr.", "suppressed", "n/a", "na"}:
            try:
                value = float(value_text.replace(",", ""))
            except ValueError:
                errors.append(f"{filename}:{line}: column 'Value': {value_text!r} is not a number")
                continue
        year, quarter = int(match.group(1)), int(match.group(2))
        key = (raw["Substance"], raw["Source"], raw["Region"], raw["Year_Quarter"], raw["Unit"])
        rows[key] = PublishedSeries(
            publisher="phac", substance=raw["Substance"], harm=raw["Source"],
            region=raw["Region"], period=raw["Year_Quarter"].strip(),
            period_start=date(year, 3 * quarter - 2, 1), unit=raw["Unit"], value=value,
        )  # fmt: skip
    if errors:
        raise ImportError_(errors[:MAX_ERRORS])
    with transaction.atomic():
        PublishedSeries.objects.filter(publisher="phac").delete()
        PublishedSeries.objects.bulk_create(rows.values(), batch_size=1000)
    return len(rows)


_MONTHS = {name: n for n, name in enumerate(
    ["January", "February", "March", "April", "May", "June", "July", "August", "September",
     "October", "November", "December"], start=1)}  # fmt: skip


def published_import_cdc(*, text: str, filename: str = "VSRR.csv") -> int:
    """CDC's provisional drug overdose death counts (VSRR): 12-month-ending counts by state,
    month and drug indicator, kept as published (a blank value is missing). Replaces what was
    loaded from the CDC."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    need = {"State Name", "Year", "Month", "Indicator", "Data Value"}
    missing = sorted(need - set(reader.fieldnames or []))
    if missing:
        raise ImportError_([f"{filename}:1: missing columns {', '.join(missing)}"])
    rows: dict[tuple[str, ...], PublishedSeries] = {}
    errors = []
    for line, raw in enumerate(reader, start=2):
        month = _MONTHS.get(raw["Month"].strip())
        if month is None or not raw["Year"].strip().isdigit():
            errors.append(
                f"{filename}:{line}: column 'Month'/'Year': {raw['Month']!r} {raw['Year']!r}"
            )
            continue
        value_text = raw["Data Value"].strip().replace(",", "")
        try:
            value = float(value_text) if value_text else None
        except ValueError:
            errors.append(f"{filename}:{line}: column 'Data Value': {raw['Data Value']!r}")
            continue
        year = int(raw["Year"])
        period = f"{year}-{month:02d}"
        key = (raw["Indicator"], raw["State Name"], period)
        rows[key] = PublishedSeries(
            publisher="cdc", substance=raw["Indicator"][:80], harm="Deaths, 12 months ending",
            region=raw["State Name"][:60], period=period, period_start=date(year, month, 1),
            unit="Number", value=value,
        )  # fmt: skip
    if errors:
        raise ImportError_(errors[:MAX_ERRORS])
    with transaction.atomic():
        PublishedSeries.objects.filter(publisher="cdc").delete()
        PublishedSeries.objects.bulk_create(rows.values(), batch_size=1000)
    return len(rows)
