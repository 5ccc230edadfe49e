"""What the generated OpenAPI documents say matches what the API answers (details the fuzzing found)."""

from __future__ import annotations

import json

import pytest
from openapi_spec_validator import validate

from parley_local import openapi


@pytest.mark.parametrize("family", sorted(openapi.FAMILIES))
def test_document_is_valid_openapi_3(family):
    validate(openapi.family_schema(family))


@pytest.mark.parametrize("family", sorted(openapi.FAMILIES))
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
    assert "format" not in schema["components"]["schemas"]["CrmGatewayError"]["properties"]["time"]
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
