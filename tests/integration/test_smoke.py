from helpers import api_event, body


def test_send_then_dispatch_then_activity(handler, tenant, sent_emails, aws):
    t, _ = tenant
    send = handler("CandidateApi.SendEmailFunction")
    out = send(api_event("candidate/send_email", tenant_id=t.id, headers={"Idempotency-Key": None}))
    assert out["statusCode"] == 200, out
    activity_id = body(out)["data"]["emailActivityId"]

    from parley.dal.aws import client

    sqs = client("sqs")
    url = aws.queues[next(a for a in aws.queues if a.endswith("SendQueue"))]
    msgs = sqs.receive_message(QueueUrl=url, AttributeNames=["All"], MaxNumberOfMessages=10)["Messages"]
    dispatcher = handler("root.DispatcherFunction")
    from parley_local.workers import _sqs_record

    result = dispatcher({"Records": [_sqs_record(m, "arn:aws:sqs:us-east-1:123456789012:x") for m in msgs]})
    assert result == {"batchItemFailures": []}
    assert len(sent_emails()) == 1

    act = handler("CandidateApi.EmailActivityFunction")
    out = act(api_event("candidate/email_activity", tenant_id=t.id, query={"emailActivityId": activity_id}))
    data = body(out)["data"]
    assert [e["event"] for e in data] == ["sent"]
