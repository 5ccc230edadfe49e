"""messaging-operations (seed 003): asynchronous organization jobs, type ``move-group`` (docs/courier.md
"Operations: move-group")."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ConfigDict, Field, StringConstraints

from parley.models.base import Model
from parley.models.jsonapi import Attributes, dasherize

TYPE = "messaging-operations"
OPERATION_TYPES = ("move-group",)
STATUSES = ("queued", "running", "completed", "failed")
Id = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")]


class OperationCreateAttributes(Attributes):
    args: dict[str, Any] = Field(default_factory=dict)
    organization_id: Id
    type: Annotated[str, StringConstraints(min_length=1, max_length=64)]


class MoveGroupArgs(Model):
    """``move-group``'s args: the channels bound to ``from-individual-group-id`` are re-homed to
    ``to-individual-group-id`` (both groups of the organization, not the same one)."""

    model_config = ConfigDict(defer_build=True, extra="forbid", alias_generator=dasherize, populate_by_name=True)

    from_individual_group_id: Id
    to_individual_group_id: Id


class OperationAttributes(Attributes):
    """An operation as answered: the seed's eight (``args`` only with ``include-args``, and in the create's answer)."""

    args: dict[str, Any] | None = None
    created_at: str
    created_by: str | None = None
    last_modified_at: str
    logs: dict[str, Any]
    organization_id: str
    status: str
    type: str
