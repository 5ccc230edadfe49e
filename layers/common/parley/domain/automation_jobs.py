"""The messaging automation's jobs (docs/courier.md "Messaging automation", docs/architecture.md).

``queue`` is called by an API function (or a job) after its write commits: the job goes to AutomationQueue.
``handle`` is AutomationFunction's: it runs the job through the module its kind names in ``JOBS``. A module has
``run(job: AutomationJob) -> None``; it must be idempotent (SQS delivers at least once) and resumable (a job killed
halfway runs again from what is stored), and must raise only when the whole job should be retried.

An EventBridge event delivered to AutomationQueue by a rule (announcers: the bus's events) arrives in EventBridge's
envelope; ``parse`` turns it into an ``announce`` job whose ``data`` is the event (``detail-type``, ``source``,
``detail``, …) and whose tenant is ``detail["tenant-id"]`` (the directory bus's spelling).

The modules are imported when their first job runs, never by the API functions (cold start).
"""

from __future__ import annotations

import importlib
import json
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from parley.models.automation_jobs import AutomationJob, Kind

# kind → the module that runs it (each area adds its own; docs/courier.md "Messaging automation")
JOBS: dict[str, str] = {
    "bulk-post": "parley.domain.bulk_messages",
    "operation": "parley.domain.messaging_operations",
    "announce": "parley.domain.announcers",
    "summary-rebuild": "parley.domain.communication_summaries",
}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new(tenant_id: str, kind: Kind, data: dict[str, Any] | None = None, *, job_id: str | None = None) -> AutomationJob:
    """A job with a fresh id (or ``job_id``: a deterministic one makes a re-queue recognisable), stamped now (UTC)."""
    return AutomationJob(tenant_id=tenant_id, kind=kind, id=job_id or str(uuid.uuid4()), at=_now(), data=data or {})


def queue(jobs: AutomationJob | Iterable[AutomationJob], *, delay_seconds: int = 0) -> None:
    """Queue the jobs for AutomationFunction (up to 10 per SendMessageBatch); raise when one is not accepted."""
    from parley.dal import automation_jobs as store

    batch = [jobs] if isinstance(jobs, AutomationJob) else list(jobs)
    if batch:
        store.send([j.model_dump_json(exclude_none=True) for j in batch], delay_seconds=delay_seconds)


def handle(job: AutomationJob) -> None:
    """Run ``job`` through its kind's module."""
    importlib.import_module(JOBS[job.kind]).run(job)


def parse(body: str) -> AutomationJob:
    """A job from a queue message: our own, or an EventBridge event (an ``announce`` job)."""
    raw = json.loads(body)
    if isinstance(raw, dict) and "detail-type" in raw and "detail" in raw:
        detail = raw.get("detail") or {}
        tenant_id = str(detail.get("tenant-id") or detail.get("tenant_id") or "")
        return AutomationJob(
            tenant_id=tenant_id, kind="announce", id=str(raw.get("id") or uuid.uuid4()), at=str(raw.get("time") or _now()), data=raw
        )
    return AutomationJob.model_validate(raw)
