"""Exceptions → HTTP bodies in each API family's own shape, and validation messages."""

import json
from datetime import timedelta

import pytest

from parley import clock
from parley.api.errors import body_for, describe_validation, response


@pytest.mark.parametrize("family", ["candidate", "ats"])
def test_candidate_and_ats_shape(family):
    assert body_for(family, 400, "subject: too short") == {"status": 400, "message": "subject: too short"}
    assert body_for(family, 404, "nope") == {"status": 404, "message": "nope"}


def test_crm_shape_has_title_detail_and_a_utc_time():
    before = clock.now()
    out = body_for("crm", 422, "Idempotency-Key reused")
    assert set(out) == {"title", "detail", "time"}
    assert out["title"] == "Unprocessable Content"  # RFC 9110 wording (Python 3.13's HTTPStatus)
    assert out["detail"] == "Idempotency-Key reused"
    assert out["time"].endswith("Z")
    stamp = clock.parse_iso(out["time"])
    assert before - timedelta(milliseconds=1) <= stamp <= clock.now()
    assert body_for("crm", 400, "x")["title"] == "Bad Request"
    assert body_for("crm", 404, "x")["title"] == "Not Found"


def test_courier_shape_is_the_seeds_json_api_error_object_with_an_integer_status():
    # seed 003's error object: errors[] of {status: integer, code, detail, source: {pointer | parameter}, meta}
    assert body_for("courier_admin", 401, "missing key") == {"errors": [{"status": 401, "code": "unauthorized", "detail": "missing key"}]}
    assert body_for("courier_admin", 400, "bad", parameter="page[limit]", code="invalid-parameter") == {
        "errors": [{"status": 400, "code": "invalid-parameter", "detail": "bad", "source": {"parameter": "page[limit]"}}]
    }


def test_response_content_type_per_family():
    courier = response("courier_admin", 415, "json please")
    assert courier.status_code == 415
    assert courier.headers["Content-Type"] == "application/vnd.api+json"
    assert json.loads(courier.body) == {"errors": [{"status": 415, "code": "unsupported-media-type", "detail": "json please"}]}
    candidate = response("candidate", 500, "internal error")
    assert candidate.headers["Content-Type"] == "application/json"
    assert json.loads(candidate.body) == {"status": 500, "message": "internal error"}


def test_describe_validation_names_the_field_without_its_location():
    errors = [
        {"loc": ("body", "subject"), "msg": "String should have at least 3 characters", "type": "string_too_short"},
        {"loc": ("header", "x-ph-userid"), "msg": "Field required", "type": "missing"},
        {"loc": ("query", "emailActivityId"), "msg": "Field required", "type": "missing"},
    ]
    assert describe_validation(errors) == (
        "subject: String should have at least 3 characters; x-ph-userid: Field required; emailActivityId: Field required"
    )


def test_describe_validation_strips_the_value_error_prefix_and_joins_nested_locations():
    errors = [{"loc": ("body", "items", 0, "toEmail"), "msg": "Value error, must be a valid email address", "type": "value_error"}]
    assert describe_validation(errors) == "items.0.toEmail: must be a valid email address"


def test_describe_validation_json_invalid_and_bodyless_errors():
    assert describe_validation([{"loc": ("body", 1), "msg": "JSON decode error", "type": "json_invalid"}]) == (
        "request body is not valid JSON"
    )
    assert describe_validation([{"loc": ("body",), "msg": "Field required", "type": "missing"}]) == "request body is required"
    not_an_object = {"loc": ("body",), "msg": "Input should be a valid dictionary", "type": "model_attributes_type"}
    assert describe_validation([not_an_object]) == "Input should be a valid dictionary"


def test_describe_validation_deduplicates_and_has_a_fallback():
    same = {"loc": ("body", "subject"), "msg": "bad", "type": "x"}
    assert describe_validation([same, dict(same)]) == "subject: bad"
    assert describe_validation([]) == "invalid request"
    assert describe_validation([{"loc": ("body", "a")}]) == "a: invalid value"
