"""The courier admin API (seed 003): replicators, the tenant's directory pollers (``python -m parley.admin
create-replicator``; docs/courier.md "Replicators"), read here.

- GET /v1/replicators/ — all of them (the seed's list has no parameters)
- GET /v1/replicators/{id}/ — one
"""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path

from parley.api import jsonapi
from parley.api.courier import SAMPLE, courier_caller
from parley.api.endpoint import Api
from parley.domain import replicators
from parley.models.courier_replicators import ReplicatorAttributes

api = Api("courier_admin", tags=["Replicators"], example=SAMPLE)

ResourceId = Annotated[str, Path(min_length=1, max_length=128, description="Resource identifier")]

TYPE = "replicators"


@api.get("/v1/replicators", responses={200: jsonapi.list_doc(ReplicatorAttributes, "Every replicator of the tenant, in id order.")})
def list_replicators() -> Response[str]:
    """List replicators

    The tenant's directory pollers (at most 100, all answered: the seed's list takes no parameters); `meta` carries
    `page[total]`, `page[limit]` (100) and `page[offset]` (0). `last-poll-time` is null until a poll has succeeded.
    """
    who = courier_caller(api)
    items = [(r.replicator_id, r.attributes()) for r in replicators.all_of(who.tenant_id)]
    return jsonapi.listing(TYPE, items, ReplicatorAttributes, total=len(items), limit=replicators.MAX_PER_TENANT, offset=0)


@api.get("/v1/replicators/<id>", responses={200: jsonapi.single_doc(ReplicatorAttributes, "The replicator.")})
def get_replicator(id: ResourceId) -> Response[str]:
    """Get one replicator

    404 when the tenant has no replicator with this id (another tenant's included).
    """
    who = courier_caller(api)
    rep = replicators.get(who.tenant_id, id)
    return jsonapi.single(TYPE, rep.replicator_id, rep.attributes())
