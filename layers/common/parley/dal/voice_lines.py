"""Voice lines in the single table (docs/data-model.md §6.30): voice settings, voice tasks and queue entries. Every key
starts ``TENANT#<t>#``; every read is a GetItem or a Query of a key or GSI6, never a Scan.

- setting ``TENANT#<t>#VOICESET#<id>`` / ``VOICESET``: GSI6 ``TENANT#<t>#VOICESET#ORG#<org>`` (an organization's
  lines, newest first; GSI6SK ``<created-at>#<id>``);
- number claim ``TENANT#<t>#VOICENUM#<number id>`` / ``VOICENUM`` (``setting_id``): one line per number, written with
  the line (and moved with its number) in one transaction;
- task ``TENANT#<t>#VOICETASK#<id>`` / ``VOICETASK`` (read by id only);
- queue entry ``TENANT#<t>#VQENTRY#<id>`` / ``VQENTRY`` (its id derived from the call's CallSid): GSI6
  ``TENANT#<t>#VQENTRY#SET#<setting>`` (a line's entries, newest first); GSI3 ``TENANT#<t>#VQENTRY#PHONE#<caller>``
  (a caller's entries, for the purge).
"""

from __future__ import annotations

from typing import Any

from parley.dal import table


def setting_pk(t: str, setting_id: str) -> str:
    return f"TENANT#{t}#VOICESET#{setting_id}"


def task_pk(t: str, task_id: str) -> str:
    return f"TENANT#{t}#VOICETASK#{task_id}"


def entry_pk(t: str, entry_id: str) -> str:
    return f"TENANT#{t}#VQENTRY#{entry_id}"


def _clean(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if v is not None}


def _page(pk: str, *, offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    return table.offset_page(offset, limit, IndexName="GSI6", KeyConditionExpression="GSI6PK = :pk", ScanIndexForward=False,
                             ExpressionAttributeValues=table.values(pk=pk))  # fmt: skip


def _update(pk: str, sk: str, changes: dict[str, Any], remove: list[str], *, condition: str = "attribute_exists(PK)",
            extra_values: dict[str, Any] | None = None) -> dict[str, Any] | None:  # fmt: skip
    """``UpdateItem`` of ``changes`` (SET) and ``remove`` (REMOVE) under ``condition``: the new item, None when the
    condition did not hold."""
    from botocore.exceptions import ClientError

    sets = ", ".join(f"#{k} = :{k}" for k in changes)
    expr = (f"SET {sets}" if sets else "") + (f" REMOVE {', '.join(f'#{k}' for k in remove)}" if remove else "")
    names = {f"#{k}": k for k in [*changes, *remove]}
    for word in ("state", "rank", "queue_time"):
        if f":{word}" in condition or f"#{word}" in condition:
            names[f"#{word}"] = word
    params: dict[str, Any] = {"TableName": table.table_name(), "Key": table.key(pk, sk), "UpdateExpression": expr.strip(),
                              "ConditionExpression": condition, "ExpressionAttributeNames": names, "ReturnValues": "ALL_NEW"}  # fmt: skip
    values = table.values(**changes, **(extra_values or {}))
    if values:
        params["ExpressionAttributeValues"] = values
    try:
        out = table.ddb().update_item(**params)
    except ClientError as err:
        if table.is_condition_failure(err):
            return None
        raise
    return table.unmarshal(out["Attributes"])


# ── settings ──


def setting_item(t: str, setting_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    return _clean({
        "PK": setting_pk(t, setting_id), "SK": "VOICESET", "type": "voice_setting", "tenant_id": t, "id": setting_id,
        "GSI6PK": f"TENANT#{t}#VOICESET#ORG#{fields['organization_id']}", "GSI6SK": f"{fields['created_at']}#{setting_id}",
        **fields,
    })  # fmt: skip


def number_pk(t: str, number_id: str) -> str:
    return f"TENANT#{t}#VOICENUM#{number_id}"


def number_claim(t: str, number_id: str) -> dict[str, Any] | None:
    """The line that owns the number, if any (``{setting_id}``)."""
    return table.get(number_pk(t, number_id), "VOICENUM", consistent=True)


def _claim(t: str, number_id: str, setting_id: str) -> dict[str, Any]:
    item = {"PK": number_pk(t, number_id), "SK": "VOICENUM", "type": "voice_number_claim", "tenant_id": t, "setting_id": setting_id}
    return {"Put": {"Item": table.marshal(item), "ConditionExpression": "attribute_not_exists(PK)"}}


def put_setting(item: dict[str, Any]) -> bool:
    """The line and its number's claim; False (nothing written) when another line holds the number."""
    ops = [{"Put": {"Item": table.marshal(item), "ConditionExpression": "attribute_not_exists(PK)"}},
           _claim(item["tenant_id"], item["number_id"], item["id"])]  # fmt: skip
    return table.try_transact(ops, decisive=[1])


def move_setting(t: str, setting_id: str, old_number_id: str, new_number_id: str, changes: dict[str, Any],
                 remove: list[str]) -> bool:  # fmt: skip
    """Change the line and move its claim from the old number to the new one in one transaction; False (nothing
    written) when another line holds the new number."""
    sets = ", ".join(f"#{k} = :{k}" for k in changes)
    expr = f"SET {sets}" + (f" REMOVE {', '.join(f'#{k}' for k in remove)}" if remove else "")
    update = {
        "Key": table.key(setting_pk(t, setting_id), "VOICESET"),
        "UpdateExpression": expr,
        "ConditionExpression": "attribute_exists(PK)",
        "ExpressionAttributeNames": {f"#{k}": k for k in [*changes, *remove]},
        "ExpressionAttributeValues": table.values(**changes),
    }
    release = {"Delete": {"Key": table.key(number_pk(t, old_number_id), "VOICENUM"), "ConditionExpression": "setting_id = :s",
                          "ExpressionAttributeValues": table.values(s=setting_id)}}  # fmt: skip
    return table.try_transact([{"Update": update}, release, _claim(t, new_number_id, setting_id)], decisive=[2])


def get_setting(t: str, setting_id: str, *, consistent: bool = False) -> dict[str, Any] | None:
    return table.get(setting_pk(t, setting_id), "VOICESET", consistent=consistent)


def update_setting(t: str, setting_id: str, changes: dict[str, Any], remove: list[str]) -> dict[str, Any] | None:
    return _update(setting_pk(t, setting_id), "VOICESET", changes, remove)


def settings(t: str, organization_id: str, *, offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    return _page(f"TENANT#{t}#VOICESET#ORG#{organization_id}", offset=offset, limit=limit)


def all_settings(t: str, organization_id: str) -> list[dict[str, Any]]:
    """Every line of the organization (an organization's few; the purge finds its agents through them)."""
    return table.query_all(key_condition="GSI6PK = :pk", expr_values=table.values(pk=f"TENANT#{t}#VOICESET#ORG#{organization_id}"),
                           index="GSI6")  # fmt: skip


# ── tasks ──


def put_task(t: str, task_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    item = _clean({"PK": task_pk(t, task_id), "SK": "VOICETASK", "type": "voice_task", "tenant_id": t, "id": task_id, **fields})
    table.put_item(item, condition="attribute_not_exists(PK)")
    return item


def get_task(t: str, task_id: str, *, consistent: bool = False) -> dict[str, Any] | None:
    return table.get(task_pk(t, task_id), "VOICETASK", consistent=consistent)


def finish_task(t: str, task_id: str, changes: dict[str, Any]) -> dict[str, Any] | None:
    return _update(task_pk(t, task_id), "VOICETASK", changes, [])


# ── queue entries ──


def phone_index(t: str, entry_id: str, phone: str) -> dict[str, str]:
    return {"GSI3PK": f"TENANT#{t}#VQENTRY#PHONE#{phone}", "GSI3SK": entry_id}


def entry_item(t: str, entry_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    return _clean({
        **(phone_index(t, entry_id, fields["phone_number"]) if fields.get("phone_number") else {}),
        "PK": entry_pk(t, entry_id), "SK": "VQENTRY", "type": "voice_queue_entry", "tenant_id": t, "id": entry_id,
        "GSI6PK": f"TENANT#{t}#VQENTRY#SET#{fields['setting_id']}", "GSI6SK": f"{fields['created_at']}#{entry_id}",
        **fields,
    })  # fmt: skip


def put_entry_if_absent(item: dict[str, Any]) -> bool:
    """Write a new entry; False when it exists already (nothing written)."""
    from botocore.exceptions import ClientError

    try:
        table.put_item(item, condition="attribute_not_exists(PK)")
    except ClientError as err:
        if table.is_condition_failure(err):
            return False
        raise
    return True


def get_entry(t: str, entry_id: str, *, consistent: bool = False) -> dict[str, Any] | None:
    return table.get(entry_pk(t, entry_id), "VQENTRY", consistent=consistent)


def advance_entry(t: str, entry_id: str, changes: dict[str, Any], *, rank: int, queue_time: int | None,
                  remove: list[str] | None = None) -> dict[str, Any] | None:  # fmt: skip
    """Move an entry forward only: its stored ``rank`` below ``rank``, or equal with a ``queue_time`` below this one
    (a later wait report of the same state; a replay changes nothing). None when the entry is absent or the change would move it back."""
    condition = "attribute_exists(PK) AND (#rank < :new_rank"
    extra: dict[str, Any] = {"new_rank": rank}
    if queue_time is not None:
        condition += " OR (#rank = :new_rank AND (attribute_not_exists(#queue_time) OR #queue_time < :new_qt))"
        extra["new_qt"] = queue_time
    condition += ")"
    return _update(entry_pk(t, entry_id), "VQENTRY", {**changes, "rank": rank}, remove or [], condition=condition, extra_values=extra)


def entries(t: str, setting_id: str, *, offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    return _page(f"TENANT#{t}#VQENTRY#SET#{setting_id}", offset=offset, limit=limit)


def all_entries(t: str, setting_id: str) -> list[dict[str, Any]]:
    return table.query_all(key_condition="GSI6PK = :pk", expr_values=table.values(pk=f"TENANT#{t}#VQENTRY#SET#{setting_id}"), index="GSI6")


def entries_of_phone(t: str, phone: str) -> list[dict[str, Any]]:
    return table.query_all(key_condition="GSI3PK = :pk", expr_values=table.values(pk=f"TENANT#{t}#VQENTRY#PHONE#{phone}"), index="GSI3")


def forget_phone(t: str, entry_id: str) -> bool:
    """Remove a caller's number from an entry (and its index keys)."""
    return _update(entry_pk(t, entry_id), "VQENTRY", {}, ["phone_number", "GSI3PK", "GSI3SK"]) is not None
