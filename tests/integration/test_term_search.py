"""dynamic-search's free-text ``search`` served by the search index (domain/term_search.py) on moto: the same answers
as the substring matching it replaced, on a randomized corpus whose terms begin words (a reference implementation of
the old matching is kept here), and items read ≈ items returned plus a bounded merge (docs/crm.md K-search-10)."""

from __future__ import annotations

import copy
import random
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from helpers import api_event, body

T0 = datetime(2026, 6, 1, 7, 0, tzinfo=UTC)
POST = "CrmApi.DynamicSearchPostFunction"
CRM_STATUS = {"QUEUED": "PENDING", "SENDING": "PENDING"}


def store(tenant_id: str, n: int, **kw: Any) -> Any:
    from parley.dal import messages
    from parley.domain.ids import new_id
    from parley.models.domain import Message, MessageStatus

    to = kw.pop("recipients", [f"person{n}@example.com"])
    fields: dict[str, Any] = {
        "tenant_id": tenant_id,
        "id": new_id(),
        "channel": "email",
        "direction": "outbound",
        "status": MessageStatus.SENT,
        "source_api": "crm",
        "sender": "no-reply@parley.example",
        "recipient": to[0],
        "recipients": to,
        "subject": f"Subject {n}",
        "body": f"<p>body {n}</p>",
        "conversation_id": f"conv-{n}",
        "provider": "ses",
        "created_at": T0 + timedelta(minutes=n),
        **kw,
    }
    msg = Message(**fields)
    messages.create(msg)
    return msg


@dataclass
class Calls:
    log: list[dict[str, Any]] = field(default_factory=list)

    def items_read(self) -> int:
        """Items DynamoDB read: ScannedCount of every Query (COUNT ones too), items asked of Get/BatchGet."""
        total = 0
        for c in self.log:
            if c["op"] == "Query":
                total += int(c["out"]["ScannedCount"])
            elif c["op"] == "GetItem":
                total += 1
            elif c["op"] == "BatchGetItem":
                total += sum(len(v["Keys"]) for v in c["params"]["RequestItems"].values())
        return total

    def ops(self) -> list[str]:
        return [c["op"] for c in self.log]


def recording() -> Calls:
    from parley.dal.aws import client

    calls = Calls()

    def before(params: dict[str, Any], model: Any, **_: Any) -> None:
        calls.log.append({"op": model.name, "params": copy.deepcopy(params)})

    def after(parsed: dict[str, Any], model: Any, **_: Any) -> None:
        calls.log[-1]["out"] = parsed

    events = client("dynamodb").meta.events
    events.register("before-parameter-build.dynamodb.*", before)
    events.register("after-call.dynamodb.*", after)
    return calls


def post(handler: Any, tenant_id: str, payload: dict[str, Any], *, calls: bool = False) -> Any:
    h = handler(POST)
    recorder = recording() if calls else None
    out = h(api_event("crm/dynamic_search_post", tenant_id=tenant_id, body=payload))
    assert out["statusCode"] == 200, out["body"]
    return (body(out), recorder) if calls else body(out)


def ids(page: dict[str, Any]) -> list[str]:
    return [r["id"] for r in page["content"]]


# ───────────── the same answers as substring matching, on a randomized corpus ─────────────
SYLLABLES = ["ka", "lo", "mi", "nu", "pe", "ra", "si", "to", "vu", "ze", "bo", "di", "fa", "gu", "he", "jo"]
FILLER = "<p>" + "filler " * 5000  # a body over 32 KiB: kept in S3


def old_match(msg: Any, terms: list[str]) -> bool:
    """The matching the index replaced: every term a case-insensitive substring of subject, sender, a recipient, a cc
    or the body (as stored, markup included)."""
    texts = [msg.subject, msg.sender, *msg.all_recipients, *msg.cc, msg.body]
    return all(any(t.casefold() in x.casefold() for x in texts if x) for t in terms)


def aligned(term: str, words: set[str]) -> bool:
    """Substring and word-prefix matching agree on ``term`` over a corpus made of ``words``: wherever it occurs in a
    word, that word begins with it (the documented difference, K-search-10, is a term found inside a word)."""
    return all(w.startswith(term) for w in words if term in w)


@pytest.fixture
def corpus(app_env, tenant, other_tenant) -> dict[str, Any]:
    from parley.models.domain import MessageStatus

    rng = random.Random(13)
    vocab = sorted({"".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))) for _ in range(60)})
    t, o = tenant[0], other_tenant[0]
    statuses = [MessageStatus.SENT, MessageStatus.SENT, MessageStatus.FAILED, MessageStatus.QUEUED, MessageStatus.SCHEDULED]
    recs = []

    def text(k: int) -> str:
        return " ".join(w.capitalize() if rng.random() < 0.3 else w for w in rng.sample(vocab, k))

    for n in range(70):
        body = "<p>" + text(rng.randint(2, 8)) + ".</p>"
        if n in (11, 42):
            body = FILLER + text(3) + "</p>"
        cc = [f"{rng.choice(vocab)}@{rng.choice(vocab)}.example"] if rng.random() < 0.3 else []
        recs.append(
            store(
                t.id, n, subject=text(rng.randint(1, 3)), body=body, cc=cc, status=rng.choice(statuses),
                recipients=[f"{rng.choice(vocab)}.{rng.choice(vocab)}@example.com"],
            )
        )  # fmt: skip
    # not records, or another tenant's: never found
    store(t.id, 80, channel="sms", subject="", body=" ".join(vocab), recipients=["+15555550100"])
    store(t.id, 81, direction="inbound", status=MessageStatus.RECEIVED, subject=" ".join(vocab), kind="reply")
    store(o.id, 82, subject=" ".join(vocab))
    words = {
        w for r in recs for x in (r.subject, r.sender, *r.all_recipients, *r.cc, r.body) for w in re.findall(r"[a-z0-9]+", x.casefold())
    }
    pool = sorted({w[:k] for w in vocab for k in range(3, len(w) + 1) if aligned(w[:k], words)})
    return {"t": t, "records": recs, "pool": pool, "rng": rng}


def reference(recs: list[Any], terms: list[str], status: list[str] | None, sort: str | None, ascending: bool) -> list[Any]:
    found = [r for r in recs if old_match(r, terms) and (status is None or CRM_STATUS.get(r.status.value, r.status.value) in status)]
    found.sort(key=lambda r: (r.created_at, r.id), reverse=not ascending if sort in (None, "created") else True)
    if sort == "subject":  # nulls last, case-insensitively, ties newest first
        found.sort(key=lambda r: (r.subject.casefold(), r.subject), reverse=not ascending)
    return found


def test_search_answers_what_substring_matching_answered(handler, corpus):
    rng, recs, t = corpus["rng"], corpus["records"], corpus["t"]
    assert len(corpus["pool"]) > 50
    checked = exact = 0
    for _ in range(60):
        terms = rng.sample(corpus["pool"], rng.choice([1, 1, 1, 2]))
        terms = [x.upper() if rng.random() < 0.2 else x for x in terms]
        status = rng.choice([None, None, ["SENT"], ["FAILED"], ["PENDING"], ["SENT", "SCHEDULED"]])
        sort, ascending = rng.choice([(None, False), ("created", True), ("created", False), ("subject", True)])
        size, page = rng.randint(1, 6), rng.choice([0, 0, 1, 2])
        payload: dict[str, Any] = {"search": terms, "page": page, "size": size, "filters": {"status": status} if status else {}}
        if sort:
            payload["sort"] = [{"field": sort, "ascending": ascending}]
        want = reference(recs, terms, status, sort, ascending)
        got = post(handler, t.id, payload)
        end = (page + 1) * size
        assert ids(got) == [r.id for r in want[page * size : end]], payload
        if len(want) <= end or sort == "subject":
            assert got["totalElements"] == len(want), payload  # every match was seen: exact
            exact += 1
        else:
            assert got["totalElements"] > end and got["last"] is False, payload  # an estimate, never "last" too early
        checked += bool(want)
    assert checked > 30 and exact > 20


def test_a_term_found_only_in_bodies_kept_in_s3(handler, corpus):
    t, recs = corpus["t"], corpus["records"]
    got = post(handler, t.id, {"search": ["filler"], "size": 10})
    assert ids(got) == [recs[42].id, recs[11].id] and got["totalElements"] == 2
    assert all(len(r["body"]) > 32 * 1024 for r in got["content"])  # the page carries the bodies


# ───────────── semantics the index changed (docs/crm.md K-search-10) ─────────────
def test_words_prefixes_accents_and_what_no_longer_matches(handler, app_env, tenant):
    t, _ = tenant
    cafe = store(
        t.id, 0, subject="Café crème for the Müller GmbH", body='<p class="offer">See <a href="https://x.example/q">quotes</a></p>'
    )
    inbox = store(t.id, 1, subject="Inbox zero", body="plain text, no markup: <not a tag")
    assert ids(post(handler, t.id, {"search": ["CAFE", "muller"]})) == [cafe.id]  # accents and case folded
    assert ids(post(handler, t.id, {"search": ["quote"]})) == [cafe.id]  # a word's beginning: "quotes"
    assert ids(post(handler, t.id, {"search": ["for müll"]})) == [cafe.id]  # several words: each anywhere
    assert ids(post(handler, t.id, {"search": ["crème", "inbox"]})) == []  # terms AND
    assert ids(post(handler, t.id, {"search": ["in"]})) == []  # a 1-2 character word matches whole words only ...
    assert ids(post(handler, t.id, {"search": ["no"]})) == [inbox.id, cafe.id]  # ... ("no" of no-reply@, "no" markup)
    assert ids(post(handler, t.id, {"search": ["uote"]})) == []  # not inside a word (substring matching found it)
    assert ids(post(handler, t.id, {"search": ["href"]})) == []  # markup is no text
    assert ids(post(handler, t.id, {"search": ["tag"]})) == [inbox.id]  # a plain body is text as it is
    assert ids(post(handler, t.id, {"search": ["@@", "-"]})) == [inbox.id, cafe.id]  # no letter or digit: no condition


# ───────────── items read ─────────────
@pytest.fixture
def mailbox(app_env, tenant) -> dict[str, Any]:
    """120 records in clumps of ten (FAILED: clumps 1, 5, 9: 30 records), every one a quote, as in the bench; "zebra"
    in three of them; "even" in the even FAILED ones."""
    from parley.models.domain import MessageStatus

    t, _ = tenant
    recs = []
    for n in range(120):
        failed = (n // 10) % 4 == 1
        words = ["zebra"] if n in (7, 64, 101) else []
        words += ["even"] if failed and n % 2 == 0 else []
        recs.append(
            store(
                t.id, n, subject=f"Quote {n} for you", body=f"<p>Hello, this is message {n}. See the quote attached. {' '.join(words)}</p>",
                status=MessageStatus.FAILED if failed else MessageStatus.SENT,
            )
        )  # fmt: skip
    return {"t": t, "records": recs}


def newest_first(recs: list[Any], keep: Any) -> list[str]:
    return [r.id for r in sorted(recs, key=lambda r: r.created_at, reverse=True) if keep(r)]


def test_status_and_a_common_term_read_about_what_they_return(handler, mailbox):
    from parley.models.domain import MessageStatus

    t, recs = mailbox["t"], mailbox["records"]
    failed = newest_first(recs, lambda r: r.status == MessageStatus.FAILED)
    payload = {
        "filters": {"status": "FAILED"},
        "search": ["quote"],
        "page": 0,
        "size": 10,
        "sort": [{"field": "created", "ascending": False}],
    }
    got, calls = post(handler, t.id, payload, calls=True)
    assert ids(got) == failed[:10] and got["totalElements"] == 30  # all of FAILED matched: the estimate is the count
    # the FAILED partition read up to one past the page (11), and its size from its tallies (a year's item)
    assert calls.items_read() == 11 + 1 and calls.items_read() / len(got["content"]) <= 2.0
    assert "Scan" not in calls.ops()
    # without the status: every record, read the same way (a few first, then what the page still needs)
    got, calls = post(handler, t.id, {"search": ["quote"], "size": 10}, calls=True)
    assert ids(got) == newest_first(recs, lambda r: True)[:10] and got["totalElements"] == 120
    assert calls.items_read() == 11 + 1
    # a deeper page reads the matches before it (no count says where the n-th match of an AND is)
    got, calls = post(handler, t.id, {**payload, "page": 2}, calls=True)
    assert ids(got) == failed[20:30] and got["totalElements"] == 30 and got["last"] is True
    assert calls.items_read() <= 30 + 1


def test_a_partial_match_gives_an_estimated_total_and_pages_on(handler, mailbox):
    t, recs = mailbox["t"], mailbox["records"]
    even = newest_first(recs, lambda r: "even" in r.body)
    assert len(even) == 15
    got, calls = post(handler, t.id, {"filters": {"status": "FAILED"}, "search": ["even"], "size": 4}, calls=True)
    assert ids(got) == even[:4] and got["last"] is False
    assert abs(got["totalElements"] - 15) <= 3  # half of the FAILED records matched so far: half of 30
    # five FAILED records (two matched: fewer than a token list could yield), five of the word's token list, which
    # covers more of the order per item, the three records it still needed; the total from the tallies (≤ 4 items)
    assert calls.items_read() <= 5 + 5 + 3 + 4
    got = post(handler, t.id, {"filters": {"status": "FAILED"}, "search": ["even"], "size": 4, "page": 3})
    assert ids(got) == even[12:] and got["totalElements"] == 15 and got["last"] is True  # the end: exact


def test_a_rare_term_reads_its_token_list_not_the_records(handler, mailbox):
    t, recs = mailbox["t"], mailbox["records"]
    got, calls = post(handler, t.id, {"search": ["zebra"], "size": 10}, calls=True)
    assert ids(got) == newest_first(recs, lambda r: "zebra" in r.body) and got["totalElements"] == 3
    # a few records (none matched), then the token list (3 items, the whole of it), then the 3 records
    assert calls.items_read() <= 5 + 3 + 3
    queried = {c["params"].get("IndexName", "table") for c in calls.log if c["op"] == "Query"}
    assert queried == {"GSI5", "table"}
    # with a status whose records mostly lack the word: the FAILED page first, then the token list
    got, calls = post(handler, t.id, {"filters": {"status": "FAILED"}, "search": ["zebra"]}, calls=True)
    assert ids(got) == [] and got["totalElements"] == 0
    assert calls.items_read() <= 21 + 5 + 3


def test_a_search_over_the_read_budget_is_a_400(handler, mailbox, monkeypatch):
    from parley.domain import crm_search

    monkeypatch.setattr(crm_search, "MAX_READ", 20)
    out = handler(POST)(api_event("crm/dynamic_search_post", tenant_id=mailbox["t"].id, body={"search": ["quote"], "size": 10, "page": 3}))
    assert out["statusCode"] == 400 and "more than 20 records" in body(out)["detail"]
