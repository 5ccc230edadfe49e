"""Multicasts (seed 003, docs/courier.md "Multicasts"): a CRM template rendered per recipient and fanned out as user
notifications. Four entry points, one pipeline (``parley.domain.multicasts``):

- ``multicasts`` (JSON:API): an organization's audience by ``filter-type`` + ``filter-value``;
- ``user-multicasts`` (flat body): ``individual-ids`` and/or ``individual-group-ids``; its list = received per individual;
- ``users/{id}/multicast``, ``individuals/{id}/multicast`` (flat bodies): one recipient;
- ``users/{id}/validate-multicast-params`` (flat body): a dry run → ``{success, info}``.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ConfigDict, Field, StringConstraints

from parley.models.base import Model
from parley.models.courier_directory import Id
from parley.models.jsonapi import Attributes, dasherize

TYPE = "multicasts"
USER_TYPE = "user-multicasts"
MAX_IDS = 1_000  # individual-ids in one request (and individual-group-ids: 100)
MAX_GROUPS = 100

TemplateId = Annotated[str, StringConstraints(min_length=1, max_length=255)]
IdList = Annotated[list[Id], Field(min_length=1, max_length=MAX_IDS)]


class MulticastCreate(Attributes):
    """``POST /v1/multicasts/``: the seed's attributes. ``template-id`` is required here (nothing can be sent without
    it); ``data`` is the template's variables."""

    data: dict[str, Any]
    template_id: TemplateId | None = None
    filter_type: Annotated[str, StringConstraints(min_length=1, max_length=64)] = "all-participants"
    filter_value: dict[str, Any] = Field(default_factory=dict)
    organization_id: Id | None = None


class IndividualRef(Attributes):
    id: str
    first_name: str | None = None
    last_name: str | None = None
    preferred_name: str | None = None
    name: str | None = None
    birth_date: str | None = None
    owner: dict[str, Any] | None = None
    verified: bool | None = None


class LeaderRef(Attributes):
    id: str
    first_name: str | None = None
    last_name: str | None = None


class IndividualGroup(Attributes):
    """``individual-group`` as the seed shows it (with ``include-individual-group=true``)."""

    individual_ids: list[str] = Field(default_factory=list)
    individuals: list[IndividualRef] = Field(default_factory=list)
    individuals_count: int = 0
    leader_ids: list[str] = Field(default_factory=list)
    leaders: list[LeaderRef] = Field(default_factory=list)
    name: str | None = None
    organization_id: str | None = None


class Progress(Attributes):
    """Ours: how far the fan-out got (the seed shows only ``status``)."""

    audience: int = Field(0, description="Individuals (or users) the audience resolved to so far.")
    notified: int = Field(0, description="Recipients a notification was created for.")
    skipped: int = Field(0, description="Recipients without a user to notify (an individual without owner, an unknown user).")
    failed: int = Field(0, description="Recipients whose notification could not be made (e.g. the template could not render).")


class MulticastAttributes(Attributes):
    """The seed's multicasts attributes, plus ``kind`` and ``progress`` (ours)."""

    created_at: str
    created_by: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    first_name: str | None = None
    last_name: str | None = None
    user_name: str | None = None
    individual_group: IndividualGroup | None = None
    individual_group_id: str | None = None
    individual_id: str | None = None
    individual_ids: list[str] | None = None
    status: str
    template_args: dict[str, Any] = Field(default_factory=dict)
    template_id: str
    kind: str = Field(description="Ours: which entry point made it (multicasts, user-multicasts, user, individual).")
    filter_type: str | None = None
    filter_value: dict[str, Any] | None = None
    organization_id: str | None = None
    progress: Progress


class UserMulticastAttributes(Attributes):
    """One received multicast (``GET /v1/user-multicasts/``): the seed's attributes, plus ``status`` (ours: the
    recipient's outcome)."""

    created_at: str
    individual_id: str
    organization_id: str | None = None
    template_data: dict[str, Any] = Field(default_factory=dict)
    template_id: str
    status: str | None = None


class _Flat(Model):
    model_config = ConfigDict(alias_generator=dasherize, populate_by_name=True, extra="forbid", serialize_by_alias=True)


class UserMulticastCreate(_Flat):
    """``POST /v1/user-multicasts/`` (a flat body, not JSON:API)."""

    template_id: TemplateId
    template_data: dict[str, Any]
    individual_ids: IdList | None = None
    individual_group_ids: Annotated[list[Id], Field(min_length=1, max_length=MAX_GROUPS)] | None = None
    organization_id: Id | None = None


class IndividualMulticast(_Flat):
    """``POST /v1/individuals/{id}/multicast/``."""

    template_id: TemplateId
    template_data: dict[str, Any]
    organization_id: Id | None = None


class UserMulticast(_Flat):
    """``POST /v1/users/{id}/multicast/``: ``data`` optional (a template without variables needs none)."""

    template_id: TemplateId
    data: dict[str, Any] = Field(default_factory=dict)
    individual_id: Id | None = None
    organization_id: Id | None = None


class ValidateMulticastParams(_Flat):
    """``POST /v1/users/{id}/validate-multicast-params/``: every member required, as the seed says."""

    template_id: TemplateId
    data: dict[str, Any]
    individual_id: Id
    organization_id: Id


class TaskAnswer(_Flat):
    """The 201 of the three flat entry points: the multicast's id (``GET /v1/multicasts/{task-id}/``) and what the
    template rendered to with the request's data alone (``message-data``: subject, text, html; per recipient the
    ``recipient.*`` variables are filled in as well)."""

    task_id: str
    message_data: dict[str, Any]


class ValidationAnswer(_Flat):
    success: bool
    info: str
