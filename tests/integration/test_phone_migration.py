"""``python -m parley.admin migrate-phones``: items keyed by a number as it was cleaned before issue 12 move to their
E.164 keys; a second run changes nothing."""

from __future__ import annotations

import json
from datetime import timedelta

from parley import admin, clock

OLD, NEW = "5555550100", "+15555550100"


def _run(capsys, *argv):
    code = admin.main(list(argv))
    return code, json.loads(capsys.readouterr().out or "null")


def _legacy(tenant_id: str) -> dict[str, str]:
    """What the pre-E.164 code stored: an opt-in (state + history) and a candidate under ``5555550100``, an SMS sent to
    it, and a STOP history already under the E.164 key (a newer opt-out, received from Twilio after the opt-in)."""
    from parley.dal import candidates as candidate_dal
    from parley.dal import messages
    from parley.dal import optins as optin_dal
    from parley.domain import optins
    from parley.models.domain import Candidate, Message, MessageStatus

    now = clock.now()
    earlier = clock.epoch_ms(now - timedelta(minutes=10))
    entry = optins.history_entry(OLD, phone=OLD, opt_in=True, reason="Updated via API by r-1", communication_id=None, now_ms=earlier)
    optin_dal.record(tenant_id, OLD, opted_in=True, entry=entry)
    candidate_dal.create(Candidate(tenant_id=tenant_id, id="cand-1", phone=OLD, created_at=now), [OLD])
    msg = Message(tenant_id=tenant_id, id="sms-1", channel="sms", direction="outbound", status=MessageStatus.SENT,
                  source_api="candidate", sender="+15555550199", recipient=OLD, body="Hi", conversation_id="sms-1",
                  provider="sns", candidate_id="cand-1", created_at=now - timedelta(minutes=5))  # fmt: skip
    messages.create(msg)
    return {"optin": entry["id"]}


def _optin_items(table_items, tenant_id):
    return sorted((i["PK"].rsplit("#", 1)[1], i["SK"][:4], i.get("phone_number"), i.get("opted_in"))
                  for i in table_items() if i.get("type") in ("optin", "optin_history") and tenant_id in i["PK"])  # fmt: skip


def test_old_keys_move_to_e164_and_a_second_run_changes_nothing(aws, capsys, tenant, other_tenant, table_items):
    from parley.dal import candidates as candidate_dal
    from parley.dal import messages
    from parley.domain import optins

    t, _ = tenant
    o, _ = other_tenant
    _legacy(t.id)
    _legacy(o.id)
    optins.update(t.id, phone=NEW, email=None, opt_in=False, reason="keyword STOP")  # newer, already E.164
    assert optins.status(t.id, phone=NEW, email=None) == (False, NEW)

    code, dry = _run(capsys, "migrate-phones", "--tenant-id", t.id, "--dry-run")
    assert code == 0 and dry["dry_run"] is True and dry["optins_moved"] == 1
    assert (OLD, "STAT", None, True) in _optin_items(table_items, t.id)  # a dry run writes nothing

    code, report = _run(capsys, "migrate-phones", "--tenant-id", t.id)
    assert code == 0, report
    assert report["tenants"] == 1
    assert (report["optins_moved"], report["optin_history_entries_moved"], report["optin_states_kept_newer"]) == (1, 1, 1)
    assert report["candidate_addresses_moved"] == 1 and report["messages_rekeyed"] == 1
    assert {(c["kind"], c["from"], c["to"]) for c in report["changes"]} == {
        ("optin", OLD, NEW), ("candidate_address", OLD, NEW), ("message.recipient", OLD, NEW)}  # fmt: skip

    # One consent record, under E.164: both history entries, and the newer state (the STOP) kept.
    assert _optin_items(table_items, t.id) == [(NEW, "HIST", NEW, None), (NEW, "HIST", NEW, None), (NEW, "STAT", None, False)]
    assert optins.status(t.id, phone="(555) 555-0100", email=None) == (False, NEW)
    # The directory and the message follow; the address index finds the message by E.164.
    assert candidate_dal.owner_of(t.id, NEW) == "cand-1" and candidate_dal.owner_of(t.id, OLD) is None
    assert candidate_dal.get(t.id, "cand-1").phone == NEW
    assert messages.get(t.id, "sms-1").recipient == NEW
    now = clock.now()
    found, total = messages.history(t.id, channel="sms", start=now - timedelta(hours=1), end=now, offset=0, limit=10, address=NEW)
    assert total == 1 and found[0].id == "sms-1"
    # Another tenant is untouched by a run for this one.
    assert (OLD, "STAT", None, True) in _optin_items(table_items, o.id)

    before = table_items()
    code, again = _run(capsys, "migrate-phones", "--tenant-id", t.id)
    assert code == 0
    assert (again["optins_moved"], again["candidate_addresses_moved"], again["messages_rekeyed"], again["changes"]) == (0, 0, 0, [])
    assert table_items() == before

    # Every tenant: the other one now, and still nothing more for the first.
    code, everyone = _run(capsys, "migrate-phones")
    assert code == 0 and everyone["tenants"] == 2 and {c["tenantId"] for c in everyone["changes"]} == {o.id}
    assert _optin_items(table_items, o.id) == [(NEW, "HIST", NEW, None), (NEW, "STAT", None, True)]
    code, last = _run(capsys, "migrate-phones")
    assert last["changes"] == []


def test_a_number_another_candidate_owns_in_e164_is_a_reported_conflict(aws, capsys, tenant):
    from parley.dal import candidates as candidate_dal
    from parley.models.domain import Candidate

    t, _ = tenant
    candidate_dal.create(Candidate(tenant_id=t.id, id="old-owner", phone=OLD, created_at=clock.now()), [OLD])
    candidate_dal.create(Candidate(tenant_id=t.id, id="new-owner", phone=NEW, created_at=clock.now()), [NEW])
    code, report = _run(capsys, "migrate-phones", "--tenant-id", t.id)
    assert code == 0
    assert report["candidate_addresses_moved"] == 0
    assert [(c["from"], c["candidateId"], c["ownerOfE164"]) for c in report["candidate_address_conflicts"]] == [
        (OLD, "old-owner", "new-owner")
    ]
    assert candidate_dal.owner_of(t.id, OLD) == "old-owner"  # left for an operator to settle


def test_numbers_read_in_the_tenants_default_country_and_short_codes_left_alone(aws, capsys, tenant):
    from parley.dal import optins as optin_dal
    from parley.domain import optins
    from parley.domain.auth import configure_tenant

    t, _ = tenant
    configure_tenant(t.id, default_country="gb")
    for legacy in ("02079460018", "12345"):
        entry = optins.history_entry(legacy, phone=legacy, opt_in=True, reason="r", communication_id=None, now_ms=1)
        optin_dal.record(t.id, legacy, opted_in=True, entry=entry)
    code, report = _run(capsys, "migrate-phones", "--tenant-id", t.id)
    assert code == 0
    assert [(c["from"], c["to"]) for c in report["changes"]] == [("02079460018", "+442079460018")]
    assert report["not_phone_numbers"] == [{"tenantId": t.id, "value": "12345"}]
    assert optin_dal.get_state(t.id, "+442079460018")["opted_in"] is True


def test_unknown_tenant(aws, capsys):
    assert admin.main(["migrate-phones", "--tenant-id", "nope"]) == 1
