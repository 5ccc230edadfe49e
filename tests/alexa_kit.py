"""Acting as Alexa in the tests (docs/courier.md "Alexa (issue 20)"): a fake Amazon (``parley_local.fake_alexa``) with
its test CA, a registered skill, request envelopes, and signed POSTs to ``/v1/ask-entries/``."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

APP_ID = "amzn1.ask.skill.0f0e0d0c-0000-4000-8000-00000000aaaa"
ORG_ID = "7a1b2c3d-0000-4000-8000-000000000001"
USER_ID = "7a1b2c3d-0000-4000-8000-000000000002"
USER2_ID = "7a1b2c3d-0000-4000-8000-000000000003"
IND_ID = "7a1b2c3d-0000-4000-8000-000000000004"
IND2_ID = "7a1b2c3d-0000-4000-8000-000000000005"
ALEXA_USER = "amzn1.ask.account.AGF3NETIE4MNXNG2Z5YEXAMPLE"
ISSUER = "https://login.alexa-tests.example/"
JWT_SECRET = "alexa-tests-jwt-secret-0123456789abcdef"
T1 = "2026-11-01T09:00:00Z"


def stamp(at: datetime | None = None) -> str:
    return (at or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")


def envelope(kind: str, *, app_id: str = APP_ID, user: str = ALEXA_USER, body: dict[str, Any] | None = None,
             at: datetime | None = None, request_id: str | None = None, access_token: str | None = None,
             intent: str | None = None) -> dict[str, Any]:  # fmt: skip
    request: dict[str, Any] = {"type": kind, "requestId": request_id or f"amzn1.echo-api.request.{uuid.uuid4()}", "timestamp": stamp(at),
                               "locale": "en-US"}  # fmt: skip
    if body is not None:
        request["body"] = body
    if intent is not None:
        request["intent"] = {"name": intent, "confirmationStatus": "NONE"}
    user_obj: dict[str, Any] = {"userId": user}
    if access_token:
        user_obj["accessToken"] = access_token
    return {"version": "1.0", "context": {"System": {"application": {"applicationId": app_id}, "user": user_obj,
                                                     "apiEndpoint": "https://api.amazonalexa.com"}}, "request": request}  # fmt: skip


def raw(env: dict[str, Any]) -> str:
    return json.dumps(env, separators=(",", ":"))


def old(seconds: int) -> datetime:
    return datetime.now(UTC) - timedelta(seconds=seconds)


def user_token(user_id: str = USER_ID) -> str:
    import time

    import jwt

    now = int(time.time())
    return jwt.encode({"iss": ISSUER, "aud": "parley", "sub": user_id, "iat": now, "exp": now + 600}, JWT_SECRET, algorithm="HS256")


def setup_tenant(tenant_id: str, fake: Any, *, with_tokens: bool = True) -> str:
    """The directory (an organization, two users with their individuals), HS256 user tokens, and the tenant's skill
    with LWA credentials the fake knows; the skill's id."""
    from parley.dal.secrets import put_tenant_secret
    from parley.domain import ask
    from parley.domain import directory as d
    from parley.domain.auth import configure_tenant

    def line(type_: str, id_: str, attributes: dict[str, Any]) -> str:
        return json.dumps({"type": type_, "id": id_, "attributes": attributes, "last-sync-time": T1})

    summary = d.import_lines(
        tenant_id,
        [
            line("organizations", ORG_ID, {"name": "northside"}),
            line("users", USER_ID, {"username": "pat", "primary-individual-id": IND_ID}),
            line("users", USER2_ID, {"username": "sam", "primary-individual-id": IND2_ID}),
            line("individuals", IND_ID, {"first-name": "Pat", "owner-id": USER_ID}),
            line("individuals", IND2_ID, {"first-name": "Sam", "owner-id": USER2_ID}),
        ],
    )
    assert summary.invalid == []
    if with_tokens:
        put_tenant_secret(f"parley/{tenant_id}/jwt", {"jwt_secret": JWT_SECRET})
        configure_tenant(tenant_id, jwt_issuer=ISSUER, jwt_audience="parley", jwt_secret_name=f"parley/{tenant_id}/jwt")
    client_id, secret = fake.add_client()
    return ask.register_skill(tenant_id, ORG_ID, APP_ID, client_id, secret)
