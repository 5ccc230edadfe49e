"""Purge jobs (``POST /v1/purge-data/``, docs/courier.md "purge-data") and the reads and deletes they are made of.

Job item: ``PK = TENANT#<t>#PURGE``, ``SK = REQ#<request id>``, ``type = purge``: the request (entity type and id,
``archive``, reference and request ids, a hash of the request for idempotency), ``status`` (``queued`` → ``running``
→ ``done`` | ``failed``), the counts per store, ``created_at``, ``finished_at``. Created once per request id
(conditional put); its steps are idempotent, so a redelivered job just repeats them.

Everything a person can be found by is a key or an index here: messages by address (GSI2) and by candidate (GSI4),
further To/Cc/Bcc addresses of records by one Query of the tenant's records (GSI5, filtered: a rare job reads the
tenant's records once rather than every send writing an index item per extra address), opt-ins, forwards and
suppressions by their keys, tally partitions by the lists' keys.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from botocore.exceptions import ClientError

from parley.dal import bodies, keys, table, tallies, user_emails
from parley.dal.aws import client

JOB_SK_PREFIX = "REQ#"


def job_pk(tenant_id: str) -> str:
    return f"TENANT#{tenant_id}#PURGE"


def create_job(tenant_id: str, request_id: str, item: dict[str, Any]) -> dict[str, Any] | None:
    """Store a new job; the stored one (None if this call stored it) when the request id is taken."""
    full = {"PK": job_pk(tenant_id), "SK": JOB_SK_PREFIX + request_id, "type": "purge", **item}
    try:
        table.put_item(full, condition="attribute_not_exists(PK)")
    except ClientError as err:
        if not table.is_condition_failure(err):
            raise
        return get_job(tenant_id, request_id)
    return None


def get_job(tenant_id: str, request_id: str) -> dict[str, Any] | None:
    return table.get(job_pk(tenant_id), JOB_SK_PREFIX + request_id, consistent=True)


def update_job(tenant_id: str, request_id: str, **fields: Any) -> None:
    names = {f"#f{i}": name for i, name in enumerate(fields)}
    sets = ", ".join(f"#f{i} = :v{i}" for i in range(len(fields)))
    table.ddb().update_item(
        TableName=table.table_name(),
        Key=table.key(job_pk(tenant_id), JOB_SK_PREFIX + request_id),
        UpdateExpression=f"SET {sets}",
        ConditionExpression="attribute_exists(PK)",
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=table.values(**{f"v{i}": v for i, v in enumerate(fields.values())}),
    )


# ───────────── finding what names the person ─────────────
def message_items_by_address(tenant_id: str, address: str) -> list[dict[str, Any]]:
    """Every message exchanged with one address (its counterpart), any channel: one GSI2 partition."""
    return table.query_all(key_condition="GSI2PK = :pk", expr_values=table.values(pk=keys.address_pk(tenant_id, address)), index="GSI2")


def message_items_by_candidate(tenant_id: str, candidate_id: str) -> list[dict[str, Any]]:
    pk = keys.candidate_pk(tenant_id, candidate_id)
    return table.query_all(key_condition="GSI4PK = :pk", expr_values=table.values(pk=pk), index="GSI4")


def record_items_naming(tenant_id: str, addresses: Iterable[str]) -> list[dict[str, Any]]:
    """Records (outbound emails) that name one of ``addresses`` as a further To, a Cc or a Bcc: the tenant's records
    partition (GSI5), filtered. Addresses are stored lower-cased."""
    wanted = sorted({a.lower() for a in addresses if "@" in a})
    if not wanted:
        return []
    tests = " OR ".join(f"contains(recipients, :a{i}) OR contains(cc, :a{i}) OR contains(bcc, :a{i})" for i in range(len(wanted)))
    return table.query_raw(
        IndexName="GSI5",
        KeyConditionExpression="GSI5PK = :pk",
        FilterExpression=tests,
        ExpressionAttributeValues=table.values(pk=keys.records_pk(tenant_id), **{f"a{i}": a for i, a in enumerate(wanted)}),
    )


def collection(pk: str) -> list[dict[str, Any]]:
    """Every item under one partition key (a message and its events; an opt-in state and its history; …)."""
    return table.query_all(key_condition="PK = :pk", expr_values=table.values(pk=pk))


# ───────────── deleting ─────────────
def delete_keys(pairs: Iterable[tuple[str, str]]) -> int:
    """Delete items by key, 25 per BatchWriteItem (absent keys are no error). Returns how many keys were asked."""
    wanted = list(dict.fromkeys(pairs))
    for i in range(0, len(wanted), 25):
        request: dict[str, Any] = {table.table_name(): [{"DeleteRequest": {"Key": table.key(pk, sk)}} for pk, sk in wanted[i : i + 25]]}
        while request:
            out = table.ddb().batch_write_item(RequestItems=request)
            request = out.get("UnprocessedItems") or {}
    return len(wanted)


def delete_collection(pk: str) -> int:
    return delete_keys((it["PK"], it["SK"]) for it in collection(pk))


def put_items(items: Iterable[dict[str, Any]]) -> int:
    return table.batch_put(items)


def delete_object(uri_or_key: str, *, bucket: str | None = None) -> None:
    """An S3 object by ``s3://bucket/key``, or by key in the body bucket."""
    if uri_or_key.startswith("s3://"):
        bucket, _, key = uri_or_key[5:].partition("/")
        client("s3").delete_object(Bucket=bucket, Key=key)
    elif bucket:
        client("s3").delete_object(Bucket=bucket, Key=uri_or_key)
    else:
        bodies.delete(uri_or_key)


# ───────────── tallies of the person's lists ─────────────
def tally_partitions(tenant_id: str, list_pks: Iterable[str]) -> Iterator[tuple[str, int]]:
    """For each of the tenant's tallied lists whose partition is one of ``list_pks``: its tally PK and the sum of its
    year counts (0 once every item of the list is gone and the stream has caught up). One Query of the tenant's list
    directory, then one per list found."""
    wanted = set(list_pks)
    for entry in collection(tallies.lists_pk(tenant_id)):
        if entry.get("pk") in wanted:
            tally_pk = str(entry["SK"])
            years = table.query_all(key_condition="PK = :pk AND begins_with(SK, :y)", expr_values=table.values(pk=tally_pk, y="Y#"))
            yield tally_pk, sum(int(y.get("n", 0)) for y in years)


def delete_tally_partition(tenant_id: str, tally_pk: str) -> int:
    n = delete_collection(tally_pk)
    return n + delete_keys([(tallies.lists_pk(tenant_id), tally_pk)])


# ───────────── the courier's stores ─────────────
def user_email_items(tenant_id: str, individual_id: str) -> list[dict[str, Any]]:
    """Every user-email about one individual (its GSI3 partition, ``dal/user_emails``)."""
    pk = user_emails.individual_pk(tenant_id, individual_id)
    return table.query_all(key_condition="GSI3PK = :pk", expr_values=table.values(pk=pk), index=user_emails.INDEX)


def user_email_count_key(tenant_id: str, individual_id: str) -> tuple[str, str]:
    return user_emails.individual_pk(tenant_id, individual_id), user_emails.COUNT_SK


def set_attrs(pk: str, sk: str, attrs_json: str) -> None:
    """Replace a directory item's attributes (JSON text), keeping its ``sync_time`` (the replica's ordering)."""
    table.ddb().update_item(
        TableName=table.table_name(),
        Key=table.key(pk, sk),
        UpdateExpression="SET attrs = :a",
        ConditionExpression="attribute_exists(PK)",
        ExpressionAttributeValues=table.values(a=attrs_json),
    )


def drop_sniffers(tenant_id: str, sniffer_ids: Iterable[str]) -> None:
    """Take sniffers out of the tenant item's map (the authorizer stops naming their user), bumping its version as a
    create does."""
    ids = sorted(set(sniffer_ids))
    if not ids:
        return
    names = {f"#s{i}": sid for i, sid in enumerate(ids)}
    table.ddb().update_item(
        TableName=table.table_name(),
        Key=table.key(keys.tenant_pk(tenant_id), keys.TENANT_SK),
        UpdateExpression="REMOVE "
        + ", ".join(f"sniffers.#s{i}" for i in range(len(ids)))
        + " SET sniffers_version = sniffers_version + :one",
        ConditionExpression="attribute_exists(sniffers_version)",
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=table.values(one=1),
    )
