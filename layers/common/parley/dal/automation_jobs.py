"""AutomationQueue (SQS): the messaging automation's jobs on their way to AutomationFunction
(parley.domain.automation_jobs)."""

from __future__ import annotations

from parley.dal.aws import client
from parley.settings import get_settings


def send(bodies: list[str], *, delay_seconds: int = 0) -> None:
    """Send each body as one message, 10 per SendMessageBatch; raise when any is not accepted (nothing is lost
    silently: the caller fails and is retried)."""
    sqs = client("sqs")
    url = get_settings().automation_queue_url
    for start in range(0, len(bodies), 10):
        entries = [{"Id": str(i), "MessageBody": body, "DelaySeconds": delay_seconds} for i, body in enumerate(bodies[start : start + 10])]
        failed = sqs.send_message_batch(QueueUrl=url, Entries=entries).get("Failed") or []
        if failed:
            raise RuntimeError(f"AutomationQueue refused {len(failed)} job(s): {failed[0].get('Message', '')}")
