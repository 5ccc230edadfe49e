"""Tenant settings are one model: tenant → authorizer context → API Gateway (strings) → Caller, field for field."""

from __future__ import annotations

import typing
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError
from pydantic.alias_generators import to_camel

from parley.domain.context import Caller
from parley.models.domain import TENANT_SETTINGS, Tenant, TenantSettings

# A value for every setting that differs from its default, so a field lost on the way shows.
CHANGED = {
    "sender_email": "talent@acme.example",
    "sender_name": "Acme Talent",
    "email_provider": "sendgrid",
    "sms_provider": "twilio",
    "sms_sender": "+15555550100",
    "quiet_hours": True,
    "timezone": "Europe/Amsterdam",
    "reply_domain": "reply.acme.example",
    "default_country": "GB",
    "send_rate_limit": 5,
    "daily_send_quota": 1000,
}


def _tenant(**settings: object) -> Tenant:
    return Tenant(id="t-1", name="Acme", created_at=datetime(2026, 1, 2, tzinfo=UTC), **{**CHANGED, **settings})


def _through_api_gateway(ctx: dict) -> dict:
    """What the integration receives: API Gateway passes every context value as a string."""
    strings = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in ctx.items()}
    return {"principalId": "t-1", "integrationLatency": "12", **strings}


def test_the_example_changes_every_setting():
    assert set(CHANGED) == set(TenantSettings.model_fields)
    for name, field in TenantSettings.model_fields.items():
        assert CHANGED[name] != field.default, name


def test_every_setting_is_a_flat_scalar():
    # The authorizer context holds strings, numbers and booleans only.
    for name, field in TenantSettings.model_fields.items():
        ann = field.annotation
        scalars = typing.get_args(ann) if typing.get_origin(ann) is typing.Literal else (ann,)
        assert all(isinstance(v, str | bool | int) or v in (str, bool, int) for v in scalars), name


def test_tenant_round_trips_through_the_authorizer_context_to_the_caller():
    tenant = _tenant()
    ctx = Caller.of(tenant).authorizer_context()
    assert ctx == {
        "tenantId": "t-1",
        "credential": "api_key",
        "userId": "",
        "sniffedUsers": "",
        **{to_camel(k): v for k, v in CHANGED.items()},
    }
    assert all(isinstance(v, str | bool | int) for v in ctx.values())  # what an authorizer context may hold

    caller = Caller.from_authorizer(_through_api_gateway(ctx))
    assert caller.tenant_id == tenant.id
    for name in TenantSettings.model_fields:
        assert getattr(caller, name) == getattr(tenant, name), name
    assert caller == Caller.of(tenant)
    assert Caller.from_authorizer(ctx) == caller  # the local gateway keeps booleans as booleans


@pytest.mark.parametrize(("sent", "read"), [("true", True), ("false", False), ("True", True), (True, True), (False, False)])
def test_quiet_hours_is_read_back_from_a_string(sent, read):
    assert Caller.from_authorizer({"tenantId": "t-1", "quietHours": sent}).quiet_hours is read


def test_missing_keys_take_the_defaults():
    caller = Caller.from_authorizer({"tenantId": "t-1", "principalId": "t-1"})
    assert caller == Caller(tenant_id="t-1", sender_email="")
    assert (caller.email_provider, caller.sms_provider, caller.quiet_hours, caller.timezone) == ("ses", "sns", False, "UTC")


@pytest.mark.parametrize(
    "bad", [{"emailProvider": "mailchimp"}, {"smsProvider": "pigeon"}, {"quietHours": "sometimes"}, {"tenantId": None}, {}]
)
def test_the_context_is_validated(bad):
    ctx = {"tenantId": "t-1", "senderEmail": "a@acme.example", **bad}
    if bad == {}:
        del ctx["tenantId"]
    with pytest.raises(ValidationError):
        Caller.from_authorizer(ctx)


def test_record_only_settings_stay_out_of_the_context():
    tenant = _tenant(webhook_public_key="MFkw", secret_name="parley/t-1", provider_rate_limit=3)
    ctx = Caller.of(tenant).authorizer_context()
    assert not {"webhookPublicKey", "secretName", "name", "createdAt", "disabledAt", "providerRateLimit"} & set(ctx)


@pytest.mark.parametrize(("name", "bad"), [("send_rate_limit", -1), ("daily_send_quota", "lots"), ("provider_rate_limit", 10**9)])
def test_limits_are_bounded_counts(name, bad):
    with pytest.raises(ValidationError):
        _tenant(**{name: bad})


def test_limits_read_back_from_api_gateway_strings():
    caller = Caller.from_authorizer(_through_api_gateway(Caller.of(_tenant()).authorizer_context()))
    assert (caller.send_rate_limit, caller.daily_send_quota) == (5, 1000)
    assert Caller.from_authorizer({"tenantId": "t-1"}).send_rate_limit == 0  # 0: the deployment's default


def test_configure_tenant_names_every_setting_and_only_settings():
    # disabled_at is the tenant's state, changed by disable-tenant / enable-tenant only; sniffers by the courier API only
    assert set(TENANT_SETTINGS) == set(Tenant.model_fields) - {"id", "created_at", "disabled_at", "sniffers"}
    assert set(TenantSettings.model_fields) <= set(TENANT_SETTINGS)


def test_the_caller_is_immutable_and_hashable():
    caller = Caller.of(_tenant())
    with pytest.raises(ValidationError):
        caller.tenant_id = "other"  # type: ignore[misc]
    assert {caller: 1}[Caller.of(_tenant())] == 1
