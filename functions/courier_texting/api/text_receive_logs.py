"""The inbound-SMS receive logs (seed 003 ``text-receive-logs``, docs/courier.md "Texts, replies and consents").

- GET /v1/text-receive-logs/{id}/ — one inbound SMS as received; its id is Twilio's MessageSid
"""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path

from parley.api import jsonapi
from parley.api.courier import SAMPLE, courier_caller
from parley.api.endpoint import Api, Example
from parley.domain import text_receive_logs
from parley.models.texts import RECEIVE_LOG_TYPE, ReceiveLogAttributes

api = Api("courier_texting", tags=["Text receive logs"], access=("table:read",), example=SAMPLE)

Sid = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9]+$", description="The inbound message's MessageSid")]


@api.get(
    "/v1/text-receive-logs/<id>",
    responses={200: jsonapi.single_doc(ReceiveLogAttributes, "The inbound SMS.")},
    example=Example(path={"id": "SM0123456789abcdef0123456789abcdef"}),
)
def get_text_receive_log(id: Sid) -> Response[str]:
    """Get one inbound SMS

    An SMS received by one of the tenant's texting numbers: `sid` (Twilio's MessageSid, also its id), `sender` (E.164),
    `to` (our number), `message`, `created-at`. 404 when the tenant received no such message.
    """
    who = courier_caller(api)
    return jsonapi.single(RECEIVE_LOG_TYPE, *text_receive_logs.get(who.tenant_id, id))
