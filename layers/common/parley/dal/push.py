"""The push transport's items in the single table (docs/data-model.md §6.15). Tenant-scoped keys; every read is a
GetItem, a BatchGetItem or a Query, never a Scan. No SK here matches the table stream's filter for ``TallyFunction``;
the lists use the generic indexes it does not tally (GSI3, GSI6).

- **app-credential**: ``PK = TENANT#<t>#PUSHCRED#<id>``, ``SK = PUSHCRED``, ``type = push_credential``: the seed's
  attributes (``app_name``, ``display_name``, ``organization_id``, ``store_id``, ``test_mode``, ``kind`` = apn | fcm |
  web, ``archived``), ``secret_name`` (Secrets Manager: the secret ``data``), ``secret_version`` (1, +1 per rotation),
  ``platform`` and ``platform_arn`` (the SNS platform application; none for web). The tenant's list:
  ``GSI3PK = TENANT#<t>#PUSHCRED``, ``GSI3SK = <created_at>#<id>``.
- **device**: ``PK = TENANT#<t>#DEVICE#<id>``, ``SK = DEVICE``, ``type = push_device``; the id is derived from the
  tenant, the type and the token (``device_id``), so one token is one device of a tenant. The seed's attributes, the
  owner ``user_id``, ``credential_id``, ``endpoint_arn`` (SNS; none for web), ``push_state`` (enabled | disabled |
  no-credential) and ``push_state_reason``. The user's devices: ``GSI3PK = TENANT#<t>#DEVICE#USER#<user>``,
  ``GSI3SK = <created_at>#<id>`` (a token that moves to another user moves its GSI3PK); the tenant's:
  ``GSI6PK = TENANT#<t>#DEVICE``, ``GSI6SK = <created_at>#<id>``.
- **device log** (user-device-logs): in the device's partition, ``SK = DEVLOG#<created_at>#<notification id>``,
  ``type = push_device_log``: ``title``, ``body``, ``category``, ``badge_count``, ``data``, ``notification_id``,
  ``transport``, ``outcome``, ``reason``, ``created_at``.
- **push claim**: in the device's partition, ``SK = PUSHCLAIM#<notification id>``, ``type = push_claim``: the claim
  that makes a push at most once per (notification, device); ``log_sk`` names its log item.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from parley.dal import table

CREDENTIAL_SK = "PUSHCRED"
DEVICE_SK = "DEVICE"
LOG_PREFIX = "DEVLOG#"
CLAIM_PREFIX = "PUSHCLAIM#"


# ───────────── app-credentials ─────────────
def credential_pk(tenant_id: str, credential_id: str) -> str:
    return f"TENANT#{tenant_id}#PUSHCRED#{credential_id}"


def credentials_index_pk(tenant_id: str) -> str:
    return f"TENANT#{tenant_id}#PUSHCRED"


def credential_item(tenant_id: str, credential_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    return {
        "PK": credential_pk(tenant_id, credential_id),
        "SK": CREDENTIAL_SK,
        "type": "push_credential",
        "tenant_id": tenant_id,
        "id": credential_id,
        "GSI3PK": credentials_index_pk(tenant_id),
        "GSI3SK": f"{fields['created_at']}#{credential_id}",
        **{k: v for k, v in fields.items() if v is not None},
    }


def put_credential(item: dict[str, Any]) -> None:
    table.put_item(item, condition="attribute_not_exists(PK)")


def get_credential(tenant_id: str, credential_id: str, *, consistent: bool = False) -> dict[str, Any] | None:
    return table.get(credential_pk(tenant_id, credential_id), CREDENTIAL_SK, consistent=consistent)


def credentials_of(tenant_id: str, credential_ids: set[str]) -> dict[str, dict[str, Any]]:
    """Credentials by id (one BatchGetItem per 100)."""
    found = table.batch_get((credential_pk(tenant_id, c), CREDENTIAL_SK) for c in sorted(credential_ids))
    return {item["id"]: item for item in found.values()}


def credentials(tenant_id: str) -> list[dict[str, Any]]:
    """Every credential of the tenant, oldest first (one Query; an organization has a handful)."""
    return table.query_all(index="GSI3", key_condition="GSI3PK = :pk", expr_values=table.values(pk=credentials_index_pk(tenant_id)))


def update_credential(tenant_id: str, credential_id: str, changes: dict[str, Any], *, version: int) -> bool:
    """Set ``changes`` if the item is still at ``secret_version = version`` (a concurrent rotation loses: False)."""
    names = {f"#f{n}": name for n, name in enumerate(changes)}
    sets = ", ".join(f"#f{n} = :v{n}" for n in range(len(changes)))
    values = {f":v{n}": table.attribute(v) for n, v in enumerate(changes.values())}
    values[":version"] = table.attribute(version)
    return table.try_update(
        credential_pk(tenant_id, credential_id), CREDENTIAL_SK, f"SET {sets}",
        condition="attribute_exists(PK) AND secret_version = :version", values=values, names=names,
    )  # fmt: skip


# ───────────── devices ─────────────
def device_id(tenant_id: str, kind: str, token: str) -> str:
    """A device's id: a UUID made from a hash of the tenant, the type and the token (one token, one device)."""
    digest = hashlib.sha256(f"{tenant_id}\n{kind}\n{token}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def device_pk(tenant_id: str, device: str) -> str:
    return f"TENANT#{tenant_id}#DEVICE#{device}"


def user_devices_pk(tenant_id: str, user_id: str) -> str:
    return f"TENANT#{tenant_id}#DEVICE#USER#{user_id}"


def tenant_devices_pk(tenant_id: str) -> str:
    return f"TENANT#{tenant_id}#DEVICE"


def device_item(tenant_id: str, device: str, fields: dict[str, Any]) -> dict[str, Any]:
    return {
        "PK": device_pk(tenant_id, device),
        "SK": DEVICE_SK,
        "type": "push_device",
        "tenant_id": tenant_id,
        "id": device,
        "GSI3PK": user_devices_pk(tenant_id, fields["user_id"]),
        "GSI3SK": f"{fields['created_at']}#{device}",
        "GSI6PK": tenant_devices_pk(tenant_id),
        "GSI6SK": f"{fields['created_at']}#{device}",
        **{k: v for k, v in fields.items() if v is not None},
    }


def put_device(item: dict[str, Any]) -> None:
    table.put_item(item)


def get_device(tenant_id: str, device: str, *, consistent: bool = False) -> dict[str, Any] | None:
    return table.get(device_pk(tenant_id, device), DEVICE_SK, consistent=consistent)


def devices_of_user(tenant_id: str, user_id: str) -> list[dict[str, Any]]:
    """The user's devices, oldest first: one Query (all pages; a user has a few)."""
    return table.query_all(index="GSI3", key_condition="GSI3PK = :pk", expr_values=table.values(pk=user_devices_pk(tenant_id, user_id)))


def devices_of_tenant(tenant_id: str) -> list[dict[str, Any]]:
    """Every device of the tenant, oldest first (GSI6, all pages): the admins' ``all-users`` list."""
    return table.query_all(index="GSI6", key_condition="GSI6PK = :pk", expr_values=table.values(pk=tenant_devices_pk(tenant_id)))


def set_push_state(tenant_id: str, device: str, state: str, reason: str | None, now: str) -> None:
    """Mark the device's push state (a dead token: ``disabled`` with the platform's reason); only if it still exists."""
    table.try_update(
        device_pk(tenant_id, device), DEVICE_SK, "SET push_state = :s, push_state_reason = :r, last_modified_at = :now",
        condition="attribute_exists(PK)", values=table.values(s=state, r=reason, now=now),
    )  # fmt: skip


def device_partition(tenant_id: str, device: str) -> list[dict[str, Any]]:
    """The device's item with its logs and claims (the whole partition)."""
    return table.query_all(key_condition="PK = :pk", expr_values=table.values(pk=device_pk(tenant_id, device)))


def delete_items(pairs: list[tuple[str, str]]) -> int:
    """Delete items by key, 25 per BatchWriteItem (absent keys are no error)."""
    wanted = list(dict.fromkeys(pairs))
    for i in range(0, len(wanted), 25):
        request: dict[str, Any] = {table.table_name(): [{"DeleteRequest": {"Key": table.key(pk, sk)}} for pk, sk in wanted[i : i + 25]]}
        while request:
            request = table.ddb().batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
    return len(wanted)


# ───────────── logs and claims ─────────────
def log_sk(created_at: str, notification_id: str) -> str:
    return f"{LOG_PREFIX}{created_at}#{notification_id}"


def claim_sk(notification_id: str) -> str:
    return f"{CLAIM_PREFIX}{notification_id}"


def claim(tenant_id: str, device: str, notification_id: str, log: dict[str, Any]) -> bool:
    """Claim the push of ``notification_id`` to the device and store its log (outcome ``claimed``) in one
    transaction: False when an earlier delivery holds the claim (nothing written)."""
    pk = device_pk(tenant_id, device)
    claim_item = {
        "PK": pk, "SK": claim_sk(notification_id), "type": "push_claim", "tenant_id": tenant_id, "device_id": device,
        "notification_id": notification_id, "log_sk": log["SK"], "claimed_at": log["created_at"],
    }  # fmt: skip
    return table.try_transact(
        [
            {"Put": {"Item": table.marshal(claim_item), "ConditionExpression": "attribute_not_exists(PK)"}},
            {"Put": {"Item": table.marshal(log)}},
        ],
        decisive=[0],
    )


def get_claim(tenant_id: str, device: str, notification_id: str) -> dict[str, Any] | None:
    return table.get(device_pk(tenant_id, device), claim_sk(notification_id), consistent=True)


def log_item(tenant_id: str, device: str, created_at: str, notification_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    return {
        "PK": device_pk(tenant_id, device),
        "SK": log_sk(created_at, notification_id),
        "type": "push_device_log",
        "tenant_id": tenant_id,
        "device_id": device,
        "notification_id": notification_id,
        "created_at": created_at,
        **{k: v for k, v in fields.items() if v is not None},
    }


def put_logs(items: list[dict[str, Any]]) -> None:
    """The logs' final outcomes, all in BatchWriteItem calls (25 per call)."""
    if items:
        table.batch_put(items)


def logs_page(tenant_id: str, device: str, *, offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    """The device's logs ``offset``..``offset+limit``, newest first, and how many it has."""
    return table.offset_page(
        offset, limit, KeyConditionExpression="PK = :pk AND begins_with(SK, :p)",
        ExpressionAttributeValues=table.values(pk=device_pk(tenant_id, device), p=LOG_PREFIX), ScanIndexForward=False,
    )  # fmt: skip


# ───────────── the credentials' secrets (Secrets Manager, parley/push/<tenant>/<credential id>) ─────────────
_SECRETS: dict[tuple[str, int], dict[str, Any]] = {}  # (name, secret_version) → value: a rotation is a new key


def secret_name(tenant_id: str, credential_id: str) -> str:
    return f"parley/push/{tenant_id}/{credential_id}"


def put_secret(name: str, value: dict[str, Any]) -> None:
    """Create the secret, or store a new current version of it (a rotation)."""
    import json

    from parley.dal.aws import client

    sm = client("secretsmanager")
    try:
        sm.create_secret(Name=name, SecretString=json.dumps(value))
    except sm.exceptions.ResourceExistsException:
        sm.put_secret_value(SecretId=name, SecretString=json.dumps(value))


def read_secret(name: str, version: int) -> dict[str, Any]:
    """The secret's current value, kept in the process per (name, ``secret_version``): a rotation bumps the version
    on the credential item, so the next push after one reads the new value."""
    import json

    from parley.dal.aws import client

    cached = _SECRETS.get((name, version))
    if cached is None:
        cached = json.loads(client("secretsmanager").get_secret_value(SecretId=name)["SecretString"])
        if len(_SECRETS) > 256:
            _SECRETS.clear()
        _SECRETS[(name, version)] = cached
    return cached
