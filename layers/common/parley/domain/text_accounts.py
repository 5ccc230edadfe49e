"""Texting accounts (docs/courier.md "Texting" → "Accounts, numbers, lookups"): an organization's Twilio subaccount.

Creating one asks Twilio for a subaccount of the tenant's main account (the tenant's provider secret:
``twilio_account_sid``, ``twilio_auth_token``), stores the subaccount's sid and auth token in Secrets Manager
(``parley/texting/<tenant>/<account id>``; the token is never answered nor stored in the table), then the account.
``claim-number`` buys a number into it (``text_numbers.buy``).
"""

from __future__ import annotations

from typing import Any

from parley import clock
from parley.dal import text_numbers as store
from parley.domain import text_numbers
from parley.domain.ids import new_id
from parley.domain.text_numbers import pointer, twilio_failure
from parley.errors import BadRequest, NotFound, Unprocessable
from parley.models.courier_text_numbers import (
    ClaimNumber,
    TextAccountAttributes,
    TextAccountCreate,
    TextAccountUpdate,
    TextNumberAttributes,
)


def view(stored: dict[str, Any]) -> TextAccountAttributes:
    return TextAccountAttributes(
        allow_custom_number=bool(stored.get("allow_custom_number")),
        created_at=stored["created_at"],
        organization_id=stored["organization_id"],
        phone_number=stored.get("phone_number"),
        twilio_id=stored["twilio_id"],
    )


def main_account(tenant_id: str) -> tuple[str, str]:
    from parley.dal.secrets import tenant_secret

    try:
        secret = tenant_secret(tenant_id)
    except Exception as err:  # Secrets Manager unreachable
        raise text_numbers.BadGateway(f"the tenant's Twilio credentials cannot be read: {err}", code="credentials-unavailable") from None
    if not secret.get("twilio_account_sid") or not secret.get("twilio_auth_token"):
        raise Unprocessable("the tenant has no Twilio account configured (twilio_account_sid, twilio_auth_token)", code="no-twilio-account")
    return str(secret["twilio_account_sid"]), str(secret["twilio_auth_token"])


def create(tenant_id: str, attrs: TextAccountCreate, *, idempotency_key: str | None = None,
           lambda_context: Any = None) -> tuple[str, TextAccountAttributes]:  # fmt: skip
    """A new account (a Twilio subaccount). An ``Idempotency-Key`` makes a retried create answer the first account
    (one subaccount, not two)."""
    from parley.domain.idempotency import run_once

    done = run_once(tenant_id=tenant_id, scope="courier.text-accounts.create", key=idempotency_key,
                    payload=attrs.model_dump(mode="json"), fn=lambda: {"id": _create(tenant_id, attrs)},
                    lambda_context=lambda_context)  # fmt: skip
    return done["id"], view(stored(tenant_id, done["id"], consistent=True))


def _create(tenant_id: str, attrs: TextAccountCreate) -> str:
    from parley.dal import directory as people
    from parley.dal import secrets
    from parley.providers import twilio_rest

    if not attrs.organization_id:
        raise Unprocessable("organization-id is required", pointer=pointer("organization-id"), code="missing-member")
    if people.get(tenant_id, "organizations", attrs.organization_id) is None:
        raise Unprocessable(f"no organization {attrs.organization_id!r}", pointer=pointer("organization-id"), code="unknown-organization")
    main_sid, main_token = main_account(tenant_id)
    account_id = new_id()
    try:
        sid, token = twilio_rest.create_subaccount(main_sid, main_token, f"parley {tenant_id[:20]} {account_id}")
    except twilio_rest.TwilioError as err:
        raise twilio_failure(err, "create a subaccount") from None
    secrets.put_tenant_secret(text_numbers.secret_name(tenant_id, account_id), {"account_sid": sid, "auth_token": token})
    now = clock.iso(clock.now())
    item = store.account_item(
        tenant_id,
        account_id,
        {
            "organization_id": attrs.organization_id,
            "allow_custom_number": attrs.allow_custom_number,
            "twilio_id": sid,
            "secret_name": text_numbers.secret_name(tenant_id, account_id),
            "created_at": now,
            "last_modified_at": now,
        },
    )
    try:
        store.put_account(item)
    except Exception:
        try:  # a subaccount Parley has no account for is closed again
            twilio_rest.close_subaccount(main_sid, main_token, sid)
        except twilio_rest.TwilioError as err:
            from aws_lambda_powertools import Logger

            Logger(child=True).error("a subaccount could not be closed", extra={"account_sid": sid, "error": err.message})
        raise
    return account_id


def stored(tenant_id: str, account_id: str, *, consistent: bool = False) -> dict[str, Any]:
    found = store.get_account(tenant_id, account_id, consistent=consistent)
    if found is None:
        raise NotFound(f"no text-account {account_id!r}", code="not-found")
    return found


def get(tenant_id: str, account_id: str) -> tuple[str, TextAccountAttributes]:
    return account_id, view(stored(tenant_id, account_id))


def page(tenant_id: str, organization_id: str | None, *, offset: int, limit: int) -> tuple[list[tuple[str, TextAccountAttributes]], int]:
    items, total = store.accounts(tenant_id, organization_id, offset=offset, limit=limit)
    return [(i["id"], view(i)) for i in items], total


def update(tenant_id: str, region: str, account_id: str, attrs: TextAccountUpdate) -> tuple[str, TextAccountAttributes]:
    """``allow-custom-number``; ``phone-number``: the default sender, one of the account's numbers (422 otherwise),
    ``null`` clears it."""
    stored(tenant_id, account_id)
    sent = attrs.model_fields_set
    changes: dict[str, Any] = {"last_modified_at": clock.iso(clock.now())}
    remove: list[str] = []
    if "allow_custom_number" in sent:
        if attrs.allow_custom_number is None:
            raise BadRequest("allow-custom-number cannot be null", pointer=pointer("allow-custom-number"), code="invalid-member")
        changes["allow_custom_number"] = attrs.allow_custom_number
    if "phone_number" in sent:
        if attrs.phone_number is None:
            remove.append("phone_number")
        else:
            wanted = text_numbers.e164(attrs.phone_number, region, pointer=pointer("phone-number"))
            if not any(n["phone_number"] == wanted for n in store.account_numbers(tenant_id, account_id)):
                raise Unprocessable(
                    f"{wanted} is not a number of this account", pointer=pointer("phone-number"), code="not-an-account-number"
                )
            changes["phone_number"] = wanted
    try:
        return account_id, view(store.update_account(tenant_id, account_id, changes, remove))
    except Exception as err:
        if store.lost_race(err):
            raise NotFound(f"no text-account {account_id!r}", code="not-found") from None
        raise


def claim_number(tenant_id: str, account_id: str, body: ClaimNumber, *, idempotency_key: str | None = None,
                 lambda_context: Any = None) -> tuple[str, TextNumberAttributes]:  # fmt: skip
    """Buy a number into the account (``notes`` kept on it); the account's first number becomes its default sender
    when it has none. An ``Idempotency-Key`` makes a retried claim answer the first number (one purchase)."""
    from parley.domain.idempotency import run_once

    stored(tenant_id, account_id)  # a foreign or unknown account is a 404 before any key is held
    done = run_once(tenant_id=tenant_id, scope="courier.text-accounts.claim-number", key=idempotency_key,
                    payload={"account": account_id, **body.model_dump(mode="json")}, fn=lambda: {"id": _claim(tenant_id, account_id, body)},
                    lambda_context=lambda_context)  # fmt: skip
    return text_numbers.get(tenant_id, done["id"], consistent=True)


def _claim(tenant_id: str, account_id: str, body: ClaimNumber) -> str:
    account = stored(tenant_id, account_id, consistent=True)
    item = text_numbers.buy(tenant_id, account, area_code=body.area_code, notes=body.notes)
    if not account.get("phone_number"):
        try:  # only while it has none: a concurrent claim's number may have become the default first
            store.update_account(tenant_id, account_id, {"phone_number": item["phone_number"], "last_modified_at": item["created_at"]}, [],
                                 condition="attribute_not_exists(phone_number)")  # fmt: skip
        except Exception as err:
            if not store.lost_race(err):
                raise
    return item["id"]
