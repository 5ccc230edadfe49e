"""Texts, their reply routes, signed callbacks, consents and receive logs in the single table (docs/data-model.md
§6.19). Tenant-scoped keys; every read is a GetItem or a Query, never a Scan.

- a text: ``PK = TENANT#<t>#TEXT#<id>``, ``SK = TEXT``, ``type = text``; listed by account on GSI3
  (``GSI3PK = TENANT#<t>#TEXT#ACCT#<account>``, ``GSI3SK = <created_at>#<id>``), and by target on GSI6
  (``GSI6PK = TENANT#<t>#TEXT#TARGET#<e164>``: the purge of a person);
- a text waiting for a reply (it has ``expected-responses`` or a ``callback-url``): ``PK =
  TENANT#<t>#TEXTOPEN#<from e164>#<target e164>``, ``SK = <created_at>#<text id>`` (newest last; deleted when a
  one-off text got its reply);
- a signed callback delivery: ``PK = TENANT#<t>#TEXTCB#<delivery id>``, ``SK = TEXTCB`` (``state`` pending →
  delivered | refused | failed, ``attempts``, ``last_error``); its id is derived from what caused it, so a replayed
  cause never makes a second delivery;
- a consent: ``PK = TENANT#<t>#CONSENT#<id>``, ``SK = CONSENT``; the tenant's consents on GSI3
  (``TENANT#<t>#CONSENT``), a user's on GSI6 (``TENANT#<t>#CONSENT#USER#<user>``); while it waits for the reply
  ``PK = TENANT#<t>#CONSENTOPEN#<from e164>#<target e164>``, ``SK = <created_at>#<consent id>``;
- a receive log: ``PK = TENANT#<t>#RECVLOG#<MessageSid>``, ``SK = RECVLOG`` (put only if absent: a replayed webhook
  is found here and changes nothing), by sender on GSI6 (``TENANT#<t>#RECVLOG#FROM#<e164>``: the purge).
"""

from __future__ import annotations

from typing import Any

from parley.dal import table

TEXT_SK, TEXTCB_SK, CONSENT_SK, RECVLOG_SK = "TEXT", "TEXTCB", "CONSENT", "RECVLOG"


# ── keys ──
def text_pk(tenant_id: str, text_id: str) -> str:
    return f"TENANT#{tenant_id}#TEXT#{text_id}"


def account_pk(tenant_id: str, account_id: str) -> str:
    return f"TENANT#{tenant_id}#TEXT#ACCT#{account_id}"


def target_pk(tenant_id: str, target: str) -> str:
    return f"TENANT#{tenant_id}#TEXT#TARGET#{target}"


def open_pk(tenant_id: str, sender: str, target: str) -> str:
    return f"TENANT#{tenant_id}#TEXTOPEN#{sender}#{target}"


def callback_pk(tenant_id: str, delivery_id: str) -> str:
    return f"TENANT#{tenant_id}#TEXTCB#{delivery_id}"


def consent_pk(tenant_id: str, consent_id: str) -> str:
    return f"TENANT#{tenant_id}#CONSENT#{consent_id}"


def consents_pk(tenant_id: str) -> str:
    return f"TENANT#{tenant_id}#CONSENT"


def user_consents_pk(tenant_id: str, user_id: str) -> str:
    return f"TENANT#{tenant_id}#CONSENT#USER#{user_id}"


def consent_open_pk(tenant_id: str, sender: str, target: str) -> str:
    return f"TENANT#{tenant_id}#CONSENTOPEN#{sender}#{target}"


def log_pk(tenant_id: str, sid: str) -> str:
    return f"TENANT#{tenant_id}#RECVLOG#{sid}"


def log_sender_pk(tenant_id: str, sender: str) -> str:
    return f"TENANT#{tenant_id}#RECVLOG#FROM#{sender}"


def _clean(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


# ── texts ──
def text_item(tenant_id: str, text_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    return {
        "PK": text_pk(tenant_id, text_id),
        "SK": TEXT_SK,
        "type": "text",
        "tenant_id": tenant_id,
        "id": text_id,
        "GSI3PK": account_pk(tenant_id, fields["account_id"]),
        "GSI3SK": f"{fields['created_at']}#{text_id}",
        "GSI6PK": target_pk(tenant_id, fields["target"]),
        "GSI6SK": f"{fields['created_at']}#{text_id}",
        **_clean(fields),
    }


def text_create_ops(stored: dict[str, Any]) -> list[dict[str, Any]]:
    """The text's item (never over an existing id) and, when it waits for a reply, its open-reply pointer."""
    ops: list[dict[str, Any]] = [{"Put": {"Item": table.marshal(stored), "ConditionExpression": "attribute_not_exists(PK)"}}]
    if stored.get("expected_responses") or stored.get("callback_url"):
        pointer = {
            "PK": open_pk(stored["tenant_id"], stored["from"], stored["target"]),
            "SK": f"{stored['created_at']}#{stored['id']}",
            "type": "text_open",
            "text_id": stored["id"],
        }
        ops.append({"Put": {"Item": table.marshal(pointer)}})
    return ops


def get_text(tenant_id: str, text_id: str, *, consistent: bool = False) -> dict[str, Any] | None:
    return table.get(text_pk(tenant_id, text_id), TEXT_SK, consistent=consistent)


def texts_page(
    tenant_id: str, account_id: str, *, number_id: str | None, target: str | None, offset: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    """The account's texts, newest first (GSI3), narrowed by number and target (a filter over that partition)."""
    params: dict[str, Any] = {
        "IndexName": "GSI3",
        "KeyConditionExpression": "GSI3PK = :pk",
        "ExpressionAttributeValues": table.values(pk=account_pk(tenant_id, account_id)),
        "ScanIndexForward": False,
    }
    conditions, names = [], {}
    if number_id:
        conditions.append("number_id = :n")
        params["ExpressionAttributeValues"] |= table.values(n=number_id)
    if target:
        conditions.append("#target = :tg")
        names["#target"] = "target"
        params["ExpressionAttributeValues"] |= table.values(tg=target)
    if conditions:
        params["FilterExpression"] = " AND ".join(conditions)
    if names:
        params["ExpressionAttributeNames"] = names
    return table.offset_page(offset, limit, **params)


def open_texts(tenant_id: str, sender: str, target: str, *, limit: int = 20) -> list[dict[str, Any]]:
    """The reply pointers of texts from ``sender`` to ``target``, newest first."""
    items, _ = table.query(
        key_condition="PK = :pk", expr_values=table.values(pk=open_pk(tenant_id, sender, target)), forward=False, limit=limit
    )
    return items


def close_open_text(tenant_id: str, sender: str, target: str, sk: str) -> None:
    table.ddb().delete_item(TableName=table.table_name(), Key=table.key(open_pk(tenant_id, sender, target), sk))


def claim_reply(tenant_id: str, text_id: str, sid: str, now: str, *, one_off: bool) -> bool:
    """Record ``sid`` as a reply of the text; a one-off text takes only its first (False for any later one)."""
    condition = "attribute_exists(PK) AND attribute_not_exists(replied_sid)" if one_off else "attribute_exists(PK)"
    return table.try_update(
        text_pk(tenant_id, text_id),
        TEXT_SK,
        "SET replied_sid = if_not_exists(replied_sid, :sid), last_reply_sid = :sid, last_reply_at = :now, "
        "replies = if_not_exists(replies, :zero) + :one",
        condition=condition,
        values=table.values(sid=sid, now=now, zero=0, one=1),
    )


def advance_status(tenant_id: str, text_id: str, *, status: str, rank: int, error: str | None, sid: str | None, now: str) -> bool:
    """Move the text's Twilio status forward (never back, never sideways among the final states): False when the
    stored status ranks at or after this one."""
    sets = ["twilio_status = :s", "status_rank = :r", "last_modified_at = :now"]
    values: dict[str, Any] = {"s": status, "r": rank, "now": now}
    if error:
        sets.append("#error = :e")
        values["e"] = error
    if sid:
        sets.append("twilio_sid = if_not_exists(twilio_sid, :sid)")
        values["sid"] = sid
    return table.try_update(
        text_pk(tenant_id, text_id),
        TEXT_SK,
        "SET " + ", ".join(sets),
        condition="attribute_exists(PK) AND (attribute_not_exists(status_rank) OR status_rank < :r)",
        values=table.values(**values),
        names={"#error": "error"} if error else None,
    )


# ── callbacks ──
def create_callback(tenant_id: str, delivery_id: str, fields: dict[str, Any]) -> bool:
    """A new delivery; False when one with this id exists (its cause was seen before)."""
    item = {"PK": callback_pk(tenant_id, delivery_id), "SK": TEXTCB_SK, "type": "text_callback", "tenant_id": tenant_id,
            "id": delivery_id, **_clean(fields)}  # fmt: skip
    if fields.get("text_id"):
        item |= {"GSI3PK": f"TENANT#{tenant_id}#TEXTCB#TEXT#{fields['text_id']}", "GSI3SK": f"{fields['created_at']}#{delivery_id}"}
    try:
        table.put_item(item, condition="attribute_not_exists(PK)")
    except Exception as err:
        if _condition_failed(err):
            return False
        raise
    return True


def get_callback(tenant_id: str, delivery_id: str) -> dict[str, Any] | None:
    return table.get(callback_pk(tenant_id, delivery_id), TEXTCB_SK, consistent=True)


def finish_callback(tenant_id: str, delivery_id: str, *, state: str, now: str, detail: str, attempts: int) -> bool:
    """``pending → state`` once: False when the delivery was already finished (an earlier attempt's)."""
    return table.try_update(
        callback_pk(tenant_id, delivery_id),
        TEXTCB_SK,
        "SET #s = :state, finished_at = :now, last_error = :d, attempts = :a",
        condition="attribute_exists(PK) AND #s = :pending",
        values=table.values(state=state, now=now, d=detail, a=attempts, pending="pending"),
        names={"#s": "state"},
    )


def note_attempt(tenant_id: str, delivery_id: str, *, now: str, detail: str, attempts: int) -> None:
    table.try_update(
        callback_pk(tenant_id, delivery_id),
        TEXTCB_SK,
        "SET last_error = :d, attempts = :a, last_attempt_at = :now",
        condition="attribute_exists(PK) AND #s = :pending",
        values=table.values(d=detail, a=attempts, now=now, pending="pending"),
        names={"#s": "state"},
    )


def callbacks_of_text(tenant_id: str, text_id: str) -> list[dict[str, Any]]:
    """The deliveries caused by one text (their ids start with the text's id): GSI3 ``TENANT#<t>#TEXTCB#TEXT#<id>``."""
    return table.query_all(
        key_condition="GSI3PK = :pk", expr_values=table.values(pk=f"TENANT#{tenant_id}#TEXTCB#TEXT#{text_id}"), index="GSI3"
    )


# ── consents ──
def consent_item(tenant_id: str, consent_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    item = {
        "PK": consent_pk(tenant_id, consent_id),
        "SK": CONSENT_SK,
        "type": "consent",
        "tenant_id": tenant_id,
        "id": consent_id,
        "GSI3PK": consents_pk(tenant_id),
        "GSI3SK": f"{fields['created_at']}#{consent_id}",
        **_clean(fields),
    }
    if fields.get("user_id"):
        item |= {"GSI6PK": user_consents_pk(tenant_id, fields["user_id"]), "GSI6SK": f"{fields['created_at']}#{consent_id}"}
    return item


def consent_create_ops(stored: dict[str, Any]) -> list[dict[str, Any]]:
    pointer = {
        "PK": consent_open_pk(stored["tenant_id"], stored["from"], stored["target_id"]),
        "SK": f"{stored['created_at']}#{stored['id']}",
        "type": "consent_open",
        "consent_id": stored["id"],
    }
    return [
        {"Put": {"Item": table.marshal(stored), "ConditionExpression": "attribute_not_exists(PK)"}},
        {"Put": {"Item": table.marshal(pointer)}},
    ]


def get_consent(tenant_id: str, consent_id: str, *, consistent: bool = False) -> dict[str, Any] | None:
    return table.get(consent_pk(tenant_id, consent_id), CONSENT_SK, consistent=consistent)


def consents_page(
    tenant_id: str, *, organization_id: str | None, user_id: str | None, offset: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    """The tenant's consents (GSI3) or one user's (GSI6), newest first; ``organization_id`` filters that partition."""
    if user_id:
        params: dict[str, Any] = {"IndexName": "GSI6", "KeyConditionExpression": "GSI6PK = :pk",
                                  "ExpressionAttributeValues": table.values(pk=user_consents_pk(tenant_id, user_id))}  # fmt: skip
    else:
        params = {"IndexName": "GSI3", "KeyConditionExpression": "GSI3PK = :pk",
                  "ExpressionAttributeValues": table.values(pk=consents_pk(tenant_id))}  # fmt: skip
    params["ScanIndexForward"] = False
    if organization_id:
        params["FilterExpression"] = "organization_id = :o"
        params["ExpressionAttributeValues"] |= table.values(o=organization_id)
    return table.offset_page(offset, limit, **params)


def open_consents(tenant_id: str, sender: str, target: str, *, limit: int = 5) -> list[dict[str, Any]]:
    items, _ = table.query(
        key_condition="PK = :pk", expr_values=table.values(pk=consent_open_pk(tenant_id, sender, target)), forward=False, limit=limit
    )
    return items


def close_open_consent(tenant_id: str, sender: str, target: str, sk: str) -> None:
    table.ddb().delete_item(TableName=table.table_name(), Key=table.key(consent_open_pk(tenant_id, sender, target), sk))


def move_consent(tenant_id: str, consent_id: str, *, state: str, sid: str, now: str) -> bool:
    """``state`` from an open one (pending, invalid-response), once per reply (the reply's sid is remembered)."""
    return table.try_update(
        consent_pk(tenant_id, consent_id),
        CONSENT_SK,
        "SET #s = :state, last_modified_at = :now, last_reply_sid = :sid",
        condition="attribute_exists(PK) AND #s IN (:p, :i) AND (attribute_not_exists(last_reply_sid) OR last_reply_sid <> :sid)",
        values=table.values(state=state, now=now, sid=sid, p="pending", i="invalid-response"),
        names={"#s": "state"},
    )


# ── receive logs ──
def log_item(tenant_id: str, sid: str, fields: dict[str, Any]) -> dict[str, Any]:
    return {
        "PK": log_pk(tenant_id, sid),
        "SK": RECVLOG_SK,
        "type": "text_receive_log",
        "tenant_id": tenant_id,
        "id": sid,
        "GSI6PK": log_sender_pk(tenant_id, fields["sender"]),
        "GSI6SK": f"{fields['created_at']}#{sid}",
        **_clean(fields),
    }


def put_log(item: dict[str, Any]) -> bool:
    """Store an inbound SMS's log once: False when its MessageSid was logged before (a replay or Twilio's retry)."""
    try:
        table.put_item(item, condition="attribute_not_exists(PK)")
    except Exception as err:
        if _condition_failed(err):
            return False
        raise
    return True


def update_log(tenant_id: str, sid: str, **fields: Any) -> None:
    names = {f"#{k}": k for k in fields}
    table.ddb().update_item(
        TableName=table.table_name(),
        Key=table.key(log_pk(tenant_id, sid), RECVLOG_SK),
        UpdateExpression="SET " + ", ".join(f"#{k} = :{k}" for k in fields),
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=table.values(**fields),
    )


def get_log(tenant_id: str, sid: str) -> dict[str, Any] | None:
    return table.get(log_pk(tenant_id, sid), RECVLOG_SK)


# ── purge: what is kept about one phone number ──
def items_about(tenant_id: str, phone: str) -> list[dict[str, Any]]:
    """Every text to ``phone`` and every receive log from it (GSI6), with their keys, for the purge."""
    found = []
    for pk in (target_pk(tenant_id, phone), log_sender_pk(tenant_id, phone)):
        found += table.query_all(key_condition="GSI6PK = :pk", expr_values=table.values(pk=pk), index="GSI6")
    return found


def delete(pk: str, sk: str) -> None:
    table.ddb().delete_item(TableName=table.table_name(), Key=table.key(pk, sk))


def _condition_failed(err: BaseException) -> bool:
    from botocore.exceptions import ClientError

    return isinstance(err, ClientError) and table.is_condition_failure(err)


def consents_about(tenant_id: str, *, user_ids: set[str], phones: set[str]) -> list[dict[str, Any]]:
    """The consents of these users (GSI6) and to these phones (the tenant's consents, GSI3, filtered): for the purge."""
    found: dict[str, dict[str, Any]] = {}
    for user in sorted(user_ids):
        for item in table.query_all(
            key_condition="GSI6PK = :pk", expr_values=table.values(pk=user_consents_pk(tenant_id, user)), index="GSI6"
        ):
            found[item["id"]] = item
    if phones:
        wanted = {f"p{i}": p for i, p in enumerate(sorted(phones))}
        params = {
            "IndexName": "GSI3",
            "KeyConditionExpression": "GSI3PK = :pk",
            "FilterExpression": f"target_id IN ({', '.join(':' + k for k in wanted)})",
            "ExpressionAttributeValues": table.values(pk=consents_pk(tenant_id), **wanted),
        }
        for item in table.query_raw(**params):
            found[item["id"]] = item
    return list(found.values())
