"""Request parsing for bulk imports: a JSON list, JSON Lines, or an uploaded file of either.

Every JSON document a request carries is checked here, before any view sees it, for what the
database or the server cannot take (issue 18): nesting deeper than ``MAX_JSON_DEPTH`` (the C
decoder would raise RecursionError a few hundred levels further), NUL (U+0000) and lone UTF-16
surrogates (``"\\ud800"``), which neither PostgreSQL text nor jsonb can store, and NaN or
Infinity, which jsonb refuses. Each refusal is a 400 naming where the value was found.
"""

from __future__ import annotations

import json
import math
from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser, JSONParser

# Deep enough for any conversation, criteria or metadata we store; far below the recursion
# limit of the code that walks, stores and renders the documents.
MAX_JSON_DEPTH = 64


def _refuse(path: str, message: str) -> None:
    # Imported here: flywheel.errors imports DRF's views, which import this module (the
    # DEFAULT_PARSER_CLASSES setting).
    from flywheel.errors import ApplicationError

    field = path or "body"
    raise ApplicationError(
        f"{field}: {message}",
        errors={field: [message[0].upper() + message[1:]]},
        code="parse_error",
    )


def _unstorable(text: str) -> str | None:
    """Why PostgreSQL cannot store ``text`` (None when it can)."""
    if "\x00" in text:
        return "contains a NUL character (U+0000)."
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        code = ord(text[exc.start])
        return f"contains a lone surrogate (U+{code:04X}), which is not valid Unicode text."
    return None


def reject_unstorable(value: Any, path: str = "", depth: int = 0, top: str | None = None) -> None:
    """Refuse a parsed JSON document that nests deeper than ``MAX_JSON_DEPTH`` or holds a string
    (key or value) that PostgreSQL cannot store, naming the place: the full path for a bad
    string, the outermost field (of the body, or of an import row) for a too-deep document."""
    if isinstance(value, str):
        problem = _unstorable(value)
        if problem:
            _refuse(path, problem)
        return
    if isinstance(value, float) and not math.isfinite(value):  # 1e400 parses as inf
        _refuse(path, "is not a finite number.")
    if not isinstance(value, dict | list | tuple):
        return
    if depth >= MAX_JSON_DEPTH:
        _refuse(top if top is not None else path, f"nested deeper than {MAX_JSON_DEPTH} levels.")
    if isinstance(value, dict):
        for key, item in value.items():
            problem = _unstorable(key)
            if problem:
                _refuse(path, f"a key {problem}")
            child = f"{path}.{key}" if path else str(key)
            reject_unstorable(item, child, depth + 1, child if top is None else top)
    else:
        for index, item in enumerate(value):
            child = f"{path}[{index}]"
            reject_unstorable(item, child, depth + 1, child if top is None else top)


def _strict_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def loads(text: str, path: str = "") -> Any:
    """``json.loads`` that refuses NaN / Infinity and too-deep nesting with a 400, not a 500."""
    try:
        return json.loads(text, parse_constant=_strict_constant)
    except RecursionError:
        _refuse(path, f"nested deeper than {MAX_JSON_DEPTH} levels.")


class StrictJSONParser(JSONParser):
    """DRF's JSON parser, refusing too-deep documents and strings PostgreSQL cannot store."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            _refuse("", f"nested deeper than {MAX_JSON_DEPTH} levels.")
        reject_unstorable(data)
        return data


class ImportJSONParser(StrictJSONParser):
    """A bulk import's JSON list: problems are named by row number, ``rows[1]`` first, as the
    import services name theirs."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = JSONParser.parse(self, stream, media_type, parser_context)
        except RecursionError:
            _refuse("", f"nested deeper than {MAX_JSON_DEPTH} levels.")
        if isinstance(data, list):
            for number, row in number_rows(data):
                reject_unstorable(row, f"rows[{number}]", 1)
        else:
            reject_unstorable(data)
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
            value = loads(line, f"rows[{number}]")
        except json.JSONDecodeError as exc:
            raise ParseError(f"Line {number} is not valid JSON: {exc.msg}.") from exc
        except ValueError as exc:
            raise ParseError(f"Line {number} is not valid JSON: {exc}.") from exc
        reject_unstorable(value, f"rows[{number}]", 1)
        rows.append((number, value))
    return rows


def parse_upload(raw: bytes) -> list[tuple[int, Any]]:
    """An uploaded file: a JSON list if it starts with ``[``, JSON Lines otherwise."""
    text = _decode(raw)
    if text.lstrip().startswith("["):
        try:
            rows = number_rows(loads(text, "file"))
        except json.JSONDecodeError as exc:
            raise ParseError(f"The file is not valid JSON (line {exc.lineno}): {exc.msg}.") from exc
        except ValueError as exc:
            raise ParseError(f"The file is not valid JSON: {exc}.") from exc
        for number, row in rows:
            reject_unstorable(row, f"rows[{number}]", 1)
        return rows
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
