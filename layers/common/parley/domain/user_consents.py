"""SMS consent flows (seed 003 ``user-consents``, docs/courier.md "Texts, replies and consents").

``POST`` stores the consent (``state = pending``) and sends ``args.messages.initial`` from the account's number to the
user's phone (``target-id``: the directory user's ``phone``, or the phone given as ``target-id``, in E.164). The
initial text is the one message allowed to a number with no opt-in record (never to one that said STOP). The user's
reply (``text_inbound``) moves the state: an accepting word → ``accepted`` (the number is opted in, in the one consent
store the candidate API shares, and ``accept`` is sent); a declining word or STOP → ``declined`` (opted out); anything
else → ``invalid-response`` (``invalid-response`` is sent; the flow stays open for another reply).
"""

from __future__ import annotations

import json
from typing import Any

from parley import clock
from parley.dal import directory as people
from parley.dal import texts as store
from parley.domain import limits, optins, texts
from parley.domain.context import Caller
from parley.domain.idempotency import run_once
from parley.domain.ids import new_id
from parley.errors import NotFound, Unprocessable
from parley.models.texts import ConsentAttributes, ConsentCreate

ACCEPT_WORDS = frozenset({"YES", "Y", "OK", "OKAY", "ACCEPT", "AGREE", "START", "UNSTOP", "SI", "SÍ"})
DECLINE_WORDS = frozenset({"NO", "N", "DECLINE", "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})


def pointer(member: str) -> str:
    return f"/data/attributes/{member}"


def _phone_of(caller: Caller, attrs: ConsentCreate) -> str:
    if attrs.target_id:
        return texts.phone(attrs.target_id, caller.default_country, member="target-id")
    if not attrs.user_id:
        raise Unprocessable("user-id or target-id is required", pointer=pointer("user-id"), code="missing-member")
    user = people.get(caller.tenant_id, "users", attrs.user_id)
    if user is None:
        raise Unprocessable(f"no user {attrs.user_id!r}", pointer=pointer("user-id"), code="unknown-user")
    phone = people.attributes(user).get("phone")
    if not phone:
        raise Unprocessable(f"user {attrs.user_id!r} has no phone: give target-id", pointer=pointer("target-id"), code="no-phone")
    return texts.phone(phone, caller.default_country, member="user-id")


def create(caller: Caller, acting_user: str | None, attrs: ConsentCreate, *, idempotency_key: str | None = None,
           lambda_context: Any = None) -> tuple[str, ConsentAttributes]:  # fmt: skip
    if attrs.args is None:
        raise Unprocessable("args is required (args.messages.initial and args.account-id)", pointer=pointer("args"), code="missing-member")
    if attrs.args.account_id is None:
        raise Unprocessable("args.account-id is required", pointer=pointer("args/account-id"), code="missing-member")
    target = _phone_of(caller, attrs)
    number = texts.sender_number(caller.tenant_id, attrs.args.account_id, attrs.args.number_id, attrs.user_id, target, "args/number-id")
    texts.refuse_opted_out(caller.tenant_id, target, "target-id")

    def accept() -> dict[str, Any]:
        consent_id, now = new_id(), clock.iso(clock.now())
        args = attrs.args.model_dump(mode="json", by_alias=True, exclude_none=True)  # type: ignore[union-attr]
        fields = {
            "consent_type": attrs.type,  # the seed's `type` (the item's own `type` is "consent")
            "user_id": attrs.user_id,
            "organization_id": attrs.organization_id or getattr(number, "organization_id", None),
            "target_id": target,
            "args": json.dumps(args),
            "state": "pending",
            "account_id": number.account_id,
            "number_id": number.id,
            "from": number.phone_number,
            "created_by": acting_user,
            "created_at": now,
            "last_modified_at": now,
        }
        stored = store.consent_item(caller.tenant_id, consent_id, fields)
        msg = texts.outbound(caller, number, target=target, body=attrs.args.messages.initial, kind=texts.KIND_CONSENT,  # type: ignore[union-attr]
                             status_callback=None, created_by=acting_user)  # fmt: skip
        stored["message_id"] = msg.id
        with limits.sending(caller):
            texts.submit(caller, msg, extra_ops=store.consent_create_ops(stored))
        return {"id": consent_id}

    payload = {"user": acting_user, **attrs.model_dump(mode="json", by_alias=True)}
    done = run_once(tenant_id=caller.tenant_id, scope="courier.user-consents.create", key=idempotency_key, payload=payload, fn=accept,
                    lambda_context=lambda_context)  # fmt: skip
    return get(caller.tenant_id, done["id"], consistent=True)


def get(tenant_id: str, consent_id: str, *, consistent: bool = False) -> tuple[str, ConsentAttributes]:
    stored = store.get_consent(tenant_id, consent_id, consistent=consistent)
    if stored is None:
        raise NotFound(f"no user-consent {consent_id!r}", code="not-found")
    return stored["id"], view(stored)


def page(tenant_id: str, *, organization_id: str | None, user_id: str | None, offset: int, limit: int):
    items, total = store.consents_page(tenant_id, organization_id=organization_id, user_id=user_id, offset=offset, limit=limit)
    return [(i["id"], view(i)) for i in items], total


def view(stored: dict[str, Any]) -> ConsentAttributes:
    return ConsentAttributes.model_validate(
        {
            "args": json.loads(stored.get("args") or "{}"),
            "created-at": stored["created_at"],
            "last-modified-at": stored["last_modified_at"],
            "organization-id": stored.get("organization_id"),
            "state": stored["state"],
            "target-id": stored["target_id"],
            "type": stored.get("consent_type", "sms"),
            "user-id": stored.get("user_id"),
        }
    )


def verdict(body: str) -> str:
    word = texts.normalized(body)
    if word in ACCEPT_WORDS:
        return "accepted"
    if word in DECLINE_WORDS:
        return "declined"
    return "invalid-response"


def answer_reply(caller: Caller, number: Any, pointer_item: dict[str, Any], *, sender: str, body: str, sid: str) -> str | None:
    """Apply a reply to the open consent ``pointer_item`` names: its new state (None when this reply was applied
    before). Accepted/declined close the flow and set the number's consent; the follow-up text is sent."""
    stored = store.get_consent(caller.tenant_id, pointer_item["consent_id"], consistent=True)
    if stored is None or stored.get("state") not in ("pending", "invalid-response"):
        store.close_open_consent(caller.tenant_id, number.phone_number, sender, pointer_item["SK"])
        return None
    state = verdict(body)
    now = clock.iso(clock.now())
    if not store.move_consent(caller.tenant_id, stored["id"], state=state, sid=sid, now=now):
        return None
    messages = json.loads(stored.get("args") or "{}").get("messages") or {}
    if state in ("accepted", "declined"):
        store.close_open_consent(caller.tenant_id, number.phone_number, sender, pointer_item["SK"])
        optins.update(caller.tenant_id, phone=sender, email=None, opt_in=state == "accepted",
                      reason=f"user-consent {stored['id']} {state}", communication_id=sid)  # fmt: skip
    follow = messages.get("accept") if state == "accepted" else messages.get("invalid-response") if state == "invalid-response" else None
    if follow:
        kind = texts.KIND_REPLY if state == "accepted" else texts.KIND_CONSENT
        msg = texts.outbound(caller, number, target=sender, body=follow, kind=kind, status_callback=None, created_by=None,
                             message_id=None)  # fmt: skip
        texts.submit(caller, msg)
    return state
