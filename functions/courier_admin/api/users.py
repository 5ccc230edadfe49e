"""The courier admin API (seed 003): users (login accounts and their contact points), replicated from the platform.

- GET /v1/users/ — list (``filter[email]``, ``filter[username]``, ``filter[individual-id]``)
- GET /v1/users/{id}/ — one
- PATCH /v1/users/{id}/ — deprecated: change the user's ``notifications`` (a local override of the replica's)
"""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path

from parley.api import jsonapi
from parley.api.courier import SAMPLE, courier_caller
from parley.api.endpoint import Api, Example
from parley.domain import directory
from parley.errors import Forbidden
from parley.models.courier_directory import UserAttributes, UserPatchAttributes
from parley.models.jsonapi import RequestDocument

api = Api("courier_admin", tags=["Users"], example=SAMPLE)

Limit = jsonapi.page_limit()  # the seed's PageLimit: 1..1000, default 100
ResourceId = Annotated[str, Path(min_length=1, max_length=128, description="Resource identifier")]

TYPE = "users"
ByEmail = jsonapi.filter_param("email", max_length=254, description="Only users with this email (case-insensitive).")
ByIndividual = jsonapi.filter_param("individual-id", max_length=128, description="Only the user who owns this individual (its `owner-id`).")
ByUsername = jsonapi.filter_param("username", description="Only users with this username (case-insensitive).")


@api.get(
    "/v1/users",
    responses={200: jsonapi.list_doc(UserAttributes, "A page of the tenant's users, in id order.")},
    example=Example(query={"filter[email]": "pat@example.com"}),
)
def list_users(
    email: ByEmail = None,
    individual_id: ByIndividual = None,
    username: ByUsername = None,
    limit: Limit = jsonapi.DEFAULT_LIMIT,
    offset: jsonapi.PageOffset = 0,
) -> Response[str]:
    """List users

    The tenant's users (replicated from the platform), in id order, with the seed's three filters (equality; several
    filters must all hold). `meta` carries `page[total]`, `page[limit]` and `page[offset]`.
    """
    who = courier_caller(api)
    items, total = directory.users_page(
        who.tenant_id, offset=offset, limit=limit, email=email, username=username, individual_id=individual_id
    )
    return jsonapi.listing(TYPE, items, UserAttributes, total=total, limit=limit, offset=offset)


@api.get("/v1/users/<id>", responses={200: jsonapi.single_doc(UserAttributes, "The user.")})
def get_user(id: ResourceId) -> Response[str]:
    """Get one user

    Contact points, locale and time zone, notification channels, `sms-mode`. 404 when the tenant has no user with
    this id (another tenant's included).
    """
    who = courier_caller(api)
    return jsonapi.single(TYPE, *directory.get(who.tenant_id, TYPE, id))


@api.route(
    "PATCH",
    "/v1/users/<id>",
    responses={200: jsonapi.single_doc(UserAttributes, "The user, with its notification channels as changed.")},
    errors=(409,),
    access=("table:write",),
    deprecated=True,
    example=Example(
        headers={"Content-Type": "application/vnd.api+json"},
        body={"data": {"type": "users", "id": SAMPLE.path["id"], "attributes": {"notifications": ["email"]}}},
    ),
)
def update_user(id: ResourceId, body: RequestDocument[UserPatchAttributes]) -> Response[str]:
    """Modify a user's notification channels (deprecated)

    Only `notifications` can change; any other attribute is a 400 naming it. The change is kept beside the replicated
    user and answered while the platform's own value stays the one it replaced (a later replica update that changes
    `notifications` wins); `notifications: null` drops the change. With a user token, only the token's own user can be
    changed (another user's id: 403); with the API key, any user of the tenant. 404 when the tenant has no such user.
    `data.type` must be `users` and `data.id`, if given, the path's id (409).
    """
    who = courier_caller(api)
    attrs = jsonapi.attributes_of(body, TYPE, id)
    if who.caller.credential == "user_token" and who.caller.user_id != id:
        raise Forbidden("a user token can change only its own user's notifications", code="not-own-user")
    if "notifications" not in attrs.model_fields_set:  # nothing to change: the user as it reads
        return jsonapi.single(TYPE, *directory.get(who.tenant_id, TYPE, id))
    return jsonapi.single(TYPE, *directory.set_notifications(who.tenant_id, id, attrs.notifications))
