"""The courier notifications API (seed 003): a user's notifications and their daily counts (docs/courier.md "User
notifications and badges").

- GET /v1/user-notifications/ — the acting user's notifications (filters; inactive ones with `include[inactive]`)
- GET /v1/user-notifications/{id}/ — one of them
- POST /v1/user-notifications/{id}/ack/ — mark it read (`ack-previous`: the earlier ones too)
- GET /v1/user-notification-counts/ — daily counts per user (`notification-counts`, no id)

Notifications are made by ``parley.domain.notifications.notify`` (multicasts), never by this API.
"""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from parley.api import jsonapi
from parley.api.courier import SAMPLE, courier_caller
from parley.api.endpoint import Api, Example
from parley.domain import notifications
from parley.models.jsonapi import MEDIA_TYPE, PageMeta
from parley.models.user_notifications import (
    TYPE,
    AckBody,
    NotificationCountList,
    NotificationCountResource,
    UserNotificationAttributes,
)

api = Api("courier_notifications", tags=["User notifications"], access=("table:read",), example=SAMPLE)

Limit = jsonapi.page_limit()  # the seed's PageLimit: 1..1000, default 100
CountLimit = jsonapi.page_limit(minimum=0, maximum=1000, default=500)  # the seed's quirk on notification-counts
ResourceId = Annotated[str, Path(min_length=1, max_length=128, description="Resource identifier")]
IdPattern = r"^[A-Za-z0-9._:-]+$"
Acknowledged = Annotated[bool | None, Query(alias="acknowledged", description="Only acknowledged (true) or unacknowledged (false) ones.")]
Category = jsonapi.filter_param("category", max_length=32)
Inactive = jsonapi.include_param("inactive", description=f"Also the inactive ones (made more than {notifications.ACTIVE_DAYS} days ago).")
IndividualId = Annotated[
    str | None,
    Query(alias="individual-id", min_length=1, max_length=128, pattern=IdPattern, description="Only those about this individual."),
]
OrganizationId = Annotated[
    str | None, Query(alias="organization-id", min_length=1, max_length=128, pattern=IdPattern, description="Only this organization's.")
]
CreatedAt = jsonapi.window_param("created-at", comparators=("<=", ">="))


@api.get(
    "/v1/user-notifications",
    responses={200: jsonapi.list_doc(UserNotificationAttributes, "A page of the acting user's notifications, newest first.")},
)
def list_user_notifications(
    acknowledged: Acknowledged = None,
    category: Category = None,
    include_inactive: Inactive = False,
    individual_id: IndividualId = None,
    organization_id: OrganizationId = None,
    limit: Limit = jsonapi.DEFAULT_LIMIT,
    offset: jsonapi.PageOffset = 0,
) -> Response[str]:
    """List the user's notifications

    The acting user's notifications, newest first: active ones (made in the last 30 days) unless `include[inactive]`
    is true, and only those matching `acknowledged`, `filter[category]`, `individual-id` and `organization-id` when
    given. Each carries its per-transport payloads (`data`) and what each transport did (`deliveries`). `meta`
    carries `page[total]` (what the filters match), `page[limit]` and `page[offset]`.
    """
    who = courier_caller(api)
    items, total = notifications.page(
        who.tenant_id, who.acting_user(), include_inactive=include_inactive, acknowledged=acknowledged, category=category,
        individual_id=individual_id, organization_id=organization_id, offset=offset, limit=limit,
    )  # fmt: skip
    return jsonapi.listing(TYPE, items, UserNotificationAttributes, total=total, limit=limit, offset=offset)


@api.get("/v1/user-notifications/<id>", responses={200: jsonapi.single_doc(UserNotificationAttributes, "The notification.")})
def get_user_notification(id: ResourceId) -> Response[str]:
    """Get one notification

    One of the acting user's notifications. 404 when the tenant has no such notification, or it is another user's.
    """
    who = courier_caller(api)
    return jsonapi.single(TYPE, *notifications.get(who.tenant_id, who.acting_user(), id))


@api.post(
    "/v1/user-notifications/<id>/ack",
    responses={201: jsonapi.single_doc(UserNotificationAttributes, "The notification, acknowledged.")},
    access=("table:write",),
    example=Example(headers={"Content-Type": "application/json"}, body={"ack-previous": False}),
)
def ack_user_notification(id: ResourceId, body: AckBody | None = None) -> Response[str]:
    """Acknowledge a notification

    Marks the notification read (`acknowledged: true`); with `ack-previous: true` also every earlier notification of
    the user (made before it). The body is a flat JSON object (not a JSON:API document), as the seed shows it; no
    body is `ack-previous: false`.
    Acknowledging again changes nothing. 404 when the tenant has no such notification, or it is another user's.
    """
    who = courier_caller(api)
    done = notifications.acknowledge(who.tenant_id, who.acting_user(), id, previous=bool(body and body.ack_previous))
    return jsonapi.single(TYPE, *done, status=201)


@api.get(
    "/v1/user-notification-counts",
    responses={
        200: {
            "description": "Daily counts (type `notification-counts`, no id), oldest day first.",
            "content": {MEDIA_TYPE: {"model": NotificationCountList}},
        }
    },
    example=Example(query={"filter[cmp-created-at]": ">=2026-01-01T00:00:00Z"}),
)
def list_user_notification_counts(created_at: CreatedAt = None, limit: CountLimit = 500, offset: jsonapi.PageOffset = 0) -> Response[str]:
    """Daily notification counts

    How many notifications each user received per UTC day (`daily-for-date`, `count`, `user-id`), oldest day first:
    the acting user's, or, for an API-key request without `X-User-ID`, every user's of the tenant (by day, then
    user). `filter[cmp-created-at]` takes only `<=` and `>=` (one or two values); a bound is read as its UTC day. The
    items have no id, as the seed shows them. `page[limit]` is 0..1000 (default 500; 0 answers only `meta`).
    """
    who = courier_caller(api)
    window = jsonapi.parse_window(created_at, "created-at", comparators=("<=", ">="))
    items, total = notifications.counts(who.tenant_id, who.user_id, after=window.after, before=window.before, offset=offset, limit=limit)
    doc = NotificationCountList(
        data=[NotificationCountResource(attributes=a) for a in items], meta=PageMeta(total=total, limit=limit, offset=offset)
    )
    return jsonapi.render(doc)
