"""ChannelEventsQueue (SQS): the channels' events on their way to ChannelEventsFunction (parley.domain.channel_events)."""

from __future__ import annotations

from parley.dal.aws import client
from parley.settings import get_settings


def send(bodies: list[str]) -> None:
    """Send each body as one message, 10 per SendMessageBatch; raise when any is not accepted (nothing is lost
    silently: the caller's request fails and its client retries)."""
    sqs = client("sqs")
    url = get_settings().channel_events_queue_url
    for start in range(0, len(bodies), 10):
        entries = [{"Id": str(i), "MessageBody": body} for i, body in enumerate(bodies[start : start + 10])]
        failed = sqs.send_message_batch(QueueUrl=url, Entries=entries).get("Failed") or []
        if failed:
            raise RuntimeError(f"ChannelEventsQueue refused {len(failed)} event(s): {failed[0].get('Message', '')}")
