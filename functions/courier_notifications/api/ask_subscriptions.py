"""The courier notifications API (seed 003): ask-subscriptions, Alexa users subscribed to a skill's proactive events
(docs/courier.md "Alexa (issue 20)"; ``parley.domain.ask``).

- GET /v1/ask-subscriptions/ — the organization's subscriptions (``organization-id`` required; ``filter[skill-id]``,
  ``filter[user-id]``)
- GET /v1/ask-subscriptions/{id}/ — one
- POST /v1/ask-subscriptions/{id}/send/ — a Proactive Event to the subscribed Alexa user

Subscriptions are made by Alexa's skill events (``/v1/ask-entries/``), never by this API. Any caller of the tenant may
read and send (the tenant's organization's data); another tenant's id is a 404.
"""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from parley.api import jsonapi
from parley.api.courier import SAMPLE, courier_caller
from parley.api.endpoint import Api, Example
from parley.domain import ask
from parley.models.ask import SUBSCRIPTION_TYPE as TYPE
from parley.models.ask import EmptyAnswer, SendBody, SubscriptionAttributes

api = Api("courier_notifications", tags=["Alexa"], access=("table:read",), example=SAMPLE)

Limit = jsonapi.page_limit()
IdPattern = r"^[A-Za-z0-9._:-]+$"
ResourceId = Annotated[str, Path(min_length=1, max_length=128, description="Resource identifier")]
OrganizationId = Annotated[
    str, Query(alias="organization-id", min_length=1, max_length=128, pattern=IdPattern, description="The organization.")
]
BySkill = Annotated[
    str | None, Query(alias="filter[skill-id]", min_length=1, max_length=128, pattern=IdPattern, description="Only this skill's.")
]
ByUser = Annotated[str | None, Query(alias="filter[user-id]", min_length=1, max_length=128, description="Only those linked to this user.")]
SAMPLE_ORG = "33333333-3333-3333-3333-333333333333"
SENT = {
    "description": "The event was accepted by the Proactive Events API (`{}`).",
    "content": {"application/json": {"model": EmptyAnswer}},
}


@api.get(
    "/v1/ask-subscriptions",
    responses={200: jsonapi.list_doc(SubscriptionAttributes, "A page of the organization's subscriptions, oldest first.")},
    errors=(404,),
    example=Example(query={"organization-id": SAMPLE_ORG}),
)
def list_ask_subscriptions(
    organization_id: OrganizationId, skill_id: BySkill = None, user_id: ByUser = None, limit: Limit = jsonapi.DEFAULT_LIMIT,
    offset: jsonapi.PageOffset = 0,
) -> Response[str]:  # fmt: skip
    """List Alexa skill subscriptions

    The organization's Alexa users who enabled its skill, with the proactive events they registered for, oldest first;
    `filter[skill-id]` and `filter[user-id]` (the Parley user whose account the Alexa user linked) narrow it. `meta`
    carries `page[total]`, `page[limit]`, `page[offset]`. 404 when the organization is not the tenant's.
    """
    who = courier_caller(api)
    items, total = ask.list_subscriptions(who.tenant_id, organization_id, skill_id=skill_id, user_id=user_id, offset=offset, limit=limit)
    return jsonapi.listing(TYPE, items, SubscriptionAttributes, total=total, limit=limit, offset=offset)


@api.get("/v1/ask-subscriptions/<id>", responses={200: jsonapi.single_doc(SubscriptionAttributes, "The subscription.")}, errors=(404,))
def get_ask_subscription(id: ResourceId) -> Response[str]:
    """Get one Alexa skill subscription

    404 when the tenant has no such subscription (another tenant's included).
    """
    who = courier_caller(api)
    return jsonapi.single(TYPE, id, ask.subscription_view(ask.require_subscription(who.tenant_id, id)))


@api.post(
    "/v1/ask-subscriptions/<id>/send",
    responses={201: SENT},
    errors=(404, 409, 422, 502),
    access=("table:read", "alexa"),
    example=Example(body={"event": {"name": "AMAZON.MessageAlert.Activated", "payload": {"state": {"status": "UNREAD"}}}, "expire": 3600,
                          "localized": [{"locale": "en-US", "source": "Northside clinic"}]}),
)  # fmt: skip
def send_ask_subscription(id: ResourceId, body: SendBody) -> Response[str]:
    """Send an Alexa Proactive Event

    `event {name, payload}` (required; `name` one of Amazon's schemas, e.g. `AMAZON.MessageAlert.Activated`, that the
    Alexa user registered for: 409 otherwise), `expire` (seconds, default 3600, 300 to 86400) and `localized` (the
    event's `localizedAttributes`). Sent as a unicast to the subscription's Alexa user through the Proactive Events API
    with the skill's Login-with-Amazon client credentials; Amazon refusing or unreachable is a 502. Answers `{}`.
    """
    who = courier_caller(api)
    ask.send(who.tenant_id, id, body)
    return Response(status_code=201, content_type="application/json", body="{}")
