"""The courier admin API (seed 003): communication summaries, per-individual counters (``parley.domain.communication_summaries``;
docs/courier.md "Communication summaries").

- GET /v1/communication-summaries/ — an individual's summary (plain JSON ``{summary: {...}}``)
- POST /v1/individuals/{id}/recalculate-communication-summary/ — rebuild it now from the stored records (201, the individual)
- POST /v1/aggregation-requests/ — queue rebuilds of (column, individual) pairs (201, a bare record)
"""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from parley.api import jsonapi
from parley.api.courier import SAMPLE, courier_caller
from parley.api.endpoint import Api, Example
from parley.domain import communication_summaries as summaries
from parley.domain import directory
from parley.errors import Unprocessable
from parley.models.communication_summaries import AggregationAttributes, AggregationRequest, EmptyBody, SummaryAnswer
from parley.models.courier_directory import IndividualAttributes
from parley.models.jsonapi import RequestDocument

api = Api("courier_admin", tags=["Communication summaries"], example=SAMPLE)

PLAIN = "application/json"
IdPattern = r"^[A-Za-z0-9._:-]+$"
ResourceId = Annotated[str, Path(min_length=1, max_length=128, description="Resource identifier")]
IndividualId = Annotated[
    str | None,
    Query(alias="individual-id", min_length=1, max_length=128, pattern=IdPattern,
          description="The individual (any of the tenant's; default: the acting user's primary individual)."),
]  # fmt: skip
IncludeSenders = Annotated[bool, Query(alias="include-senders", description="Include a mapping of individual-id to counts.")]
AGGREGATION_TYPE = "aggregation-requests"
SAMPLE_INDIVIDUAL = "22222222-2222-2222-2222-222222222222"


def _plain_doc(model: type, description: str) -> dict[str, Any]:
    return {"description": description, "content": {PLAIN: {"model": model}}}


@api.get(
    "/v1/communication-summaries",
    responses={200: _plain_doc(SummaryAnswer, "The individual's summary (plain JSON, not JSON:API).")},
    errors=(404, 422),
    example=Example(query={"individual-id": SAMPLE_INDIVIDUAL, "include-senders": "true"}),
)
def get_communication_summary(individual_id: IndividualId = None, include_senders: IncludeSenders = False) -> Response[str]:
    """Get an individual's communication summary

    Counters maintained as things happen: `messages` (received: posted by another member into one of the
    individual's channels since it joined, not removed), `message-types` (those per channel kind: `group-messages`,
    `direct-messages`, `floating-messages`), `notifications` (its user-notifications), `provider-messages` (the SMS
    and email messages queued for them), `video-channels` (0 until video channels exist). `message-senders` (per
    author, most first) only with `include-senders=true`. `individual-id` is any individual of the tenant (404
    otherwise, another tenant's included); omitted, the acting user's primary individual.
    """
    who = courier_caller(api)
    ind = _individual(who, individual_id)
    answer = SummaryAnswer.model_validate({"summary": summaries.summary(who.tenant_id, ind, include_senders=include_senders)})
    return Response(status_code=200, content_type=PLAIN, body=answer.model_dump_json(by_alias=True, exclude_none=True))


def _individual(who: Any, individual_id: str | None) -> str:
    if individual_id is None:
        return who.individual(None, parameter="individual-id")
    directory.get(who.tenant_id, "individuals", individual_id)  # 404 unless the tenant has it
    return individual_id


@api.post(
    "/v1/individuals/<id>/recalculate-communication-summary",
    access=("table:write",),
    responses={201: jsonapi.single_doc(IndividualAttributes, "The individual, its summary rebuilt.")},
    errors=(404,),
    example=Example(path={"id": SAMPLE_INDIVIDUAL}, body={}),
)
def recalculate_communication_summary(id: ResourceId, body: EmptyBody | None = None) -> Response[str]:
    """Recalculate an individual's communication summary

    Rebuilds every counter of the summary from the stored records (the individual's channel memberships and their
    messages, its notifications), synchronously, replacing the maintained values; answers the individual (201).
    The body is `{}`. 404 when the tenant has no individual with this id (another tenant's included).
    """
    who = courier_caller(api)
    found = directory.get(who.tenant_id, "individuals", id)
    summaries.rebuild(who.tenant_id, id)
    return jsonapi.single("individuals", *found, status=201)


@api.post(
    "/v1/aggregation-requests",
    access=("table:read", "automation-queue"),
    responses={201: jsonapi.single_doc(AggregationAttributes, "The request, accepted: its rebuilds run asynchronously.")},
    errors=(403, 404, 409, 422),
    example=Example(
        body={"data": {"type": AGGREGATION_TYPE, "attributes": {"entries": [{"column": "messages", "individual-id": SAMPLE_INDIVIDUAL}]}}}
    ),
)
def create_aggregation_request(body: RequestDocument[AggregationRequest]) -> Response[str]:
    """Request a re-aggregation

    Rebuilds the named columns of each entry's individual from the stored records, asynchronously (one
    `summary-rebuild` job per individual). `column` is one of the summary's keys: `messages`, `message-types`,
    `message-senders`, `notifications`, `provider-messages`, `video-channels` (422 otherwise, naming the entry);
    `individual-id` any individual of the tenant (404 otherwise). At most 100 entries. Answers a bare record (201):
    the request is not stored; read the result with `GET /v1/communication-summaries/`.
    """
    who = courier_caller(api)
    attrs = jsonapi.attributes_of(body, AGGREGATION_TYPE)
    for i, entry in enumerate(attrs.entries):
        if entry.column not in summaries.COLUMNS:
            raise Unprocessable(f"column must be one of {', '.join(summaries.COLUMNS)}", pointer=f"/data/attributes/entries/{i}/column",
                                code="unknown-column")  # fmt: skip
    for ind in dict.fromkeys(e.individual_id for e in attrs.entries):
        directory.get(who.tenant_id, "individuals", ind)
    request_id = summaries.request(who.tenant_id, [(e.column, e.individual_id) for e in attrs.entries])
    return jsonapi.single(AGGREGATION_TYPE, request_id, AggregationAttributes(), status=201)
