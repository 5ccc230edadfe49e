"""The crm API: search.

- GET /api/v1/communications/dynamic-search — search records with query-string filters.
- POST /api/v1/communications/dynamic-search — search records with a JSON body.
"""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from parley.api.crm import SAMPLE, crm_caller
from parley.api.endpoint import Api, Example
from parley.domain import crm_search
from parley.models.crm import DynamicSearchRequest, RecordPage
from parley.models.numbers import Int32

api = Api("crm", tags=["Communications"], access=("table:read", "bodies:read"), example=SAMPLE)


@api.get(
    "/api/v1/communications/dynamic-search",
    description=(
        "Every query parameter other than `page`, `size`, `search` and `sort` is an equality filter on a record field "
        "(`?status=SENT&relatedEntityType=deal&relatedEntityId=42`; repeated = any of the values; on `recipients`, `cc`, `bcc`: "
        "the list contains it; `variables.<name>` filters on a variable). `search` (repeatable): case-insensitive text in subject, "
        "body, senderEmail, recipients or cc. `sort=field[,asc|desc]` (repeatable); default newest first. Filters on status, "
        "an entity or a conversation read that index; other conditions are applied to what it holds, up to "
        f"{crm_search.MAX_READ} records (400 beyond)."
    ),
    ok="The page of matches.",
    example=Example(query={"page": "0", "size": "20", "status": "SENT"}),
)
def dynamic_search_get(
    page: Annotated[Int32, Query(ge=0, le=crm_search.MAX_PAGE, description="0-based page number")] = 0,
    size: Annotated[Int32, Query(ge=1, le=crm_search.MAX_PAGE_SIZE, description="Records per page")] = 20,
) -> RecordPage:
    """Search communication records (query string)"""
    event = api.current_event
    params = event.multi_value_query_string_parameters or {k: [v] for k, v in (event.query_string_parameters or {}).items()}
    return crm_search.search_get(crm_caller(api).tenant_id, page=page, size=size, params=params)


@api.post(
    "/api/v1/communications/dynamic-search",
    description=(
        "`filters`: field → value, all must hold (an array = any of its values, null = the field is null; `variables.<name>` "
        "filters on a variable). `search`: every term must occur, case-insensitively, in subject, body, senderEmail, recipients "
        "or cc. `sort`: `[{field, ascending}]`, applied in order; default newest first. `size` 0 means 20. Filters on status, an "
        "entity or a conversation read that index; other conditions are applied to what it holds, up to "
        f"{crm_search.MAX_READ} records (400 beyond)."
    ),
    ok="The page of matches.",
    example=Example(
        body={
            "filters": {"status": "SENT"},
            "page": 0,
            "size": 20,
            "search": ["quote"],
            "sort": [{"field": "created", "ascending": False}],
        },
    ),
)
def dynamic_search_post(body: DynamicSearchRequest) -> RecordPage:
    """Search communication records (JSON body)"""
    return crm_search.search_post(crm_caller(api).tenant_id, body)
