"""The REQUEST authorizer: Bearer API key → an Allow policy for the whole API and the tenant context."""

import copy

import pytest

from helpers import load_event
from parley.domain.auth import hash_key

AUTHORIZER = "root.AuthorizerFunction"


def _event(authorization):
    event = copy.deepcopy(load_event("core/authorizer"))
    for section in ("headers", "multiValueHeaders"):
        event[section].pop("Authorization", None)
        if authorization is not None:
            event[section]["Authorization"] = authorization if section == "headers" else [authorization]
    return event


def test_valid_key_allows_the_whole_api_with_the_tenant_in_context(handler, tenant):
    t, key = tenant
    out = handler(AUTHORIZER)(_event(f"Bearer {key}"))
    assert out["principalId"] == t.id
    (statement,) = out["policyDocument"]["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == "execute-api:Invoke"
    assert statement["Resource"] == ["arn:aws:execute-api:us-east-1:123456789012:abc123defg/v1/*/*"]
    assert out["context"] == {
        "tenantId": t.id,
        "senderEmail": "no-reply@parley.example",
        "senderName": "Acme Talent Team",
        "emailProvider": "ses",
        "smsProvider": "sns",
        "smsSender": "",
        "quietHours": False,
        "timezone": "UTC",
        "replyDomain": "",
        "defaultCountry": "US",
        "keyId": hash_key(key)[:12],  # which key (list-keys); a key without an expiry sends no keyExpiresAt
        "sendRateLimit": 0,  # 0: the deployment's defaults (docs/architecture.md §6.4)
        "dailySendQuota": 0,
        "credential": "api_key",  # not a user token (tests/integration/test_user_tokens.py)
        "userId": "",
        "sniffedUsers": "",  # no courier sniffer running (tests/integration/test_courier_sniffers.py)
    }


def test_each_key_maps_to_its_own_tenant(handler, tenant, other_tenant):
    auth = handler(AUTHORIZER)
    assert auth(_event(f"Bearer {tenant[1]}"))["context"]["tenantId"] == tenant[0].id
    assert auth(_event(f"Bearer {other_tenant[1]}"))["context"]["tenantId"] == other_tenant[0].id


@pytest.mark.parametrize("form", ["{key}", "  {key}  ", "Bearer {key}"])
def test_the_bare_key_is_accepted_like_bearer(form, handler, tenant):
    # The seeds show ``Authorization: string`` with no scheme: a client may send the key itself.
    t, key = tenant
    out = handler(AUTHORIZER)(_event(form.format(key=key)))
    assert out["principalId"] == t.id
    assert out["policyDocument"]["Statement"][0]["Effect"] == "Allow"


def test_lower_case_header_and_scheme(handler, tenant):
    t, key = tenant
    event = _event(None)
    event["headers"]["authorization"] = f"bearer {key}"
    assert handler(AUTHORIZER)(event)["principalId"] == t.id


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer prl_unknown-key-0000000000000000000000000000000",
        "Bearer prl_example",
        "Basic {key}",
        "{key} {key}",
        "Token {key}",
        "Bearer ",
        "Bearer {key}x",
        "Bearer " + "prl_" + "a" * 200,
    ],
)
def test_rejected_keys_raise_unauthorized(authorization, handler, tenant):
    _, key = tenant
    header = authorization.format(key=key) if authorization is not None else None
    with pytest.raises(Exception) as raised:
        handler(AUTHORIZER)(_event(header))
    assert type(raised.value) is Exception
    assert str(raised.value) == "Unauthorized"


def test_revoked_key_is_rejected(handler, tenant, aws):
    from parley.dal import keys, table
    from parley.domain.auth import hash_key

    _, key = tenant
    table.ddb().update_item(
        TableName=aws.table_names[0],
        Key=table.key(keys.api_key_pk(hash_key(key)), keys.API_KEY_SK),
        UpdateExpression="SET revoked = :t",
        ExpressionAttributeValues=table.values(t=True),
    )
    with pytest.raises(Exception) as raised:
        handler(AUTHORIZER)(_event(f"Bearer {key}"))
    assert (type(raised.value), str(raised.value)) == (Exception, "Unauthorized")
