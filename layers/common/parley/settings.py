"""Environment configuration, parsed once per cold start into a typed model."""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import BaseModel, Field


class Settings(BaseModel):
    table_name: str = Field(alias="TABLE_NAME")
    body_bucket: str = Field(default="", alias="BODY_BUCKET")
    send_queue_url: str = Field(default="", alias="SEND_QUEUE_URL")
    send_queue_arn: str = Field(default="", alias="SEND_QUEUE_ARN")
    send_dlq_arn: str = Field(default="", alias="SEND_DLQ_ARN")
    # The dead-letter queues, for the operator's `python -m parley.admin dlq` (parley.domain.dead_letters.QUEUES).
    send_dlq_url: str = Field(default="", alias="SEND_DLQ_URL")
    ses_events_dlq_url: str = Field(default="", alias="SES_EVENTS_DLQ_URL")
    inbound_mail_dlq_url: str = Field(default="", alias="INBOUND_MAIL_DLQ_URL")
    provider_events_dlq_url: str = Field(default="", alias="PROVIDER_EVENTS_DLQ_URL")
    tally_dlq_url: str = Field(default="", alias="TALLY_DLQ_URL")
    directory_events_dlq_url: str = Field(default="", alias="DIRECTORY_EVENTS_DLQ_URL")
    purge_dlq_url: str = Field(default="", alias="PURGE_DLQ_URL")
    multicast_dlq_url: str = Field(default="", alias="MULTICAST_DLQ_URL")
    schedule_group: str = Field(default="", alias="SCHEDULE_GROUP_NAME")
    # courier replicators (docs/courier.md "Replicators"): their schedules' group and the poller they invoke
    replicator_schedule_group: str = Field(default="", alias="REPLICATOR_SCHEDULE_GROUP_NAME")
    replicator_function_arn: str = Field(default="", alias="REPLICATOR_FUNCTION_ARN")
    scheduler_role_arn: str = Field(default="", alias="SCHEDULER_ROLE_ARN")
    # Attempts the dispatcher makes before a message is FAILED; equals the queue's maxReceiveCount.
    max_send_attempts: int = Field(default=5, alias="MAX_SEND_ATTEMPTS")
    # Receives of a message by an SQS consumer before its queue's redrive policy moves it to the dead-letter queue
    # (its maxReceiveCount): the last one records why it failed (``dal/dead_letters``). The dispatcher's is
    # max_send_attempts.
    max_receive_count: int = Field(default=5, alias="MAX_RECEIVE_COUNT")
    # A SENDING claim older than this is an interrupted attempt (crash after/while calling the provider).
    send_claim_seconds: int = Field(default=120, alias="SEND_CLAIM_SECONDS")
    # A provider's acceptance whose SENT write could not be made in the invocation is queued as a receipt
    # job this many seconds later (time for the table to recover), which then writes it.
    receipt_delay_seconds: int = Field(default=30, alias="RECEIPT_DELAY_SECONDS")
    # The sweeper re-queues a message still waiting this long after it was due (its job or schedule was lost).
    sweep_after_seconds: int = Field(default=600, alias="SWEEP_AFTER_SECONDS")
    idempotency_ttl_seconds: int = Field(default=86400, alias="IDEMPOTENCY_TTL_SECONDS")
    # Inbound email: raw mail (SES receiving) and raw Inbound Parse posts, and the queue of what to parse.
    inbound_bucket: str = Field(default="", alias="INBOUND_BUCKET")
    inbound_queue_url: str = Field(default="", alias="INBOUND_QUEUE_URL")
    ses_configuration_set: str = Field(default="", alias="SES_CONFIGURATION_SET")
    # Verified provider webhooks waiting to be applied (SendGrid event chunks, Twilio callbacks).
    provider_events_queue_url: str = Field(default="", alias="PROVIDER_EVENTS_QUEUE_URL")
    # Purge (GDPR erasure) jobs: POST /v1/purge-data/ queues them, PurgeFunction runs them (domain/purge.py).
    purge_queue_url: str = Field(default="", alias="PURGE_QUEUE_URL")
    # Multicast fan-out jobs (docs/courier.md "Multicasts"): the multicast routes queue them, MulticastFunction runs them.
    multicast_queue_url: str = Field(default="", alias="MULTICAST_QUEUE_URL")
    twilio_api_url: str = Field(default="https://api.twilio.com", alias="TWILIO_API_URL")
    # Twilio posts delivery states here (?tenant=<tenant id> is appended); "" = no status callbacks.
    twilio_status_callback_url: str = Field(default="", alias="TWILIO_STATUS_CALLBACK_URL")
    # courier texts' signed callbacks (docs/courier.md "Texts, replies and consents"): their queue, and the host:port
    # pairs exempt from the private-address refusal (the local stack's test receivers only; never set when deployed)
    text_callback_queue_url: str = Field(default="", alias="TEXT_CALLBACK_QUEUE_URL")
    text_callback_allow: str = Field(default="", alias="TEXT_CALLBACK_ALLOW")
    text_callback_dlq_url: str = Field(default="", alias="TEXT_CALLBACK_DLQ_URL")
    # what follows a write to a courier channel (parley.domain.channel_events): its queue and dead letters
    channel_events_queue_url: str = Field(default="", alias="CHANNEL_EVENTS_QUEUE_URL")
    channel_events_dlq_url: str = Field(default="", alias="CHANNEL_EVENTS_DLQ_URL")
    # the messaging automation's jobs (parley.domain.automation_jobs): its queue and dead letters
    automation_queue_url: str = Field(default="", alias="AUTOMATION_QUEUE_URL")
    automation_dlq_url: str = Field(default="", alias="AUTOMATION_DLQ_URL")
    # the courier events bus (parley.domain.courier_events): what announcers answer; empty = emit nothing (docs/courier.md)
    courier_events_bus_name: str = Field(default="", alias="COURIER_EVENTS_BUS_NAME")
    # the thumbnails of attached images (functions/core/thumbnails): its dead letters
    thumbnails_dlq_url: str = Field(default="", alias="THUMBNAILS_DLQ_URL")
    sendgrid_api_url: str = Field(default="https://api.sendgrid.com", alias="SENDGRID_API_URL")
    # Base of the CRM's tracking URLs in emails; "" = the URL the CRM API was called at.
    crm_public_url: str = Field(default="", alias="CRM_PUBLIC_URL")
    # live updates (docs/courier.md "Live updates"): the WebSocket API's management endpoint
    # (https://<api id>.execute-api.<region>.amazonaws.com/<stage>); "" = no live updates are posted
    websocket_management_url: str = Field(default="", alias="WEBSOCKET_MANAGEMENT_URL")
    # Per-tenant limits (docs/architecture.md §6.4): the defaults of a tenant whose own setting is 0.
    # Send/schedule requests per second and messages accepted per UTC day (beyond: 429 with Retry-After) …
    tenant_send_rate_limit: int = Field(default=50, ge=1, alias="TENANT_SEND_RATE_LIMIT")
    tenant_daily_send_quota: int = Field(default=10_000, ge=1, alias="TENANT_DAILY_SEND_QUOTA")
    # … and messages per second the dispatcher hands a tenant's provider (paced beyond): SES's default
    # production sending rate is 14 per second.
    tenant_provider_rate_limit: int = Field(default=14, ge=1, alias="TENANT_PROVIDER_RATE_LIMIT")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.model_validate(dict(os.environ))
