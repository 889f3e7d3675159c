"""Encoders for export rows: JSON Lines (streamed as it is produced) and Parquet (written in row
groups to a spooled temporary file, then streamed), each with a fixed schema per view so that
files of the same view always have the same columns and types."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator
from typing import IO

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from .rows import Row, View

JSONL_CHUNK_BYTES = 256 * 1024
PARQUET_ROW_GROUP = 10_000

_MESSAGES = pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))
_IDS = [("prompt_id", pa.int64()), ("set_id", pa.int64())]
_PAIR_IDS = [*_IDS, ("annotator", pa.string())]
SCHEMAS: dict[View, pa.Schema] = {
    "preference": pa.schema(
        [
            ("prompt", _MESSAGES),
            ("chosen", _MESSAGES),
            ("rejected", _MESSAGES),
            ("margin", pa.float64()),
            *_PAIR_IDS,
        ]
    ),
    "preference-text": pa.schema(
        [
            ("prompt", pa.string()),
            ("chosen", pa.string()),
            ("rejected", pa.string()),
            ("margin", pa.float64()),
            *_PAIR_IDS,
        ]
    ),
    "kto": pa.schema(
        [("prompt", _MESSAGES), ("completion", _MESSAGES), ("label", pa.bool_()), *_PAIR_IDS]
    ),
    "ranked": pa.schema(
        [
            ("prompt", _MESSAGES),
            ("responses", pa.list_(pa.string())),
            ("tiers", pa.list_(pa.list_(pa.int64()))),
            ("not_rankable", pa.bool_()),
            ("flags", pa.map_(pa.string(), pa.list_(pa.string()))),
            *_PAIR_IDS,
        ]
    ),
    "consensus": pa.schema(
        [
            ("prompt", _MESSAGES),
            ("responses", pa.list_(pa.string())),
            ("tiers", pa.list_(pa.list_(pa.int64()))),
            ("not_rankable", pa.bool_()),
            ("agreement", pa.float64()),
            ("annotators", pa.int64()),
            ("method", pa.string()),
            ("adjudicated", pa.bool_()),
            *_IDS,
        ]
    ),
    "sft": pa.schema([("messages", _MESSAGES), *_IDS]),
    "hh-rlhf": pa.schema([("chosen", pa.string()), ("rejected", pa.string()), *_PAIR_IDS]),
}


def jsonl_chunks(rows: Iterable[Row]) -> Iterator[bytes]:
    """One JSON object a line, UTF-8, keys in the view's order; yielded in ~256 KiB chunks."""
    buffer: list[bytes] = []
    size = 0
    for row in rows:
        line = orjson.dumps(row, option=orjson.OPT_APPEND_NEWLINE)
        buffer.append(line)
        size += len(line)
        if size >= JSONL_CHUNK_BYTES:
            yield b"".join(buffer)
            buffer, size = [], 0
    if buffer:
        yield b"".join(buffer)


def parquet_file(rows: Iterable[Row], view: View) -> IO[bytes]:
    """The rows as a Parquet file (rewound), built row group by row group."""
    schema = SCHEMAS[view]
    out = tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024)  # noqa: SIM115 (returned)
    with pq.ParquetWriter(out, schema, compression="zstd") as writer:
        batch: list[Row] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= PARQUET_ROW_GROUP:
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                batch = []
        if batch:
            writer.write_table(pa.Table.from_pylist(batch, schema=schema))
    out.seek(0)
    return out


def file_chunks(file: IO[bytes], chunk: int = 1024 * 1024) -> Iterator[bytes]:
    try:
        while data := file.read(chunk):
            yield data
    finally:
        file.close()
