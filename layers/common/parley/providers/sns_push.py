"""Amazon SNS mobile push (docs/courier.md "Push credentials and devices"): an app-credential is an SNS platform
application (``APNS`` | ``APNS_SANDBOX`` | ``GCM``), a device token a platform endpoint under it, a push a ``Publish``
to the endpoint with the platform's own JSON (``MessageStructure=json``).

Every SNS call of the push transport is here (no boto3 above the providers and the DAL). Errors:
- ``PushRefused``: SNS refused the request for its content (bad credentials, a malformed token): a 422 at
  registration, a ``failed`` attempt at delivery;
- ``EndpointGone``: the endpoint is disabled (APNs/FCM said the token is dead) or deleted: the device stops receiving;
- anything else (throttling, 5xx, a timeout) is raised as it is.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError, EndpointConnectionError

from parley.dal.aws import client

# How a credential type (and test-mode) maps to an SNS platform.
PLATFORMS = {("apn", False): "APNS", ("apn", True): "APNS_SANDBOX", ("fcm", False): "GCM", ("fcm", True): "GCM"}
_REFUSED = frozenset({"InvalidParameter", "InvalidParameterException", "InvalidParameterValue", "ValidationError"})
_GONE = frozenset({"EndpointDisabled", "EndpointDisabledException", "NotFound", "NotFoundException"})


class PushRefused(Exception):
    """SNS refused the request for what it carried (credentials, token, payload)."""


class EndpointGone(Exception):
    """The platform endpoint is disabled or deleted: the token no longer receives."""


def _code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


def _message(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Message", "")) or _code(err)


def retryable(err: BaseException) -> bool:
    """A failure before SNS took the push (throttling, the service's 5xx, no connection): safe to try again later."""
    from parley.providers.aws_errors import RETRYABLE_CODES

    if isinstance(err, ClientError):
        status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return _code(err) in RETRYABLE_CODES or status >= 500
    return isinstance(err, EndpointConnectionError)


def _sns(*, retry: bool = True) -> Any:
    return client("sns", retry=retry)


def application_attributes(kind: str, store_id: str | None, data: dict[str, Any]) -> dict[str, str]:
    """The platform application's attributes for a credential's secret ``data`` (its shape checked by the domain).

    APNs token: ``PlatformCredential`` = the .p8 signing key, ``PlatformPrincipal`` = its key id,
    ``ApplePlatformTeamID``, ``ApplePlatformBundleID`` = ``store-id``. APNs certificate: ``PlatformPrincipal`` = the
    certificate (PEM), ``PlatformCredential`` = its private key. FCM: ``PlatformCredential`` = the service account JSON
    (FCM HTTP v1) or the legacy server key."""
    if kind == "apn":
        if "signing-key" in data:
            return {
                "PlatformCredential": data["signing-key"],
                "PlatformPrincipal": data["signing-key-id"],
                "ApplePlatformTeamID": data["team-id"],
                "ApplePlatformBundleID": store_id or "",
            }
        return {"PlatformPrincipal": data["certificate"], "PlatformCredential": data["private-key"]}
    if "service-account" in data:
        return {"PlatformCredential": json.dumps(data["service-account"], sort_keys=True)}
    return {"PlatformCredential": data["server-key"]}


def create_application(name: str, platform: str, attributes: dict[str, str]) -> str:
    """A new platform application; its ARN."""
    try:
        return str(_sns().create_platform_application(Name=name, Platform=platform, Attributes=attributes)["PlatformApplicationArn"])
    except ClientError as err:
        if _code(err) in _REFUSED:
            raise PushRefused(_message(err)) from err
        raise


def update_application(arn: str, attributes: dict[str, str]) -> None:
    """New credentials for a platform application (a rotation): the next Publish through its endpoints uses them."""
    try:
        _sns().set_platform_application_attributes(PlatformApplicationArn=arn, Attributes=attributes)
    except ClientError as err:
        if _code(err) in _REFUSED:
            raise PushRefused(_message(err)) from err
        raise


def create_endpoint(application_arn: str, token: str, device_id: str) -> str:
    """The platform endpoint of ``token`` under the application (``CustomUserData`` = the device id), enabled.

    SNS answers the existing endpoint's ARN for a token it has with the same attributes (idempotent); a token it has
    with other attributes (disabled, another device id) is refused: that endpoint is then found in the error,
    re-enabled and given this device id (AWS's documented re-registration pattern)."""
    sns = _sns()
    try:
        arn = str(
            sns.create_platform_endpoint(
                PlatformApplicationArn=application_arn, Token=token, CustomUserData=device_id, Attributes={"Enabled": "true"}
            )["EndpointArn"]
        )
    except ClientError as err:
        message = _message(err)
        if _code(err) not in _REFUSED:
            raise
        marker = "Endpoint "
        if "already exists with the same Token" not in message or marker not in message:
            raise PushRefused(message) from err
        arn = message.split(marker, 1)[1].split(" ", 1)[0]
        if not arn.replace(":endpoint/", ":app/", 1).startswith(application_arn + "/"):  # another application's token
            raise PushRefused(message) from err
    sns.set_endpoint_attributes(EndpointArn=arn, Attributes={"Enabled": "true", "CustomUserData": device_id, "Token": token})
    return arn


def endpoint_attributes(arn: str) -> dict[str, str] | None:
    """The endpoint's attributes (``Enabled``, ``Token``, ``CustomUserData``), or None when it is gone."""
    try:
        out = _sns().get_endpoint_attributes(EndpointArn=arn)
    except ClientError as err:
        if _code(err) in _GONE:
            return None
        raise
    return {k: str(v) for k, v in out.get("Attributes", {}).items()}


def delete_endpoint(arn: str) -> None:
    """Unregister (idempotent: SNS answers success for an endpoint it no longer has)."""
    _sns().delete_endpoint(EndpointArn=arn)


def publish(endpoint_arn: str, platform_key: str, payload: dict[str, Any], *, attributes: dict[str, str] | None = None) -> str:
    """Publish ``payload`` (the platform's JSON) to the endpoint under ``platform_key`` (``APNS``, ``APNS_SANDBOX``,
    ``GCM``); the SNS message id. No SDK retry: a push is not idempotent (the claim decides, docs/courier.md).
    ``attributes``: SNS mobile message attributes (``AWS.SNS.MOBILE.APNS.COLLAPSE_ID``, …)."""
    message = json.dumps({platform_key: json.dumps(payload, separators=(",", ":"), sort_keys=True)}, separators=(",", ":"))
    extra: dict[str, Any] = {}
    if attributes:
        extra["MessageAttributes"] = {k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()}
    try:
        out = _sns(retry=False).publish(TargetArn=endpoint_arn, Message=message, MessageStructure="json", **extra)
    except ClientError as err:
        code = _code(err)
        if code in _GONE:
            raise EndpointGone(_message(err)) from err
        if code in _REFUSED:
            raise PushRefused(_message(err)) from err
        raise
    return str(out["MessageId"])
