"""What the generated OpenAPI documents say matches what the API answers (details the fuzzing found)."""

from __future__ import annotations

import json

import pytest
from openapi_spec_validator import validate

from parley_local import families, openapi


@pytest.mark.parametrize("family", sorted(families.names()))
def test_document_is_valid_openapi_3(family):
    validate(openapi.family_schema(family))


@pytest.mark.parametrize("family", sorted(families.names()))
def test_no_powertools_422_validation_error_is_documented(family):
    # Our validation errors are 400s in the family's error shape; powertools documents a 422 on every route.
    schema = openapi.family_schema(family)
    text = json.dumps(schema)
    assert "HTTPValidationError" not in text
    assert "ResponseValidationError" not in text
    assert "ValidationError" not in schema["components"]["schemas"]
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            assert 400 in {int(c) for c in op["responses"]}, (method, path)


def test_a_route_that_really_answers_422_keeps_its_own():
    schema = openapi.family_schema("crm")
    send = schema["paths"]["/api/v1/communications/send"]["post"]["responses"]["422"]
    assert send["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/CrmError"}


def test_crm_gateway_answers_are_documented_with_the_gateway_time():
    schema = openapi.family_schema("crm")
    ops = schema["paths"]["/api/v1/communications/find/{id}"]["get"]["responses"]
    assert ops["401"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/CrmGatewayError"}
    assert {"$ref": "#/components/schemas/CrmGatewayError"} in ops["404"]["content"]["application/json"]["schema"]["anyOf"]
    assert schema["components"]["schemas"]["CrmError"]["properties"]["time"]["format"] == "date-time"
    assert set(schema["components"]["schemas"]["CrmGatewayError"]["properties"]) == {"title", "detail"}  # no time (K6)
    public = schema["paths"]["/api/v1/communications/track/{id}"]["get"]["responses"]
    assert "401" not in public  # no API key on the tracking routes


def test_no_body_responses_document_no_content_and_webhooks_document_their_bodies():
    crm = openapi.family_schema("crm")
    assert crm["paths"]["/api/v1/communications/{id}"]["delete"]["responses"]["200"]["content"] == {}
    redirect = crm["paths"]["/api/v1/communications/link/{id}/{linkIndex}"]["get"]["responses"]["302"]
    assert redirect["content"] == {} and "Location" in redirect["headers"]
    candidate = openapi.family_schema("candidate")
    reply = candidate["paths"]["/communications/email/v1/reply"]["post"]["requestBody"]
    assert set(reply["content"]) == {"multipart/form-data", "application/x-www-form-urlencoded"}
    events = candidate["paths"]["/communications/email/v1/events"]["post"]["requestBody"]
    assert set(events["content"]) == {"application/json"}


def _integer_inputs(schema: dict, node: object, where: str, seen: frozenset = frozenset()):
    """Every integer schema a request can carry (parameters and request bodies, through $refs)."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/") and ref not in seen:
            yield from _integer_inputs(schema, schema["components"]["schemas"][ref.rsplit("/", 1)[1]], where, seen | {ref})
        if node.get("type") == "integer":
            yield where, node
        for key, value in node.items():
            yield from _integer_inputs(schema, value, f"{where}.{key}", seen)
    elif isinstance(node, list):
        for item in node:
            yield from _integer_inputs(schema, item, where, seen)


@pytest.mark.parametrize("family", sorted(families.names()))
def test_every_integer_input_is_a_bounded_java_int(family):
    # Decision S3: what a seed's Java client cannot hold (int32) is a 400, and the document says so.
    schema = openapi.family_schema(family)
    found = []
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            for param in op.get("parameters", []):
                found += _integer_inputs(schema, param["schema"], f"{method} {path} {param['in']} {param['name']}")
            if "requestBody" in op:
                found += _integer_inputs(schema, op["requestBody"], f"{method} {path} body")
    for where, node in found:
        # A provider's payload may carry a long (SendGrid's Unix timestamp); a seed client's requests carry ints.
        bits = {"int32": 31, "int64": 63}[node.get("format")] if node.get("format") in ("int32", "int64") else None
        assert bits is not None, where
        assert -(2**bits) <= node["minimum"] and node["maximum"] <= 2**bits - 1, where
    if family != "ats":  # the ATS route takes no integer
        assert found
