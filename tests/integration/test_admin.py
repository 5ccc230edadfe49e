"""The operator CLI: tenants and keys, with only the key's SHA-256 stored."""

import hashlib
import json

from parley import admin


def _run(capsys, *argv):
    code = admin.main(list(argv))
    out = capsys.readouterr()
    return code, out


def test_create_tenant_prints_a_working_key_stored_only_as_its_hash(aws, capsys, table_items):
    from parley.dal import tenants
    from parley.domain.auth import authenticate

    code, out = _run(capsys, "create-tenant", "--name", "X", "--sender-email", "a@parley.example", "--sender-name", "X Team")
    assert code == 0
    printed = json.loads(out.out)
    assert set(printed) == {"tenantId", "apiKey"}
    tenant_id, key = printed["tenantId"], printed["apiKey"]
    assert key.startswith("prl_")

    caller = authenticate("Bearer " + key)
    assert caller is not None
    assert (caller.tenant_id, caller.sender_email, caller.sender_name, caller.email_provider) == (
        tenant_id,
        "a@parley.example",
        "X Team",
        "ses",
    )
    tenant = tenants.get(tenant_id)
    assert (tenant.name, tenant.sender_email) == ("X", "a@parley.example")

    items = table_items()
    digest = hashlib.sha256(key.encode()).hexdigest()
    (key_item,) = [i for i in items if i.get("type") == "api_key"]
    assert key_item["PK"] == f"APIKEY#{digest}"
    assert key_item["tenant_id"] == tenant_id
    assert key_item["key_prefix"] == key[:10]
    dump = json.dumps(items, default=str)
    assert key not in dump
    assert key[10:] not in dump  # not even the secret part beyond the display prefix
    assert authenticate("Bearer " + key[:-1]) is None


def test_create_tenant_with_an_explicit_id(aws, capsys):
    from parley.dal import tenants

    code, out = _run(capsys, "create-tenant", "--name", "Y", "--sender-email", "y@parley.example", "--tenant-id", "tenant-y")
    assert code == 0
    assert json.loads(out.out)["tenantId"] == "tenant-y"
    assert tenants.get("tenant-y").name == "Y"


def test_create_key_adds_a_second_working_key(aws, capsys, tenant, table_items):
    from parley.domain.auth import authenticate

    t, first = tenant
    code, out = _run(capsys, "create-key", "--tenant-id", t.id)
    assert code == 0
    printed = json.loads(out.out)
    assert printed["tenantId"] == t.id
    second = printed["apiKey"]
    assert second != first
    assert authenticate("Bearer " + first).tenant_id == t.id
    assert authenticate("Bearer " + second).tenant_id == t.id
    key_items = [i for i in table_items() if i.get("type") == "api_key"]
    assert sorted(i["PK"] for i in key_items) == sorted(f"APIKEY#{hashlib.sha256(k.encode()).hexdigest()}" for k in (first, second))
    dump = json.dumps(table_items(), default=str)
    assert first not in dump
    assert second not in dump


def test_create_key_for_an_unknown_tenant_fails(aws, capsys, table_items):
    before = table_items()
    code, out = _run(capsys, "create-key", "--tenant-id", "nobody")
    assert code == 1
    assert out.out == ""
    assert "no tenant nobody" in out.err
    assert table_items() == before


def test_configure_tenant_changes_settings_and_refuses_bad_values_cleanly(aws, capsys, tenant):
    import json

    from parley.admin import main
    from parley.dal import tenants

    t, _ = tenant
    assert main(["configure-tenant", "--tenant-id", t.id, "--set", "sms_provider=twilio", "--set", "quiet_hours=true"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert (printed["sms_provider"], printed["quiet_hours"]) == ("twilio", True)
    stored = tenants.get(t.id)
    assert (stored.sms_provider, stored.quiet_hours) == ("twilio", True)

    for bad in (["--set", "sms_provider=pigeon"], ["--set", "secret_name=other/creds"], ["--set", "colour=blue"], ["--set", "quiet_hours"]):
        assert main(["configure-tenant", "--tenant-id", t.id, *bad]) in (1, 2)
        assert capsys.readouterr().err.strip()  # a message, not a traceback
    assert tenants.get(t.id).sms_provider == "twilio"  # nothing changed by the refused ones
    assert main(["configure-tenant", "--tenant-id", "no-such-tenant", "--set", "quiet_hours=true"]) == 1
