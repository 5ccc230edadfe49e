"""Push transport of the courier notifications (docs/courier.md "Push credentials and devices").

- **app-credentials**: an organization's APNs / FCM (SNS platform application ``APNS`` | ``APNS_SANDBOX`` | ``GCM``)
  or web push (VAPID) credentials. The secret ``data`` goes to Secrets Manager (``parley/push/<tenant>/<id>``) and is
  never answered; a PATCH that rotates it stores a new secret version and gives the platform application the new
  credentials (``SetPlatformApplicationAttributes``), so the next push through its endpoints uses them.
- **user-devices**: a token registers an SNS platform endpoint under the platform application of the tenant's active
  credential for the device's ``app-name`` and type (and ``sandbox`` for APNs). One token is one device of a tenant
  (its id is derived from the token): registering it again is idempotent and re-enables it; registered by another user,
  it moves to that user. Web devices hold a push subscription; their pushes go through ``pywebpush`` with the
  credential's VAPID key.
- **deliver**: one notification to every device of a user (the interface the notifications domain calls), at most once
  per (notification, device): claim → push → confirm, each attempt a device log.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Any

from parley import clock
from parley.dal import push as store
from parley.domain.ids import new_id
from parley.errors import Conflict, Forbidden, NotFound, Unprocessable
from parley.models.notifications import NotificationData, PushContent
from parley.models.push import (
    AppCredentialAttributes,
    AppCredentialCreate,
    AppCredentialPatch,
    PushAttempt,
    UserDeviceAttributes,
    UserDeviceCreate,
    UserDeviceLogAttributes,
)

_HEX = re.compile(r"^[0-9a-fA-F]{64,200}$")
_FCM = re.compile(r"^[\x21-\x7e]{1,4096}$")
# What `data` holds, per credential type (docs/courier.md): one of these member sets, each member a non-empty string
# (the FCM service account: an object).
_DATA_SHAPES = {
    "apn": ({"signing-key", "signing-key-id", "team-id"}, {"certificate", "private-key"}),
    "fcm": ({"service-account"}, {"server-key"}),
    "web": ({"vapid-private-key", "subject"},),
}


def pointer(member: str) -> str:
    return f"/data/attributes/{member}"


# ───────────── app-credentials ─────────────
def _check_data(kind: str, data: dict[str, Any], store_id: str | None) -> None:
    """422 (``invalid-credential-data``) unless ``data`` has exactly one of the type's member sets, filled in."""
    shapes = _DATA_SHAPES[kind]
    names = set(data)
    expected = " or ".join("{" + ", ".join(sorted(s)) + "}" for s in shapes)
    if names not in shapes:
        raise Unprocessable(
            f"data of a {kind} credential must have exactly {expected}", pointer=pointer("data"), code="invalid-credential-data"
        )
    for name, value in data.items():
        ok = isinstance(value, dict) and bool(value) if name == "service-account" else isinstance(value, str) and bool(value.strip())
        if not ok or (isinstance(value, str) and len(value) > 16_384):
            raise Unprocessable(
                f"data.{name} must be a non-empty value", pointer=f"{pointer('data')}/{name}", code="invalid-credential-data"
            )
    if kind == "apn" and "signing-key" in names and not store_id:
        raise Unprocessable("store-id (the app's bundle id) is required with an APNs signing key", pointer=pointer("store-id"),
                            code="missing-member")  # fmt: skip
    if kind == "web":
        from parley.providers import web_push

        try:
            web_push.vapid_key(data["vapid-private-key"])
        except ValueError as err:
            raise Unprocessable(
                f"data.vapid-private-key: {err}", pointer=f"{pointer('data')}/vapid-private-key", code="invalid-credential-data"
            ) from err
        if not data["subject"].startswith(("mailto:", "https://")):
            raise Unprocessable("data.subject must be a mailto: or https: URL (VAPID's contact)", pointer=f"{pointer('data')}/subject",
                                code="invalid-credential-data")  # fmt: skip


def _organization(tenant_id: str, organization_id: str | None) -> None:
    if organization_id is None:
        return
    from parley.dal import directory as people

    if people.get(tenant_id, "organizations", organization_id) is None:
        raise Unprocessable(f"no organization {organization_id!r}", pointer=pointer("organization-id"), code="unknown-organization")


def _refused(err: Exception) -> Unprocessable:
    return Unprocessable(f"the push platform refused the credentials: {err}", pointer=pointer("data"), code="invalid-credentials")


def credential_view(item: dict[str, Any]) -> AppCredentialAttributes:
    return AppCredentialAttributes(
        app_name=item.get("app_name"),
        archived=bool(item.get("archived", False)),
        created_at=item["created_at"],
        data={},  # the secret is never answered
        display_name=item.get("display_name"),
        last_modified_at=item["last_modified_at"],
        organization_id=item.get("organization_id"),
        store_id=item.get("store_id"),
        test_mode=bool(item.get("test_mode", False)),
        type=item["kind"],
    )


def create_credential(tenant_id: str, attrs: AppCredentialCreate) -> tuple[str, AppCredentialAttributes]:
    """A new credential: checked, its platform application made (apn, fcm), its secret stored, then its item."""
    from parley.providers import sns_push

    for name, member in (("type", "type"), ("app_name", "app-name"), ("data", "data")):
        if getattr(attrs, name) is None:
            raise Unprocessable(f"{member} is required", pointer=pointer(member), code="missing-member")
    kind, data = str(attrs.type), dict(attrs.data or {})
    _check_data(kind, data, attrs.store_id)
    _organization(tenant_id, attrs.organization_id)
    credential_id, now = new_id(), clock.iso(clock.now())
    platform = platform_arn = None
    if kind in ("apn", "fcm"):
        platform = sns_push.PLATFORMS[(kind, attrs.test_mode)]
        try:
            platform_arn = sns_push.create_application(
                f"parley-{tenant_id}-{credential_id}", platform, sns_push.application_attributes(kind, attrs.store_id, data)
            )
        except sns_push.PushRefused as err:
            raise _refused(err) from err
    name = store.secret_name(tenant_id, credential_id)
    store.put_secret(name, data)
    item = store.credential_item(
        tenant_id,
        credential_id,
        {
            "app_name": attrs.app_name, "display_name": attrs.display_name, "organization_id": attrs.organization_id,
            "store_id": attrs.store_id, "test_mode": attrs.test_mode, "kind": kind, "archived": False,
            "secret_name": name, "secret_version": 1, "platform": platform, "platform_arn": platform_arn,
            "created_at": now, "last_modified_at": now,
        },
    )  # fmt: skip
    store.put_credential(item)
    return credential_id, credential_view(item)


def get_credential(tenant_id: str, credential_id: str) -> dict[str, Any]:
    found = store.get_credential(tenant_id, credential_id, consistent=True)
    if found is None:
        raise NotFound(f"no app-credential {credential_id!r}", code="not-found")
    return found


def update_credential(tenant_id: str, credential_id: str, attrs: AppCredentialPatch) -> tuple[str, AppCredentialAttributes]:
    """Apply a PATCH: plain attributes, ``archived`` (the soft delete: its devices get no pushes), and a rotation of
    ``data`` (new secret version, the platform application's new credentials). ``test-mode`` of an APNs credential
    cannot change (its platform application is APNS or APNS_SANDBOX): 422."""
    from parley.providers import sns_push

    item = get_credential(tenant_id, credential_id)
    given = attrs.model_fields_set
    kind = item["kind"]
    changes: dict[str, Any] = {}
    for name in ("app_name", "display_name", "organization_id", "store_id", "archived"):
        if name in given:
            changes[name] = getattr(attrs, name) if name != "archived" else bool(attrs.archived)
    if "organization_id" in changes:
        _organization(tenant_id, changes["organization_id"])
    if "test_mode" in given and bool(attrs.test_mode) != bool(item.get("test_mode", False)):
        if kind == "apn":
            raise Unprocessable("test-mode of an APNs credential cannot change: create another credential",
                                pointer=pointer("test-mode"), code="test-mode-fixed")  # fmt: skip
        changes["test_mode"] = bool(attrs.test_mode)
    store_id = changes.get("store_id", item.get("store_id"))
    rotate = "data" in given and attrs.data is not None
    version = int(item.get("secret_version", 1))
    if rotate:
        data = dict(attrs.data or {})
        _check_data(kind, data, store_id)
    elif kind == "apn" and "store_id" in changes and item.get("platform_arn"):
        data = store.read_secret(item["secret_name"], version)  # the bundle id is one of the application's attributes
        _check_data(kind, data, store_id)
    else:
        data = None
    if data is not None and item.get("platform_arn"):
        try:
            sns_push.update_application(item["platform_arn"], sns_push.application_attributes(kind, store_id, data))
        except sns_push.PushRefused as err:
            raise _refused(err) from err
    if rotate:
        store.put_secret(item["secret_name"], data or {})
        changes["secret_version"] = version + 1
    changes["last_modified_at"] = clock.iso(clock.now())
    if not store.update_credential(tenant_id, credential_id, changes, version=version):
        raise Conflict("the credential was changed by another request meanwhile: read it and try again", code="edit-conflict")
    return credential_id, credential_view(get_credential(tenant_id, credential_id))


def list_credentials(
    tenant_id: str, *, app_name: str | None, kind: str | None, include_archived: bool, offset: int, limit: int
) -> tuple[list[tuple[str, AppCredentialAttributes]], int]:
    """The tenant's credentials, oldest first (one Query of its credential index; the filters applied to it)."""
    items = [
        i for i in store.credentials(tenant_id)
        if (include_archived or not i.get("archived")) and (app_name is None or i.get("app_name") == app_name)
        and (kind is None or i["kind"] == kind)
    ]  # fmt: skip
    return [(i["id"], credential_view(i)) for i in items[offset : offset + limit]], len(items)


def _credential_for(tenant_id: str, kind: str, app_name: str | None, sandbox: bool) -> dict[str, Any] | None:
    """The active credential a device registers under: same type and ``app-name`` (any, when the device names none
    and the tenant has exactly one of the type), and for APNs the same sandbox as ``test-mode``; the newest wins."""
    found = [
        c for c in store.credentials(tenant_id)
        if not c.get("archived") and c["kind"] == kind and (kind != "apn" or bool(c.get("test_mode")) == sandbox)
    ]  # fmt: skip
    if app_name is not None:
        found = [c for c in found if c.get("app_name") == app_name]
    elif len(found) > 1:
        return None
    return found[-1] if found else None


# ───────────── user-devices ─────────────
def device_view(item: dict[str, Any]) -> UserDeviceAttributes:
    return UserDeviceAttributes(
        allow_notification=bool(item.get("allow_notification", True)),
        app_name=item.get("app_name"),
        app_version=item.get("app_version"),
        created_at=item["created_at"],
        individual_id=item.get("individual_id"),
        last_modified_at=item["last_modified_at"],
        model=item.get("model"),
        os_version=item.get("os_version"),
        sandbox=bool(item.get("sandbox", False)),
        token=item["token"],
        topic=item.get("topic"),
        type=item["kind"],
        push_state=item.get("push_state", "no-credential"),
        push_state_reason=item.get("push_state_reason"),
    )


def _check_token(kind: str, token: str) -> None:
    if kind == "apn" and not _HEX.match(token):
        raise Unprocessable("an APNs token is 64 or more hexadecimal characters", pointer=pointer("token"), code="invalid-token")
    if kind == "fcm" and not _FCM.match(token):
        raise Unprocessable("an FCM token is printable characters without spaces", pointer=pointer("token"), code="invalid-token")
    if kind == "web":
        from parley.providers import web_push

        try:
            web_push.subscription(token)
        except web_push.SubscriptionInvalid as err:
            raise Unprocessable(str(err), pointer=pointer("token"), code="invalid-token") from err


def register_device(tenant_id: str, user_id: str, individual_id: str | None, attrs: UserDeviceCreate) -> tuple[str, UserDeviceAttributes]:
    """Register (or register again) a token for ``user_id``; see the module doc."""
    from parley.providers import sns_push

    for name in ("type", "token"):
        if getattr(attrs, name) is None:
            raise Unprocessable(f"{name} is required", pointer=pointer(name), code="missing-member")
    kind, token = str(attrs.type), str(attrs.token)
    _check_token(kind, token)
    device = store.device_id(tenant_id, kind, token)
    before = store.get_device(tenant_id, device, consistent=True)
    now = clock.iso(clock.now())
    credential = _credential_for(tenant_id, kind, attrs.app_name, attrs.sandbox)
    fields: dict[str, Any] = {
        "user_id": user_id, "individual_id": individual_id, "kind": kind, "token": token,
        "allow_notification": attrs.allow_notification, "app_name": attrs.app_name, "app_version": attrs.app_version,
        "model": attrs.model, "os_version": attrs.os_version, "sandbox": attrs.sandbox, "topic": attrs.topic,
        "created_at": before["created_at"] if before else now, "last_modified_at": now,
    }  # fmt: skip
    endpoint = None
    if credential is None:
        sandbox = " (sandbox)" if kind == "apn" and attrs.sandbox else ""
        fields.update(
            push_state="no-credential", push_state_reason=f"no active app-credential for app {attrs.app_name!r}, type {kind}{sandbox}"
        )
    else:
        fields.update(credential_id=credential["id"], platform=credential.get("platform"), push_state="enabled", push_state_reason=None)
        if kind in ("apn", "fcm"):
            try:
                endpoint = sns_push.create_endpoint(credential["platform_arn"], token, device)
            except sns_push.PushRefused as err:
                raise Unprocessable(f"the push platform refused the token: {err}", pointer=pointer("token"), code="invalid-token") from err
            fields["endpoint_arn"] = endpoint
    old_endpoint = (before or {}).get("endpoint_arn")
    if old_endpoint and old_endpoint != endpoint:
        sns_push.delete_endpoint(old_endpoint)  # the token moved to another app-credential (or lost its credential)
    item = store.device_item(tenant_id, device, fields)
    store.put_device(item)
    return device, device_view(item)


def device_of(tenant_id: str, device: str, check: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    found = store.get_device(tenant_id, device, consistent=True)
    if found is None:
        raise NotFound(f"no user-device {device!r}", code="not-found")
    if check is not None:
        check(found)
    return found


def list_devices(
    tenant_id: str, user_id: str | None, *, filters: dict[str, Any], offset: int, limit: int
) -> tuple[list[tuple[str, UserDeviceAttributes]], int]:
    """The user's devices (one Query), or every device of the tenant (``user_id`` None: GSI6), oldest first, with the
    seed's filters (equality) applied."""
    items = store.devices_of_user(tenant_id, user_id) if user_id is not None else store.devices_of_tenant(tenant_id)
    wanted = {k: v for k, v in filters.items() if v is not None}
    items = [i for i in items if all(i.get(k) == v for k, v in wanted.items())]
    return [(i["id"], device_view(i)) for i in items[offset : offset + limit]], len(items)


def delete_device(tenant_id: str, device: str) -> None:
    """Unregister: the SNS endpoint deleted, the device with its logs and claims removed."""
    from parley.providers import sns_push

    items = store.device_partition(tenant_id, device)
    for item in items:
        if item["SK"] == store.DEVICE_SK and item.get("endpoint_arn"):
            sns_push.delete_endpoint(item["endpoint_arn"])
    store.delete_items([(i["PK"], i["SK"]) for i in items])


def log_view(item: dict[str, Any]) -> UserDeviceLogAttributes:
    outcome = item.get("outcome", "claimed")
    return UserDeviceLogAttributes(
        badge_count=item.get("badge_count"),
        body=item.get("body"),
        category=item.get("category"),
        created_at=item["created_at"],
        data=item.get("data") or {},
        title=item.get("title"),
        notification_id=item["notification_id"],
        transport=item.get("transport", ""),
        # a claim never confirmed (the worker died between the claim and the confirmation): the push may or may not
        # have gone out; it is never repeated (docs/courier.md)
        outcome="unconfirmed" if outcome == "claimed" else outcome,
        reason=item.get("reason"),
    )


def logs(tenant_id: str, device: str, *, offset: int, limit: int) -> tuple[list[tuple[str, UserDeviceLogAttributes]], int]:
    items, total = store.logs_page(tenant_id, device, offset=offset, limit=limit)
    return [(_log_id(i), log_view(i)) for i in items], total


def _log_id(item: dict[str, Any]) -> str:
    """A log's id: a UUID made from its device and notification (stable: one log per notification and device)."""
    import uuid

    digest = hashlib.sha256(f"{item['device_id']}\n{item['notification_id']}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def purge_users(tenant_id: str, user_ids: set[str]) -> dict[str, int]:
    """Erase the users' devices: their SNS endpoints, the devices, their logs and claims (parley.domain.purge)."""
    done = {"devices": 0, "device_logs": 0}
    for user in sorted(user_ids):
        for device in store.devices_of_user(tenant_id, user):
            items = store.device_partition(tenant_id, device["id"])
            done["device_logs"] += sum(1 for i in items if i["SK"].startswith(store.LOG_PREFIX))
            delete_device(tenant_id, device["id"])
            done["devices"] += 1
    return done


# ───────────── deliver ─────────────
def _content(transport: str, data: NotificationData) -> dict[str, Any] | None:
    """What the log keeps of the transport's payload (title, body, category, data), or None when it has none."""
    if transport in ("apn", "fcm"):
        content: PushContent | None = getattr(data, transport)
        if content is None:
            return None
        return {"title": content.title, "body": content.body, "category": content.category, "data": dict(content.data)}
    web = data.web
    if web is None:
        return None
    extra = web.get("data")
    return {
        "title": web.get("title") if isinstance(web.get("title"), str) else None,
        "body": web.get("body") if isinstance(web.get("body"), str) else None,
        "category": web.get("category") if isinstance(web.get("category"), str) else None,
        "data": extra if isinstance(extra, dict) else {k: v for k, v in web.items() if k not in ("title", "body", "category")},
    }


def apns_payload(content: PushContent, badge: int | None) -> dict[str, Any]:
    """The APNs payload: ``aps`` (alert title/body, badge, category, sound) and the app's data beside it."""
    aps: dict[str, Any] = {
        "alert": {k: v for k, v in (("title", content.title), ("body", content.body)) if v is not None},
        "sound": "default",
    }
    if badge is not None:
        aps["badge"] = badge
    if content.category:
        aps["category"] = content.category
    return {**{k: v for k, v in content.data.items() if k != "aps"}, "aps": aps}


def _text(value: Any) -> str:
    import json

    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), sort_keys=True)


def fcm_payload(content: PushContent, badge: int | None, collapse_id: str) -> dict[str, Any]:
    """The FCM HTTP v1 message as SNS takes it (``fcmV1Message``): notification title/body, the data (string values),
    Android's collapse key, notification count (the badge) and click action (the category)."""
    notification = {k: v for k, v in (("title", content.title), ("body", content.body)) if v is not None}
    data = {str(k): _text(v) for k, v in content.data.items()}
    android_notification: dict[str, Any] = {}
    if badge is not None:
        android_notification["notification_count"] = badge
        data.setdefault("badge", str(badge))
    if content.category:
        android_notification["click_action"] = content.category
    message: dict[str, Any] = {"notification": notification, "data": data, "android": {"collapse_key": collapse_id[:64]}}
    if android_notification:
        message["android"]["notification"] = android_notification
    return {"fcmV1Message": {"message": message}}


def web_payload(web: dict[str, Any], badge: int | None, notification_id: str) -> dict[str, Any]:
    payload = dict(web)
    if badge is not None:
        payload.setdefault("badge", badge)
    payload.setdefault("notification-id", notification_id)
    return payload


def _topic(collapse_id: str) -> str:
    """A web push ``Topic`` (at most 32 URL-safe characters) for a collapse id."""
    return hashlib.sha256(collapse_id.encode()).hexdigest()[:32]


def deliver(
    tenant_id: str, user_id: str, notification_id: str, data: NotificationData, *, badge: int | None, collapse_id: str
) -> list[PushAttempt]:
    """Send the notification to every device of the user, at most once per (notification, device).

    Per device with a payload for its transport: claim (a conditional put, with its log ``claimed``, in one
    transaction) → push → the log's outcome (all devices' in one BatchWriteItem). A device already claimed for the
    notification is a ``duplicate`` and nothing is pushed. Not pushed, with the log saying why: notifications off on
    the device (``skipped``), no active credential (``skipped``), a dead token (``disabled``). A platform that
    says the token is dead (SNS ``EndpointDisabled``, web push 404/410) disables the device. A throttle or an
    outage before the platform took the push releases that device's claim and is raised (the caller's retry pushes
    the devices not yet done); a timeout after sending is ``failed`` with reason ``unconfirmed`` (never repeated).

    Cost: one Query (the user's devices), one BatchGetItem (their credentials), per device one TransactWriteItems
    and one push, one BatchWriteItem per 25 logs."""
    from parley.providers import sns_push

    devices = store.devices_of_user(tenant_id, user_id)
    if not devices:
        return []
    credentials = store.credentials_of(tenant_id, {str(d["credential_id"]) for d in devices if d.get("credential_id")})
    attempts: list[PushAttempt] = []
    finals: list[dict[str, Any]] = []
    try:
        for device in devices:
            transport = device["kind"]
            content = _content(transport, data)
            if content is None:
                attempts.append(
                    PushAttempt(device_id=device["id"], transport=transport, outcome="skipped", reason=f"no {transport} payload")
                )
                continue
            now = clock.iso(clock.now())
            fields = {**content, "badge_count": badge, "transport": transport, "outcome": "claimed"}
            log = store.log_item(tenant_id, device["id"], now, notification_id, fields)
            if not store.claim(tenant_id, device["id"], notification_id, log):
                attempts.append(PushAttempt(device_id=device["id"], transport=transport, outcome="duplicate",
                                            reason="an earlier delivery of this notification claimed the device"))  # fmt: skip
                continue
            try:
                outcome, reason = _push(
                    tenant_id, device, credentials.get(str(device.get("credential_id"))), data, badge, notification_id, collapse_id
                )
            except Exception as err:
                if sns_push.retryable(err):
                    store.delete_items([(log["PK"], store.claim_sk(notification_id)), (log["PK"], log["SK"])])
                    raise
                outcome, reason = "failed", f"unconfirmed: {type(err).__name__}"
            finals.append({**log, "outcome": outcome, "reason": reason})
            attempts.append(PushAttempt(device_id=device["id"], transport=transport, outcome=outcome, reason=reason))  # type: ignore[arg-type]
    finally:
        store.put_logs(finals)
    return attempts


def _push(
    tenant_id: str, device: dict[str, Any], credential: dict[str, Any] | None, data: NotificationData, badge: int | None,
    notification_id: str, collapse_id: str,
) -> tuple[str, str | None]:  # fmt: skip
    """One device's push: (outcome, reason)."""
    from parley.providers import sns_push, web_push

    transport = device["kind"]
    if not device.get("allow_notification", True):
        return "skipped", "notifications are off on the device (allow-notification false)"
    if device.get("push_state") == "disabled":
        return "disabled", device.get("push_state_reason") or "the device's token is disabled"
    if credential is None or credential.get("archived"):
        why = "archived" if credential else "missing"
        return "skipped", f"no active app-credential for the device (its credential is {why}; register the device again)"
    try:
        if transport == "apn":
            attributes = {"AWS.SNS.MOBILE.APNS.COLLAPSE_ID": collapse_id[:64], "AWS.SNS.MOBILE.APNS.PUSH_TYPE": "alert"}
            if device.get("topic"):
                attributes["AWS.SNS.MOBILE.APNS.TOPIC"] = device["topic"]
            sns_push.publish(device["endpoint_arn"], device["platform"], apns_payload(data.apn, badge), attributes=attributes)  # type: ignore[arg-type]
        elif transport == "fcm":
            sns_push.publish(device["endpoint_arn"], "GCM", fcm_payload(data.fcm, badge, collapse_id))  # type: ignore[arg-type]
        else:
            secret = store.read_secret(credential["secret_name"], int(credential.get("secret_version", 1)))
            web_push.send(
                web_push.subscription(device["token"]), web_payload(data.web or {}, badge, notification_id),
                private_key=secret["vapid-private-key"], subject=secret["subject"], topic=_topic(collapse_id),
            )  # fmt: skip
    except (sns_push.EndpointGone, web_push.WebPushGone, web_push.SubscriptionInvalid) as err:
        reason = f"the platform reports the token disabled or unregistered: {err}"
        store.set_push_state(tenant_id, device["id"], "disabled", reason, clock.iso(clock.now()))
        return "disabled", reason
    except (sns_push.PushRefused, web_push.WebPushFailed) as err:
        return "failed", str(err)
    return "sent", None


def check_owner(who_user: str | None, *, admin: bool) -> Callable[[dict[str, Any]], None]:
    """The rule of the device routes: the tenant's server (API key without ``X-User-ID``) may act on any device of
    the tenant; a user only on their own (403 ``not-owner``)."""

    def check(item: dict[str, Any]) -> None:
        if admin:
            return
        if item.get("user_id") != who_user:
            raise Forbidden(f"user-device {item['id']!r} is not one of user {who_user!r}'s devices", code="not-owner")

    return check
