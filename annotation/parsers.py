"""Request parsing for bulk imports: a JSON list, JSON Lines, or an uploaded file of either."""

from __future__ import annotations

import json
from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser, JSONParser


def reject_nul(value: Any, path: str = "") -> None:
    """PostgreSQL text and jsonb cannot hold NUL (U+0000); refuse it at the door with the
    place it was found, rather than fail at write time."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ParseError(f"{path or 'The body'} contains a NUL character (U+0000).")
    elif isinstance(value, dict):
        for key, item in value.items():
            reject_nul(key, path)
            reject_nul(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            reject_nul(item, f"{path}[{index}]")


class StrictJSONParser(JSONParser):
    """DRF's JSON parser, refusing NUL characters anywhere in the document."""

    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        reject_nul(data)
        return data


class JSONLinesParser(BaseParser):
    """``application/x-ndjson``: one JSON value a line. Returns ``[(line_number, value), …]``."""

    media_type = "application/x-ndjson"

    def parse(self, stream, media_type=None, parser_context=None):
        return parse_jsonl(stream.read())


class JSONLParser(JSONLinesParser):
    media_type = "application/jsonl"


def parse_jsonl(raw: bytes) -> list[tuple[int, Any]]:
    rows = []
    for number, line in enumerate(_decode(raw).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ParseError(f"Line {number} is not valid JSON: {exc.msg}.") from exc
        reject_nul(value, f"rows[{number}]")
        rows.append((number, value))
    return rows


def parse_upload(raw: bytes) -> list[tuple[int, Any]]:
    """An uploaded file: a JSON list if it starts with ``[``, JSON Lines otherwise."""
    text = _decode(raw)
    if text.lstrip().startswith("["):
        try:
            rows = number_rows(json.loads(text))
            for number, row in rows:
                reject_nul(row, f"rows[{number}]")
            return rows
        except json.JSONDecodeError as exc:
            raise ParseError(f"The file is not valid JSON (line {exc.lineno}): {exc.msg}.") from exc
    return parse_jsonl(raw)


def number_rows(value: Any) -> list[tuple[int, Any]]:
    if not isinstance(value, list):
        raise ParseError("Expected a JSON list of rows (or JSON Lines).")
    return list(enumerate(value, start=1))


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParseError("The upload is not UTF-8 text.") from exc
