"""The send queue and the purge queue (SQS)."""

from __future__ import annotations

import json
from typing import Any

from parley.dal.aws import client
from parley.models.domain import SendJob
from parley.settings import get_settings


def enqueue(job: SendJob, *, delay_seconds: int = 0) -> None:
    extra = {"DelaySeconds": delay_seconds} if delay_seconds else {}
    client("sqs").send_message(QueueUrl=get_settings().send_queue_url, MessageBody=job.model_dump_json(), **extra)


def enqueue_many(jobs: list[SendJob], *, delays: list[int] | None = None) -> list[SendJob]:
    """Several jobs, 10 per SendMessageBatch (``delays``: each job's DelaySeconds). Returns the jobs SQS refused
    (the rest are queued)."""
    refused: list[SendJob] = []
    url = get_settings().send_queue_url
    for i in range(0, len(jobs), 10):
        chunk = jobs[i : i + 10]
        entries = [{"Id": str(n), "MessageBody": job.model_dump_json()} for n, job in enumerate(chunk)]
        if delays is not None:
            for entry, delay in zip(entries, delays[i : i + 10], strict=True):
                if delay:
                    entry["DelaySeconds"] = delay
        out = client("sqs").send_message_batch(QueueUrl=url, Entries=entries)
        refused.extend(chunk[int(f["Id"])] for f in out.get("Failed", []))
    return refused


def enqueue_purge(step: dict[str, Any], *, delay_seconds: int = 0) -> None:
    """One step of a purge job (``domain/purge.py``) for PurgeFunction."""
    extra = {"DelaySeconds": delay_seconds} if delay_seconds else {}
    client("sqs").send_message(QueueUrl=get_settings().purge_queue_url, MessageBody=json.dumps(step), **extra)
