"""Decision S4: identifiers taken from the path or from identifier headers refuse control characters (400).

Every route of every family is tried, from the generated OpenAPI documents, on the family's own resolver
(the refusal comes before validation and before any AWS call).
"""

from __future__ import annotations

import json

import pytest

from helpers import Context
from parley.models.validators import has_control_characters
from parley_local import families, openapi

BAD = ["a\tb\x01", "x\x00", "line\nbreak", "del\x7f", "c1\x85", "sep\u2028"]


def _event(method: str, resource: str, path_params: dict[str, str], headers: dict[str, str]) -> dict:
    path = resource
    for key, val in path_params.items():
        path = path.replace("{" + key + "}", val)
    headers = {"Content-Type": "application/json", **headers}
    return {
        "httpMethod": method.upper(),
        "path": path,
        "resource": resource,
        "pathParameters": path_params or None,
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "body": "{}" if method in ("post", "put") else None,
        "isBase64Encoded": False,
        "requestContext": {"authorizer": {"tenantId": "t-1", "principalId": "t-1"}, "resourcePath": resource, "stage": "v1"},
    }


def _routes():
    for family in sorted(families.names()):
        for resource, ops in sorted(openapi.family_schema(family)["paths"].items()):
            for method, op in ops.items():
                yield family, method, resource, [p["name"] for p in op.get("parameters", []) if p["in"] == "path"]


ROUTES = list(_routes())
WITH_PATH_IDS = [r for r in ROUTES if r[3]]


def _refused(family: str, out: dict, name: str) -> None:
    assert out["statusCode"] == 400, out
    payload = json.loads(out["body"])
    expected = f"{name} must not contain control characters"
    if family == "crm":
        assert set(payload) == {"title", "detail", "time"} and payload["title"] == "Bad Request" and payload["detail"] == expected
    elif family.startswith("courier_"):
        assert payload == {"errors": [{"status": 400, "code": "bad-request", "detail": expected}]}
    else:
        assert payload == {"status": 400, "message": expected}


def test_path_ids_exist_in_every_family():
    names = {(family, name) for family, _, _, params in WITH_PATH_IDS for name in params}
    assert {("ats", "companyID"), ("ats", "applicantID"), ("crm", "id"), ("crm", "templateId")} <= names


@pytest.mark.parametrize("bad", BAD[:3])
@pytest.mark.parametrize(("family", "method", "resource", "params"), WITH_PATH_IDS, ids=str)
def test_a_path_id_with_control_characters_is_400(family, method, resource, params, bad):
    for target in params:
        values = {name: (bad if name == target else "0") for name in params}
        out = openapi.family_app(family).resolve(_event(method, resource, values, {}), Context())
        _refused(family, out, target)


@pytest.mark.parametrize("bad", BAD[:3])
@pytest.mark.parametrize("header", ["x-ph-userid", "X-PH-USERID", "X-User-ID", "x-tenant-id", "Idempotency-Key"])
@pytest.mark.parametrize(("family", "method", "resource", "params"), ROUTES, ids=str)
def test_an_identifier_header_with_control_characters_is_400(family, method, resource, params, header, bad):
    canonical = {"x-ph-userid": "x-ph-userid", "x-user-id": "X-User-ID", "x-tenant-id": "X-Tenant-ID"}.get(header.lower(), header)
    event = _event(method, resource, dict.fromkeys(params, "0"), {header: bad})
    _refused(family, openapi.family_app(family).resolve(event, Context()), canonical)


@pytest.mark.parametrize("value", ["recruiter-1", "ü-ñ 名前", "a b", "x@y.example", "'\"<>"])
def test_ordinary_identifiers_are_not_control_characters(value):
    assert not has_control_characters(value)


@pytest.mark.parametrize("value", BAD)
def test_control_characters_are_found(value):
    assert has_control_characters(value)
