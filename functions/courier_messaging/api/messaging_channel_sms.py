"""The SMS bridge of a courier channel (seed 003 "Enable/disable SMS path for this messaging channel"; docs/courier.md
"Messaging" → "SMS bridge and offline pushes").

- POST /v1/messaging-channels/{id}/sms/ — switch the channel's SMS bridge on or off (the path is the reading's
  low-confidence guess; alternatives set-sms/, sms-path/)
"""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path

from parley.api import jsonapi
from parley.api.courier import SAMPLE, courier_caller
from parley.api.endpoint import Api, Example
from parley.domain import channel_bridge
from parley.models.channel_sms import ChannelSmsSwitch
from parley.models.messaging_channels import CHANNEL_TYPE, ChannelAttributes

api = Api("courier_messaging", tags=["Messaging channels"], access=("table:read",), example=SAMPLE)

ResourceId = Annotated[str, Path(min_length=1, max_length=128, description="Resource identifier")]


@api.post(
    "/v1/messaging-channels/<id>/sms",
    access=("table:write", "send-queue", "scheduler", "channel-events-queue"),
    responses={201: jsonapi.single_doc(ChannelAttributes, "The channel (`with-sms`: the bridge is on; `text-number`: its number).")},
    errors=(404, 422),
    example=Example(
        body={
            "active": True,
            "initial-message": "You are in the care team's chat: reply to this number to answer, STOP to leave.",
            "initial-message-js": {"en_US": "You are in the care team's chat.", "es_US": "Está en el chat del equipo de cuidado."},
        }
    ),
)
def set_messaging_channel_sms(id: ResourceId, body: ChannelSmsSwitch) -> Response[str]:
    """Enable/disable SMS path for this messaging channel

    A flat body (not JSON:API): `active` (required) switches the channel's SMS bridge. On, every member without the app
    (no device that takes pushes) who has a phone in the directory and did not say STOP is bridged: each gets the
    initial message once — `initial-message-js` in their locale (`en_US`; the language alone matches too), else
    `initial-message`, else the organization's `initial-sms-message` preference (no text when none) — from the
    channel's text number (`text-number-id`, one of the organization's numbers; default: the channel's, else the
    organization's first; 422 `no-text-number` when it has none). From then on every message posted in the channel
    goes to them as an SMS, and their replies come back into the channel (`source` sms); STOP ends their bridge. Off:
    every bridge ends. The acting individual (`individual-id`, default the acting user's primary individual) must be a
    member (404 otherwise, as for an unknown channel).
    """
    from parley.dal import channels as store
    from parley.domain.channel_views import Views

    who = courier_caller(api)
    me = who.individual(body.individual_id, pointer="/individual-id")
    channel_bridge.switch(who.caller, id, me, active=body.active, initial_message=body.initial_message,
                          initial_message_js=body.initial_message_js, number_id=body.text_number_id)  # fmt: skip
    channel = store.get_channel(who.tenant_id, id, consistent=True)
    member = store.get_member(who.tenant_id, id, me, consistent=True)
    return jsonapi.single(CHANNEL_TYPE, id, Views(who.tenant_id).render(channel, member), status=201)
