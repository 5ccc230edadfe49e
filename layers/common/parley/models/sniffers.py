"""The courier admin API's sniffers (seed 003: ``sniffers``, ``sniffer-logs``; ``parley.domain.sniffers``)."""

from __future__ import annotations

from pydantic import Field

from parley.models.courier_directory import Id, Timestamp
from parley.models.jsonapi import Attributes


class NewSnifferAttributes(Attributes):
    """``POST /v1/sniffers/``: whose traffic, until when (both required: they define the sniffer, reading §12.5)."""

    user_id: Id
    valid_until: Timestamp


class SnifferAttributes(Attributes):
    created_time: str
    user_id: str
    valid_until: str


class SnifferLogAttributes(Attributes):
    """One recorded request and its response. ``content_type`` keeps the seed's underscore (every other member is
    dasherized): the request's ``Content-Type``."""

    body: str
    content_type: str = Field(alias="content_type")
    created_time: str
    message: str
    method: str
    path: str
    query_string: str
    request_id: str
    response: str
    status_code: int
    trace_id: str
    user_agent: str
