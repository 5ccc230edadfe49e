"""The provider events queue (SQS): verified webhook payloads waiting to be applied by ProviderEventsFunction."""

from __future__ import annotations

from parley.dal.aws import client
from parley.settings import get_settings

# SQS limits: a message and a whole SendMessageBatch call each carry at most 256 KiB, 10 entries per call.
MAX_MESSAGE_BYTES = 256 * 1024
MAX_BATCH_BYTES = 256 * 1024
MAX_BATCH_ENTRIES = 10


class QueueError(RuntimeError):
    """SQS refused some messages: the webhook must not be acknowledged (the provider retries it)."""


def _batches(bodies: list[str]) -> list[list[str]]:
    out: list[list[str]] = []
    size = 0
    for body in bodies:
        n = len(body.encode("utf-8"))
        if n > MAX_MESSAGE_BYTES:
            raise ValueError(f"a provider events message of {n} bytes exceeds SQS's {MAX_MESSAGE_BYTES}")
        if not out or len(out[-1]) >= MAX_BATCH_ENTRIES or size + n > MAX_BATCH_BYTES:
            out.append([])
            size = 0
        out[-1].append(body)
        size += n
    return out


def send(bodies: list[str]) -> int:
    """Queue every body (SendMessageBatch, packed to SQS's limits). Entries SQS refuses are sent once more;
    if any is still refused, ``QueueError`` (some may be queued: the consumer is idempotent, so the
    provider's retry of the whole webhook is safe). Returns the number of SendMessageBatch calls."""
    url = get_settings().provider_events_queue_url
    if not url:
        raise QueueError("PROVIDER_EVENTS_QUEUE_URL is not set")
    sqs = client("sqs")
    calls = 0
    for batch in _batches(bodies):
        pending = dict(enumerate(batch))
        for _attempt in range(2):
            out = sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": b} for i, b in pending.items()])
            calls += 1
            pending = {int(f["Id"]): pending[int(f["Id"])] for f in out.get("Failed", [])}
            if not pending:
                break
        if pending:
            raise QueueError(f"SQS refused {len(pending)} provider events message(s)")
    return calls
