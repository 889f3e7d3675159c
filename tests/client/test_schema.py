"""The client is typed from the OpenAPI schema: every operation it calls exists there with the
method, the path parameters, the body keys and query parameters it sends, and every key of the
payload type it returns is a property of the operation's response."""

from __future__ import annotations

import re
import typing

import pytest
from drf_spectacular.generators import SchemaGenerator
from flywheel_client import OPERATIONS


@pytest.fixture(scope="module")
def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    if "allOf" in node:  # drf-spectacular's wrapper around a nullable or read-only reference
        merged: dict = {"properties": {}}
        for part in node["allOf"]:
            merged["properties"] |= resolve(schema, part).get("properties", {})
        return merged
    return node


def operation(schema: dict, name: str) -> dict:
    op = OPERATIONS[name]
    assert op.path in schema["paths"], f"{name}: {op.path} is not in the schema"
    assert op.method in schema["paths"][op.path], f"{name}: no {op.method.upper()} {op.path}"
    return schema["paths"][op.path][op.method]


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_each_operation_the_client_calls_is_in_the_schema(schema, name):
    op = OPERATIONS[name]
    spec = operation(schema, name)
    in_path = {p["name"] for p in spec.get("parameters", []) if p["in"] == "path"}
    assert in_path == set(re.findall(r"{(\w+)}", op.path)), name
    in_query = {p["name"] for p in spec.get("parameters", []) if p["in"] == "query"}
    assert set(op.query) <= in_query, f"{name}: {set(op.query) - in_query}"
    if op.sends:
        body = resolve(schema, spec["requestBody"]["content"]["application/json"]["schema"])
        assert set(op.sends) <= set(body["properties"]), set(op.sends) - set(body["properties"])


@pytest.mark.parametrize("name", sorted(n for n, op in OPERATIONS.items() if op.returns))
def test_each_key_of_a_returned_payload_is_in_the_operations_response(schema, name):
    op = OPERATIONS[name]
    responses = operation(schema, name)["responses"]
    ok = responses.get("200") or responses.get("201")
    body = resolve(schema, ok["content"]["application/json"]["schema"])
    if op.paginated:
        assert {"count", "next", "results"} <= set(body["properties"])
        body = resolve(schema, body["properties"]["results"]["items"])
    declared = set(typing.get_type_hints(op.returns))
    assert declared <= set(body["properties"]), declared - set(body["properties"])


def test_the_export_answers_parquet_which_load_dataset_reads(schema):
    content = operation(schema, "snapshot_export")["responses"]["200"]["content"]
    assert "application/vnd.apache.parquet" in content
    fmt = next(p for p in operation(schema, "snapshot_export")["parameters"] if p["name"] == "fmt")
    assert {"jsonl", "parquet"} <= set(resolve(schema, fmt["schema"])["enum"])
