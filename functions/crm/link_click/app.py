"""GET /api/v1/communications/link/{id}/{linkIndex} — the click-tracking redirect (no API key: the token is the credential)."""

from typing import Annotated

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.api import build_app
from parley.api.docs import crm_errors
from parley.domain import tracking
from parley.models.numbers import Int32

logger = Logger(service="crm")
router = Router()


@router.get(
    "/api/v1/communications/link/<id>/<linkIndex>",
    summary="Link click tracking redirect",
    description=(
        "Called by a recipient clicking a rewritten link of an email sent with `linkTrackingEnabled`; needs no API key. "
        "`id` is the email's tracking token, `linkIndex` the 0-based position of the link in `clickedLinks`. Records the "
        "click (and an open, if none was recorded) and redirects (302) to that link's stored `originalUrl`, never to "
        "anything taken from the request. Unknown token, or an index that is not an existing link's: 404; an index "
        "that is not an int32 (the seed's type): 400."
    ),
    responses={
        302: {
            "description": "Redirect to the link's original URL (no body).",
            "headers": {"Location": {"description": "The link's original URL.", "schema": {"type": "string"}}},
            "content": {},
        },
        **crm_errors(public=True),
    },
    tags=["Communications"],
)
def link_click(id: str, linkIndex: Annotated[Int32, Path()]):  # no return type: no response model for a redirect
    # Validation made it an int32 (else 400); the link is looked up by the index as written (canonical, docs/crm.md).
    target = tracking.click(id, router.current_event.path_parameters["linkIndex"])
    # no-referrer: the destination never sees the tracking URL (and its token) in Referer.
    headers = {"Location": target, "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
    return Response(status_code=302, content_type="text/plain", body="", headers=headers)


app = build_app("crm", router, json_body=False)


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
