"""Purge jobs (``POST /v1/purge-data/``, seed 003's ``system-purges``; docs/courier.md "purge-data")."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from parley import clock
from parley.models.base import Model
from parley.models.domain import UtcDateTime
from parley.models.jsonapi import Attributes

# Seed: "individual" (its first enum value, the rest collapsed); "user" (a login account, the other person record of the
# courier directory); "candidate" (ours: the person of the candidate, CRM and ATS families).
EntityType = Literal["individual", "user", "candidate"]
RequestId = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")]
Status = Literal["queued", "running", "done", "failed"]


class PurgeRequest(Attributes):
    """The body's attributes (``system-purges``)."""

    entity_type: EntityType
    entity_id: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    archive: bool = Field(default=False, description="Keep the messages, anonymised, instead of deleting them.")
    request_id: RequestId | None = Field(default=None, description="The job's id: the same request-id again is the same job.")
    reference_id: Annotated[str, StringConstraints(max_length=255)] | None = None


class PurgeAttributes(PurgeRequest):
    """A purge job as ``GET /v1/purge-data/{request-id}/`` answers it (an extension: the seed answers the POST with
    ``null`` and has no read). Once it is done, ``entity-id`` is a digest: the job keeps the request, not the person."""

    status: Status
    created_time: str
    finished_time: str | None = None
    counts: dict[str, int] = Field(default_factory=dict, description="Items and objects deleted or anonymised, per store.")
    error: str | None = None


class PurgeJob(Model):
    tenant_id: str
    request_id: str
    request: PurgeRequest
    fingerprint: str  # a digest of the request: another request under the same id is refused
    status: Status
    created_at: UtcDateTime
    started_at: UtcDateTime | None = None
    finished_at: UtcDateTime | None = None
    counts: dict[str, int] = {}
    subject: dict[str, list[str]] | None = None  # the identifiers found, until the job finishes
    error: str | None = None

    def to_item(self) -> dict[str, Any]:
        data = self.model_dump(mode="json", exclude_none=True)
        data["request"] = self.request.model_dump(mode="json", by_alias=True)
        return data

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> PurgeJob:
        return cls.model_validate(item)

    def attributes(self) -> PurgeAttributes:
        return PurgeAttributes(
            **self.request.model_dump(),
            status=self.status,
            created_time=clock.iso(self.created_at),
            finished_time=clock.iso(self.finished_at) if isinstance(self.finished_at, datetime) else None,
            counts=self.counts,
            error=self.error,
        )
