"""The courier admin writes' models and rules without AWS: the users PATCH document (notifications only) and the
organization preferences (each name's value type, value/value-js agreement, canonical value text, stable ids)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from parley.domain import org_preferences as prefs
from parley.errors import BadRequest
from parley.models.courier_directory import UserPatchAttributes
from parley.models.jsonapi import RequestDocument
from parley.models.org_preferences import OrgPreferenceAttributes, OrgPreferenceInput

ORG = "0a3c1b6e-5d7f-4e2a-9b1c-8d6e5f4a3b21"


def _patch(attributes):
    return RequestDocument[UserPatchAttributes].model_validate({"data": {"type": "users", "id": "u1", "attributes": attributes}})


def test_the_users_patch_takes_notifications_only():
    assert _patch({"notifications": ["email", "sms"]}).data.attributes.notifications == ["email", "sms"]
    absent, null = _patch({}).data.attributes, _patch({"notifications": None}).data.attributes
    assert "notifications" not in absent.model_fields_set and "notifications" in null.model_fields_set and null.notifications is None
    for bad in ({"email": "x@example.com"}, {"notifications": "email"}, {"notifications": ["email", "email"]}, {"notifications": [""]},
                {"notifications": ["Email"]}, {"notifications": ["x" * 33]}, {"notifications": [f"c{i}" for i in range(17)]}):  # fmt: skip
        with pytest.raises(ValidationError):
            _patch(bad)


def _input(**attrs):
    return OrgPreferenceInput.model_validate({"name": "group-provider-ack", "organization-id": ORG, **attrs})


@pytest.mark.parametrize(
    ("attrs", "value"),
    [
        ({"value": "true"}, True),
        ({"value-js": False}, False),
        ({"value": " true ", "value-js": True}, True),
        ({"value": "false", "value-js": None}, False),  # value-js null is as absent
    ],
)
def test_value_or_value_js_or_both(attrs, value):
    assert prefs.requested_value(_input(**attrs)) is value


@pytest.mark.parametrize(
    ("attrs", "pointer", "code"),
    [
        ({}, "/data/attributes/value", "missing-value"),
        ({"value": "tru"}, "/data/attributes/value", "invalid-value"),
        ({"value": "Infinity"}, "/data/attributes/value", "invalid-value"),
        ({"value": "[" * 5000 + "]" * 5000}, "/data/attributes/value", "invalid-value"),
        ({"value": "1", "value-js": True}, "/data/attributes/value-js", "value-mismatch"),  # 1 == True in Python, not in JSON
        ({"value": "true", "value-js": "true"}, "/data/attributes/value-js", "value-mismatch"),
        ({"value": '"yes"'}, "/data/attributes/value", "invalid-value"),
        ({"value-js": "yes"}, "/data/attributes/value-js", "invalid-value"),
    ],
)
def test_bad_values_name_the_member(attrs, pointer, code):
    with pytest.raises(BadRequest) as err:
        prefs.requested_value(_input(**attrs))
    assert (err.value.pointer, err.value.code) == (pointer, code)


def test_each_name_has_its_value_type_and_its_default_passes_it():
    for name, default in prefs.DEFAULTS.items():
        assert prefs.check_value(name, default) is None
    assert prefs.check_value("default-channel-title", "Care team") is None
    assert prefs.check_value("default-channel-title", "x" * 256) and prefs.check_value("default-channel-title", "a\nb")
    assert prefs.check_value("default-channel-title", True)
    assert prefs.check_value("group-provider-ack", 0) and prefs.check_value("group-provider-ack", "true")
    assert prefs.check_value("initial-sms-message", {"en_US": "Hi", "es": "Hola"}) is None
    assert prefs.check_value("initial-sms-message", "Hi") and prefs.check_value("initial-sms-message", {"en-US": "Hi"})
    assert prefs.check_value("initial-sms-message", {"en_US": 3}) and prefs.check_value("initial-sms-message", {"en_US": "x" * 1025})
    assert prefs.check_value("initial-sms-message", {f"l{chr(97 + i // 26)}{chr(97 + i % 26)}": "x" for i in range(33)})


def test_the_input_refuses_unknown_names_types_and_members():
    for bad in ({"name": "colour"}, {"type": "yaml"}, {"explicit": True}, {"organization-id": "a b"}, {"value": "x" * 16_385}):
        with pytest.raises(ValidationError):
            _input(**bad)
    with pytest.raises(ValidationError):
        OrgPreferenceInput.model_validate({"organization-id": ORG, "value": "true"})  # name is required


def test_canonical_value_text_and_stable_ids():
    assert prefs.canonical({"b": "é", "a": [1, 2]}) == '{"a":[1,2],"b":"é"}'
    one = prefs.preference_id("t1", ORG, "group-provider-ack")
    assert one == prefs.preference_id("t1", ORG, "group-provider-ack")
    assert len({one, prefs.preference_id("t2", ORG, "group-provider-ack"), prefs.preference_id("t1", ORG, "initial-sms-message")}) == 3


def test_the_answer_is_dasherized_with_every_attribute():
    attrs = OrgPreferenceAttributes(name="group-provider-ack", organization_id=ORG, value="true", value_js=True, explicit=True)
    assert attrs.model_dump(by_alias=True) == {"name": "group-provider-ack", "organization-id": ORG, "type": "json", "value": "true",
                                               "value-js": True, "explicit": True, "created-at": None}  # fmt: skip
