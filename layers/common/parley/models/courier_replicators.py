"""Courier replicators (seed 003, ``courier.replicators.*``): the pollers that pull the directory from an upstream
JSON:API service into the tenant's directory (docs/courier.md "Replicators"). The admin API answers the seed's three
attributes; the configuration behind them (``Replicator``) is the operator's, made by ``python -m parley.admin
create-replicator``."""

from __future__ import annotations

from pydantic import ConfigDict

from parley.models.base import Model
from parley.models.jsonapi import Attributes


class ReplicatorAttributes(Attributes):
    """What ``GET /v1/replicators/`` answers: the seed's attributes. ``classpath`` names what polls (Parley's poller and
    the entity type it replicates, ``parley.replicators.jsonapi/<type>``); ``last-poll-time`` is null until a poll
    has succeeded."""

    classpath: str | None = None
    created_time: str | None = None
    last_poll_time: str | None = None


class Replicator(Model):
    """One tenant's replicator, as stored (``dal/replicators``)."""

    model_config = ConfigDict(extra="ignore")

    tenant_id: str
    replicator_id: str
    entity_type: str
    url: str  # the upstream's JSON:API collection, e.g. https://platform.example/v1/users/
    secret_name: str | None = None  # a Secrets Manager JSON secret {"token": …}: sent as a bearer token
    every_minutes: int
    created_time: str
    last_poll_time: str | None = None
    last_attempt_time: str | None = None
    last_error: str | None = None
    schedule_name: str

    @property
    def classpath(self) -> str:
        return f"parley.replicators.jsonapi/{self.entity_type}"

    def attributes(self) -> ReplicatorAttributes:
        return ReplicatorAttributes(classpath=self.classpath, created_time=self.created_time, last_poll_time=self.last_poll_time)
