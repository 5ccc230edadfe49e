"""The texts' signed-callback plumbing outside the table: the delivery queue (SQS) and each tenant's signing secret
(Secrets Manager, ``parley/texting/<tenant>/callback-signing``, made on first use)."""

from __future__ import annotations

import json
import secrets as random
import time
from typing import Any

from parley.dal.aws import client
from parley.settings import get_settings

_SECRETS: dict[str, tuple[float, str]] = {}
CACHE_SECONDS = 300


def secret_name(tenant_id: str) -> str:
    return f"parley/texting/{tenant_id}/callback-signing"


def signing_secret(tenant_id: str) -> str:
    """The tenant's callback-signing secret (``whsec_…``), created when it has none yet; cached for 5 minutes."""
    cached = _SECRETS.get(tenant_id)
    if cached and cached[0] > time.monotonic():
        return cached[1]
    sm = client("secretsmanager")
    name = secret_name(tenant_id)
    try:
        value = json.loads(sm.get_secret_value(SecretId=name)["SecretString"])["secret"]
    except sm.exceptions.ResourceNotFoundException:
        value = "whsec_" + random.token_urlsafe(32)
        try:
            sm.create_secret(Name=name, SecretString=json.dumps({"secret": value}))
        except sm.exceptions.ResourceExistsException:  # made meanwhile by another function: that one is the secret
            value = json.loads(sm.get_secret_value(SecretId=name)["SecretString"])["secret"]
    _SECRETS[tenant_id] = (time.monotonic() + CACHE_SECONDS, value)
    return value


def enqueue(job: dict[str, Any], *, delay_seconds: int = 0) -> None:
    extra = {"DelaySeconds": delay_seconds} if delay_seconds else {}
    client("sqs").send_message(QueueUrl=get_settings().text_callback_queue_url, MessageBody=json.dumps(job), **extra)


def back_off(receipt_handle: str, seconds: int) -> None:
    """Make a failed job visible again in ``seconds`` (the retry's backoff), not after the queue's visibility timeout."""
    client("sqs").change_message_visibility(
        QueueUrl=get_settings().text_callback_queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=max(0, min(seconds, 43_200))
    )
