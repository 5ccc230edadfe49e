"""The courier automation API (seed 003): messaging-plugins, an organization's installed integrations expanded in a
channel into message text (docs/courier.md "Messaging automation and scale (issue 19)" → "Plugins").

- GET /v1/messaging-plugins/ — the organization's plugins (``organization-id`` required; ``filter[name]``, ``filter[type]``)
- POST /v1/messaging-plugins/ — install one (``name`` 4 to 15 of ``[a-z0-9]``, unique in the organization; ``type``
  ``template`` | ``webhook``; ``args``)
- GET /v1/messaging-plugins/{id}/ — one
- PATCH /v1/messaging-plugins/{id}/ — ``args``, ``name``, ``type``
- POST /v1/messaging-plugins/{id}/enable/ and /disable/ — ``enabled``
- POST /v1/messaging-plugins/{id}/expand/ — ``{channel-id}`` → ``{message}``

A plugin is the organization's: any caller of the tenant may manage it; another tenant's id is a 404.
"""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from parley.api import jsonapi
from parley.api.courier import SAMPLE, courier_caller
from parley.api.endpoint import Api, Example
from parley.domain import plugins
from parley.models.jsonapi import RequestDocument
from parley.models.messaging_plugins import (
    TYPE,
    EmptyBody,
    ExpandAnswer,
    ExpandBody,
    PluginAttributes,
    PluginCreateAttributes,
    PluginPatchAttributes,
)

api = Api("courier_automation", tags=["Messaging plugins"], example=SAMPLE)

Limit = jsonapi.page_limit()
ResourceId = Annotated[str, Path(min_length=1, max_length=128, description="Resource identifier")]
OrganizationId = Annotated[
    str, Query(alias="organization-id", min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$", description="The organization.")
]
NameFilter = Annotated[
    str | None,
    Query(alias="filter[name]", min_length=4, max_length=15, pattern=r"^[a-z0-9]+$", description="Only the plugin of this name."),
]
TypeFilter = Annotated[str | None, Query(alias="filter[type]", min_length=1, max_length=255, description="Only plugins of this type.")]
SAMPLE_ORG = "33333333-3333-3333-3333-333333333333"
SAMPLE_CHANNEL = "44444444-4444-4444-4444-444444444444"


@api.get(
    "/v1/messaging-plugins",
    responses={200: jsonapi.list_doc(PluginAttributes, "A page of the organization's plugins, in creation order.")},
    errors=(404, 422),
    example=Example(query={"organization-id": SAMPLE_ORG}),
)
def list_messaging_plugins(
    organization_id: OrganizationId,
    name: NameFilter = None,
    type: TypeFilter = None,
    limit: Limit = jsonapi.DEFAULT_LIMIT,
    offset: jsonapi.PageOffset = 0,
) -> Response[str]:
    """List the organization's messaging plugins

    In creation order; `filter[name]` (exact) and `filter[type]` narrow it. `meta` carries `page[total]`,
    `page[limit]` and `page[offset]`. 404 when the organization is not the tenant's.
    """
    who = courier_caller(api)
    items, total = plugins.page(who.tenant_id, organization_id, name=name, plugin_type=type, offset=offset, limit=limit)
    return jsonapi.listing(TYPE, items, PluginAttributes, total=total, limit=limit, offset=offset)


@api.post(
    "/v1/messaging-plugins",
    responses={201: jsonapi.single_doc(PluginAttributes, "The plugin, enabled.")},
    access=("table:write",),
    errors=(404, 409, 422),
    example=Example(
        body={
            "data": {
                "type": TYPE,
                "attributes": {
                    "name": "weather",
                    "type": "webhook",
                    "organization-id": SAMPLE_ORG,
                    "args": {"url": "https://example.com/hook"},
                },
            }
        }
    ),
)
def create_messaging_plugin(body: RequestDocument[PluginCreateAttributes]) -> Response[str]:
    """Install a messaging plugin

    `name` (4 to 15 of `a-z0-9`, unique in the organization: 409 otherwise), `organization-id` (the tenant's: 404
    otherwise), `type` and `args`, all required. Types: `template` with `args {template-id}` (one of the tenant's
    templates: its text body, rendered with the channel and the caller, is the message) and `webhook` with
    `args {url, secret?}` (a signed POST whose answer `{message}` or text is the message; `secret` is write-only,
    16 to 256 printable characters; without it the tenant's callback-signing secret signs). Any other type is a 422.
    A new plugin is enabled.
    """
    who = courier_caller(api)
    attrs = jsonapi.attributes_of(body, TYPE)
    return jsonapi.single(TYPE, *plugins.create(who.tenant_id, attrs, user_id=who.user_id), status=201)


@api.get("/v1/messaging-plugins/<id>", responses={200: jsonapi.single_doc(PluginAttributes, "The plugin.")}, errors=(404,))
def get_messaging_plugin(id: ResourceId) -> Response[str]:
    """Get one plugin

    404 when the tenant has no such plugin (another tenant's included). A webhook's `secret` is never answered.
    """
    who = courier_caller(api)
    return jsonapi.single(TYPE, *plugins.get(who.tenant_id, id))


@api.route(
    "PATCH",
    "/v1/messaging-plugins/<id>",
    responses={200: jsonapi.single_doc(PluginAttributes, "The plugin as changed.")},
    access=("table:write",),
    errors=(404, 409, 422),
    example=Example(body={"data": {"type": TYPE, "id": SAMPLE.path["id"], "attributes": {"name": "forecast"}}}),
)
def update_messaging_plugin(id: ResourceId, body: RequestDocument[PluginPatchAttributes]) -> Response[str]:
    """Modify a plugin

    `name` (409 when another plugin of the organization has it), `type` and `args` (checked as at create; a new
    `type` needs its `args`). An absent attribute is kept; a webhook's stored `secret` is kept unless `args` names
    `secret` (`null` removes it). `data.id` must be the path's id (409).
    """
    who = courier_caller(api)
    attrs = jsonapi.attributes_of(body, TYPE, id)
    return jsonapi.single(TYPE, *plugins.update(who.tenant_id, id, attrs, user_id=who.user_id))


@api.post(
    "/v1/messaging-plugins/<id>/disable",
    responses={201: jsonapi.single_doc(PluginAttributes, "The plugin, disabled.")},
    access=("table:write",),
    errors=(404,),
    example=Example(body={}),
)
def disable_messaging_plugin(id: ResourceId, body: EmptyBody) -> Response[str]:
    """Disable a plugin

    `enabled` becomes false: `expand` answers 409 until it is enabled again. Idempotent.
    """
    who = courier_caller(api)
    return jsonapi.single(TYPE, *plugins.set_enabled(who.tenant_id, id, False, user_id=who.user_id), status=201)


@api.post(
    "/v1/messaging-plugins/<id>/enable",
    responses={201: jsonapi.single_doc(PluginAttributes, "The plugin, enabled.")},
    access=("table:write",),
    errors=(404,),
    example=Example(body={}),
)
def enable_messaging_plugin(id: ResourceId, body: EmptyBody) -> Response[str]:
    """Enable a plugin

    `enabled` becomes true. Idempotent.
    """
    who = courier_caller(api)
    return jsonapi.single(TYPE, *plugins.set_enabled(who.tenant_id, id, True, user_id=who.user_id), status=201)


@api.post(
    "/v1/messaging-plugins/<id>/expand",
    responses={201: {"description": "The message (plain JSON).", "content": {"application/json": {"model": ExpandAnswer}}}},
    access=("table:read", "texting-secrets"),
    errors=(404, 409, 422, 502),
    example=Example(body={"channel-id": SAMPLE_CHANNEL}),
)
def expand_messaging_plugin(id: ResourceId, body: ExpandBody) -> Response[str]:
    """Expand a plugin in a channel

    Answers `{"message": …}` (plain JSON) for the composer; nothing is posted. The acting individual
    (`individual-id` in the body, else the user's primary individual) must be a member of `channel-id` (404
    otherwise, as for an unknown channel); a channel of another organization than the plugin's is a 422; a disabled
    plugin is a 409. A `template` plugin renders its template with `channel`, `caller`, `organization` and `plugin`
    variables (422 when it cannot be rendered); a `webhook` plugin POSTs a signed JSON request (`Parley-Signature`,
    `Parley-Delivery-Id`) with a 3-second timeout: a refused URL (private, loopback, metadata addresses), a failure,
    a non-2xx, or an answer without a usable message is a 502 with code `plugin-webhook-failed`.
    """
    who = courier_caller(api)
    acting = lambda: who.individual(body.individual_id, pointer="/individual-id")  # noqa: E731 (after the plugin's 404)
    message = plugins.expand(who.tenant_id, id, acting, body, user_id=who.user_id)
    return Response(status_code=201, content_type="application/json", body=ExpandAnswer(message=message).model_dump_json())
