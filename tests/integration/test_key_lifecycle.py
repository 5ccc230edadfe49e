"""A key's life, through the authorizer handler and the endpoints on moto: list, revoke, rotate with an overlap,
expire, disable the tenant; ``last_used_at`` written at most once per 15 minutes; the key index backfill."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from helpers import api_event, load_event
from parley import admin
from parley.domain.auth import hash_key

AUTHORIZER = "root.AuthorizerFunction"
T0 = datetime(2030, 3, 2, 9, 0, 0, tzinfo=UTC)  # after the fixtures' tenants were made (real time)


def _event(key: str, form: str = "Bearer {key}") -> dict:
    event = copy.deepcopy(load_event("core/authorizer"))
    for section in ("headers", "multiValueHeaders"):
        event[section].pop("Authorization", None)
    value = form.format(key=key)
    event["headers"]["Authorization"], event["multiValueHeaders"]["Authorization"] = value, [value]
    return event


def _allowed(handler, key: str) -> dict | None:
    """The authorizer's context for ``key``, or None when it refuses the key (API Gateway's 401)."""
    try:
        out = handler(AUTHORIZER)(_event(key))
    except Exception as err:  # the authorizer's contract: a bare Exception("Unauthorized")
        assert (type(err), str(err)) == (Exception, "Unauthorized")
        return None
    assert out["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    return out["context"]


def _admin(capsys, *argv: str) -> tuple[int, str, str]:
    code = admin.main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def _key_item(table_items, key: str) -> dict:
    (item,) = [i for i in table_items() if i["PK"] == f"APIKEY#{hash_key(key)}"]
    return item


def test_revoked_key_is_refused_and_the_tenants_other_keys_are_not(handler, tenant, capsys, table_items, frozen):
    t, first = tenant
    frozen(T0)
    code, out, _ = _admin(capsys, "create-key", "--tenant-id", t.id, "--name", "ci")
    assert code == 0
    second = json.loads(out)["apiKey"]
    assert _allowed(handler, first)["tenantId"] == t.id
    assert _allowed(handler, second)["tenantId"] == t.id

    frozen(T0 + timedelta(minutes=1))
    code, out, err = _admin(capsys, "revoke-key", "--tenant-id", t.id, hash_key(second)[:12])
    assert code == 0, err
    printed = json.loads(out)
    assert (printed["keyId"], printed["state"], printed["revokedAt"]) == (hash_key(second)[:12], "revoked", "2030-03-02T09:01:00.000Z")
    assert "refuses it within" in err and "AuthorizerCacheSeconds" in err
    assert _key_item(table_items, second)["revoked_at"] == "2030-03-02T09:01:00.000Z"
    assert _allowed(handler, second) is None
    assert _allowed(handler, first)["tenantId"] == t.id

    # again: nothing changes, and it says so
    frozen(T0 + timedelta(minutes=5))
    code, out, err = _admin(capsys, "revoke-key", "--tenant-id", t.id, second)
    assert code == 0 and "revoked already" in err
    assert _key_item(table_items, second)["revoked_at"] == "2030-03-02T09:01:00.000Z"


def test_a_key_of_another_tenant_cannot_be_listed_revoked_or_rotated(handler, tenant, other_tenant, capsys):
    (t, key), (other, other_key) = tenant, other_tenant
    for argv in (
        ("revoke-key", "--tenant-id", t.id, other_key),
        ("revoke-key", "--tenant-id", t.id, hash_key(other_key)[:12]),
        ("revoke-key", "--tenant-id", t.id, other_key[:10]),
        ("rotate-key", "--tenant-id", t.id, hash_key(other_key)[:12]),
    ):
        code, _, err = _admin(capsys, *argv)
        assert code == 1 and ("no key" in err or "not a key of tenant" in err), (argv, err)
    assert _allowed(handler, other_key)["tenantId"] == other.id
    code, out, _ = _admin(capsys, "list-keys", "--tenant-id", t.id, "--json")
    assert [k["keyId"] for k in json.loads(out)] == [hash_key(key)[:12]]


def test_rotated_keys_old_half_works_until_the_overlap_ends_and_not_after(handler, tenant, capsys, table_items, frozen):
    t, old = tenant
    frozen(T0)
    code, out, err = _admin(capsys, "rotate-key", "--tenant-id", t.id, old[:10], "--overlap", "2h")
    assert code == 0, err
    printed = json.loads(out)
    new = printed["apiKey"]
    ends = "2030-03-02T11:00:00.000Z"
    assert printed["old"]["expiresAt"] == ends and printed["old"]["rotatedTo"] == printed["keyId"] == hash_key(new)[:12]
    assert f"works until {ends}" in err
    stored_old, stored_new = _key_item(table_items, old), _key_item(table_items, new)
    assert (stored_old["expires_at"], stored_old["rotated_to"]) == (ends, hash_key(new)[:12])
    assert stored_new["rotated_from"] == hash_key(old)[:12] and "expires_at" not in stored_new

    # both work during the overlap; the old key's answer carries its end, the new key's has none
    frozen(T0 + timedelta(hours=2) - timedelta(milliseconds=1))
    assert _allowed(handler, old)["keyExpiresAt"] == ends
    assert "keyExpiresAt" not in _allowed(handler, new)
    # from the end of the overlap on, only the new one
    frozen(T0 + timedelta(hours=2))
    assert _allowed(handler, old) is None
    assert _allowed(handler, new)["tenantId"] == t.id

    # an expired (or already rotated) key cannot be rotated again
    code, _, err = _admin(capsys, "rotate-key", "--tenant-id", t.id, hash_key(old)[:12])
    assert code == 1 and "expired" in err


def test_rotation_never_extends_a_key_and_refuses_a_second_rotation(tenant, capsys, frozen):
    t, _ = tenant
    frozen(T0)
    _, out, _ = _admin(capsys, "create-key", "--tenant-id", t.id, "--expires-in", "1h")
    short = json.loads(out)
    code, out, _ = _admin(capsys, "rotate-key", "--tenant-id", t.id, short["keyId"], "--overlap", "24h", "--name", "next")
    assert code == 0
    rotated = json.loads(out)
    assert rotated["old"]["expiresAt"] == "2030-03-02T10:00:00.000Z"  # its own expiry was sooner than the overlap
    code, _, err = _admin(capsys, "rotate-key", "--tenant-id", t.id, short["keyId"])
    assert code == 1 and f"rotated already, to {rotated['keyId']}" in err
    code, out, _ = _admin(capsys, "rotate-key", "--tenant-id", t.id, rotated["keyId"], "--overlap", "0")
    assert code == 0 and json.loads(out)["old"]["expiresAt"] == "2030-03-02T09:00:00.000Z"  # --overlap 0: ends now


def test_an_expiring_key_works_until_its_expiry_and_not_after(handler, tenant, capsys, frozen):
    t, _ = tenant
    frozen(T0)
    code, out, err = _admin(capsys, "create-key", "--tenant-id", t.id, "--expires-in", "90m")
    assert code == 0
    printed = json.loads(out)
    assert printed["expiresAt"] == "2030-03-02T10:30:00.000Z" and "refused from then on" in err
    frozen(T0 + timedelta(minutes=89, seconds=59))
    assert _allowed(handler, printed["apiKey"])["keyExpiresAt"] == "2030-03-02T10:30:00.000Z"
    frozen(T0 + timedelta(minutes=90))
    assert _allowed(handler, printed["apiKey"]) is None

    code, _, err = _admin(capsys, "create-key", "--tenant-id", t.id, "--expires-at", "2030-03-02T10:00:00Z")  # in the past now
    assert code == 1 and "not in the future" in err
    with pytest.raises(SystemExit):
        admin.main(["create-key", "--tenant-id", t.id, "--expires-in", "soon"])
    assert "is not a duration" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("function", "event", "served"),
    [
        ("CandidateApi.SmsOptinGetFunction", "candidate/sms_optin_get", 200),
        ("CrmApi.ListTemplatesFunction", "crm/list_templates", 200),
        ("AtsApi.ApplicantMessagesFunction", "ats/applicant_messages", 404),  # past the check: no such company here
    ],
)
def test_every_endpoint_refuses_a_cached_answer_past_the_keys_expiry(handler, tenant, frozen, function, event, served):
    """API Gateway serves the authorizer's Allow for its cache time; the expiry it carries stops the key on time."""
    t, _ = tenant
    fn = handler(function)

    def call(expires_at: str | None) -> dict:
        request = api_event(event, tenant_id=t.id)
        if expires_at is not None:
            request["requestContext"]["authorizer"]["keyExpiresAt"] = expires_at
        return fn(request)

    frozen(T0)
    for value in (None, "2030-03-02T09:00:00.001Z"):
        out = call(value)
        assert out["statusCode"] == served, out
    for value in ("2030-03-02T09:00:00.000Z", "2030-03-02T08:00:00.000Z", "not-a-time"):
        out = call(value)
        assert out["statusCode"] == 401, out
        error = json.loads(out["body"])
        assert error.get("message", error.get("detail")) == "missing or invalid API key"


def test_a_disabled_tenants_keys_are_all_refused_until_it_is_enabled(handler, tenant, other_tenant, capsys, table_items):
    (t, first), (other, other_key) = tenant, other_tenant
    _, out, _ = _admin(capsys, "create-key", "--tenant-id", t.id)
    second = json.loads(out)["apiKey"]
    code, out, err = _admin(capsys, "disable-tenant", "--tenant-id", t.id)
    assert code == 0 and json.loads(out)["disabled"] is True and "refuses its keys within" in err
    (stored,) = [i for i in table_items() if i["PK"] == f"TENANT#{t.id}" and i["SK"] == "TENANT"]
    assert stored["disabled_at"] == json.loads(out)["disabledAt"]
    assert _allowed(handler, first) is None
    assert _allowed(handler, second) is None
    assert _allowed(handler, other_key)["tenantId"] == other.id
    # configure-tenant cannot undo it
    code, _, err = _admin(capsys, "configure-tenant", "--tenant-id", t.id, "--set", "disabled_at=")
    assert code == 1 and "unknown tenant settings: disabled_at" in err

    code, out, _ = _admin(capsys, "enable-tenant", "--tenant-id", t.id)
    assert code == 0 and json.loads(out) == {"tenantId": t.id, "disabled": False, "disabledAt": None}
    assert "disabled_at" not in next(i for i in table_items() if i["PK"] == f"TENANT#{t.id}" and i["SK"] == "TENANT")
    assert _allowed(handler, first)["tenantId"] == t.id
    assert _allowed(handler, second)["tenantId"] == t.id
    code, _, err = _admin(capsys, "disable-tenant", "--tenant-id", "nobody")
    assert code == 1 and "no tenant nobody" in err


def test_last_used_is_written_on_first_use_then_at_most_once_per_15_minutes(handler, tenant, table_items, frozen, aws, monkeypatch):
    from parley.dal import table

    t, key = tenant
    assert "last_used_at" not in _key_item(table_items, key)
    writes: list[dict] = []
    real = table.ddb

    class Counting:
        def __init__(self, client):
            self.client = client

        def __getattr__(self, name):
            return getattr(self.client, name)

        def update_item(self, **kwargs):
            writes.append(kwargs)
            return self.client.update_item(**kwargs)

    monkeypatch.setattr(table, "ddb", lambda: Counting(real()))
    frozen(T0)
    _allowed(handler, key)
    assert _key_item(table_items, key)["last_used_at"] == "2030-03-02T09:00:00.000Z" and len(writes) == 1
    for minutes in (1, 7, 14):
        frozen(T0 + timedelta(minutes=minutes, seconds=59))
        assert _allowed(handler, key)["tenantId"] == t.id
    assert len(writes) == 1  # the record read said "used within 15 minutes": not even a conditional write
    assert _key_item(table_items, key)["last_used_at"] == "2030-03-02T09:00:00.000Z"
    frozen(T0 + timedelta(minutes=15))
    _allowed(handler, key)
    assert _key_item(table_items, key)["last_used_at"] == "2030-03-02T09:15:00.000Z" and len(writes) == 2


def test_a_failing_last_used_write_does_not_refuse_the_key(handler, tenant, table_items, monkeypatch):
    from parley.dal import table

    t, key = tenant
    real = table.ddb

    class Throttled:
        def __getattr__(self, name):
            return getattr(real(), name)

        def update_item(self, **kwargs):
            raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}}, "UpdateItem")

    monkeypatch.setattr(table, "ddb", Throttled)
    assert _allowed(handler, key)["tenantId"] == t.id
    assert "last_used_at" not in _key_item(table_items, key)


def test_list_keys_shows_every_key_of_the_tenant_without_the_secret(handler, tenant, other_tenant, capsys, frozen):
    (t, first), (_, other_key) = tenant, other_tenant
    frozen(T0)
    _allowed(handler, first)
    _, out, _ = _admin(capsys, "create-key", "--tenant-id", t.id, "--name", "zapier", "--expires-in", "30d")
    second = json.loads(out)["apiKey"]
    _admin(capsys, "revoke-key", "--tenant-id", t.id, second[:10])

    code, out, _ = _admin(capsys, "list-keys", "--tenant-id", t.id, "--json")
    assert code == 0
    rows = json.loads(out)
    assert [r["keyId"] for r in rows] == [hash_key(first)[:12], hash_key(second)[:12]]
    assert rows[0] | {"createdAt": None} == {
        "keyId": hash_key(first)[:12], "prefix": first[:10], "name": "", "state": "active", "createdAt": None,
        "lastUsedAt": "2030-03-02T09:00:00.000Z", "expiresAt": None, "revokedAt": None, "rotatedFrom": None, "rotatedTo": None,
    }  # fmt: skip
    assert (rows[1]["name"], rows[1]["state"], rows[1]["expiresAt"]) == ("zapier", "revoked", "2030-04-01T09:00:00.000Z")

    code, out, err = _admin(capsys, "list-keys", "--tenant-id", t.id)
    assert code == 0
    header, *lines = out.splitlines()
    assert header.split() == ["KEY", "ID", "PREFIX", "NAME", "STATE", "CREATED", "LAST", "USED", "EXPIRES", "ROTATED"]
    assert len(lines) == 2 and lines[0].startswith(hash_key(first)[:12]) and "2030-03-02 09:00:00Z" in lines[0]
    assert "zapier" in lines[1] and "revoked" in lines[1] and "2030-04-01 09:00:00Z" in lines[1]
    assert first not in out + err and second not in out + err and other_key[:10] not in out
    assert "within 15 min" in err

    code, _, err = _admin(capsys, "list-keys", "--tenant-id", "nobody")
    assert code == 1 and "no tenant nobody" in err


def test_keys_made_before_the_index_are_listed_after_the_backfill(handler, aws, tenant, capsys):
    """A key item as the code before the key index wrote it (no GSI1 attributes; this one without a prefix and with
    the old ``revoked`` flag): usable and revocable by the whole key at once, listed after backfill-key-index."""
    from parley.dal import keys, table

    t, key = tenant
    legacy, revoked = "prl_legacy-key-0000000000000000000000000000000000", "prl_legacy-key-1111111111111111111111111111111111"
    for plain, extra in ((legacy, {}), (revoked, {"revoked": True})):
        table.put_item({"PK": keys.api_key_pk(hash_key(plain)), "SK": keys.API_KEY_SK, "type": "api_key", "tenant_id": t.id,
                        "created_at": "2025-01-01T00:00:00.000Z", **extra})  # fmt: skip
    assert _allowed(handler, legacy)["tenantId"] == t.id
    assert _allowed(handler, revoked) is None
    _, out, _ = _admin(capsys, "list-keys", "--tenant-id", t.id, "--json")
    assert [r["keyId"] for r in json.loads(out)] == [hash_key(key)[:12]]

    assert _admin(capsys, "backfill-key-index", "--dry-run")[1].strip() == json.dumps({"found": 2, "indexed": 0})
    assert _admin(capsys, "backfill-key-index")[1].strip() == json.dumps({"found": 2, "indexed": 2})
    assert _admin(capsys, "backfill-key-index")[1].strip() == json.dumps({"found": 0, "indexed": 0})
    _, out, err = _admin(capsys, "list-keys", "--tenant-id", t.id, "--json")
    rows = {r["keyId"]: r for r in json.loads(out)}
    assert set(list(rows)[:2]) == {hash_key(legacy)[:12], hash_key(revoked)[:12]}  # created in 2025: listed first
    assert list(rows)[2] == hash_key(key)[:12]
    assert rows[hash_key(legacy)[:12]]["prefix"] is None and rows[hash_key(legacy)[:12]]["lastUsedAt"] is not None
    assert rows[hash_key(revoked)[:12]]["state"] == "revoked"
    _, out, err = _admin(capsys, "list-keys", "--tenant-id", t.id)
    assert "(none)" in out and "stored without one" in err
    code, _, _ = _admin(capsys, "revoke-key", "--tenant-id", t.id, hash_key(legacy)[:8])
    assert code == 0 and _allowed(handler, legacy) is None


def test_a_key_named_ambiguously_or_badly_is_refused(tenant, capsys, monkeypatch):
    from parley.domain import api_keys

    t, key = tenant
    code, _, err = _admin(capsys, "revoke-key", "--tenant-id", t.id, "abc")
    assert code == 1 and "at least 6 hex digits" in err
    code, _, err = _admin(capsys, "revoke-key", "--tenant-id", t.id, "zzzzzzzz")
    assert code == 1 and "at least 6 hex digits" in err
    # two keys whose ids start alike: the shared start names neither
    _, out, _ = _admin(capsys, "create-key", "--tenant-id", t.id)
    ids = [hash_key(key)[:12], json.loads(out)["keyId"]]
    monkeypatch.setattr(api_keys, "_MIN_ID", 0)
    shared = next(ids[0][:n] for n in range(12, -1, -1) if ids[1].startswith(ids[0][:n]))
    code, _, err = _admin(capsys, "revoke-key", "--tenant-id", t.id, shared)
    assert code == 1 and "names 2 keys" in err and ids[0] in err and ids[1] in err
