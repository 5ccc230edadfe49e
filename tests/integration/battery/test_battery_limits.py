"""Battery (issue 14): per-tenant limits (docs/architecture.md §6.4).

- One tenant sending 10x its send rate gets 429s (``Retry-After``, its family's shape) while another tenant's sends
  in the same second all succeed.
- A tenant over its daily send quota is refused with a message naming the quota and when it resets.
- The dispatcher paces a tenant's provider sends to its provider rate: a send beyond it is delayed (re-queued until
  its slot), never failed, and goes out exactly once; another tenant's sends are not held behind it.

The limits reach the handlers as they do deployed: the real authorizer reads the tenant's settings for its API key,
and its context is handed over as API Gateway hands it (every value a string). Concurrent requests run in threads,
each with its own import of the handler (separate execution environments), every moto call atomic.
"""

from __future__ import annotations

import copy
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from helpers import api_event, body, load_event

AUTHORIZER = "root.AuthorizerFunction"
DISPATCHER = "root.DispatcherFunction"
CANDIDATE_SEND = ("CandidateApi.SendEmailFunction", "candidate/send_email")
CRM_SEND = ("CrmApi.SendFunction", "crm/send")
EMAIL = {"subject": "Your interview", "emailContent": "Hi Ada, see you Tuesday.", "toEmail": "ada@example.com"}
CRM = {"subject": "Your quote", "body": "<p>Hello Jan</p>", "recipients": ["jan@example.com"]}
NOW = datetime(2026, 12, 6, 15, 30, 0, 100_000, tzinfo=UTC)


def _context(handler, key: str) -> dict[str, str]:
    """What API Gateway hands the integration for this key: the real authorizer's context, every value a string."""
    event = copy.deepcopy(load_event("core/authorizer"))
    event["headers"]["Authorization"] = f"Bearer {key}"
    event["multiValueHeaders"]["Authorization"] = [f"Bearer {key}"]
    out = handler(AUTHORIZER)(event)
    ctx = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in out["context"].items()}
    return {**ctx, "principalId": out["principalId"]}


def _event(route, context, payload, key=None):
    event = api_event(route[1], body=payload, headers={"Idempotency-Key": key})
    event["requestContext"]["authorizer"] = context
    return event


def _headers(out: dict) -> dict[str, str]:
    found = {k.lower(): v[-1] for k, v in (out.get("multiValueHeaders") or {}).items() if v}
    return found | {k.lower(): v for k, v in (out.get("headers") or {}).items()}


def _messages(table_items, tenant_id):
    return [i for i in table_items() if i.get("type") == "message" and i["tenant_id"] == tenant_id]


def test_a_tenant_at_10x_its_rate_gets_429s_while_another_tenants_sends_in_the_same_second_all_pass(
    handler, tenant, other_tenant, frozen, table_items, send_queue, drain
):
    from parley.domain import auth

    (a, a_key), (b, b_key) = tenant, other_tenant
    auth.configure_tenant(a.id, send_rate_limit="3")  # configure-tenant --set send_rate_limit=3
    auth.configure_tenant(b.id, send_rate_limit="10")
    a_ctx, b_ctx = _context(handler, a_key), _context(handler, b_key)
    frozen(NOW)  # every request below is in the same second
    # A: 30 candidate sends (10x its rate), B: 10 CRM sends (its rate), interleaved. One after the other: powertools
    # keeps the current event on its resolver class, so threads of one process would mix their requests up (Lambda
    # never runs two in one process). The counter's own concurrency: tests/integration/test_limits.py.
    requests = [("a", CANDIDATE_SEND, a_ctx, EMAIL, f"a-{i}") for i in range(30)]
    requests += [("b", CRM_SEND, b_ctx, CRM, f"b-{i}") for i in range(10)]
    requests = requests[::2] + requests[1::2]
    sends = {route: handler(route[0]) for route in (CANDIDATE_SEND, CRM_SEND)}
    outs = {name: sends[route](_event(route, ctx, payload)) for _who, route, ctx, payload, name in requests}

    b_out = [outs[f"b-{i}"] for i in range(10)]
    assert [o["statusCode"] for o in b_out] == [200] * 10, [body(o) for o in b_out]
    a_out = [outs[f"a-{i}"] for i in range(30)]
    assert Counter(o["statusCode"] for o in a_out) == {200: 3, 429: 27}
    for o in a_out:
        if o["statusCode"] == 429:
            assert _headers(o)["retry-after"] == "1"
            assert body(o) == {"status": 429, "message": "send rate limit of 3 requests per second reached; retry after 1 second"}
    # stored and queued: A's three, B's ten; nothing of A's refused sends
    assert len(_messages(table_items, a.id)) == 3
    assert len(_messages(table_items, b.id)) == 10
    assert len(drain(send_queue[1])) == 13

    # A refused request holds no Idempotency-Key: retried after its Retry-After with the same key, it goes through.
    send = handler(CANDIDATE_SEND[0])
    assert send(_event(CANDIDATE_SEND, a_ctx, EMAIL, "retry-me"))["statusCode"] == 429
    assert not [i for i in table_items() if i["PK"] == f"TENANT#{a.id}#IDEMPOTENCY"]
    frozen(NOW + timedelta(seconds=1))
    again = send(_event(CANDIDATE_SEND, a_ctx, EMAIL, "retry-me"))
    assert again["statusCode"] == 200, body(again)
    assert len(_messages(table_items, a.id)) == 4
    assert send(_event(CANDIDATE_SEND, a_ctx, EMAIL, "retry-me"))["statusCode"] == 200  # its replay: not counted
    assert len(_messages(table_items, a.id)) == 4


def test_a_tenant_over_its_daily_quota_is_refused_naming_the_quota(handler, tenant, other_tenant, frozen, table_items):
    from parley import clock
    from parley.dal import suppressions
    from parley.domain import auth
    from parley.models.email_events import Suppression

    (a, a_key), (_, b_key) = tenant, other_tenant
    auth.configure_tenant(a.id, daily_send_quota="2")
    a_ctx, b_ctx = _context(handler, a_key), _context(handler, b_key)
    candidate, crm = handler(CANDIDATE_SEND[0]), handler(CRM_SEND[0])
    frozen(NOW)
    suppressions.add(Suppression(tenant_id=a.id, address="gone@example.com", reason="bounce", created_at=clock.now()))

    assert candidate(_event(CANDIDATE_SEND, a_ctx, EMAIL))["statusCode"] == 200
    refused = crm(_event(CRM_SEND, a_ctx, {**CRM, "recipients": ["gone@example.com"]}))
    assert refused["statusCode"] == 400  # refused for another reason: not an accepted message, not counted
    frozen(NOW + timedelta(hours=8))
    assert crm(_event(CRM_SEND, a_ctx, CRM))["statusCode"] == 200
    for route, payload in ((CRM_SEND, CRM), (CANDIDATE_SEND, EMAIL)):
        over = handler(route[0])(_event(route, a_ctx, payload))
        assert over["statusCode"] == 429
        # 23:30:00.1 → 00:00 UTC: 1,800 s (rounded up)
        assert _headers(over)["retry-after"] == str(int((datetime(2026, 12, 7, tzinfo=UTC) - NOW - timedelta(hours=8)).total_seconds()) + 1)
        words = "daily send quota of 2 reached; resets at 2026-12-07T00:00:00Z"
        if route == CRM_SEND:
            out = body(over)
            assert (out["title"], out["detail"]) == ("Too Many Requests", words) and out["time"].endswith("Z")
        else:
            assert body(over) == {"status": 429, "message": words}
    assert len(_messages(table_items, a.id)) == 2
    assert crm(_event(CRM_SEND, b_ctx, CRM))["statusCode"] == 200  # another tenant's quota is its own

    frozen(NOW + timedelta(days=1))  # a new UTC day: a new quota
    assert candidate(_event(CANDIDATE_SEND, a_ctx, EMAIL))["statusCode"] == 200


def test_the_dispatcher_paces_a_tenants_sends_to_its_provider_rate_delaying_not_failing_and_sends_each_once(
    handler, tenant, other_tenant, send_queue, dlq_url, kit, ses_wire, sent_emails
):
    from parley.dal import messages
    from parley.dal.aws import client
    from parley.domain import auth
    from parley.models.domain import MessageStatus, SendJob
    from parley_local.workers import _sqs_record

    (a, _), (b, _) = tenant, other_tenant
    rate = 4
    auth.configure_tenant(a.id, provider_rate_limit=str(rate))  # B keeps the default (far above what it sends)
    a_ids, b_ids = kit.seed_queued_emails(a, 12), kit.seed_queued_emails(b, 6)
    arn, url = send_queue
    kit.enqueue_bodies(url, [kit.job_body(a.id, m) for m in a_ids] + [kit.job_body(b.id, m) for m in b_ids])
    sent_at: dict[str, float] = {}

    def observe(mid: str, attempt: int) -> None:  # the SES boundary: when each SendEmail is made
        sent_at[mid] = time.monotonic()

    ses_wire.fault = observe
    dispatcher, sqs = handler(DISPATCHER), client("sqs")
    started, received, paced_jobs = time.monotonic(), 0, []
    while len(sent_at) < 18 and time.monotonic() - started < 20:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"]).get("Messages", [])
        if not got:
            time.sleep(0.05)
            continue
        received += len(got)
        paced_jobs += [SendJob.model_validate_json(m["Body"]) for m in got if "not_before" in m["Body"]]
        kit.invoke(dispatcher, sqs, url, [_sqs_record(m, arn) for m in got])

    # each message once, SENT at its first claim, never FAILED; nothing in the DLQ
    assert ses_wire.calls == Counter(dict.fromkeys(a_ids + b_ids, 1))
    assert len(sent_emails()) == 18
    for tenant_id, ids in ((a.id, a_ids), (b.id, b_ids)):
        for mid in ids:
            msg, events = messages.get_with_events(tenant_id, mid)
            assert (msg.status, msg.attempts) == (MessageStatus.SENT, 1)
            assert [e.event for e in events] == ["sent"]
    assert sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10).get("Messages", []) == []
    # A was paced: jobs beyond its first second went back on the queue, delayed, with their slot
    assert paced_jobs and {j.tenant_id for j in paced_jobs} == {a.id}
    assert received == 18 + len(paced_jobs)
    # Never faster than the rate: the k-th of A's sends is no earlier than k/rate after the dispatching started (the
    # slots are 1/rate apart from the first reservation; each send waits for its own). Late ones may bunch (a job
    # whose delay ran out while the one poller here was busy), which slows, never speeds, the pace. Not stalled:
    # the last goes out about when its slot is due.
    a_times = sorted(sent_at[m] - started for m in a_ids)
    assert all(t >= k / rate - 0.01 for k, t in enumerate(a_times)), [round(t, 2) for t in a_times]
    # (the bound is loose: a loaded machine delays each poll, never brings a send forward)
    assert a_times[-1] < 12 / rate + 6, [round(t, 2) for t in a_times]
    # B was not held behind A's pace: its sends went out with the first batches (here one poller works them in turn;
    # a batch that holds A's jobs waits up to a second for their slots, after sending B's), before A's last, which
    # waited for its slot three seconds on (queued after A's, B's would come last if they were paced with A's)
    assert max(sent_at[m] - started for m in b_ids) < a_times[-1]
