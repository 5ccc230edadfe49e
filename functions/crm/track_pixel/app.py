"""GET /api/v1/communications/track/{id} — the open-tracking pixel (no API key: the token is the credential)."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.api import build_app
from parley.api.docs import crm_errors
from parley.domain import tracking

logger = Logger(service="crm")
router = Router()


@router.get(
    "/api/v1/communications/track/<id>",
    summary="Tracking pixel endpoint",
    description=(
        "Called by mail clients loading the hidden image of an email sent with `trackingEnabled`; needs no API key. `id` is "
        "the email's tracking token (in the image URL), not its record id. Records an open of a SENT email (`openCount` + 1, "
        "`openedAt` on the first) and answers a 1x1 transparent GIF that must not be cached. Unknown token: 404."
    ),
    responses={
        200: {"description": "A 1x1 transparent GIF.", "content": {"image/gif": {"schema": {"type": "string", "format": "binary"}}}},
        **crm_errors(public=True),
    },
    tags=["Communications"],
)
def track_pixel(id: str):  # unannotated: powertools would validate (and JSON-encode) the GIF bytes
    counted = tracking.open_pixel(id)
    logger.debug("tracking pixel", extra={"counted": counted})
    return Response(status_code=200, content_type="image/gif", body=tracking.PIXEL_GIF, headers=dict(tracking.NO_CACHE))


app = build_app("crm", router, json_body=False)


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
