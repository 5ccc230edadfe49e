"""POST /api/v1/communications/{id}/comment — add a comment to a communication's event log."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.api import build_app
from parley.api.crm import crm_caller
from parley.api.docs import crm_errors
from parley.domain import crm_edit
from parley.errors import BadRequest

logger = Logger(service="crm")
router = Router()


def _body() -> str | None:
    # The API's binary media type */* delivers every request body base64-encoded.
    try:
        return router.current_event.decoded_body
    except ValueError as err:  # not base64, or not UTF-8
        raise BadRequest("the request body must be UTF-8 text") from err


@router.post(
    "/api/v1/communications/<id>/comment",
    summary="Comment on a communication",
    description=(
        "The request body is the comment: plain text (any Content-Type, as the seed's `-d 'string'`), a JSON string, or a JSON "
        'object `{"comment": "..."}` (or `text` / `description`). At most 4000 characters; line breaks are kept. Appends an '
        "`events[]` entry `{type: COMMENT, authorId: X-User-ID, description}` to the email (a record or an inbound reply)."
    ),
    responses={200: {"description": "The comment was added: `{}`."}, **crm_errors(403)},
    tags=["Communications"],
)
def comment(id: str) -> dict:
    who = crm_caller(router)
    crm_edit.add_comment(who.tenant_id, id, crm_edit.comment_text(_body()), user_id=who.user_id)
    return {}


# The body is read raw (plain text is the seed's own example), so no JSON body validation.
app = build_app("crm", router, json_body=False)


@logger.inject_lambda_context
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
