"""JSON:API documents of the courier API (seed 003), as pydantic models: the attribute names are dasherized by an
alias generator (``last_sync_time`` ↔ ``last-sync-time``), never written by hand.

- single: ``{"data": {"id", "type", "attributes"}, "meta": {}}``
- list:   ``{"data": [{"id", "type", "attributes"}, …], "meta": {"page[total]", "page[limit]", "page[offset]"}}``
- errors: ``{"errors": [{"status": 404, "code", "detail", "source": {"pointer" | "parameter"}, "meta"}]}``
  (seed 003's error object: ``status`` is an integer)
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from parley.models.base import Model

MEDIA_TYPE = "application/vnd.api+json"


def dasherize(name: str) -> str:
    """``primary_individual_id`` → ``primary-individual-id`` (JSON:API member names, as the seed spells them)."""
    return name.replace("_", "-")


class Attributes(Model):
    """The ``attributes`` of one resource type: snake_case in Python, dasherized on the wire. Unknown attributes are
    refused (``extra="forbid"``), so a request naming one gets a 400 with its pointer."""

    model_config = ConfigDict(alias_generator=dasherize, populate_by_name=True, extra="forbid", serialize_by_alias=True)


class Resource[A: Attributes](Model):
    id: str
    type: str
    attributes: A


class Document[A: Attributes](Model):
    """A single resource."""

    data: Resource[A]
    meta: dict[str, Any] = Field(default_factory=dict)


class NewResource[A: Attributes](Model):
    """A resource in a request body: ``id`` only where the path names it (PATCH: it must equal the path's id)."""

    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(default=None, max_length=128)
    type: str = Field(max_length=64)
    attributes: A


class RequestDocument[A: Attributes](Model):
    """A request body: ``{"data": {"type", "id"?, "attributes"}, "meta"?}``; unknown members are refused (400 with
    their pointer)."""

    model_config = ConfigDict(extra="forbid")

    data: NewResource[A]
    meta: dict[str, Any] | None = None


class PageMeta(Model):
    """Every list's ``meta``: the total the filters match, and the page asked for."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    total: int = Field(alias="page[total]", ge=0)
    limit: int = Field(alias="page[limit]", ge=0)
    offset: int = Field(alias="page[offset]", ge=0)


class ListDocument[A: Attributes](Model):
    data: list[Resource[A]]
    meta: PageMeta


class ErrorSource(Model):
    pointer: str | None = Field(default=None, description="A JSON Pointer to the body member at fault, e.g. `/data/attributes/name`.")
    parameter: str | None = Field(default=None, description="The query parameter at fault, e.g. `page[limit]`.")


class ErrorObject(Model):
    status: int = Field(description="The HTTP status, as an integer.", examples=[404])
    code: str = Field(description="A stable, machine-readable reason.", examples=["not-found"])
    detail: str = Field(description="What went wrong, for a person.")
    source: ErrorSource | None = None
    meta: dict[str, Any] | None = None


class ErrorDocument(Model):
    errors: list[ErrorObject]
