"""The courier admin API (seed 003): individuals (person-in-organization records: patients, providers) and
individual-groups (care teams, cohorts), replicated from the platform.

- GET /v1/individuals/{id}/
- GET /v1/individual-groups/{id}/
"""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path

from parley.api import jsonapi
from parley.api.courier import SAMPLE, courier_caller
from parley.api.endpoint import Api
from parley.domain import directory
from parley.models.courier_directory import IndividualAttributes, IndividualGroupAttributes

api = Api("courier_admin", tags=["Individuals"], example=SAMPLE)

ResourceId = Annotated[str, Path(min_length=1, max_length=128, description="Resource identifier")]


@api.get("/v1/individuals/<id>", responses={200: jsonapi.single_doc(IndividualAttributes, "The individual.")})
def get_individual(id: ResourceId) -> Response[str]:
    """Get one individual

    A person record: names, birth date, account type, owner (the user). 404 when the tenant has no individual with
    this id (another tenant's included).
    """
    who = courier_caller(api)
    return jsonapi.single("individuals", *directory.get(who.tenant_id, "individuals", id))


@api.get("/v1/individual-groups/<id>", responses={200: jsonapi.single_doc(IndividualGroupAttributes, "The individual-group.")})
def get_individual_group(id: ResourceId) -> Response[str]:
    """Get one individual-group

    A care team or cohort: its individuals, leaders, parent group and organization. 404 when the tenant has no
    group with this id (another tenant's included).
    """
    who = courier_caller(api)
    return jsonapi.single("individual-groups", *directory.get(who.tenant_id, "individual-groups", id))
