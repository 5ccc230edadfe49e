"""The crm API: tracking.

- GET /api/v1/communications/track/{id} — the open-tracking pixel (no API key: the token is the credential).
- GET /api/v1/communications/link/{id}/{linkIndex} — the click-tracking redirect (no API key: the token is the
  credential).
"""

from typing import Annotated

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path

from parley.api.endpoint import Api, Example
from parley.domain import tracking
from parley.models.numbers import Int32

logger = Logger(service="crm")
api = Api("crm", tags=["Communications"], access=("table:write",))


@api.get(
    "/api/v1/communications/track/<id>",
    responses={
        200: {"description": "A 1x1 transparent GIF.", "content": {"image/gif": {"schema": {"type": "string", "format": "binary"}}}}
    },
    public=True,
    example=Example(path={"id": "q8Jt3VZ0nXo4c2yGkR7bWA"}),
)
def track_pixel(id: str):  # unannotated: powertools would validate (and JSON-encode) the GIF bytes
    """Tracking pixel endpoint

    Called by mail clients loading the hidden image of an email sent with `trackingEnabled`; needs no API key. `id` is
    the email's tracking token (in the image URL), not its record id. Records an open of a SENT email (`openCount` + 1,
    `openedAt` on the first) and answers a 1x1 transparent GIF that must not be cached. Unknown token: 404.
    """
    counted = tracking.open_pixel(id)
    logger.debug("tracking pixel", extra={"counted": counted})
    return Response(status_code=200, content_type="image/gif", body=tracking.PIXEL_GIF, headers=dict(tracking.NO_CACHE))


@api.get(
    "/api/v1/communications/link/<id>/<linkIndex>",
    responses={
        302: {
            "description": "Redirect to the link's original URL (no body).",
            "headers": {"Location": {"description": "The link's original URL.", "schema": {"type": "string"}}},
            "content": {},
        }
    },
    public=True,
    example=Example(path={"id": "q8Jt3VZ0nXo4c2yGkR7bWA", "linkIndex": "0"}),
)
def link_click(id: str, linkIndex: Annotated[Int32, Path()]):  # no return type: no response model for a redirect
    # Validation made it an int32 (else 400); the link is looked up by the index as written (canonical, docs/crm.md).
    """Link click tracking redirect

    Called by a recipient clicking a rewritten link of an email sent with `linkTrackingEnabled`; needs no API key. `id`
    is the email's tracking token, `linkIndex` the 0-based position of the link in `clickedLinks`. Records the click
    (and an open, if none was recorded) and redirects (302) to that link's stored `originalUrl`, never to anything taken
    from the request. Unknown token, or an index that is not an existing link's: 404; an index that is not an int32 (the
    seed's type): 400.
    """
    target = tracking.click(id, api.current_event.path_parameters["linkIndex"])
    # no-referrer: the destination never sees the tracking URL (and its token) in Referer.
    headers = {"Location": target, "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
    return Response(status_code=302, content_type="text/plain", body="", headers=headers)
