"""The courier admin API (seed 003): purge-data, the GDPR erasure of a person's communication data (domain/purge.py).

- POST /v1/purge-data/ — queue a purge (``system-purges``): 201 with a ``null`` body, as the seed shows
- GET /v1/purge-data/{request-id}/ — a purge's progress (an extension: docs/courier.md "purge-data")
"""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path

from parley.api import jsonapi
from parley.api.courier import SAMPLE, courier_caller
from parley.api.endpoint import Api, Example
from parley.domain import purge
from parley.models.jsonapi import MEDIA_TYPE, RequestDocument
from parley.models.purge import PurgeAttributes, PurgeRequest

api = Api("courier_admin", tags=["Purge data"], example=SAMPLE)

TYPE = "system-purges"
SAMPLE_REQUEST = {"entity-type": "individual", "entity-id": "11111111-1111-1111-1111-111111111111", "request-id": "erasure-2026-0042"}
RequestIdPath = Annotated[str, Path(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$", description="The purge's request-id")]


@api.post(
    "/v1/purge-data",
    responses={201: {"description": "Queued (or already queued under this request-id). The body is `null`, as the seed shows."}},
    access=("table:write", "purge-queue"),
    errors=(403, 409),  # a client-generated data.id; another data.type, or a request-id used for another purge
    example=Example(body={"data": {"type": TYPE, "attributes": SAMPLE_REQUEST}}),
)
def create_purge(body: RequestDocument[PurgeRequest]) -> Response[str]:
    """Purge (or archive) a person's communication data

    Every message, event, opt-in, suppression entry, profile, index entry and stored object that names the entity —
    an `individual`, a `user` or (ours) a `candidate` of the candidate, CRM and ATS APIs — in every API family, is
    deleted; with `archive`, messages are kept anonymised instead. Asynchronous and idempotent by `request-id`
    (the same request again is the same job; another request under a used `request-id` is a 409). Follow it at
    `GET /v1/purge-data/{request-id}/`.
    """
    who = courier_caller(api)
    purge.submit(who.tenant_id, jsonapi.attributes_of(body, TYPE))
    return Response(status_code=201, content_type=MEDIA_TYPE, body="null")


@api.get("/v1/purge-data/<request_id>", responses={200: jsonapi.single_doc(PurgeAttributes, "The purge job.")},
         example=Example(path={"request_id": "erasure-2026-0042"}))  # fmt: skip
def get_purge(request_id: RequestIdPath) -> Response[str]:
    """Get a purge's progress

    `status` queued → running → done (or failed, with `error`), and what was deleted or anonymised per store
    (`counts`). Once done, `entity-id` is a digest: the job records the erasure, not the person. 404 for a
    request-id the tenant never used (another tenant's included).
    """
    who = courier_caller(api)
    job = purge.get(who.tenant_id, request_id)
    return jsonapi.single(TYPE, job.request_id, job.attributes())
