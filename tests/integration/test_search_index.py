"""The free-text index on moto (docs/data-model.md §6.8): SearchIndexFunction keeps one token item per (key, record)
from the table's stream — under creation, status changes, comments, text changes, deletes (CRM DELETE, delete-list,
a TTL-style removal), bodies kept in S3 — and writes nothing for a change that leaves the text as it was; a failed
batch converges when repeated; the backfill indexes records stored before the index existed.

The integration suite runs every declared stream consumer before each DynamoDB call (tests/conftest.py), so what a
test reads reflects the index as the stream leaves it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from helpers import api_event, body

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
BIG_BODY = "<p>" + "lorem ipsum " * 4000 + "zeppelin</p>"  # > 32 KiB: kept in S3; its last word only there


def store(tenant_id: str, n: int, **kw: Any) -> Any:
    """An outbound email (a record) created ``n`` minutes after T0, unless told otherwise."""
    from parley.dal import messages
    from parley.domain.ids import new_id
    from parley.models.domain import Message, MessageStatus

    to = kw.pop("recipients", [f"person{n}@example.com"])
    fields: dict[str, Any] = {
        "tenant_id": tenant_id,
        "id": new_id(),
        "channel": "email",
        "direction": "outbound",
        "status": MessageStatus.QUEUED,
        "source_api": "crm",
        "sender": "no-reply@parley.example",
        "recipient": to[0],
        "recipients": to,
        "subject": f"Offer {n}",
        "body": "<p>Hello, the quote is attached.</p>",
        "conversation_id": f"conv-{n}",
        "provider": "ses",
        "created_at": T0 + timedelta(minutes=n),
        **kw,
    }
    msg = Message(**fields)
    messages.create(msg)
    return msg


def tokens(tenant_id: str) -> set[tuple[str, str]]:
    """Every token item of the tenant: (key, record id), from the table itself (a Scan: fine for tests)."""
    from parley.dal import table

    prefix = f"TENANT#{tenant_id}#TERM#"
    out: set[tuple[str, str]] = set()
    kwargs: dict[str, Any] = {"TableName": table.table_name()}
    client = table.ddb()  # the stream's consumers have run
    while True:
        page = client.scan(**kwargs)
        for raw in page.get("Items", []):
            pk, sk = raw["PK"]["S"], raw["SK"]["S"]
            if pk.startswith(prefix):
                out.add((pk[len(prefix) :], sk.split("#", 1)[1]))
        if "LastEvaluatedKey" not in page:
            return out
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def keys_of(tokens_: set[tuple[str, str]], message_id: str) -> set[str]:
    return {k for k, m in tokens_ if m == message_id}


def manifest(tenant_id: str, message_id: str) -> dict[str, Any] | None:
    from parley.dal import search_index, table

    return table.get(search_index.doc_pk(tenant_id, message_id), search_index.DOC_SK)


def expected_keys(msg: Any) -> set[str]:
    from parley.domain import search_text

    return set(search_text.record_keys(msg))


def search(handler: Any, tenant_id: str, *terms: str, **filters: Any) -> list[str]:
    out = handler("CrmApi.DynamicSearchPostFunction")(
        api_event("crm/dynamic_search_post", tenant_id=tenant_id, body={"filters": filters, "search": list(terms), "size": 100})
    )
    assert out["statusCode"] == 200, out["body"]
    return [r["id"] for r in body(out)["content"]]


# ───────────── the consumer is declared once and runs locally ─────────────
def test_the_indexer_is_a_stream_consumer_of_the_table_with_its_own_dlq(aws):
    (source,) = [s for s in aws.stream_sources if s.function.logical_id == "SearchIndexFunction"]
    assert source.stream_arn.split(":table/", 1)[1].startswith(aws.table_names[0] + "/stream/")
    assert source.report_failures and source.on_failure_arn and source.on_failure_arn.endswith("-SearchIndexDLQ")
    assert source.function.handler == "app.lambda_handler" and source.function.code_dir.name == "search_index"
    assert {s.function.logical_id for s in aws.stream_sources} == {"TallyFunction", "SearchIndexFunction"}


# ───────────── creation, and what is not indexed ─────────────
def test_a_record_gets_one_token_item_per_key_and_nothing_else_is_indexed(app_env, tenant):
    from parley.models.domain import MessageStatus

    t, _ = tenant
    rec = store(t.id, 0, subject="Quote for Ärzte GmbH", cc=["Boss@Acme.example"])
    # neither an inbound reply nor an SMS is a record
    store(t.id, 1, direction="inbound", status=MessageStatus.RECEIVED, subject="Re: Quote nonrecordword", kind="reply")
    store(t.id, 2, channel="sms", subject="", body="Quote sms nonrecordword", recipients=["+15555550100"])
    got = tokens(t.id)
    assert keys_of(got, rec.id) == expected_keys(rec)
    assert {"arz", "arzt", "arzte", "boss", "acme", "quote", "hello", "attached", "no", "parley", "person0"} <= keys_of(got, rec.id)
    assert {m for _, m in got} == {rec.id}
    m = manifest(t.id, rec.id)
    assert m and m["clean"] is True and set(m["terms"]) == expected_keys(rec) and m["sk"].endswith("#" + rec.id)


def test_the_tenant_is_part_of_every_token_key(app_env, tenant, other_tenant, handler):
    t, o = tenant[0], other_tenant[0]
    mine = store(t.id, 0, subject="Shared words")
    theirs = store(o.id, 1, subject="Shared words")
    assert {m for _, m in tokens(t.id)} == {mine.id} and {m for _, m in tokens(o.id)} == {theirs.id}
    assert search(handler, t.id, "shared") == [mine.id]
    assert search(handler, o.id, "shared", "word") == [theirs.id]


def test_a_body_kept_in_s3_is_indexed_from_there(app_env, tenant, handler):
    t, _ = tenant
    big = store(t.id, 0, subject="Large one", body=BIG_BODY)
    assert manifest(t.id, big.id) and "zeppelin" in keys_of(tokens(t.id), big.id)
    assert search(handler, t.id, "zeppelin") == [big.id]
    assert search(handler, t.id, "zeppeli", "large") == [big.id]


# ───────────── changes ─────────────
def test_status_changes_and_comments_write_nothing_to_the_index(app_env, tenant, handler, monkeypatch):
    from parley.dal import messages, search_index
    from parley.models.domain import MessageStatus

    t, _ = tenant
    rec = store(t.id, 0, subject="Quote")
    before = tokens(t.id)
    writes: list[Any] = []
    real = search_index.table.batch_write

    def counting(**kw: Any) -> int:
        writes.append(kw)
        return real(**kw)

    monkeypatch.setattr(search_index.table, "batch_write", counting)
    assert messages.claim(t.id, rec.id, T0 + timedelta(hours=1)) is not None  # QUEUED → SENDING
    assert messages.transition(t.id, rec.id, to=MessageStatus.FAILED, expect=(MessageStatus.SENDING,), extra={"error": "bounced"})
    event = api_event("crm/comment", tenant_id=t.id, headers={"Content-Type": "text/plain", "X-User-ID": "user-7"})
    event["pathParameters"] = {"id": rec.id}
    event["path"] = f"/api/v1/communications/{rec.id}/comment"
    event["body"], event["isBase64Encoded"] = "called them", False
    assert handler("CrmApi.CommentFunction")(event)["statusCode"] == 200
    assert tokens(t.id) == before
    assert writes == []  # the indexer saw three changes of the record, none of its text: it wrote nothing
    stored = messages.get(t.id, rec.id)
    assert stored.status == MessageStatus.FAILED and [e.type for e in stored.timeline] == ["STATUS_CHANGE", "COMMENT"]
    assert search(handler, t.id, "quote", status="FAILED") == [rec.id]


def test_a_text_change_removes_the_keys_no_longer_there_and_adds_the_new(app_env, tenant, handler):
    from parley.dal import keys, messages, table

    t, _ = tenant
    rec = store(t.id, 0, subject="Quarterly invoice", cc=["boss@acme.example"])
    table.ddb().update_item(
        TableName=table.table_name(),
        Key=table.key(keys.message_pk(t.id, rec.id), keys.MESSAGE_SK),
        UpdateExpression="SET subject = :s, cc = :cc",
        ExpressionAttributeValues=table.values(s="Yearly statement", cc=[]),
    )
    now = messages.get(t.id, rec.id)
    got = keys_of(tokens(t.id), rec.id)
    assert got == expected_keys(now)
    assert {"yearly", "statement"} <= got and not {"quarterly", "qua", "invoice", "inv", "boss", "acme"} & got
    assert set(manifest(t.id, rec.id)["terms"]) == got
    assert search(handler, t.id, "invoice") == [] and search(handler, t.id, "statem") == [rec.id]


def _delete(handler: Any, tenant_id: str, message_id: str) -> int:
    event = api_event("crm/delete", tenant_id=tenant_id)
    event["pathParameters"] = {"id": message_id}
    event["path"] = f"/api/v1/communications/{message_id}"
    return handler("CrmApi.DeleteFunction")(event)["statusCode"]


def test_deleting_records_removes_their_tokens_and_manifests_s3_bodies_too(app_env, tenant, handler):
    from parley.dal import bodies

    t, _ = tenant
    keep = store(t.id, 0, subject="Keep this quote")
    small = store(t.id, 1, subject="Delete this quote")
    big = store(t.id, 2, subject="Large quote", body=BIG_BODY)
    listed = store(t.id, 3, subject="Listed quote")
    assert {m for _, m in tokens(t.id)} == {keep.id, small.id, big.id, listed.id}
    assert _delete(handler, t.id, small.id) == 200
    assert _delete(handler, t.id, big.id) == 200
    assert bodies.get_or_none(big.body_ref or bodies.key_for(t.id, big.id)) is None
    event = api_event("crm/delete_list", tenant_id=t.id)
    event["queryStringParameters"] = {"ids": listed.id}
    event["multiValueQueryStringParameters"] = {"ids": [listed.id]}
    assert handler("CrmApi.DeleteListFunction")(event)["statusCode"] == 200
    got = tokens(t.id)
    assert {m for _, m in got} == {keep.id} and keys_of(got, keep.id) == expected_keys(keep)
    for gone in (small, big, listed):
        assert manifest(t.id, gone.id) is None
    assert search(handler, t.id, "quote") == [keep.id]


def test_an_item_removed_by_ttl_or_by_hand_leaves_no_tokens_even_when_its_s3_body_went_first(app_env, tenant):
    from parley.dal import bodies, keys, table

    t, _ = tenant
    rec = store(t.id, 0, subject="Expiring quote")
    big = store(t.id, 1, subject="Large", body=BIG_BODY)
    assert keys_of(tokens(t.id), rec.id) and "zeppelin" in keys_of(tokens(t.id), big.id)
    # TTL expiry reaches the stream as a REMOVE like any delete; the body is gone before the indexer sees it, so the
    # keys to delete come from the manifest, not from the old image (whose body_ref points at nothing)
    bodies.delete(bodies.key_for(t.id, big.id))
    for gone in (rec, big):
        table.ddb().delete_item(TableName=table.table_name(), Key=table.key(keys.message_pk(t.id, gone.id), keys.MESSAGE_SK))
    assert tokens(t.id) == set() and manifest(t.id, rec.id) is None and manifest(t.id, big.id) is None


# ───────────── failures ─────────────
@pytest.mark.parametrize("fail_at", [1, 2, 3])  # the widening of the manifest, the token writes, the final manifest
def test_a_batch_that_fails_anywhere_converges_when_delivered_again(app_env, tenant, handler, monkeypatch, fail_at):
    from parley.dal import search_index
    from parley.domain import search_index as indexer

    t, _ = tenant
    rec = store(t.id, 0, subject="Original words")
    old_keys = expected_keys(rec)
    new = rec.model_copy(update={"subject": "Replacement text"})
    change = search_index.Doc(t.id, rec.id, keys_sort(rec), tuple(sorted(expected_keys(new))))
    real = search_index.table.batch_write
    calls = {"n": 0}

    def dies(**kw: Any) -> int:
        calls["n"] += 1
        if calls["n"] == fail_at:
            # half of this call lands, then the function dies
            puts, deletes = list(kw.get("puts", ())), list(kw.get("deletes", ()))
            real(puts=puts[: len(puts) // 2], deletes=deletes[: len(deletes) // 2])
            raise RuntimeError("function timed out")
        return real(**kw)

    monkeypatch.setattr(search_index.table, "batch_write", dies)
    with pytest.raises(RuntimeError):
        search_index.apply([change])
    monkeypatch.setattr(search_index.table, "batch_write", real)
    search_index.apply([change])  # the stream delivers the batch again
    assert keys_of(tokens(t.id), rec.id) == set(change.keys) != old_keys
    assert manifest(t.id, rec.id)["clean"] is True
    # and a later delete leaves nothing behind, whatever the failed attempt had written
    search_index.apply([search_index.Doc(t.id, rec.id, change.sort_key, ())])
    assert tokens(t.id) == set() and manifest(t.id, rec.id) is None
    assert indexer.docs([]) == []


def keys_sort(msg: Any) -> str:
    from parley.dal import records

    return records.sort_key(msg)


def test_the_handler_reports_a_failed_batch_from_its_first_record_change(app_env, tenant, handler, monkeypatch):
    from parley.dal import search_index

    t, _ = tenant
    rec = store(t.id, 0, subject="Words")
    image = json.loads((pathlib_events() / "core/search_index.json").read_text())
    new_image = image["Records"][0]["dynamodb"]["NewImage"]
    new_image["tenant_id"]["S"] = t.id
    consumer = handler("root.SearchIndexFunction")
    unrelated = {"eventName": "INSERT", "dynamodb": {"SequenceNumber": "100", "NewImage": {"PK": {"S": "TALLY#x"}, "SK": {"S": "Y#2026"}}}}
    image["Records"][0]["dynamodb"]["SequenceNumber"] = "101"
    monkeypatch.setattr(search_index.table, "batch_write", lambda **kw: (_ for _ in ()).throw(RuntimeError("throttled")))
    out = consumer({"Records": [unrelated, image["Records"][0]]})
    assert out == {"batchItemFailures": [{"itemIdentifier": "101"}]}
    # a batch with nothing to index is no failure, whatever the table does
    assert consumer({"Records": [unrelated]}) == {"batchItemFailures": []}
    assert rec.id


def pathlib_events() -> Any:
    from pathlib import Path

    return Path(__file__).resolve().parents[2] / "events"


def test_docs_leave_out_records_whose_text_a_batch_did_not_change():
    from parley.dal import search_index
    from parley.domain import search_index as indexer

    base = {"channel": "email", "direction": "outbound", "source_api": "crm", "sender": "a@b.example", "recipient": "c@d.example",
            "conversation_id": "c", "provider": "ses", "created_at": "2026-01-01T00:00:00.000Z"}  # fmt: skip
    item = {**base, "tenant_id": "t", "id": "m", "GSI5SK": "2026-01-01T00:00:00.000Z#m", "subject": "Hi", "status": "QUEUED"}
    sent = {**item, "status": "SENT", "sent_at": "2026-01-01T00:00:01.000Z"}
    change = search_index.RecordChange("1", "t", "m", item["GSI5SK"], item, sent)
    assert indexer.docs([change]) == []
    edited = search_index.RecordChange("2", "t", "m", item["GSI5SK"], sent, {**sent, "subject": "Hello"})
    assert [d.message_id for d in indexer.docs([change, edited])] == ["m"]
    gone = search_index.RecordChange("3", "t", "m", item["GSI5SK"], sent, None)
    assert [d.keys for d in indexer.docs([change, gone])] == [()]


# ───────────── backfill ─────────────
def test_backfill_indexes_records_stored_before_the_index_and_is_idempotent(app_env, tenant, other_tenant, monkeypatch, handler):
    from parley import admin
    from parley.dal import search_index
    from parley.domain import search_index as indexer

    t, o = tenant[0], other_tenant[0]
    # records stored while no indexer ran: as before the index existed
    with monkeypatch.context() as m:
        m.setattr(indexer, "index_stream", lambda records: search_index.Applied())
        old = [store(t.id, n, subject=f"Legacy quote {n}") for n in range(3)]
        big = store(t.id, 3, subject="Legacy large", body=BIG_BODY)
        foreign = store(o.id, 4, subject="Legacy other tenant")
        assert tokens(t.id) == set()
    assert search(handler, t.id, "zeppelin") == []

    report = indexer.backfill(t.id, dry_run=True)
    assert report["records"] == 4 and report["indexed"] == 4 and tokens(t.id) == set()

    assert admin.main(["backfill-search-index", "--tenant-id", t.id]) == 0
    got = tokens(t.id)
    for rec in [*old, big]:
        keys = keys_of(got, rec.id)
        assert keys == expected_keys(rec.model_copy(update={"body": BIG_BODY}) if rec is big else rec)
    assert tokens(o.id) == set() and foreign.id  # another tenant's records are left alone with --tenant-id
    assert search(handler, t.id, "zeppelin") == [big.id] and len(search(handler, t.id, "legacy", "quote")) == 3

    again = indexer.backfill(t.id)
    assert again["already_indexed"] == 4 and again["indexed"] == 0 and again["token_puts"] == 0
    forced = indexer.backfill(t.id, force=True)
    assert forced["unchanged"] == 4 and forced["indexed"] == 0

    everyone = indexer.backfill()
    assert everyone["tenants"] == 2 and everyone["indexed"] == 1 and keys_of(tokens(o.id), foreign.id) == expected_keys(foreign)


def test_backfill_for_an_unknown_tenant_is_an_error(app_env, capsys):
    from parley import admin

    assert admin.main(["backfill-search-index", "--tenant-id", "nobody"]) == 1
    assert "no tenant nobody" in capsys.readouterr().err
