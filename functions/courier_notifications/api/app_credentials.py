"""The courier notifications API (seed 003): app-credentials, an organization's push credentials (docs/courier.md
"Push credentials and devices"; ``parley.domain.push``).

- GET /v1/app-credentials/ — the tenant's credentials (archived ones with `include[archived]`)
- POST /v1/app-credentials/ — register one: its secret `data` goes to Secrets Manager, an SNS platform application
- GET /v1/app-credentials/{id}/ — one
- PATCH /v1/app-credentials/{id}/ — change it; `archived: true` is the soft delete; `data` rotates the secret

Credentials are the tenant's administration: only the tenant's API key manages them (a user token: 403).
"""

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from parley.api import jsonapi
from parley.api.courier import SAMPLE, CourierCaller, courier_caller
from parley.api.endpoint import Api, Example
from parley.domain import push
from parley.errors import Forbidden
from parley.models.jsonapi import RequestDocument
from parley.models.push import CREDENTIAL_TYPE as TYPE
from parley.models.push import AppCredentialAttributes, AppCredentialCreate, AppCredentialPatch

api = Api("courier_notifications", tags=["App credentials"], access=("table:read",), example=SAMPLE)

Limit = jsonapi.page_limit()  # the seed's PageLimit: 1..1000, default 100
ResourceId = Annotated[str, Path(min_length=1, max_length=128, description="Resource identifier")]
ByAppName = jsonapi.filter_param("app-name", max_length=64, description="Only the credentials of this app.")
ByType = Annotated[Literal["apn", "fcm", "web"] | None, Query(alias="filter[type]", description="Only credentials of this type.")]
Archived = jsonapi.include_param("archived", description="Also answer archived (soft-deleted) credentials.")
WRITE = ("table:write", "push")
SAMPLE_DATA = {"signing-key": "-----BEGIN PRIVATE KEY-----\nMIGTAgEAMBMG…\n-----END PRIVATE KEY-----", "signing-key-id": "ABC123DEFG",
               "team-id": "DEF123GHIJ"}  # fmt: skip


def _admin(api_: Api) -> CourierCaller:
    """The tenant's server (its API key): the only caller that manages push credentials."""
    who = courier_caller(api_)
    if who.caller.credential != "api_key":
        raise Forbidden("app-credentials are managed with the tenant's API key, not a user token", code="admin-only")
    return who


LISTED = jsonapi.list_doc(AppCredentialAttributes, "A page of the tenant's credentials, oldest first.")


@api.get("/v1/app-credentials", responses={200: LISTED}, errors=(403,))
def list_app_credentials(
    app_name: ByAppName = None, kind: ByType = None, archived: Archived = False, limit: Limit = jsonapi.DEFAULT_LIMIT,
    offset: jsonapi.PageOffset = 0,
) -> Response[str]:  # fmt: skip
    """List the push credentials

    The tenant's APNs, FCM and web push credentials, oldest first; archived ones only with `include[archived]=true`.
    `data` is always `{}`: the secret is never answered. `meta` carries `page[total]`, `page[limit]`, `page[offset]`.
    """
    who = _admin(api)
    items, total = push.list_credentials(who.tenant_id, app_name=app_name, kind=kind, include_archived=archived, offset=offset, limit=limit)
    return jsonapi.listing(TYPE, items, AppCredentialAttributes, total=total, limit=limit, offset=offset)


@api.post(
    "/v1/app-credentials",
    responses={201: jsonapi.single_doc(AppCredentialAttributes, "The credential (its `data` answered as `{}`).")},
    errors=(403, 409, 422),
    access=WRITE,
    example=Example(
        headers={"Content-Type": "application/vnd.api+json"},
        body={
            "data": {
                "type": TYPE,
                "attributes": {
                    "app-name": "clinic",
                    "display-name": "Clinic iOS",
                    "store-id": "com.example.clinic",
                    "test-mode": False,
                    "type": "apn",
                    "data": SAMPLE_DATA,
                },
            }
        },
    ),
)
def create_app_credential(body: RequestDocument[AppCredentialCreate]) -> Response[str]:
    """Register push credentials

    `type` (apn, fcm; web is ours: VAPID keys), `app-name` and `data` are required. `data` per type: APNs token
    `{signing-key, signing-key-id, team-id}` (with `store-id` = the bundle id) or certificate `{certificate,
    private-key}`; FCM `{service-account}` (the JSON object) or `{server-key}`; web `{vapid-private-key, subject}`.
    APNs and FCM credentials become an SNS platform application (`test-mode` = APNs sandbox); a platform that refuses
    them is a 422. The secret is stored in Secrets Manager and never answered (`data: {}`).
    """
    who = _admin(api)
    attrs = jsonapi.attributes_of(body, TYPE)
    return jsonapi.single(TYPE, *push.create_credential(who.tenant_id, attrs), status=201)


@api.get("/v1/app-credentials/<id>", responses={200: jsonapi.single_doc(AppCredentialAttributes, "The credential.")}, errors=(403,))
def get_app_credential(id: ResourceId) -> Response[str]:
    """Get one app-credential

    Archived ones too. 404 when the tenant has no credential with this id (another tenant's included).
    """
    who = _admin(api)
    return jsonapi.single(TYPE, id, push.credential_view(push.get_credential(who.tenant_id, id)))


@api.route(
    "PATCH",
    "/v1/app-credentials/<id>",
    responses={200: jsonapi.single_doc(AppCredentialAttributes, "The credential as changed.")},
    errors=(403, 409, 422),
    access=WRITE,
    example=Example(
        headers={"Content-Type": "application/vnd.api+json"},
        body={
            "data": {"type": TYPE, "id": SAMPLE.path["id"], "attributes": {"display-name": "Clinic iOS (2027 key)", "data": SAMPLE_DATA}}
        },
    ),
)
def update_app_credential(id: ResourceId, body: RequestDocument[AppCredentialPatch]) -> Response[str]:
    """Modify an app-credential

    Any of `app-name`, `display-name`, `organization-id`, `store-id`, `test-mode` (not of an APNs credential: 422),
    `archived` (true: the soft delete; its devices get no pushes until it is unarchived) and `data` (a rotation: a new
    secret version, and the SNS platform application's credentials replaced, so the next push uses them). `type`
    cannot change. 404 when the tenant has no such credential; 409 when `data.id` is not the path's id.
    """
    who = _admin(api)
    attrs = jsonapi.attributes_of(body, TYPE, id)
    return jsonapi.single(TYPE, *push.update_credential(who.tenant_id, id, attrs))
