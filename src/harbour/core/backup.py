"""Database backup and restore: SQLite's online backup API, or pg_dump's custom format."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from django.db import connections


class BackupError(Exception):
    pass


def _pg_env(settings_dict: dict[str, Any]) -> tuple[list[str], dict[str, str]]:
    env = dict(os.environ)
    args = []
    if settings_dict.get("HOST"):
        args += ["--host", str(settings_dict["HOST"])]
    if settings_dict.get("PORT"):
        args += ["--port", str(settings_dict["PORT"])]
    if settings_dict.get("USER"):
        args += ["--username", str(settings_dict["USER"])]
    if settings_dict.get("PASSWORD"):
        env["PGPASSWORD"] = str(settings_dict["PASSWORD"])
    return args, env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client).")
    return path


def backup(path: Path, alias: str = "default") -> Path:
    connection = connections[alias]
    path.parent.mkdir(parents=True, exist_ok=True)
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        raw = connection.connection
        target = sqlite3.connect(path)
        try:
            raw.backup(target)
        finally:
            target.close()
        return path
    if connection.vendor == "postgresql":
        args, env = _pg_env(connection.settings_dict)
        name = str(connection.settings_dict["NAME"])
        cmd = [_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(path), *args, name]
        result = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)  # noqa: S603
        if result.returncode:
            raise BackupError(result.stderr.strip() or "pg_dump failed")
        return path
    raise BackupError(f"backups of {connection.vendor} databases are not supported")


def restore(path: Path, alias: str = "default") -> None:
    if not path.exists():
        raise BackupError(f"{path}: no such file")
    connection = connections[alias]
    if connection.vendor == "sqlite":
        with path.open("rb") as fh:
            if fh.read(16) != b"SQLite format 3\x00":
                raise BackupError(f"{path}: not a SQLite backup")
        connection.ensure_connection()
        source = sqlite3.connect(path)
        try:
            source.backup(connection.connection)
        finally:
            source.close()
        return
    if connection.vendor == "postgresql":
        with path.open("rb") as fh:
            if fh.read(5) != b"PGDMP":
                raise BackupError(f"{path}: not a pg_dump custom-format backup")
        connection.close()
        args, env = _pg_env(connection.settings_dict)
        name = str(connection.settings_dict["NAME"])
        cmd = [
            _tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
            "--dbname", name, *args, str(path),
        ]  # fmt: skip
        result = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)  # noqa: S603
        if result.returncode:
            raise BackupError(result.stderr.strip() or "pg_restore failed")
        return
    raise BackupError(f"restores of {connection.vendor} databases are not supported")
