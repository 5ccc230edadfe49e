"""The courier texting API's number logs (seed 003, docs/courier.md "Texting" → "Accounts, numbers, lookups"): what
a number received while its ``logging`` was on.

- GET /v1/text-number-logs/ — the logs of ``number-id`` (required), newest first
"""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from parley.api import jsonapi
from parley.api.courier import SAMPLE, courier_caller
from parley.api.endpoint import Api, Example
from parley.domain import text_numbers
from parley.models.courier_text_numbers import NUMBER_LOGS, NumberLogAttributes

api = Api("courier_texting", tags=["Text number logs"], example=SAMPLE)

Limit = jsonapi.page_limit()  # the seed's PageLimit: 1..1000, default 100
NumberId = Annotated[str, Query(alias="number-id", min_length=1, max_length=128, description="The number whose logs to list.")]


@api.get(
    "/v1/text-number-logs",
    responses={200: jsonapi.list_doc(NumberLogAttributes, "A page of the number's logs, newest first.")},
    example=Example(query={"number-id": "55555555-5555-5555-5555-555555555555"}),
)
def list_text_number_logs(number_id: NumberId, limit: Limit = jsonapi.DEFAULT_LIMIT, offset: jsonapi.PageOffset = 0) -> Response[str]:
    """List a number's logs

    The debug log lines of `number-id` (required; 404 when the tenant has no such number), newest first: each inbound
    SMS while the number's `logging` was on (kept 90 days; `reset-logs` clears them).
    """
    who = courier_caller(api)
    items, total = text_numbers.log_page(who.tenant_id, number_id, offset=offset, limit=limit)
    return jsonapi.listing(NUMBER_LOGS, items, NumberLogAttributes, total=total, limit=limit, offset=offset)
