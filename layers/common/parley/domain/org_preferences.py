"""Organization preferences (``/v1/org-preferences/``, seed 003): three known names per organization, each answered
whether set or not — a set one with ``explicit: true``, an unset one as the name's default with ``explicit: false``.
``POST`` is an upsert per organization and name (docs/courier.md, "Organization preferences").

``value`` is the preference's JSON text and ``value-js`` the same value as JSON: a request gives either or both (they
must agree), the answer always both, ``value`` in canonical form (compact, keys sorted). Each name's value has a
type of ours (the seed names none): ``default-channel-title`` a string, ``group-provider-ack`` a boolean,
``initial-sms-message`` a map of locale (``en_US``) to text, as a channel's ``initial-message-js``.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from parley import clock
from parley.dal import directory as directory_store
from parley.dal import org_preferences as store
from parley.errors import BadRequest, NotFound
from parley.models.org_preferences import NAMES, OrgPreferenceAttributes, OrgPreferenceInput
from parley.models.validators import has_control_characters

# The value an organization has for a name it never set.
DEFAULTS: dict[str, Any] = {
    "default-channel-title": "",  # no title: a channel is named from its group or members
    "group-provider-ack": False,  # a provider's acknowledgement does not acknowledge for the whole group
    "initial-sms-message": {},  # no initial text when SMS is turned on for a channel (the request's own applies)
}
MAX_TITLE = 255
MAX_MESSAGE = 1024  # a channel's initial-message (seed: <= 1024 characters)
MAX_LOCALES = 32
LOCALE = re.compile(r"^[a-z]{2,3}(_[A-Z]{2})?$")
# The namespace of the preference ids (uuid5 of tenant, organization and name: stable whether set or defaulted).
_IDS = uuid.UUID("6f1d3c2a-9b7e-5d4f-8a1c-2e3b4c5d6e7f")


def preference_id(tenant_id: str, organization_id: str, name: str) -> str:
    return str(uuid.uuid5(_IDS, f"{tenant_id}\n{organization_id}\n{name}"))


def canonical(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def check_value(name: str, value: Any) -> str | None:
    """What is wrong with ``value`` as the ``name`` preference, or None."""
    if name == "default-channel-title":
        if not isinstance(value, str):
            return "default-channel-title takes a JSON string"
        if len(value) > MAX_TITLE or has_control_characters(value):
            return f"default-channel-title: at most {MAX_TITLE} characters, no control characters"
    elif name == "group-provider-ack":
        if not isinstance(value, bool):
            return "group-provider-ack takes a JSON boolean"
    elif name == "initial-sms-message":
        if not isinstance(value, dict):
            return 'initial-sms-message takes a JSON object of locale to text, e.g. {"en_US": "…"}'
        if len(value) > MAX_LOCALES:
            return f"initial-sms-message: at most {MAX_LOCALES} locales"
        for locale, text in value.items():
            if not LOCALE.match(locale):
                return f"initial-sms-message: {locale!r} is not a locale such as en_US"
            if not isinstance(text, str) or len(text) > MAX_MESSAGE:
                return f"initial-sms-message: each text a string of at most {MAX_MESSAGE} characters"
    return None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def requested_value(attrs: OrgPreferenceInput) -> Any:
    """The value a POST sets: ``value`` parsed, or ``value-js``, or both when they agree; 400 naming the member."""
    given_js, parsed = attrs.value_js is not None, None  # value-js null is as absent: no name takes null
    if attrs.value is None and not given_js:
        raise BadRequest("value or value-js is required", pointer="/data/attributes/value", code="missing-value")
    if attrs.value is not None:
        try:
            parsed = json.loads(attrs.value, parse_constant=_no_constant)
        except (ValueError, RecursionError):
            raise BadRequest(
                "value must be JSON text (the JSON form is value-js)", pointer="/data/attributes/value", code="invalid-value"
            ) from None
        if given_js and canonical(parsed) != canonical(attrs.value_js):
            raise BadRequest(
                "value and value-js disagree: value-js is value's JSON", pointer="/data/attributes/value-js", code="value-mismatch"
            )
    value = parsed if attrs.value is not None else attrs.value_js
    problem = check_value(attrs.name, value)
    if problem:
        raise BadRequest(problem, pointer="/data/attributes/" + ("value-js" if given_js else "value"), code="invalid-value")
    return value


def _organization(tenant_id: str, organization_id: str, *, pointer: str | None = None, parameter: str | None = None) -> None:
    if directory_store.get(tenant_id, "organizations", organization_id) is None:
        raise NotFound(f"no organization {organization_id!r}", pointer=pointer, parameter=parameter, code="not-found")


def _answer(tenant_id: str, organization_id: str, name: str, stored: dict[str, Any] | None) -> tuple[str, OrgPreferenceAttributes]:
    if stored is None:
        value, explicit, created = DEFAULTS[name], False, None
    else:
        value, explicit, created = json.loads(stored["value"]), True, stored["created_at"]
    attrs = OrgPreferenceAttributes(
        name=name, organization_id=organization_id, value=canonical(value), value_js=value, explicit=explicit, created_at=created
    )  # type: ignore[arg-type]
    return preference_id(tenant_id, organization_id, name), attrs


def listing(tenant_id: str, organization_id: str, name: str | None = None) -> list[tuple[str, OrgPreferenceAttributes]]:
    """``GET /v1/org-preferences/``: the organization's preferences, every known name (or the one asked for), each
    its set value or its default. 404 when the tenant has no such organization."""
    _organization(tenant_id, organization_id, parameter="organization-id")
    if name is not None:
        stored = {name: store.get(tenant_id, organization_id, name)}
    else:
        stored = {i["name"]: i for i in store.of_organization(tenant_id, organization_id)}
    return [_answer(tenant_id, organization_id, n, stored.get(n)) for n in NAMES if name is None or n == name]


def set_preference(tenant_id: str, attrs: OrgPreferenceInput) -> tuple[str, OrgPreferenceAttributes]:
    """``POST /v1/org-preferences/``: set (or set again) one preference of an organization of the tenant."""
    value = requested_value(attrs)
    _organization(tenant_id, attrs.organization_id, pointer="/data/attributes/organization-id")
    stored = store.upsert(tenant_id, attrs.organization_id, attrs.name, canonical(value), now=clock.iso(clock.now()))
    return _answer(tenant_id, attrs.organization_id, attrs.name, stored)
