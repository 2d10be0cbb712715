"""Duplicate finder benchmark: how the comparison grows with the number of listings.

Builds N synthetic listings in memory (providers, services, Canadian postal areas, civic numbers,
phone numbers; 2% of them entered a second time with "Street" for "St", upper case and another
phone format) and times ``duplicates.candidate_pairs``, the part that would be quadratic without
blocking. Reading the listings from the database (``duplicates.listings``, four queries) is not
included. Also reports how many pairs were compared and that every planted duplicate is found.

    python bench/directory_duplicates.py [--quick] [--listings N]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "harbour.settings")
os.environ.setdefault("HARBOUR_ENV", "test")

import django

django.setup()

from harbour.directory import duplicates  # noqa: E402

WORDS = ["health", "food", "bank", "shelter", "harm", "reduction", "youth", "outreach",
         "clinic", "housing", "support", "community", "centre", "mission", "recovery", "peer",
         "legal"]  # fmt: skip
STREETS = ["Princess", "King", "Queen", "Wellington", "Division", "Bath", "Montreal", "Brock"]


def build(n: int, rng: random.Random) -> tuple[dict, set]:
    found: dict = {}
    planted = set()
    for i in range(n):
        provider = " ".join(rng.sample(WORDS, 3))
        name = " ".join(rng.sample(WORDS, 2))
        area = f"K{rng.randint(0, 9)}{chr(65 + rng.randint(0, 25))}"
        street = f"{rng.randint(1, 999)} {rng.choice(STREETS)} St"
        phone = f"613{rng.randint(2000000, 9999999)}"
        listing = duplicates.Listing(i, duplicates.normalize_name(provider),
                                     duplicates.normalize_name(name), None)  # fmt: skip
        listing.places.add((area, duplicates.normalize_street(street)))
        listing.phones.add(duplicates.normalize_phone(phone))
        found[i] = listing
        if rng.random() < 0.02:
            twin = duplicates.Listing(-i - 1, duplicates.normalize_name(provider.upper()),
                                      duplicates.normalize_name(name.title()), None)  # fmt: skip
            twin.places.add((area, duplicates.normalize_street(street.replace("St", "Street"))))
            twin.phones.add(duplicates.normalize_phone(f"+1 ({phone[:3]}) {phone[3:]}"))
            found[-i - 1] = twin
            planted.add(duplicates._pair(i, -i - 1))
    return found, planted


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--listings", type=int, default=0)
    args = parser.parse_args()
    duplicates._dismissed = lambda ids: set()  # no database here: nothing dismissed
    sizes = [args.listings] if args.listings else ([10_000] if args.quick else [10_000, 100_000])
    compared = 0
    original = duplicates._compare

    def counting(block, reason, out):  # type: ignore[no-untyped-def]
        nonlocal compared
        compared += len(block) * (len(block) - 1) // 2
        original(block, reason, out)

    duplicates._compare = counting
    for n in sizes:
        found, planted = build(n, random.Random(7))
        compared = 0
        start = time.perf_counter()
        pairs = duplicates.candidate_pairs(found)
        took = time.perf_counter() - start
        missed = planted - set(pairs)
        print(
            f"{len(found):>7} listings: {took * 1000:8.0f} ms, {compared:,} pairs compared "
            f"(all pairs: {len(found) * (len(found) - 1) // 2:,}), {len(pairs):,} candidates, "
            f"{len(planted) - len(missed)}/{len(planted)} planted duplicates found"
        )


if __name__ == "__main__":
    main()
