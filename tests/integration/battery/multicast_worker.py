"""A MulticastFunction worker in its own process, for the multicast battery (test_battery_multicast.py): Lambda's SQS
event source mapping in a loop (receive up to 10, invoke the real handler, delete what succeeded), against the emulator
the test started (AWS_ENDPOINT_URL), with the real notify() (parley.domain.notifications: push, SMS, email); each call
that returns prints ``notified <user id>``, so the test can kill this process with SIGKILL in the middle of the fan-out
and count the calls.

    python multicast_worker.py QUEUE_URL QUEUE_ARN VISIBILITY_SECONDS IDLE_SECONDS
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "layers" / "common"), str(ROOT / "local"), str(ROOT / "functions" / "core" / "multicast")]


def main() -> None:
    url, arn, visibility, idle = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    from parley.dal.aws import client
    from parley.domain import multicasts
    from parley_local.workers import _sqs_record

    inner = multicasts._notify

    def counted(tenant_id, **kw):
        out = inner(tenant_id, **kw)
        print(f"notified {kw['user_id']}", flush=True)
        return out

    multicasts._notify = counted
    import app  # functions/core/multicast/app.py

    class Context:
        function_name, memory_limit_in_mb, aws_request_id = "MulticastFunction", 256, "local"
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:MulticastFunction"

        def get_remaining_time_in_millis(self) -> int:
            return 90_000

    sqs = client("sqs")
    quiet_since = time.monotonic()
    while time.monotonic() - quiet_since < idle:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=5, VisibilityTimeout=visibility, AttributeNames=["All"],
                                  WaitTimeSeconds=1).get("Messages", [])  # fmt: skip
        if not got:
            continue
        quiet_since = time.monotonic()
        for i in range(0, len(got), 5):  # the event source's BatchSize (template.yaml): one invocation per receive
            chunk = got[i : i + 5]
            out = app.lambda_handler({"Records": [_sqs_record(m, arn) for m in chunk]}, Context())
            failed = {f["itemIdentifier"] for f in out["batchItemFailures"]}
            done = [m for m in chunk if m["MessageId"] not in failed]
            if done:
                sqs.delete_message_batch(
                    QueueUrl=url, Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(done)]
                )
        quiet_since = time.monotonic()  # idle counts from the end of the work, not its start (an invocation may be long)
    print("idle", flush=True)


if __name__ == "__main__":
    main()
