"""The courier notifications API (seed 003): user-devices, a user's push tokens (docs/courier.md "Push credentials
and devices"; ``parley.domain.push``).

- GET /v1/user-devices/ — the acting user's devices (`all-users`: every device of the tenant, for its API key)
- POST /v1/user-devices/ — register a token (apn, fcm, web): an SNS platform endpoint, or a web push subscription
- GET /v1/user-devices/{id}/get-logs/ — the pushes sent to the device and their outcome
- DELETE /v1/user-devices/{id}/ — unregister (ours: the token's endpoint deleted, e.g. at logout)

A device is its user's: another user's device is a 403 (the tenant's API key without `X-User-ID` may act on any).
"""

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from parley.api import jsonapi
from parley.api.courier import SAMPLE, CourierCaller, courier_caller
from parley.api.endpoint import Api, Example
from parley.domain import push
from parley.errors import Forbidden, Unprocessable
from parley.models.jsonapi import RequestDocument
from parley.models.push import DEVICE_TYPE as TYPE
from parley.models.push import LOG_TYPE, UserDeviceAttributes, UserDeviceCreate, UserDeviceLogAttributes

api = Api("courier_notifications", tags=["User devices"], access=("table:read",), example=SAMPLE)

Limit = jsonapi.page_limit()  # the seed's PageLimit: 1..1000, default 100
ResourceId = Annotated[str, Path(min_length=1, max_length=128, description="Resource identifier")]
AllUsers = Annotated[bool, Query(alias="all-users", description="Every device of the tenant (its API key without X-User-ID only).")]
ByAppName = jsonapi.filter_param("app-name", max_length=64)
ByAppVersion = jsonapi.filter_param("app-version", max_length=20)
ByIndividual = jsonapi.filter_param("individual-id", max_length=128)
ByModel = jsonapi.filter_param("model", max_length=64)
ByType = Annotated[Literal["apn", "fcm", "web"] | None, Query(alias="filter[type]", description="Only devices of this type.")]
ByToken = Annotated[str | None, Query(alias="token", min_length=1, max_length=255, description="Only the device with this token.")]
SAMPLE_TOKEN = "740f4707bebcf74f9b7c25d48e3358945f6aa01da5ddb387462c7eaf61bb78ad"  # noqa: S105 (a sample APNs device token)


def _admin(who: CourierCaller) -> bool:
    """The tenant's server acting for no user (its API key without X-User-ID): may see and act on every device."""
    return who.caller.credential == "api_key" and who.user_id is None


@api.get("/v1/user-devices", responses={200: jsonapi.list_doc(UserDeviceAttributes, "A page of devices, oldest first.")}, errors=(403,))
def list_user_devices(
    all_users: AllUsers = False, app_name: ByAppName = None, app_version: ByAppVersion = None, individual_id: ByIndividual = None,
    model: ByModel = None, kind: ByType = None, token: ByToken = None, limit: Limit = jsonapi.DEFAULT_LIMIT, offset: jsonapi.PageOffset = 0,
) -> Response[str]:  # fmt: skip
    """List push devices

    The acting user's devices, oldest first; with `all-users=true`, every device of the tenant — only for the tenant's
    API key without `X-User-ID` (an admin's server call; a user: 403). The filters are equalities. Each device says
    whether pushes reach it (`push-state`: enabled, disabled with `push-state-reason`, no-credential).
    """
    who = courier_caller(api)
    if all_users and not _admin(who):
        raise Forbidden("all-users is for the tenant's API key without X-User-ID", parameter="all-users", code="admin-only")
    user = None if all_users else who.acting_user()
    filters = {
        "app_name": app_name,
        "app_version": app_version,
        "individual_id": individual_id,
        "model": model,
        "kind": kind,
        "token": token,
    }
    items, total = push.list_devices(who.tenant_id, user, filters=filters, offset=offset, limit=limit)
    return jsonapi.listing(TYPE, items, UserDeviceAttributes, total=total, limit=limit, offset=offset)


@api.post(
    "/v1/user-devices",
    responses={201: jsonapi.single_doc(UserDeviceAttributes, "The device, registered (or registered again).")},
    errors=(403, 409, 422),
    access=("table:write", "push"),
    example=Example(
        headers={"Content-Type": "application/vnd.api+json"},
        body={
            "data": {
                "type": TYPE,
                "attributes": {
                    "type": "apn",
                    "token": SAMPLE_TOKEN,
                    "app-name": "clinic",
                    "app-version": "4.2.0",
                    "model": "iPhone15,2",
                    "os-version": "18.1",
                    "sandbox": False,
                    "allow-notification": True,
                },
            }
        },
    ),
)
def create_user_device(body: RequestDocument[UserDeviceCreate]) -> Response[str]:
    """Register a push device

    `type` (apn, fcm, web) and `token` are required: an APNs token (hex), an FCM registration token, or for web the
    browser's push subscription as JSON (`endpoint`, `keys.p256dh`, `keys.auth`). The device registers under the
    tenant's active app-credential for its `app-name` and type (and `sandbox` for APNs): an SNS platform endpoint.
    Without such a credential it is stored with `push-state: no-credential` (register again once there is one).
    The same token again is the same device (idempotent, re-enabled); registered by another user, it moves to them.
    `individual-id` must be one of the acting user's individuals (403); omitted, the user's primary one (or none).
    """
    who = courier_caller(api)
    attrs = jsonapi.attributes_of(body, TYPE)
    user = who.acting_user()
    if attrs.individual_id is not None:
        individual = who.individual(attrs.individual_id, pointer=push.pointer("individual-id"))
    else:
        try:
            individual = who.individual(None)
        except Unprocessable:
            individual = None  # a user without a primary individual registers a device all the same
    return jsonapi.single(TYPE, *push.register_device(who.tenant_id, user, individual, attrs), status=201)


@api.get(
    "/v1/user-devices/<id>/get-logs",
    responses={200: jsonapi.list_doc(UserDeviceLogAttributes, "A page of the device's pushes, newest first.")},
    errors=(403,),
)
def get_user_device_logs(id: ResourceId, limit: Limit = jsonapi.DEFAULT_LIMIT, offset: jsonapi.PageOffset = 0) -> Response[str]:
    """Get a device's push logs

    The pushes sent to the device, newest first: `title`, `body`, `category`, `badge-count`, `data` (the seed's), and
    ours: `notification-id`, `transport`, `outcome` (sent, skipped, failed, disabled, unconfirmed) and `reason`. 404
    when the tenant has no such device; 403 when it is another user's.
    """
    who = courier_caller(api)
    admin = _admin(who)
    push.device_of(who.tenant_id, id, push.check_owner(None if admin else who.acting_user(), admin=admin))
    items, total = push.logs(who.tenant_id, id, offset=offset, limit=limit)
    return jsonapi.listing(LOG_TYPE, items, UserDeviceLogAttributes, total=total, limit=limit, offset=offset)


@api.delete(
    "/v1/user-devices/<id>",
    responses={204: {"description": "Unregistered: the platform endpoint, the device and its logs are gone."}},
    errors=(403,),
    access=("table:write", "push"),
)
def delete_user_device(id: ResourceId) -> Response[str]:
    """Unregister a push device (extension)

    Not in the seed (a bodiless DELETE would not have survived its scrape): unregisters the token at logout. Its SNS
    platform endpoint is deleted, and the device with its logs. 404 when the tenant has no such device (a second
    DELETE included); 403 when it is another user's.
    """
    who = courier_caller(api)
    admin = _admin(who)
    push.device_of(who.tenant_id, id, push.check_owner(None if admin else who.acting_user(), admin=admin))
    push.delete_device(who.tenant_id, id)
    return Response(status_code=204, content_type=jsonapi.MEDIA_TYPE, body="")
