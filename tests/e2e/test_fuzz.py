"""Property-based fuzzing (schemathesis) of every documented operation, over HTTP against the local stack.

Each family's OpenAPI document is the one the code generates (``parley_local.openapi.family_schema``,
the same as docs/openapi/<family>.json). For every operation schemathesis sends its coverage cases
(boundary values, missing and malformed parameters and bodies, undeclared media types and methods)
and ``MAX_EXAMPLES`` generated requests, valid and invalid, as a tenant of its own; every answer must
be no 5xx, a documented status code and media type, and a body that matches the documented schema.
Generation is deterministic (derandomized, fixed seed): a failure reproduces on every run.
The last test asserts that the run really made at least ``MIN_REQUESTS`` requests to documented operations.
"""

from __future__ import annotations

from collections import Counter

import pytest
import requests
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.core import NOT_SET
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance, status_code_conformance

from parley_local import families, openapi

MIN_REQUESTS = 2000
MAX_EXAMPLES = 40  # generated requests per operation in the fuzzing phase (the coverage phase adds its own)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
CONFIG = {
    "seed": 20261123,
    "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "deterministic": True},
    "phases": {"examples": {"enabled": True}, "coverage": {"enabled": True}, "fuzzing": {"enabled": True}, "stateful": {"enabled": False}},
    # The stack answers in tens of milliseconds, not microseconds; large bodies are what fuzzing is for.
    "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large"],
}
SCHEMAS = {
    family: schemathesis.openapi.from_dict(openapi.family_schema(family), config=schemathesis.Config.from_dict(CONFIG))
    for family in sorted(families.names())
}
OPERATIONS = {op.ok().label for schema in SCHEMAS.values() for op in schema.get_all_operations()}
# Routes that take no API key: the tracking token in the path is the credential.
# Operations that need no API key, and what they answer to a request without one: the tracking links an unknown id
# (404); Twilio's status callback of a text and voice webhook of a line a request without Twilio's signature (403); Alexa's skill endpoint a
# request that is not Amazon's (400, as Amazon requires of a skill: docs/courier.md "Alexa (issue 20)").
PUBLIC = {
    "GET /api/v1/communications/track/{id}": 404,
    "GET /api/v1/communications/link/{id}/{linkIndex}": 404,
    "POST /v1/texts/{id}/callback": 403,
    "POST /v1/ask-entries": 400,  # Alexa's skill endpoint: a request that is not Amazon's (docs/courier.md "Alexa (issue 20)")
    # Twilio's voice webhook of a line: a request without Twilio's signature (docs/courier.md "Voice lines")
    "POST /v1/voice-ivrs/{id}/twiml": 403,
    "GET /v1/voice-ivrs/{id}/twiml": 403,
}
SENT: Counter[str] = Counter()  # requests made per documented operation ("METHOD /path")


@pytest.fixture(scope="module")
def fuzz_tenant(local):
    return local.new_tenant("fuzz")


@pytest.fixture(scope="module")
def http():
    with requests.Session() as session:
        yield session


@schemathesis.pytest.parametrize(**SCHEMAS)
def test_api(case, local, fuzz_tenant, http):
    if "companyID" in (case.path_parameters or {}):
        # ATS: the company is the caller's own tenant; any other id is a 404 before anything else runs.
        case.path_parameters["companyID"] = fuzz_tenant["tenantId"]
    # X-User-ID is the CRM's acting user (not a declared parameter); x-ph-userid, the candidate API's, is.
    headers = {"Authorization": f"Bearer {fuzz_tenant['apiKey']}", "X-User-ID": "fuzz-user"}
    response = case.call(base_url=local.api, session=http, headers=headers, timeout=60, allow_redirects=False)
    if f"{case.method.upper()} {case.operation.path}" == case.operation.label:  # not a probe with an undeclared method
        SENT[case.operation.label] += 1
    case.validate_response(response, checks=CHECKS, headers=headers)


@pytest.mark.parametrize("family", sorted(SCHEMAS))
def test_without_an_api_key_every_operation_answers_a_documented_401(family, local, http):
    for result in SCHEMAS[family].get_all_operations():
        operation = result.ok()
        # A valid value of each path parameter's type (an integer one that is not an int is a 400, decision S3).
        values = {p.name: "0" if p.definition["schema"].get("type") == "integer" else "x" for p in operation.path_parameters}
        case = operation.Case(path_parameters=values)
        response = case.call(base_url=local.api, session=http, timeout=60, allow_redirects=False)
        assert response.status_code == PUBLIC.get(operation.label, 401), (operation.label, response.text)
        case.validate_response(response, checks=CHECKS)


@pytest.mark.parametrize("family", sorted(SCHEMAS))
def test_a_path_parameter_with_a_slash_answers_a_documented_404(family, local, fuzz_tenant, http):
    """An id holding a "/" (sent as is, as a naive client does): no route matches the path, and the gateway's
    own 404 (in the CRM, {title, detail} without a time) must be documented too. The fuzzer never sends one."""
    headers = {"Authorization": f"Bearer {fuzz_tenant['apiKey']}", "X-User-ID": "fuzz-user", "x-ph-userid": "fuzz-user"}
    probed = 0
    for result in SCHEMAS[family].get_all_operations():
        operation = result.ok()
        if not list(operation.path_parameters):
            continue
        case = operation.Case(path_parameters={p.name: "a/b" for p in operation.path_parameters}, body={} if operation.body else NOT_SET)
        response = case.call(base_url=local.api, session=http, headers=headers, timeout=60, allow_redirects=False)
        assert response.status_code == 404, (operation.label, response.request.url, response.text)
        case.validate_response(response, checks=CHECKS, headers=headers)
        probed += 1
    assert probed or family == "candidate"  # the candidate API has no path parameters


def test_every_operation_was_fuzzed_and_at_least_2000_requests_were_made():
    assert set(SENT) == OPERATIONS, f"never fuzzed: {sorted(OPERATIONS - set(SENT))}"
    total = sum(SENT.values())
    print(f"\nfuzzing: {total} requests to {len(SENT)} documented operations")
    assert total >= MIN_REQUESTS, f"only {total} requests: {SENT.most_common()}"
