"""Re-key the phone numbers stored before numbers were E.164 (``python -m parley.admin migrate-phones``).

Until issue 12 a phone number was kept as written with spaces, dots, dashes and parentheses dropped
(``5555550100``, ``15555550100``, ``+15555550100`` were three keys). This moves every item keyed by such a
number to its E.164 key, read in the tenant's ``default_country``:

- opt-ins: the state item and every history entry of ``TENANT#t#OPTIN#<number>`` move to the E.164 partition
  (history entries keep their ids; when both partitions hold a state, the newer one wins);
- the candidate directory: ``TENANT#t#CANDADDR#<number>`` moves (a number whose E.164 key another candidate
  owns is reported as a conflict and left alone) and the profile's ``phone`` follows;
- SMS messages: the counterpart (``recipient`` outbound, ``sender`` inbound) and its address-index key
  ``GSI2PK``, found with one Query per tenant on the channel timeline (GSI1, ``TENANT#t#SMS``).

**Offline migration, one Scan.** Opt-in and directory items are in no index (docs/data-model.md §1), so they can
only be found by a Scan of the table (filtered to those item types and, with ``--tenant-id``, that tenant's
keys). It reads the whole table once: run it once per deployment of this change (or again after a failure), not
on a schedule. Everything else is Query, GetItem and conditional writes.

Idempotent: an item already under its E.164 key is left as it is, so a second run changes nothing and reports
zeros. Email addresses and numbers that are no possible phone number (short codes) are left alone; the latter are
reported. ``dry_run`` reports what would change and writes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from botocore.exceptions import ClientError

from parley.dal import keys, table
from parley.models.phones import DEFAULT_REGION, e164

_TYPES = ("tenant", "optin", "optin_history", "candidate_address")


def _scan(tenant_id: str | None) -> list[dict[str, Any]]:
    """The tenant, opt-in and candidate-address items (of one tenant, or all): a filtered Scan (see the module doc)."""
    params: dict[str, Any] = {
        "FilterExpression": "#t IN (" + ", ".join(f":t{i}" for i in range(len(_TYPES))) + ")",
        "ExpressionAttributeNames": {"#t": "type"},
        "ExpressionAttributeValues": table.values(**{f"t{i}": t for i, t in enumerate(_TYPES)}),
    }
    if tenant_id:
        params["FilterExpression"] += " AND begins_with(PK, :p)"
        params["ExpressionAttributeValues"] |= table.values(p=keys.tenant_pk(tenant_id))
    return list(table.scan_all(**params))


def _split(pk: str) -> tuple[str, str, str]:
    """``TENANT#<t>#<KIND>#<address>`` → (t, KIND, address); tenant ids hold no ``#``."""
    parts = pk.split("#", 3)
    return (parts[1], parts[2], parts[3]) if len(parts) == 4 else (parts[1] if len(parts) > 1 else "", "", "")


def _delete_many(item_keys: list[tuple[str, str]]) -> None:
    for n in range(0, len(item_keys), 25):
        request = {table.table_name(): [{"DeleteRequest": {"Key": table.key(pk, sk)}} for pk, sk in item_keys[n : n + 25]]}
        while request:
            request = table.ddb().batch_write_item(RequestItems=request).get("UnprocessedItems") or {}


def migrate(tenant_id: str | None = None, *, dry_run: bool = False) -> dict[str, Any]:
    """Move one tenant's (or every tenant's) phone-keyed items to E.164 keys; returns what changed (see the module doc)."""
    items = _scan(tenant_id)
    regions: dict[str, str] = {}
    optin_parts: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    addresses: list[dict[str, Any]] = []
    for item in items:
        if item["type"] == "tenant":
            if tenant_id is None or item.get("id") == tenant_id:
                regions[item["id"]] = item.get("default_country") or DEFAULT_REGION
            continue
        tid, kind, address = _split(item["PK"])
        if (tenant_id and tid != tenant_id) or "@" in address:
            continue
        if kind == "OPTIN":
            optin_parts[(tid, address)].append(item)
        elif kind == "CANDADDR":
            addresses.append(item)
    report: dict[str, Any] = {
        "dry_run": dry_run,
        "scanned_items": len(items),
        "tenants": len(regions),
        "optins_moved": 0,
        "optin_history_entries_moved": 0,
        "optin_states_kept_newer": 0,
        "candidate_addresses_moved": 0,
        "candidate_address_conflicts": [],
        "messages_rekeyed": 0,
        "changes": [],
        "not_phone_numbers": [],
    }

    def convert(tid: str, address: str) -> str | None:
        try:
            return e164(address, regions.get(tid, DEFAULT_REGION))
        except ValueError:
            report["not_phone_numbers"].append({"tenantId": tid, "value": address})
            return None

    for (tid, address), part in sorted(optin_parts.items()):
        new = convert(tid, address)
        if new is None or new == address:
            continue
        report["optins_moved"] += 1
        report["changes"].append({"tenantId": tid, "kind": "optin", "from": address, "to": new})
        history = [i for i in part if i["SK"] != keys.OPTIN_STATE_SK]
        report["optin_history_entries_moved"] += len(history)
        if dry_run:
            continue
        pk = keys.optin_pk(tid, new)
        table.batch_put({**i, "PK": pk, "address": new, **({"phone_number": new} if i.get("phone_number") else {})} for i in history)
        for state in (i for i in part if i["SK"] == keys.OPTIN_STATE_SK):
            try:  # the newer state wins when the E.164 partition has one already (a STOP received meanwhile)
                table.ddb().put_item(
                    TableName=table.table_name(),
                    Item=table.marshal({**state, "PK": pk, "address": new}),
                    ConditionExpression="attribute_not_exists(PK) OR updated_ms < :u",
                    ExpressionAttributeValues=table.values(u=state.get("updated_ms", 0)),
                )
            except ClientError as err:
                if not table.is_condition_failure(err):
                    raise
                report["optin_states_kept_newer"] += 1
        _delete_many([(i["PK"], i["SK"]) for i in part])

    for item in sorted(addresses, key=lambda i: i["PK"]):
        tid, _, address = _split(item["PK"])
        new = convert(tid, address)
        if new is None or new == address:
            continue
        owner = item["candidate_id"]
        target = table.get(keys.candidate_address_pk(tid, new), keys.CANDIDATE_ADDRESS_SK)
        if target and target["candidate_id"] != owner:
            report["candidate_address_conflicts"].append({"tenantId": tid, "from": address, "to": new, "candidateId": owner,
                                                          "ownerOfE164": target["candidate_id"]})  # fmt: skip
            continue
        report["candidate_addresses_moved"] += 1
        report["changes"].append({"tenantId": tid, "kind": "candidate_address", "from": address, "to": new, "candidateId": owner})
        if dry_run:
            continue
        ops: list[dict[str, Any]] = [{"Delete": {"Key": table.key(item["PK"], item["SK"])}}]
        if not target:
            ops.append({"Put": {"Item": table.marshal({**item, "PK": keys.candidate_address_pk(tid, new)}),
                                "ConditionExpression": "attribute_not_exists(PK)"}})  # fmt: skip
        table.transact(ops)
        try:
            table.ddb().update_item(
                TableName=table.table_name(),
                Key=table.key(keys.candidate_profile_pk(tid, owner), keys.CANDIDATE_SK),
                UpdateExpression="SET phone = :new",
                ConditionExpression="phone = :old",
                ExpressionAttributeValues=table.values(new=new, old=address),
            )
        except ClientError as err:
            if not table.is_condition_failure(err):
                raise

    for tid in sorted(regions):
        report["messages_rekeyed"] += _rekey_messages(tid, regions[tid], dry_run, report)
    return report


def _rekey_messages(tenant_id: str, region: str, dry_run: bool, report: dict[str, Any]) -> int:
    """SMS messages whose counterpart is not E.164: one Query on the tenant's SMS timeline (GSI1), then an update each."""
    changed = 0
    found = table.query_all(index="GSI1", key_condition="GSI1PK = :pk", expr_values=table.values(pk=keys.timeline_pk(tenant_id, "sms")))
    for msg in found:
        field = "recipient" if msg.get("direction") == "outbound" else "sender"
        old = str(msg.get(field) or "")
        try:
            new = e164(old, region)
        except ValueError:
            continue  # a short code, or a legacy value that is no number: kept as it is
        pk = keys.address_pk(tenant_id, new)
        if new == old and msg.get("GSI2PK") == pk:
            continue
        changed += 1
        report["changes"].append({"tenantId": tenant_id, "kind": f"message.{field}", "messageId": msg.get("id"), "from": old, "to": new})
        if dry_run:
            continue
        table.try_update(
            msg["PK"], msg["SK"], "SET #f = :new, GSI2PK = :pk", condition="#f = :old", names={"#f": field},
            values=table.values(new=new, pk=pk, old=old),
        )  # fmt: skip
    return changed
