"""The send queue (SQS)."""

from __future__ import annotations

from parley.dal.aws import client
from parley.models.domain import SendJob
from parley.settings import get_settings


def enqueue(job: SendJob) -> None:
    client("sqs").send_message(QueueUrl=get_settings().send_queue_url, MessageBody=job.model_dump_json())
