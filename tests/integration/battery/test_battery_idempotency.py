"""Battery (issue 5): the same Idempotency-Key sent 10 times in a row and 10 times at once → one record,
one queued job, one provider send; on the candidate send and on the CRM send.

"At once" is 10 threads released together, each with its own import of the handler module (Lambda
serves concurrent requests from separate execution environments). Each moto call is made atomic
(``atomic_aws``) as each real AWS call is, so the race under test is the application's.
"""

from __future__ import annotations

import threading

import pytest

from helpers import api_event, body

DISPATCHER = "root.DispatcherFunction"
ROUTES = {
    "candidate": ("CandidateApi.SendEmailFunction", "candidate/send_email",
                  {"subject": "Your interview", "emailContent": "Hi Ada, see you Tuesday.", "toEmail": "ada@example.com"}),
    "crm": ("CrmApi.SendFunction", "crm/send", {"subject": "Your quote", "body": "<p>Hello Jan</p>", "recipients": ["jan@example.com"]}),
}  # fmt: skip
REPEATS = 10


def _event(api, tenant_id, key):
    _, sample, payload = ROUTES[api]
    return api_event(sample, tenant_id=tenant_id, body=payload, headers={"Idempotency-Key": key})


def _id(api, out):
    data = body(out)
    return data["data"]["emailActivityId"] if api == "candidate" else data["id"]


def _one_record_one_job_one_send(api, tenant_id, ids, table_items, send_queue, drain, handler, sent_emails):
    from parley_local.workers import _sqs_record

    assert len(set(ids)) == 1, f"one Idempotency-Key answered with {len(set(ids))} different records"
    (record_id,) = set(ids)
    stored = [i["id"] for i in table_items() if i.get("type") == "message"]
    assert stored == [record_id], f"one Idempotency-Key stored {len(stored)} records"
    idem = [i for i in table_items() if i["PK"].endswith("#IDEMPOTENCY")]
    assert [i["status"] for i in idem] == ["COMPLETED"]
    arn, url = send_queue
    jobs = drain(url)
    assert len(jobs) == 1
    assert handler(DISPATCHER)({"Records": [_sqs_record(jobs[0], arn)]}) == {"batchItemFailures": []}
    assert len(sent_emails()) == 1
    from parley.dal import messages

    assert messages.get(tenant_id, record_id).status.value == "SENT"


@pytest.mark.parametrize("api", sorted(ROUTES))
def test_same_key_10_times_in_a_row_is_one_record_and_one_send(api, handler, tenant, table_items, send_queue, drain, sent_emails):
    t, _ = tenant
    send = handler(ROUTES[api][0])
    outs = [send(_event(api, t.id, f"battery-{api}-1")) for _ in range(REPEATS)]
    assert [o["statusCode"] for o in outs] == [200] * REPEATS
    ids = [_id(api, o) for o in outs]
    _one_record_one_job_one_send(api, t.id, ids, table_items, send_queue, drain, handler, sent_emails)


@pytest.mark.parametrize("api", sorted(ROUTES))
def test_same_key_10_times_at_once_is_one_record_and_one_send(
    api, atomic_aws, fresh_handler, handler, tenant, table_items, send_queue, drain, sent_emails
):
    t, _ = tenant
    sends = [fresh_handler(ROUTES[api][0]) for _ in range(REPEATS)]
    start = threading.Barrier(REPEATS)
    outs: list = [None] * REPEATS

    def run(i):
        start.wait()
        outs[i] = sends[i](_event(api, t.id, f"battery-{api}-2"))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(REPEATS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()

    statuses = [o["statusCode"] for o in outs]
    assert set(statuses) <= {200, 409}, statuses
    assert 200 in statuses
    for o in outs:
        if o["statusCode"] == 409:
            assert "in progress" in (body(o).get("message") or body(o).get("detail"))
    ids = [_id(api, o) for o in outs if o["statusCode"] == 200]
    _one_record_one_job_one_send(api, t.id, ids, table_items, send_queue, drain, handler, sent_emails)
