"""The crm API: threads.

- GET /api/v1/communications/{id}/thread — the conversation a communication belongs to.
- POST /api/v1/communications/{id}/comment — add a comment to a communication's event log.
"""

from parley.api.crm import SAMPLE, crm_caller
from parley.api.endpoint import Api, Example
from parley.domain import crm_edit, crm_threads
from parley.errors import BadRequest
from parley.models.crm import ConversationThread

api = Api("crm", tags=["Communications"], access=("table:read", "bodies:read"), example=SAMPLE)


@api.get("/api/v1/communications/<id>/thread", ok="The conversation.")
def thread(id: str) -> ConversationThread:
    """Conversation thread of a communication

    The conversation the email `id` (a record or an inbound reply) belongs to: `outbound` = its emails as records, by
    send time; `inbound` = the replies, by receipt. Unknown ids and other tenants' ids give 404.
    """
    return crm_threads.thread(crm_caller(api).tenant_id, id)


def _body() -> str | None:
    # The API's binary media type */* delivers every request body base64-encoded.
    try:
        return api.current_event.decoded_body
    except ValueError as err:  # not base64, or not UTF-8
        raise BadRequest("the request body must be UTF-8 text") from err


@api.post(
    "/api/v1/communications/<id>/comment",
    ok="The comment was added: `{}`.",
    access=("table:write",),
    example=Example(
        headers={"Content-Type": "application/json"},
        body="Called the customer; they will reply tomorrow.",
    ),
)
def comment(id: str) -> dict:
    """Comment on a communication

    The request body is the comment: plain text (any Content-Type, as the seed's `-d 'string'`), a JSON string, or a
    JSON object `{"comment": "..."}` (or `text` / `description`). At most 4000 characters; line breaks are kept. Appends
    an `events[]` entry `{type: COMMENT, authorId: X-User-ID, description}` to the email (a record or an inbound reply).
    """
    who = crm_caller(api)
    crm_edit.add_comment(who.tenant_id, id, crm_edit.comment_text(_body()), user_id=who.user_id)
    return {}
