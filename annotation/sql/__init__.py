"""The annotation app's PostgreSQL functions, one ``.sql`` file each: the migrations that create
them run the file, and the tests read the same text. Shipped as package data (pyproject)."""

from __future__ import annotations

from importlib.resources import files


def sql_text(name: str) -> str:
    """The text of ``annotation/sql/<name>.sql``."""
    return files(__package__).joinpath(f"{name}.sql").read_text(encoding="utf-8")
