"""Bodies up to the seed's 524,288 characters: kept in S3, sent whole, never a DynamoDB item-size 500."""

from __future__ import annotations

import random
import string

from helpers import api_event, body
from parley_local.workers import _sqs_record


def test_largest_allowed_body_is_stored_in_s3_and_sent_whole(handler, tenant, sent_emails, aws):
    t, _ = tenant
    rnd = random.Random(7)
    content = "".join(rnd.choice(string.ascii_letters + string.digits + " ") for _ in range(524_288))  # incompressible, at the limit
    send = handler("CandidateApi.SendEmailFunction")
    out = send(
        api_event("candidate/send_email", tenant_id=t.id, body={"toEmail": "big@example.com", "subject": "Large", "emailContent": content})
    )
    assert out["statusCode"] == 200, out["body"]
    message_id = body(out)["data"]["emailActivityId"]

    from parley.dal import keys, table
    from parley.dal.aws import client

    item = table.get(keys.message_pk(t.id, message_id), keys.MESSAGE_SK)
    assert "body" not in item
    stored = client("s3").get_object(Bucket=aws.root.ref("BodyBucket"), Key=item["body_ref"])["Body"].read().decode()
    assert stored == content

    sqs = client("sqs")
    url = aws.root.ref("SendQueue")
    msgs = sqs.receive_message(QueueUrl=url, AttributeNames=["All"], MaxNumberOfMessages=10)["Messages"]
    result = handler("root.DispatcherFunction")({"Records": [_sqs_record(m, aws.root.get_att("SendQueue", "Arn")) for m in msgs]})
    assert result == {"batchItemFailures": []}
    (sent,) = sent_emails()
    assert sent.body == content


def test_small_body_stays_in_the_item(handler, tenant, aws):
    t, _ = tenant
    out = handler("CandidateApi.SendEmailFunction")(api_event("candidate/send_email", tenant_id=t.id, headers={"Idempotency-Key": None}))
    message_id = body(out)["data"]["emailActivityId"]
    from parley.dal import keys, table

    item = table.get(keys.message_pk(t.id, message_id), keys.MESSAGE_SK)
    assert item["body"].startswith("<p>Hi Ada")
    assert "body_ref" not in item
    assert item["created_at"].endswith("Z") and len(item["created_at"]) == len("2026-01-01T00:00:00.000Z")
