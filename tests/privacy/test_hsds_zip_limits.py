"""Attack: make the server run out of memory or disk with a small HSDS zip (a zip bomb), or
write outside the import folder with a crafted member name.

Each archive is refused before anything is extracted, with a one-line reason, and reading it
costs almost no memory.
"""

from __future__ import annotations

import tracemalloc
import zipfile
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from harbour.directory import hsds

pytestmark = pytest.mark.django_db

HEADER = b"id,organization_id,name,status\r\n"


def _bomb(path: Path, megabytes: int) -> Path:
    """A zip of a few hundred kB that expands to ``megabytes`` MB of one CSV file."""
    zero = b"0" * (1024 * 1024)
    with (
        zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
        archive.open("service.csv", "w", force_zip64=True) as member,
    ):
        member.write(HEADER)
        for _ in range(megabytes):
            member.write(zero)
    return path


def _refused(path: Path) -> str:
    with pytest.raises(CommandError) as failure:
        call_command("import-hsds", str(path))
    message = str(failure.value)
    assert "\n" not in message
    return message


def test_a_zip_bomb_is_refused_before_it_is_expanded(tmp_path: Path) -> None:
    # given 150 MB of CSV packed into well under a megabyte
    bomb = _bomb(tmp_path / "bomb.zip", 150)
    assert bomb.stat().st_size < 1024 * 1024
    # when it is imported, watching the memory used
    tracemalloc.start()
    try:
        message = _refused(bomb)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # then it is refused for what it is, having read almost nothing
    assert message.startswith("bomb.zip: service.csv expands ")
    assert message.endswith(f"times; at most {hsds.MAX_RATIO} times is read (a zip bomb?)")
    assert peak < 20 * 1024 * 1024
    assert list(tmp_path.iterdir()) == [bomb]  # nothing extracted beside it


def test_too_many_members_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "many.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for n in range(hsds.MAX_MEMBERS + 1):
            archive.writestr(f"extra_{n}.csv", HEADER)
    assert _refused(path) == f"many.zip: {hsds.MAX_MEMBERS + 1} files; at most 100 are read"


@pytest.mark.parametrize(
    "name", ["../../outside.csv", "/etc/cron.d/harbour.csv", "data/../../up.csv", "C:/x.csv"]
)
def test_members_escaping_the_folder_are_refused(tmp_path: Path, name: str) -> None:
    path = tmp_path / "escape.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("organization.csv", b"id,name\r\n")
        archive.writestr(name, HEADER)
    assert _refused(path) == f"escape.zip: {name!r} points outside the archive's folder"


def test_members_and_totals_above_the_limits_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the limits are hundreds of MB; lowered here so that the test writes little
    monkeypatch.setattr(hsds, "MAX_MEMBER_BYTES", 1024 * 1024)
    monkeypatch.setattr(hsds, "MAX_TOTAL_BYTES", 3 * 1024 * 1024)
    rows = b"".join(b"%d,org,name %d,active\r\n" % (n, n) for n in range(60_000))
    big = tmp_path / "big.zip"
    with zipfile.ZipFile(big, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("service.csv", HEADER + rows)
    size = len(HEADER + rows)
    assert size > 1024 * 1024
    assert _refused(big) == (
        f"big.zip: service.csv is {size / 1024 / 1024:.0f} MB; a file may be at most 1 MB"
    )
    total = tmp_path / "total.zip"
    part = HEADER + rows[: 900 * 1024]
    with zipfile.ZipFile(total, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for n in range(4):
            archive.writestr(f"part_{n}.csv", part)
    added = 4 * len(part)
    assert len(part) < 1024 * 1024 < 3 * 1024 * 1024 < added
    assert _refused(total) == (
        f"total.zip: the files add up to {added / 1024 / 1024:.0f} MB; at most 3 MB are read"
    )


def test_an_ordinary_export_still_imports(tmp_path: Path) -> None:
    # the limits leave real datapackages alone: Harbour's own export, zipped, reads back
    hsds.export_tabular(tmp_path / "out")
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for item in (tmp_path / "out").iterdir():
            archive.write(item, item.name)
    assert set(hsds.read_source(path)) >= {"service", "location", "organization"}
