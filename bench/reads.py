"""Read amplification and the cost of deep pages, with a large tenant.

One tenant holds ``n`` messages (default 100,000: outbound email records in every status, inbound email,
SMS both ways, over 30 days, 1,000 candidates, one "hot" candidate / phone / entity / conversation with
many messages each), another tenant ``n // 5`` more of the same shape. The items are the ones the data
layer writes (``messages.create_ops``, the contact items of the transactional archive, the record
counter), put straight into the emulator's DynamoDB backend: at this volume HTTP would dominate the run.

Then every list / history / search endpoint is called once in a fresh process of its own function (its
handler, its environment), with a botocore hook counting every AWS call and DynamoDB's own ``Count`` /
``ScannedCount`` of each: items read ÷ items returned, Scans issued, and the process's peak RSS.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bench.emulator import Emulator
from bench.procs import Run, run_child, source_env
from bench.scenarios import Local, set_body, set_path_param, set_query
from parley_local.moto_patches import table_changed

HOT_EMAIL = "hot.candidate@example.com"
HOT_PHONE = "+15557000000"
HOT_CANDIDATE = "cand-0"
HOT_ENTITY = ("deal", "hot-deal")
HOT_CONVERSATION = "conv-hot"
DAYS = 30


@dataclass
class Seeded:
    tenant_id: str
    n: int
    records: int = 0
    record_ids: list[str] = field(default_factory=list)
    hot_conversation_message: str = ""
    hot_emails: int = 0  # email messages exchanged with the hot candidate's address
    seconds: float = 0.0


def _put(table: Any, attrs: dict[str, Any]) -> None:
    """Store one item (DynamoDB JSON) in moto's table directly. ``Table.put_item`` would recompute the item's
    size once per attribute (quadratic, ~2 ms an item); these items are the data layer's own and far
    below 400 KB."""
    from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict

    item = Item.__new__(Item)
    item.hash_key = DynamoType(attrs[table.hash_key_attr])
    item.range_key = DynamoType(attrs[table.range_key_attr])
    item.attrs = LimitedSizeDict({k: DynamoType(v) for k, v in attrs.items()})
    table.items[item.hash_key][item.range_key] = item


class Tallies:
    """The tallies (``dal/tallies``) of the items seeded behind moto's API: TallyFunction would have kept them from
    the table's stream; the bench writes what it would have written (the data layer's own ``deltas``)."""

    def __init__(self) -> None:
        self.cells: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))

    def add(self, item: dict[str, Any]) -> None:
        from parley.dal import table, tallies

        for cell, attrs in tallies.deltas(None, table.unmarshal(item)).items():
            for attr, n in attrs.items():
                self.cells[cell][attr] += n

    def write(self, backend_table: Any) -> None:
        from parley.dal import table

        for (pk, sk), attrs in self.cells.items():
            _put(backend_table, table.marshal({"PK": pk, "SK": sk, **attrs}))
        self.cells.clear()


def _status(i: int) -> str:
    band = (i // 20) % 20
    return "SCHEDULED" if band == 0 else "FAILED" if band == 1 else "QUEUED" if band in (2, 3) else "SENT"


def seed_tenant(emu: Emulator, tenant_id: str, n: int, *, sender: str) -> Seeded:
    """``n`` messages of one tenant, written straight into moto's table (no HTTP)."""
    from parley import clock
    from parley.dal import contacts, keys, messages, table
    from parley.models.domain import Message, MessageStatus

    started = time.monotonic()
    out = Seeded(tenant_id=tenant_id, n=n)
    backend_table = emu.ddb_backend().get_table(emu.table_name)
    now = clock.now()
    start = now - timedelta(days=DAYS)
    step = timedelta(days=DAYS) / max(n, 1)
    contact: dict[tuple[str, str, str], tuple[str, set[int]]] = {}
    tally = Tallies()
    for i in range(n):
        created = start + step * i
        kind = i % 20
        cand_no = 0 if i % 67 == 0 else 1 + i % 999  # the hot candidate: 1.5% of everything, every kind
        cand = f"cand-{cand_no}"
        email = HOT_EMAIL if cand_no == 0 else f"cand{cand_no}@example.com"
        phone = HOT_PHONE if cand_no == 0 else f"+1555800{cand_no:04d}"
        mid = f"{tenant_id[:8]}-{i:08d}-bench"
        common = {
            "tenant_id": tenant_id,
            "id": mid,
            "created_at": created,
            "candidate_id": cand,
            "source_api": "crm",
            "provider": "sns" if kind >= 15 else "ses",
        }
        if kind < 14:  # an outbound email: a communication record
            status = _status(i)
            conv = HOT_CONVERSATION if i % 100 == 1 else mid
            entity = HOT_ENTITY if i % 50 == 2 else (None, None)
            msg = Message(
                **common,
                channel="email",
                direction="outbound",
                status=MessageStatus(status),
                sender=sender,
                recipient=email,
                recipients=[email],
                subject=f"Quote {i} for you",
                body=f"<p>Hello, this is message {i}. See the quote attached.</p>",
                conversation_id=conv,
                category="OFFERTE" if i % 3 else "INFO",
                related_entity_type=entity[0],
                related_entity_id=entity[1],
                scheduled_at=now + timedelta(days=1, seconds=i) if status == "SCHEDULED" else None,
                sent_at=created + timedelta(seconds=2) if status == "SENT" else None,
                created_by="user-7",
            )
            out.records += 1
            if len(out.record_ids) < 100:
                out.record_ids.append(mid)
            if conv == HOT_CONVERSATION and not out.hot_conversation_message:
                out.hot_conversation_message = mid
        elif kind == 14:  # an inbound email (a reply)
            conv = HOT_CONVERSATION if i % 100 == 14 else mid
            msg = Message(
                **common,
                channel="email",
                direction="inbound",
                status=MessageStatus.RECEIVED,
                sender=email,
                recipient=sender,
                subject=f"Re: Quote {i}",
                body="Thanks, looks good.",
                conversation_id=conv,
            )
        else:  # SMS, both ways
            outbound = kind != 19
            msg = Message(
                **common,
                channel="sms",
                direction="outbound" if outbound else "inbound",
                status=MessageStatus.SENT if outbound else MessageStatus.RECEIVED,
                sender="+15555550199" if outbound else phone,
                recipient=phone if outbound else "+15555550199",
                body=f"Reminder {i}: interview tomorrow",
                conversation_id=mid,
            )
        for op in messages.create_ops(msg):
            if "Put" in op:
                _put(backend_table, op["Put"]["Item"])
                tally.add(op["Put"]["Item"])
        if cand_no == 0 and msg.channel == "email":
            out.hot_emails += 1
        ckey = (msg.channel, contacts.day_of(created), cand)
        addr = contacts.counterpart(msg)
        times = contact.setdefault(ckey, (addr, set()))[1]
        times.add(clock.epoch_ms(created))
    for (channel, day, cand), (addr, times) in contact.items():
        item = {
            "PK": keys.contact_pk(tenant_id, channel, day),
            "SK": keys.contact_sk(cand),
            "type": "contact",
            "candidate_id": cand,
            "address": addr,
            "times": times,
        }
        _put(backend_table, table.marshal(item))
    counter = {"PK": keys.stats_pk(tenant_id), "SK": keys.STATS_RECORDS_SK, "count": out.records}
    _put(backend_table, table.marshal(counter))
    tally.write(backend_table)
    table_changed()
    out.seconds = time.monotonic() - started
    return out


def seed_extras(emu: Emulator, lo: Local, tenant_id: str, count: int) -> None:
    """Opt-in history of the hot phone, forward-profile activity of the hot candidate, templates: ``count`` each,
    cloned from items the API itself stored."""
    from parley import clock
    from parley.dal import keys, table
    from parley.domain import candidates, optins

    backend_table = emu.ddb_backend().get_table(emu.table_name)
    candidates.upsert(tenant_id, candidate_id=HOT_CANDIDATE, email=HOT_EMAIL, phone=HOT_PHONE, firstname="Hot", lastname="Candidate")
    base_ms = clock.epoch_ms(clock.now()) - count * 1000
    tally = Tallies()
    pk = keys.optin_pk(tenant_id, HOT_PHONE)
    for i in range(count):
        entry = optins.history_entry(
            HOT_PHONE, phone=HOT_PHONE, opt_in=i % 2 == 0, reason="bench", communication_id=None, now_ms=base_ms + i * 1000
        )
        item = {"PK": pk, "SK": keys.optin_history_sk(entry["created_ms"], entry["id"]), "type": "optin_history", **entry}
        _put(backend_table, table.marshal(item))
        tally.add(table.marshal(item))
    fwd_pk = keys.forward_pk(tenant_id, HOT_EMAIL)
    for i in range(count):
        activity = {
            "createdDate": base_ms + i * 1000,
            "toName": "Hiring Manager",
            "toEmail": "hm@acme.example",
            "fromName": "Bench",
            "fromEmail": "no-reply@parley.example",
            "subject": f"Profile {i}",
            "source": "forward-profile",
            "emailActivityId": f"fwd-{i:06d}",
            "candidateId": HOT_CANDIDATE,
            "recruiterId": "recruiter-42",
        }
        item = {"PK": fwd_pk, "SK": keys.forward_sk(activity["createdDate"], activity["emailActivityId"]), "type": "forward", **activity}
        _put(backend_table, table.marshal(item))
        tally.add(table.marshal(item))
    tally.write(backend_table)
    # templates: one created through the API, cloned
    lo_tenant = lo.tenant.id
    assert lo_tenant == tenant_id
    template_id = lo.template()
    stored = table.get(keys.template_pk(tenant_id), keys.template_sk(template_id))
    assert stored is not None
    for i in range(min(count, 400)):
        clone = {**stored, "SK": keys.template_sk(f"tpl-{i:04d}"), "id": f"tpl-{i:04d}", "name": f"Template {i}"}
        _put(backend_table, table.marshal(clone))
    table_changed()


# ───────────── the endpoints ─────────────
@dataclass
class Endpoint:
    name: str
    key: str  # the function
    sample: str  # events/<sample>.json
    query: dict[str, str] | None = None
    path: dict[str, str] | None = None
    body: Any = None
    note: str = ""


def endpoints(lo: Local, seeded: Seeded) -> list[Endpoint]:
    from parley import clock

    now = clock.now()
    window = {"fromTime": clock.iso(now - timedelta(days=DAYS + 1)), "toTime": clock.iso(now + timedelta(days=1))}
    ids = ",".join(seeded.record_ids[:20])
    deep = max(2, min(50, seeded.hot_emails // 20))  # the deepest full page of the hot address (50 with 100,000 messages)
    return [
        Endpoint(
            "email history, one address, page 1",
            "CandidateApi.EmailHistoryFunction",
            "candidate/email_history",
            {**window, "email": HOT_EMAIL, "limit": "20", "offset": "0"},
        ),
        Endpoint(
            f"email history, one address, page {deep}",
            "CandidateApi.EmailHistoryFunction",
            "candidate/email_history",
            {**window, "email": HOT_EMAIL, "limit": "20", "offset": str((deep - 1) * 20)},
        ),
        Endpoint(
            "email history, whole tenant, page 1",
            "CandidateApi.EmailHistoryFunction",
            "candidate/email_history",
            {**window, "limit": "20", "offset": "0"},
        ),
        Endpoint(
            "sms history, one phone, page 1",
            "CandidateApi.SmsHistoryFunction",
            "candidate/sms_history",
            {**window, "phone": HOT_PHONE, "limit": "20", "offset": "0"},
        ),
        Endpoint(
            "email transactional, page 1",
            "CandidateApi.EmailTransactionalFunction",
            "candidate/email_transactional",
            {**window, "pageLimit": "10", "offset": "0"},
        ),
        Endpoint(
            "sms transactional, page 1",
            "CandidateApi.SmsTransactionalFunction",
            "candidate/sms_transactional",
            {**window, "pageLimit": "10", "offset": "0"},
        ),
        Endpoint(
            "sms optIn history, page 1",
            "CandidateApi.SmsOptinHistoryFunction",
            "candidate/sms_optin_history",
            {"phoneNumber": HOT_PHONE, "offset": "0", "size": "20"},
        ),
        Endpoint(
            "forward-profile activity, page 1",
            "CandidateApi.ForwardProfileActivityFunction",
            "candidate/forward_profile_activity",
            {"email": HOT_EMAIL, "offset": "0", "limit": "10"},
        ),
        Endpoint(
            "ATS applicant messages (hot candidate)",
            "AtsApi.ApplicantMessagesFunction",
            "ats/applicant_messages",
            {"fields": "author,replied,mail,attachments,candidate"},
            {"companyID": lo.tenant.id, "applicantID": HOT_CANDIDATE},
        ),
        Endpoint(
            "CRM page, page 1", "CrmApi.PageFunction", "crm/page", {"page": "0", "size": "20", "sortBy": "created", "direction": "DESC"}
        ),
        Endpoint(
            "CRM page, page 50", "CrmApi.PageFunction", "crm/page", {"page": "49", "size": "20", "sortBy": "created", "direction": "DESC"}
        ),
        Endpoint("CRM csv-export, page 1", "CrmApi.CsvExportFunction", "crm/csv_export", {"page": "0", "size": "20"}),
        Endpoint("CRM find-all", "CrmApi.FindAllFunction", "crm/find_all"),
        Endpoint("CRM find (20 ids)", "CrmApi.FindFunction", "crm/find", {"ids": ids}),
        Endpoint("CRM scheduled", "CrmApi.ScheduledFunction", "crm/scheduled"),
        Endpoint(
            "CRM by-entity (hot entity)",
            "CrmApi.ByEntityFunction",
            "crm/by_entity",
            {"entityType": HOT_ENTITY[0], "entityId": HOT_ENTITY[1]},
        ),
        Endpoint(
            "CRM dynamic-search status=SENT, page 1",
            "CrmApi.DynamicSearchGetFunction",
            "crm/dynamic_search_get",
            {"page": "0", "size": "20", "status": "SENT"},
        ),
        Endpoint(
            "CRM dynamic-search status=PENDING, page 1",
            "CrmApi.DynamicSearchGetFunction",
            "crm/dynamic_search_get",
            {"page": "0", "size": "20", "status": "PENDING"},
        ),
        Endpoint(
            "CRM dynamic-search POST status=FAILED + search term",
            "CrmApi.DynamicSearchPostFunction",
            "crm/dynamic_search_post",
            body={
                "filters": {"status": "FAILED"},
                "search": ["quote"],
                "page": 0,
                "size": 20,
                "sort": [{"field": "created", "ascending": False}],
            },
            note="a free-text term is checked on every record of the status read",
        ),
        Endpoint("CRM thread (hot conversation)", "CrmApi.ThreadFunction", "crm/thread", path={"id": seeded.hot_conversation_message}),
        Endpoint("CRM templates list", "CrmApi.ListTemplatesFunction", "crm/list_templates"),
    ]


@dataclass
class ReadRow:
    endpoint: Endpoint
    run: Run
    returned: int = 0
    read: int = 0  # ScannedCount of Query/Scan + items of GetItem/BatchGetItem
    read_count_queries: int = 0  # of which by Select=COUNT queries (no item travels, the reads are charged)
    calls: dict[str, int] = field(default_factory=dict)
    scans: int = 0
    status: int | None = None
    error: str = ""

    @property
    def ratio(self) -> float | None:
        return self.read / self.returned if self.returned else None


def returned_items(result: dict[str, Any]) -> int:
    """How many items a response carries: CSV rows, or the lists in its JSON (at any depth)."""
    body = result.get("body") or ""
    headers = {k.lower(): str(v) for k, v in (result.get("headers") or {}).items()}
    headers |= {k.lower(): str(v) for k, v in (result.get("multiValueHeaders") or {}).items()}
    if "csv" in headers.get("content-type", "") or body.startswith("bcc,body,cc,"):
        return max(0, sum(1 for row in csv.reader(io.StringIO(body)) if row) - 1)
    try:
        data = json.loads(body)
    except ValueError:
        return 0

    def count(value: Any) -> int:
        if isinstance(value, list):
            return len(value)
        if isinstance(value, dict):
            return sum(count(v) for v in value.values())
        return 0

    return count(data)


def measure(emu: Emulator, lo: Local, seeded: Seeded, *, progress: Any = print) -> list[ReadRow]:
    rows = []
    for ep in endpoints(lo, seeded):
        event = lo.event(ep.sample)
        if ep.query is not None:
            set_query(event, ep.query)
        for name, value in (ep.path or {}).items():
            set_path_param(event, name, value)
        if ep.body is not None:
            set_body(event, ep.body)
        fn = emu.function(ep.key)
        spec = {
            "mode": "handler",
            "code_dir": str(fn.code_dir),
            "handler": fn.handler,
            "sys_path": [str(fn.code_dir), *map(str, fn.layer_dirs)],
            "events": [copy.deepcopy(event)],
            "record": True,
            "return_result": True,
            "function_name": fn.name,
        }
        run = run_child(spec, source_env(emu.env_for(fn)), keep_stderr=True, timeout=900)
        row = ReadRow(endpoint=ep, run=run)
        if "error" in run.report:
            row.error = run.report["error"]
        else:
            result = run.report["results"][0]
            row.status = result.get("status")
            full = result.get("result") or {}
            row.returned = returned_items(full) if (row.status or 200) < 400 else 0
            if (row.status or 200) >= 400:
                row.error = (full.get("body") or "")[:200]
        calls = run.report.get("calls") or []
        counts: dict[str, int] = defaultdict(int)
        for c in calls:
            counts[c["op"]] += 1
            if c["service"] != "dynamodb":
                continue
            if c["op"] in ("Query", "Scan"):
                scanned = int(c.get("ScannedCount", 0))
                row.read += scanned
                if c.get("select") == "COUNT":
                    row.read_count_queries += scanned
            elif c["op"] in ("GetItem", "BatchGetItem"):
                row.read += int(c.get("Count", 0))
            if c["op"] == "Scan":
                row.scans += 1
        row.calls = dict(counts)
        rows.append(row)
        progress(f"  reads: {ep.name}: read {row.read}, returned {row.returned}, {sum(counts.values())} calls")
    return rows


def run(emu: Emulator, *, n: int, progress: Any = print) -> tuple[Seeded, Seeded, list[ReadRow]]:
    """Reset the emulator, seed a big tenant (and another one), measure every list endpoint."""
    emu.reset()
    lo = Local(emu)
    other = Local(emu)
    progress(f"  reads: seeding {n} messages in one tenant and {n // 5} in another")
    seeded = seed_tenant(emu, lo.tenant.id, n, sender=lo.tenant.sender_email)
    other_seeded = seed_tenant(emu, other.tenant.id, n // 5, sender=other.tenant.sender_email)
    seed_extras(emu, lo, lo.tenant.id, 500)
    progress(f"  reads: seeded in {seeded.seconds + other_seeded.seconds:.0f} s")
    return seeded, other_seeded, measure(emu, lo, seeded, progress=progress)
