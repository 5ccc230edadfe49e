"""The SMS bridge of courier channels (docs/courier.md "Messaging" → "SMS bridge and offline pushes").

A channel's bridge relays it to the members who have no app: ``switch`` (``POST /v1/messaging-channels/{id}/sms/``)
turns it on or off. On, every member with no active push device (``parley.domain.push``: a device that allows
notifications and has an enabled endpoint) and a phone in the directory (the individual's owner user's ``phone``, not
``phone-unsubscribed``) that did not say STOP is **bridged**: flagged on their member item, routed by
``(text number, phone)``, and sent the initial message (localized) from the channel's text number.

- ``apply`` (a hook of ``parley.domain.channel_events``): a ``message-posted`` goes out as one SMS per bridged member
  other than the author, ``"<author>: <text>"``, through the send pipeline (``parley.domain.texts``: quiet hours, the
  account's credentials); ``members-added`` bridges new members while the bridge is on.
- ``route_reply`` (called by ``parley.domain.text_inbound`` before its other rules): a reply from a bridged phone to
  the number is posted into the channel that texted it last as a message with ``source`` sms (helper B's
  ``channel_messages.post``); STOP ends that phone's bridges (the consent store records the opt-out as for any SMS).

Exactly one SMS per member and event: every message id is a ``uuid5`` of the event (or the bridge's activation) and
the member, and is created only if new (a redelivered event finds its messages and sends nothing again).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Logger

from parley import clock
from parley.dal import channel_bridge as store
from parley.errors import ParleyError, Unprocessable

logger = Logger(child=True)

MAX_SMS = 1600  # Twilio's limit of one message body
_NAMESPACE = uuid.UUID("8c3e1f52-6a4d-4b9e-a7c1-0d2f3e4b5a69")
LOCALE = re.compile(r"^([a-zA-Z]{2,3})(?:[-_]([a-zA-Z]{2}))?")


def message_id(key: str, individual_id: str, what: str) -> str:
    """The send-pipeline message of ``what`` (initial, relay) for one member: the same id every time."""
    return str(uuid.uuid5(_NAMESPACE, f"{key}\n{individual_id}\n{what}"))


@dataclass(frozen=True)
class Person:
    individual_id: str
    user_id: str | None
    phone: str | None  # E.164, None: none (or unsubscribed, or not a phone number)
    locale: str | None
    has_app: bool
    name: str | None


# ───────────── who is who ─────────────
def member_items(tenant_id: str, channel_id: str) -> list[dict[str, Any]]:
    """The channel's member items (helper A's), each with its ``individual_id``."""
    from parley.domain import channels

    return [
        {**m, "individual_id": m.get("individual_id") or m["SK"].split("#", 1)[1]} for m in channels.member_items(tenant_id, channel_id)
    ]


def people(tenant_id: str, individual_ids: list[str], region: str) -> dict[str, Person]:
    """The members' owner users (the individual's ``owner-id``), their phones, locales and whether they have the app
    (two BatchGetItems and one Query per user for the devices)."""
    from parley.dal import directory as dirstore
    from parley.dal import push as devices
    from parley.dal import table
    from parley.domain import phones

    if not individual_ids:
        return {}
    ind_keys = {i: (dirstore.pk(tenant_id, "individuals"), dirstore.sk(i)) for i in individual_ids}
    found = table.batch_get(ind_keys.values())
    individuals = {i: dirstore.attributes(found[k]) for i, k in ind_keys.items() if k in found and not found[k].get("deleted")}
    owners = {i: a.get("owner-id") for i, a in individuals.items() if a.get("owner-id")}
    user_keys = {u: (dirstore.pk(tenant_id, "users"), dirstore.sk(u)) for u in set(owners.values())}
    got = table.batch_get(user_keys.values()) if user_keys else {}
    users = {u: _effective(got[k]) for u, k in user_keys.items() if k in got and not got[k].get("deleted")}
    apps: dict[str, bool] = {}
    for user_id in users:
        apps[user_id] = any(
            d.get("allow_notification", True) and d.get("push_state") == "enabled" for d in devices.devices_of_user(tenant_id, user_id)
        )
    out: dict[str, Person] = {}
    for i in individual_ids:
        attrs = individuals.get(i) or {}
        user_id = owners.get(i)
        user = users.get(user_id or "") or {}
        phone = None
        if user.get("phone") and user.get("phone-unsubscribed") is not True:
            best = phones.best_effort(str(user["phone"]), region)
            phone = best if best.startswith("+") else None
        name = attrs.get("preferred-name") or attrs.get("first-name") or user.get("first-name")
        out[i] = Person(i, user_id if user else None, phone, user.get("locale"), apps.get(user_id or "", False), name)
    return out


def _effective(item: dict[str, Any]) -> dict[str, Any]:
    from parley.domain.directory import effective

    return effective(item)


def opted_out(tenant_id: str, phone: str) -> bool:
    """The phone said STOP (the tenant's one consent store). No record is not an opt-out: as for the courier texts."""
    from parley.dal import optins

    state = optins.get_state(tenant_id, phone)
    return state is not None and not state.get("opted_in")


def localized(locale: str | None, texts: dict[str, str] | None, fallback: str | None) -> str | None:
    """The text for ``locale`` (``en_US``, ``en-us`` or ``en``): the exact locale, else one of its language, else
    ``fallback``."""
    texts = {k: v for k, v in (texts or {}).items() if isinstance(v, str) and v.strip()}
    match = LOCALE.match(locale or "")
    if match and texts:
        lang, region = match.group(1).lower(), (match.group(2) or "").upper()
        if region and f"{lang}_{region}" in texts:
            return texts[f"{lang}_{region}"]
        if lang in texts:
            return texts[lang]
        for key in sorted(texts):
            if key.split("_")[0].lower() == lang:
                return texts[key]
    return fallback if fallback and fallback.strip() else None


# ───────────── the text number ─────────────
def text_number(tenant_id: str, channel: dict[str, Any], number_id: str | None) -> dict[str, Any]:
    """The number the bridge texts from: ``text-number-id`` (one of the channel's organization's numbers), else the
    one the channel had, else the organization's first number (its oldest account's oldest number); 422 when none."""
    from parley.dal import text_numbers as numbers

    org = channel.get("organization_id") or channel.get("org_id")
    if number_id:
        stored = numbers.get_number(tenant_id, number_id)
        account = numbers.get_account(tenant_id, stored["account_id"]) if stored else None
        if stored is None or account is None or (org and account.get("organization_id") not in (None, org)):
            raise Unprocessable(f"no text number {number_id!r} of the channel's organization", pointer="/text-number-id",
                                code="unknown-number")  # fmt: skip
        return stored
    known = (channel.get("sms") or {}).get("text_number_id") or channel.get("text_number_id")
    if known:
        stored = numbers.get_number(tenant_id, known)
        if stored is not None:
            return stored
    if org:
        accounts, _ = numbers.accounts(tenant_id, org, offset=0, limit=100)
        for account in sorted(accounts, key=lambda a: a.get("created_at", "")):
            owned = sorted(numbers.account_numbers(tenant_id, account["id"]), key=lambda n: n.get("created_at", ""))
            if owned:
                return owned[0]
    raise Unprocessable("the channel's organization has no text number: buy one (text-account-numbers) or name text-number-id",
                        pointer="/text-number-id", code="no-text-number")  # fmt: skip


def _sender(stored_number: dict[str, Any]) -> Any:
    from parley.domain import texts

    found = texts.numbers().number_for(stored_number["phone_number"])
    if found is None:
        raise Unprocessable(f"text number {stored_number.get('id')!r} is not routable", pointer="/text-number-id", code="unknown-number")
    return found


def _caller(tenant_id: str) -> Any:
    from parley.dal import tenants
    from parley.domain.context import Caller

    tenant = tenants.cached(tenant_id)
    if tenant is None:
        raise LookupError(f"no tenant {tenant_id!r}")
    return Caller.of(tenant)


# ───────────── sending ─────────────
def send(caller: Any, number: Any, *, target: str, body: str, msg_id: str) -> bool:
    """One SMS through the send pipeline, once: False when its message exists already (an earlier delivery made it)."""
    from parley.dal import messages
    from parley.dal import notifications as lost
    from parley.domain import texts

    if messages.get(caller.tenant_id, msg_id, load_body=False) is not None:
        return False
    msg = texts.outbound(caller, number, target=target, body=body[:MAX_SMS], kind=texts.KIND_TEXT, status_callback=None,
                         created_by=None, message_id=msg_id)  # fmt: skip
    try:
        texts.submit(caller, msg)
    except Exception as err:
        if lost.lost_race(err):
            return False
        raise
    return True


def _initial_text(tenant_id: str, channel: dict[str, Any], person: Person) -> str | None:
    sms = channel.get("sms") or {}
    text = localized(person.locale, sms.get("initial_message_js"), sms.get("initial_message"))
    if text is None and (channel.get("organization_id") or channel.get("org_id")):
        import json

        from parley.dal import org_preferences

        pref = org_preferences.get(tenant_id, channel.get("organization_id") or channel.get("org_id"), "initial-sms-message")
        if pref is not None:
            try:
                value = json.loads(pref["value"])
            except (ValueError, KeyError):
                value = None
            if isinstance(value, dict):
                text = localized(person.locale, value, None)
    return text


def bridge(caller: Any, channel: dict[str, Any], members: list[dict[str, Any]], number: Any) -> list[str]:
    """Bridge the eligible ``members`` not bridged yet (each sent the initial message once): their ids."""
    sms = channel.get("sms") or {}
    activation = sms.get("activation") or ""
    chosen = [m for m in members if not (m.get("sms") and m.get("sms_phone"))]
    who = people(caller.tenant_id, [m["individual_id"] for m in chosen], caller.default_country)
    done: list[str] = []
    for m in chosen:
        person = who.get(m["individual_id"])
        if person is None or person.phone is None or person.has_app or opted_out(caller.tenant_id, person.phone):
            continue
        text = _initial_text(caller.tenant_id, channel, person)
        if text:
            send(caller, number, target=person.phone, body=text, msg_id=message_id(f"{channel['id']}\n{activation}", person.individual_id,
                                                                                    "initial"))  # fmt: skip
        now = clock.iso(clock.now())
        if store.bridge_member(caller.tenant_id, channel["id"], person.individual_id, person.phone, now):
            store.put_route(caller.tenant_id, number.phone_number, person.phone, channel["id"], person.individual_id, now)
            done.append(person.individual_id)
    return done


def unbridge(tenant_id: str, channel: dict[str, Any], member: dict[str, Any], reason: str) -> None:
    sms = channel.get("sms") or {}
    store.unbridge_member(tenant_id, channel["id"], member["individual_id"], reason, clock.iso(clock.now()))
    if member.get("sms_phone") and sms.get("text_number"):
        store.delete_route(tenant_id, sms["text_number"], member["sms_phone"], channel["id"])


def switch(caller: Any, channel_id: str, individual_id: str, *, active: bool, initial_message: str | None,
           initial_message_js: dict[str, str] | None, number_id: str | None = None) -> list[str]:  # fmt: skip
    """``POST …/sms/``: the bridge on (members bridged, the initial message sent) or off (every bridge ended). The
    caller is a member (404 otherwise). Returns the members bridged by this call."""
    from parley.domain import channel_events, channels

    channel, _ = channels.require_member(caller.tenant_id, channel_id, individual_id, parameter="id")
    channel = {**channel, "id": channel.get("id") or channel_id}
    before = channel.get("sms") or {}
    now = clock.iso(clock.now())
    members = member_items(caller.tenant_id, channel_id)
    if active:
        stored_number = text_number(caller.tenant_id, channel, number_id)
        number = _sender(stored_number)
        if before.get("active") and before.get("text_number") not in (None, number.phone_number):
            for m in members:  # the bridge moves to another number: the old routes go
                if m.get("sms"):
                    store.delete_route(caller.tenant_id, before["text_number"], m.get("sms_phone", ""), channel_id)
        same = before.get("active") and before.get("text_number") == number.phone_number
        sms = {
            "active": True,
            "text_number_id": stored_number["id"],
            "text_number": number.phone_number,
            "account_id": number.account_id,
            "activation": before.get("activation") if same else str(uuid.uuid4()),
            "initial_message": initial_message,
            "initial_message_js": initial_message_js or None,
            "changed_at": now,
            "changed_by": individual_id,
        }
        if not same:
            members = [{**m, "sms": False} for m in members]  # a new activation: everyone is bridged (and greeted) again
        store.set_channel_sms(caller.tenant_id, channel_id, sms, now)
        bridged = bridge(caller, {**channel, "sms": sms}, members, number)
        if not same:  # bridged before this activation, not eligible now (the app since, no phone, STOP): not any more
            for m in member_items(caller.tenant_id, channel_id):
                if m.get("sms") and m["individual_id"] not in bridged:
                    unbridge(caller.tenant_id, {**channel, "sms": sms}, m, "not eligible when the bridge was switched on again")
    else:
        sms = {**before, "active": False, "changed_at": now, "changed_by": individual_id}
        store.set_channel_sms(caller.tenant_id, channel_id, sms, now)
        for m in members:
            if m.get("sms"):
                unbridge(caller.tenant_id, {**channel, "sms": before}, m, "the channel's SMS bridge was turned off")
        bridged = []
    from parley.domain import channel_inbox

    channel_inbox.channel_changed(caller.tenant_id, channel_id, actor=individual_id)  # last_modified_at is in the copies
    channel_events.publish(
        channel_events.new(
            caller.tenant_id,
            channel_id,
            "channel-updated",
            actor_individual_id=individual_id,
            data={"sms": {"active": active, "bridged": bridged}},
        )
    )
    return bridged


# ───────────── the hook ─────────────
def apply(event: Any) -> None:
    """Relay a posted message to the bridged members; bridge members added while the bridge is on."""
    if event.kind not in ("message-posted", "members-added") or event.data.get("source") == "system":  # joins/leaves: no SMS
        return
    from parley.domain import channels

    channel = channels.get_channel_item(event.tenant_id, event.channel_id)
    sms = (channel or {}).get("sms") or {}
    if channel is None or not sms.get("active") or not sms.get("text_number"):
        return
    channel = {**channel, "id": channel.get("id") or event.channel_id}
    from parley.domain import texts

    number = texts.numbers().number_for(sms["text_number"])
    if number is None or number.tenant_id != event.tenant_id:
        logger.warning("the channel's text number is gone: nothing relayed", extra={"channel_id": event.channel_id})
        return
    caller = _caller(event.tenant_id)
    members = member_items(event.tenant_id, event.channel_id)
    if event.member_ids is not None:
        members = [m for m in members if m.get("individual_id") in set(event.member_ids)]
    if event.kind == "members-added":
        added = set(event.data.get("individual_ids") or [])
        bridge(caller, channel, [m for m in members if m.get("individual_id") in added], number)
        return
    relay(caller, channel, members, number, event)


def relay(caller: Any, channel: dict[str, Any], members: list[dict[str, Any]], number: Any, event: Any) -> int:
    """One SMS per bridged member other than the author: how many were queued by this call."""
    author = event.data.get("individual_id") or event.actor_individual_id
    text = str(event.data.get("message") or "").strip()
    if not text:
        return 0
    targets = [m for m in members if m.get("sms") and m.get("sms_phone") and m.get("individual_id") != author]
    if not targets:
        return 0
    name = (people(caller.tenant_id, [author], caller.default_country).get(author) if author else None) or None
    body = f"{name.name}: {text}" if name and name.name else text
    sent = 0
    for m in targets:
        phone = m["sms_phone"]
        if opted_out(caller.tenant_id, phone):
            unbridge(caller.tenant_id, channel, m, "the phone opted out (STOP)")
            continue
        if send(caller, number, target=phone, body=body, msg_id=message_id(event.id, m["individual_id"], "relay")):
            sent += 1
        store.touch_route(caller.tenant_id, number.phone_number, phone, channel["id"], clock.iso(clock.now()))
    return sent


# ───────────── replies ─────────────
def route_reply(number: Any, from_e164: str, body: str) -> str | None:
    """An inbound SMS from ``from_e164`` to the texting ``number``: posted into the channel bridging the phone through
    the number that texted it last (``channel:<id>:<message id>``); STOP ends every bridge of the phone through the
    number (``channel-bridge:stop``); None when no channel bridges the phone (the other rules apply), or for START."""
    from parley.domain import sms_webhooks

    tenant_id = number.tenant_id
    found = store.routes(tenant_id, number.phone_number, from_e164)
    if not found:
        return None
    keyword = sms_webhooks.keyword(body)
    if keyword is not None and not keyword[0]:
        now = clock.iso(clock.now())
        for route in found:
            store.unbridge_member(tenant_id, route["channel_id"], route["individual_id"], f"STOP from {from_e164}", now)
            store.delete_route(tenant_id, number.phone_number, from_e164, route["channel_id"])
        return "channel-bridge:stop"
    if keyword is not None:
        return None  # START: the consent store's
    from parley.dal import table
    from parley.domain import channel_messages

    for route in sorted(found, key=lambda r: r.get("last_sent_at") or r.get("bridged_at") or "", reverse=True):
        member = table.get(store.channel_pk(tenant_id, route["channel_id"]), store.member_sk(route["individual_id"]), consistent=True)
        if member is None or not member.get("sms"):
            store.delete_route(tenant_id, number.phone_number, from_e164, route["channel_id"])  # left the channel, or unbridged
            continue
        try:
            posted = channel_messages.post(tenant_id, route["channel_id"], route["individual_id"], body, source="sms")
        except ParleyError as err:  # e.g. the channel is archived: the receive log says why (Twilio's retry would be a replay)
            logger.warning("a bridged reply was refused", extra={"channel_id": route["channel_id"], "code": err.code})
            return f"channel:{route['channel_id']}:refused ({err.code or err.status})"
        return f"channel:{route['channel_id']}:{posted.get('id')}"
    return None


# ───────────── purge ─────────────
def purge(tenant_id: str, *, individual_ids: set[str] | list[str], phones: set[str] | list[str]) -> dict[str, int]:
    """Erase what the SMS bridge keeps about a person (``parley.domain.purge``): the routes of their phones through
    each of the tenant's numbers, and the bridge fields of their member items (``sms_phone``; the member items
    themselves are the channels area's)."""
    from parley.dal import channels as channel_store
    from parley.dal import text_numbers as numbers

    done = {"channel_sms_routes": 0, "channel_sms_members": 0}
    wanted = sorted({p for p in phones if p.startswith("+")})
    if wanted:
        for ref in numbers.all_numbers(tenant_id):
            stored = numbers.get_number(tenant_id, ref["id"])
            if stored is None:
                continue
            for phone in wanted:
                for route in store.routes(tenant_id, stored["phone_number"], phone):
                    store.delete_route(tenant_id, stored["phone_number"], phone, route["channel_id"])
                    done["channel_sms_routes"] += 1
    for individual in sorted(set(individual_ids)):
        for membership in channel_store.memberships(tenant_id, individual):
            if store.forget_member_phone(tenant_id, membership["channel_id"], individual):
                done["channel_sms_members"] += 1
    return done
