"""An AutomationFunction worker in its own process, for the bulk-message battery (test_battery_bulk.py): Lambda's SQS
event source mapping in a loop (receive, invoke the real handler, delete what succeeded), against the emulator the test
started (AWS_ENDPOINT_URL). Each recipient settled as posted prints ``posted <individual id>`` (after its transaction
committed), so the test can kill this process with SIGKILL in the middle of the posting and count.

    python bulk_worker.py QUEUE_URL QUEUE_ARN VISIBILITY_SECONDS IDLE_SECONDS
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "layers" / "common"), str(ROOT / "local"), str(ROOT / "functions" / "core" / "automation")]


def main() -> None:
    url, arn, visibility, idle = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    from parley.dal import bulk_messages as store
    from parley.dal.aws import client
    from parley_local.workers import _sqs_record

    inner = store.settle

    def counted(tenant_id, bulk_id, recipient, state, fields):
        done = inner(tenant_id, bulk_id, recipient, state, fields)
        if done and state == "posted":
            print(f"posted {recipient['individual_id']}", flush=True)
        return done

    store.settle = counted
    import app  # functions/core/automation/app.py

    class Context:
        function_name, memory_limit_in_mb, aws_request_id = "AutomationFunction", 256, "local"
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:AutomationFunction"

        def get_remaining_time_in_millis(self) -> int:
            return 60_000

    sqs = client("sqs")
    quiet_since = time.monotonic()
    while time.monotonic() - quiet_since < idle:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2, VisibilityTimeout=visibility, AttributeNames=["All"],
                                  WaitTimeSeconds=1).get("Messages", [])  # fmt: skip
        if not got:
            continue
        out = app.lambda_handler({"Records": [_sqs_record(m, arn) for m in got]}, Context())
        failed = {f["itemIdentifier"] for f in out["batchItemFailures"]}
        done = [m for m in got if m["MessageId"] not in failed]
        if done:
            sqs.delete_message_batch(
                QueueUrl=url, Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(done)]
            )
        quiet_since = time.monotonic()
    print("idle", flush=True)


if __name__ == "__main__":
    main()
