"""messaging-plugins (seed 003, the courier messaging domain): an organization's installed integrations, expanded in a
channel into message text (docs/courier.md "Messaging automation and scale (issue 19)" → "Plugins")."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ConfigDict, StringConstraints

from parley.models.base import Model
from parley.models.courier_directory import Id
from parley.models.jsonapi import Attributes, dasherize

TYPE = "messaging-plugins"
PLUGIN_TYPES = ("template", "webhook")

Name = Annotated[str, StringConstraints(min_length=4, max_length=15, pattern=r"^[a-z0-9]+$")]
PluginType = Annotated[str, StringConstraints(min_length=1, max_length=255)]  # the domain checks it is one we ship (422)


class PluginCreateAttributes(Attributes):
    """A new plugin: ``name``, ``type``, ``args`` and ``organization-id``, all required (checked by the domain, 422
    naming the attribute; the seed's flags are not visible)."""

    args: dict[str, Any] | None = None
    name: Name | None = None
    organization_id: Id | None = None
    type: PluginType | None = None


class PluginPatchAttributes(Attributes):
    """PATCH: ``args``, ``name``, ``type`` (the seed); an absent attribute is kept."""

    args: dict[str, Any] | None = None
    name: Name | None = None
    type: PluginType | None = None


class PluginAttributes(Attributes):
    """A plugin as answered (the seed's nine attributes). A webhook's ``args.secret`` is never answered."""

    args: dict[str, Any]
    created_at: str
    created_by: str | None = None
    enabled: bool
    last_modified_at: str
    last_modified_by: str | None = None
    name: str
    organization_id: str
    type: str


class ExpandBody(Model):
    """``expand``'s plain body: ``channel-id`` (required) and the acting ``individual-id`` (optional, ours)."""

    model_config = ConfigDict(extra="forbid", alias_generator=dasherize, populate_by_name=True)

    channel_id: Id
    individual_id: Id | None = None


class ExpandAnswer(Model):
    """``expand``'s plain answer: ``{message}``."""

    message: str


class EmptyBody(Model):
    """enable/disable: the seed sends ``{}``; ``individual-id`` is not needed (a plugin is the organization's)."""

    model_config = ConfigDict(extra="forbid")
