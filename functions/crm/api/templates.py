"""The crm API: templates.

- POST /api/v1/communications/templates — create an email template (201, with its Location).
- DELETE /api/v1/communications/templates/{templateId} — delete an email template (200, empty body).
- GET /api/v1/communications/templates/{templateId} — one email template of the tenant.
- GET /api/v1/communications/templates — every email template of the tenant, by name (no bodies).
- PUT /api/v1/communications/templates/{templateId} — replace an email template's fields.
"""

from aws_lambda_powertools.event_handler import Response, content_types

from parley.api.crm import SAMPLE, crm_caller, public_base_url
from parley.api.endpoint import Api, Example
from parley.domain import templates
from parley.models.crm import EmailTemplate, EmailTemplateSummary, TemplateRequest

api = Api("crm", tags=["Templates"], access=("table:write",), example=SAMPLE)


@api.post(
    "/api/v1/communications/templates",
    responses={201: {"description": "The template was created; `Location` is its URL."}},
    example=Example(
        body={
            "name": "Quote",
            "subject": "Your quote {{quoteNumber}}",
            "bodyHtml": "<p>Dear {{firstName}},</p><p>Your quote: {{amount}}</p>",
            "bodyText": "Dear {{firstName}}, your quote: {{amount}}",
            "type": "OFFERTE",
        },
    ),
)
def create_template(body: TemplateRequest) -> Response[EmailTemplate]:
    """Create an email template

    A name, a one-line subject, `bodyHtml` and/or `bodyText`, and an optional `type`. Subject and bodies may use
    placeholders `{{name}}` or `{{nested.name}}`; malformed placeholder syntax is a 400. `X-User-ID` becomes
    `createdBy`.
    """
    who = crm_caller(api)
    created = templates.create(who.tenant_id, body, user_id=who.user_id)
    location = f"{public_base_url(api)}/api/v1/communications/templates/{created.id}"
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=created, headers={"Location": location})


@api.delete(
    "/api/v1/communications/templates/<templateId>",
    responses={200: {"description": "The template was deleted (no body).", "content": {}}},
)
def delete_template(templateId: str):  # no return annotation: powertools would validate the empty body against one
    """Delete an email template

    200 with an empty body, like the CRM's other deletes. Records sent with the template keep its id and name.
    """
    templates.delete(crm_caller(api).tenant_id, templateId)
    return Response(status_code=200, body="")


@api.get(
    "/api/v1/communications/templates/<templateId>",
    ok="The template.",
    access=("table:read",),
)
def get_template(templateId: str) -> EmailTemplate:
    """Get an email template

    The template with its bodies and the placeholder names it uses (`variables`).
    """
    return templates.get(crm_caller(api).tenant_id, templateId)


@api.get("/api/v1/communications/templates", ok="The tenant's templates (an empty array when it has none).", access=("table:read",))
def list_templates() -> list[EmailTemplateSummary]:
    """List the email templates

    Every template of the tenant (at most 500), ordered by name. Bodies and variables are left out; `GET
    /api/v1/communications/templates/{templateId}` returns them.
    """
    return templates.list_all(crm_caller(api).tenant_id)


@api.put(
    "/api/v1/communications/templates/<templateId>",
    ok="The updated template.",
    example=Example(
        body={"name": "Quote v2", "subject": "Quote {{quoteNumber}}", "bodyHtml": "<p>Hi {{firstName}}</p>", "type": "OFFERTE"},
    ),
)
def update_template(templateId: str, body: TemplateRequest) -> EmailTemplate:
    """Replace an email template

    A full update: the body is the whole template, as for create (an omitted `bodyHtml`, `bodyText` or `type` is
    removed). `X-User-ID` becomes `updatedBy`. Records already sent with the template keep what they were sent with.
    """
    who = crm_caller(api)
    return templates.update(who.tenant_id, templateId, body, user_id=who.user_id)
