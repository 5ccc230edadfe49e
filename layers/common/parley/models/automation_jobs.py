"""The messaging automation's jobs (docs/courier.md "Messaging automation"): one ``AutomationJob`` per unit of
asynchronous work, queued on AutomationQueue by the API functions and by jobs themselves
(``parley.domain.automation_jobs.queue``) and run by AutomationFunction (``parley.domain.automation_jobs.handle``)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field

from parley.models.base import Model

Kind = Literal[
    "bulk-post",  # a bulk message's batch of recipients (parley.domain.bulk_messages)
    "operation",  # a step of an organization operation, e.g. move-group (parley.domain.messaging_operations)
    "announce",  # an event on the bus that announcers may answer (parley.domain.announcers)
    "summary-rebuild",  # rebuild an individual's communication summary (parley.domain.communication_summaries)
]


class AutomationJob(Model):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tenant_id: str
    kind: Kind
    id: str  # unique per job (uuid4); a job that runs twice must do its work once (SQS delivers at least once)
    at: str  # ISO-8601 UTC, when it was queued
    # what the job's module needs (each kind documents its keys where it is queued)
    data: dict[str, Any] = Field(default_factory=dict)
