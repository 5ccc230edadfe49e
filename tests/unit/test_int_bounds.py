"""Decision S3: every integer a request carries is a Java int (int32). Beyond it → 400 in the family's shape.

Driven by the generated OpenAPI documents, so an integer parameter added later is covered too; each
family's routes are resolved by the family's own resolver (validation refuses before any AWS call).
"""

from __future__ import annotations

import json
import re

import pytest

from helpers import Context
from parley_local import families, openapi

TOO_BIG = ["2147483648", "9999999999999999999", "-2147483649"]


def _event(method: str, path: str, resource: str, query: dict[str, str], path_params: dict[str, str], body: str | None) -> dict:
    return {
        "httpMethod": method.upper(),
        "path": path,
        "resource": resource,
        "pathParameters": path_params or None,
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} or None,
        "headers": {"Content-Type": "application/json"},
        "multiValueHeaders": {"Content-Type": ["application/json"]},
        "body": body,
        "isBase64Encoded": False,
        "requestContext": {"authorizer": {"tenantId": "t-1", "principalId": "t-1"}, "resourcePath": resource, "stage": "v1"},
    }


def _integer_parameters():
    for family in sorted(families.names()):
        schema = openapi.family_schema(family)
        for resource, ops in sorted(schema["paths"].items()):
            for method, op in ops.items():
                for param in op.get("parameters", []):
                    if param["schema"].get("type") == "integer":
                        yield family, method, resource, op, param


def _assert_shape(family: str, out: dict, name: str) -> None:
    assert out["statusCode"] == 400, out
    payload = json.loads(out["body"])
    if family == "crm":
        assert set(payload) == {"title", "detail", "time"} and payload["title"] == "Bad Request"
        message = payload["detail"]
    elif family.startswith("courier_"):  # JSON:API: the error names the parameter in its source
        (error,) = payload["errors"]
        assert error["status"] == 400 and error["source"] == {"parameter": name}
        message = error["detail"]
    else:
        assert payload["status"] == 400 and set(payload) == {"status", "message"}
        message = payload["message"]
    assert re.search(rf"\b{re.escape(name)}: Input should be (less|greater) than or equal to", message), message


PARAMETERS = list(_integer_parameters())


def test_the_families_have_integer_parameters_to_check():
    names = {(family, param["name"]) for family, _, _, _, param in PARAMETERS}
    assert {("candidate", "offset"), ("candidate", "limit"), ("candidate", "size"), ("candidate", "pageLimit")} <= names
    assert {("crm", "page"), ("crm", "size"), ("crm", "linkIndex")} <= names


@pytest.mark.parametrize("value", TOO_BIG)
@pytest.mark.parametrize(("family", "method", "resource", "op", "param"), PARAMETERS, ids=lambda v: v if isinstance(v, str) else None)
def test_an_integer_parameter_beyond_a_java_int_is_400(family, method, resource, op, param, value):
    path_params, query = {}, {}
    for other in op.get("parameters", []):
        if other["in"] == "path":
            path_params[other["name"]] = value if other is param else "x1"
        elif other["in"] == "query" and other.get("required") and other is not param:  # e.g. email-id: a valid value
            query[other["name"]] = "1" if other["schema"].get("type") == "integer" else "x1"
    if param["in"] == "query":
        query[param["name"]] = value
    path = resource
    for key, val in path_params.items():
        path = path.replace("{" + key + "}", val)
    body = "{}" if "requestBody" in op else None
    out = openapi.family_app(family).resolve(_event(method, path, resource, query, path_params, body), Context())
    _assert_shape(family, out, param["name"])


@pytest.mark.parametrize("value", [2**31, 10**19, -(2**31) - 1])
def test_an_integer_in_a_body_beyond_a_java_int_is_400(value):
    path = "/api/v1/communications/dynamic-search"
    event = _event("post", path, path, {}, {}, json.dumps({"page": value}))
    _assert_shape("crm", openapi.family_app("crm").resolve(event, Context()), "page")
