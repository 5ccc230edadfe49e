"""GDPR erasure (``POST /v1/purge-data/``, seed 003; docs/courier.md "purge-data"): every item and object that names a
person, in every family, deleted — or, with ``archive``, the messages kept anonymised (counts, statuses and times
stay; who and what are gone) and everything else deleted.

The request is stored as a job (``dal/purges``, idempotent by ``request-id``) and queued; ``PurgeFunction`` runs it:

1. **who**: the entity's identifiers. A candidate (candidate, CRM and ATS families): its id, email and phone. A courier
   user: its id, its directory email and phone, and the candidates that own those addresses. An individual: its id.
2. **messages** naming them — by address (GSI2), by candidate (GSI4), as a further To/Cc/Bcc of a record (GSI5,
   filtered) — with their events, tracking-token, provider-id and Message-ID lookups, provider-event dedupe items,
   S3 bodies and raw inbound mail, and their day's transactional-archive contact items;
3. **the person's own items**: candidate profiles and address lookups, SMS opt-in states and histories,
   suppression entries, forward-profile activity;
4. **tallies**: once the table's stream has taken the deletes (the tallies of the person's lists are back to 0),
   the lists' tally partitions and directory entries, which hold the address or id in their keys. The job re-queues
   itself with a delay until then.

Every step can run again (a redelivered job, a crash): what is gone is not found again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Logger

from parley import clock
from parley.dal import badges as badge_store
from parley.dal import candidates, counters, directory, email_events, keys, messages, purges, queue, suppressions, threads
from parley.dal import email_attachments as email_attachments_store
from parley.dal import notifications as notification_store
from parley.dal import sniffers as sniffer_store
from parley.errors import Conflict, NotFound
from parley.models.domain import ActivityEvent, Message
from parley.models.purge import PurgeJob, PurgeRequest

logger = Logger(child=True)

PURGED = "[purged]"
FIRST_CHECK_SECONDS = 5  # the tallies step first runs this long after the data step (the stream is usually there by then)
TALLY_CHECKS = 12  # then waits for the stream this many times (DELAY_SECONDS each) before it gives up
DELAY_SECONDS = 60
EVENT_PROVIDERS = ("ses", "sendgrid")  # the dedupe items of provider events name the address they are about


# ───────────── the request ─────────────
def request_key(req: PurgeRequest) -> str:
    """The job's id: the caller's ``request-id``, else one derived from what is purged (so the same request twice is
    one job)."""
    if req.request_id:
        return req.request_id
    digest = hashlib.sha256(json.dumps([req.entity_type, req.entity_id, req.archive]).encode()).hexdigest()
    return f"auto-{digest[:32]}"


def _fingerprint(req: PurgeRequest) -> str:
    return hashlib.sha256(req.model_dump_json(by_alias=True).encode()).hexdigest()


def submit(tenant_id: str, req: PurgeRequest) -> PurgeJob:
    """Store the job and queue it, once per request id: the same request again answers the stored job (queued again
    only if it never started, in case the first queueing was lost); another request under the same id is a 409."""
    key = request_key(req)
    job = PurgeJob(tenant_id=tenant_id, request_id=key, request=req, fingerprint=_fingerprint(req), status="queued", created_at=clock.now())
    existing = purges.create_job(tenant_id, key, job.to_item())
    if existing is not None:
        job = PurgeJob.from_item(existing)
        if job.fingerprint != _fingerprint(req):
            raise Conflict(f"request-id {key!r} was already used for another purge", pointer="/data/attributes/request-id")
        if job.status != "queued":
            return job
    queue.enqueue_purge({"tenant_id": tenant_id, "request_id": key, "phase": "data"})
    return job


def get(tenant_id: str, request_id: str) -> PurgeJob:
    item = purges.get_job(tenant_id, request_id)
    if item is None:
        raise NotFound(f"no purge {request_id!r}")
    return PurgeJob.from_item(item)


# ───────────── who ─────────────
@dataclass
class Subject:
    tenant_id: str
    addresses: set[str] = field(default_factory=set)  # emails lower-cased, phones E.164
    candidate_ids: set[str] = field(default_factory=set)
    user_ids: set[str] = field(default_factory=set)
    individual_ids: set[str] = field(default_factory=set)
    message_ids: set[str] = field(default_factory=set)  # the send pipeline messages of their courier user-emails
    # the other side of the messages purged (a user-email's recipient): their lists' tallies are dropped once empty
    touched: set[str] = field(default_factory=set)

    def add_address(self, value: Any) -> None:
        if isinstance(value, str) and value.strip():
            self.addresses.add(value.strip().lower() if "@" in value else value.strip())


def resolve(tenant_id: str, entity_type: str, entity_id: str) -> Subject:
    who = Subject(tenant_id)
    if entity_type == "candidate":
        who.candidate_ids.add(entity_id)
    elif entity_type == "user":
        who.user_ids.add(entity_id)
        stored = directory.get(tenant_id, "users", entity_id)
        attrs = directory.attributes(stored) if stored else {}
        for name in ("email", "phone", "phone-number", "mobile-phone"):
            who.add_address(attrs.get(name))
    elif entity_type == "individual":
        who.individual_ids.add(entity_id)
    if who.user_ids:  # a user's individuals (their owner-id) are the user's person records: purged with it
        for stored in purges.collection(directory.pk(tenant_id, "individuals")):
            if not stored.get("deleted") and directory.attributes(stored).get("owner-id") in who.user_ids:
                who.individual_ids.add(str(stored["entity_id"]))
    for individual in sorted(who.individual_ids):
        for stored in purges.user_email_items(tenant_id, individual):
            who.message_ids.add(str(stored.get("message_id") or stored["id"]))
    for address in sorted(who.addresses):  # the candidates that own the person's addresses are the person
        owner = candidates.owner_of(tenant_id, address)
        if owner:
            who.candidate_ids.add(owner)
    for cid in sorted(who.candidate_ids):
        profile = candidates.get(tenant_id, cid)
        if profile is not None:
            who.add_address(profile.email)
            who.add_address(profile.phone)
    return who


# ───────────── the steps ─────────────
def _pseudonym(tenant_id: str, value: str) -> str:
    digest = hashlib.sha256(f"{tenant_id}:{value.lower()}".encode()).hexdigest()[:16]
    return f"purged-{digest}@purged.invalid" if "@" in value else f"purged-{digest}"


def _messages(who: Subject) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for address in sorted(who.addresses):
        for item in purges.message_items_by_address(who.tenant_id, address):
            found[item["PK"]] = item
    for cid in sorted(who.candidate_ids):
        for item in purges.message_items_by_candidate(who.tenant_id, cid):
            found[item["PK"]] = item
    for item in purges.record_items_naming(who.tenant_id, who.addresses):
        found[item["PK"]] = item
    for mid in _forwarded(who) | who.message_ids:  # a profile forwarded to someone else; the user-emails about them
        found.setdefault(keys.message_pk(who.tenant_id, mid), {})
    return found


def _forwarded(who: Subject) -> set[str]:
    """The ids of the forward-profile emails that carried the person's profile (their forward activity names them)."""
    return {
        str(item["emailActivityId"])
        for address in sorted(who.addresses)
        if "@" in address
        for item in purges.collection(keys.forward_pk(who.tenant_id, address))
        if item.get("emailActivityId")
    }


def _about(msg: Message, who: Subject, forwarded: set[str]) -> str | None:
    """``"primary"`` when the message is with the person (its counterpart, or filed under their candidate),
    ``"mention"`` when it only names them as a further To, a Cc or a Bcc, None when it names them no more (an
    archived one is found through the indexes until they catch up)."""
    mine = {a.lower() for a in who.addresses}
    counterpart = (msg.recipient if msg.direction == "outbound" else msg.sender).lower()
    if (
        counterpart in mine
        or (msg.candidate_id is not None and msg.candidate_id in who.candidate_ids)
        or msg.id in forwarded | who.message_ids
    ):
        return "primary"
    if mine & {a.lower() for a in [msg.sender, *msg.recipients, *msg.cc, *msg.bcc]}:
        return "mention"
    return None


def _lookup_keys(msg: Message, events: Iterable[ActivityEvent]) -> list[tuple[str, str]]:
    """The items that point at a message or describe its provider events."""
    out: list[tuple[str, str]] = []
    if msg.track_token:
        out.append((keys.track_pk(msg.track_token), keys.TRACK_SK))
    if msg.provider_message_id:
        out.append((keys.provider_message_pk(msg.tenant_id, msg.provider, msg.provider_message_id), keys.PROVIDER_MESSAGE_SK))
    if msg.internet_message_id:
        out.append(threads.ref_key(msg.tenant_id, msg.internet_message_id))
    return [*out, *_dedupe(msg, events)]


def _contact_key(msg: Message) -> tuple[str, str] | None:
    if not msg.candidate_id:
        return None
    return keys.contact_pk(msg.tenant_id, msg.channel, msg.created_at.strftime("%Y-%m-%d")), keys.contact_sk(msg.candidate_id)


def _objects(msg: Message) -> list[str]:
    return [ref for ref in (msg.body_ref, msg.raw_ref) if ref]


def _delete_message(msg: Message, collection: list[dict[str, Any]], events: list[ActivityEvent]) -> None:
    purges.delete_keys([*_lookup_keys(msg, events), *((i["PK"], i["SK"]) for i in collection)])
    if messages.is_record(msg):
        counters.add_records(msg.tenant_id, -1)
    for ref in _objects(msg):
        purges.delete_object(ref)


def _rewrite(msg: Message, keep: Message, collection: list[dict[str, Any]], events: list[ActivityEvent], who: Subject,
             *, scrub_events: bool) -> None:  # fmt: skip
    """Put ``keep`` (the message rewritten: its indexes' keys follow) and its events without the person's address."""
    mine = {a.lower() for a in who.addresses}

    def anon(value: str) -> str:
        return _pseudonym(msg.tenant_id, value) if value.lower() in mine else value

    def event(ev: ActivityEvent) -> ActivityEvent:
        update: dict[str, Any] = {"email": anon(ev.email) if ev.email else ""}
        if scrub_events:
            update |= {"ip": "", "response": ""}
        return ev.model_copy(update=update)

    items = [messages.item_of(keep), *(messages.event_item(msg.tenant_id, event(ev)) for ev in events)]
    purges.put_items(items)
    kept = {(i["PK"], i["SK"]) for i in items}
    purges.delete_keys((i["PK"], i["SK"]) for i in collection if (i["PK"], i["SK"]) not in kept)


def _addresses_replaced(msg: Message, who: Subject) -> dict[str, Any]:
    mine = {a.lower() for a in who.addresses}

    def anon(value: str) -> str:
        return _pseudonym(msg.tenant_id, value) if value.lower() in mine else value

    return {
        "sender": anon(msg.sender),
        "recipient": anon(msg.recipient),
        "recipients": [anon(a) for a in msg.recipients],
        "cc": [anon(a) for a in msg.cc],
        "bcc": [anon(a) for a in msg.bcc],
    }


def _anonymise_message(msg: Message, collection: list[dict[str, Any]], events: list[ActivityEvent], who: Subject) -> None:
    """Keep the message (its status, times, channel, counts) without who it was with or what it said."""
    keep = msg.model_copy(
        update={
            **_addresses_replaced(msg, who),
            "sender_name": "",
            "subject": PURGED if msg.subject else "",
            "body": PURGED,
            "body_ref": None,
            "body_text": None,
            "original_body": None,
            "raw_ref": None,
            "attachments": [],
            "variables": {},
            "links": [],
            "track_token": None,
            "reply_to": None,
            "candidate_id": _pseudonym(msg.tenant_id, msg.candidate_id) if msg.candidate_id in who.candidate_ids else msg.candidate_id,
            "timeline": [e.model_copy(update={"description": PURGED if e.description else ""}) for e in msg.timeline],
        }
    )
    _rewrite(msg, keep, collection, events, who, scrub_events=True)
    track = [(keys.track_pk(msg.track_token), keys.TRACK_SK)] if msg.track_token else []  # its pixel and links stop working
    purges.delete_keys([*track, *_dedupe(msg, events)])
    for ref in _objects(msg):
        purges.delete_object(ref)


def _strip_mention(msg: Message, collection: list[dict[str, Any]], events: list[ActivityEvent], who: Subject) -> None:
    """A message with someone else that names the person as a further To, a Cc or a Bcc: it is that someone's, and
    stays; the person's address in it (and in its events) becomes a pseudonym."""
    _rewrite(msg, msg.model_copy(update=_addresses_replaced(msg, who)), collection, events, who, scrub_events=False)
    purges.delete_keys(_dedupe(msg, [ev for ev in events if ev.email and ev.email.lower() in {a.lower() for a in who.addresses}]))


def _dedupe(msg: Message, events: Iterable[ActivityEvent]) -> list[tuple[str, str]]:
    return [(email_events.dedupe_pk(msg.tenant_id, p, ev.event_id), email_events.DEDUPE_SK) for ev in events for p in EVENT_PROVIDERS]


def purge_messages(who: Subject, *, archive: bool) -> dict[str, int]:
    done = {"messages": 0, "mentions": 0, "events": 0, "objects": 0, "contacts": 0}
    contacts: set[tuple[str, str]] = set()
    forwarded = _forwarded(who)
    for pk in sorted(_messages(who)):
        collection = purges.collection(pk)
        stored = next((i for i in collection if i["SK"] == keys.MESSAGE_SK), None)
        if stored is None:
            continue
        msg = messages.from_item(stored, load_body=False)
        about = _about(msg, who, forwarded)
        if about is None:
            continue
        events = [ActivityEvent.model_validate(i) for i in collection if i.get("type") == "activity"]
        if about == "mention":
            _strip_mention(msg, collection, events, who)
            done["mentions"] += 1
            continue
        contact = _contact_key(msg)
        if contact and msg.candidate_id in who.candidate_ids:
            contacts.add(contact)
        if not archive:
            who.touched.add((msg.recipient if msg.direction == "outbound" else msg.sender).lower())
        if archive:
            _anonymise_message(msg, collection, events, who)
        else:
            _delete_message(msg, collection, events)
        done["messages"] += 1
        done["events"] += len(events)
        done["objects"] += len(_objects(msg))
    done["contacts"] = purges.delete_keys(sorted(contacts))
    return done


def purge_own_items(who: Subject) -> dict[str, int]:
    """The person's own items: candidate profiles and address lookups, opt-ins (state and history), suppression
    entries, forward-profile activity."""
    t = who.tenant_id
    done = {"candidates": 0, "optins": 0, "suppressions": 0, "forwards": 0}
    lookups = [(keys.candidate_address_pk(t, a), keys.CANDIDATE_ADDRESS_SK) for a in sorted(who.addresses)]
    profiles = [(keys.candidate_profile_pk(t, c), keys.CANDIDATE_SK) for c in sorted(who.candidate_ids)]
    done["candidates"] = purges.delete_keys([*profiles, *lookups])
    for address in sorted(who.addresses):
        done["optins"] += purges.delete_collection(keys.optin_pk(t, address))
        done["forwards"] += purges.delete_collection(keys.forward_pk(t, address))
    entries = [(suppressions.suppression_pk(t), suppressions.suppression_sk(a)) for a in sorted(who.addresses)]
    done["suppressions"] = purges.delete_keys(entries)
    return done


def purge_courier(who: Subject) -> dict[str, int]:
    """The courier's stores: the individuals' user-emails (their send pipeline messages went with the messages step),
    their count items, attachments and stored files; the directory's user and individual items, and the mentions of
    them in other entities (group members and leaders, a user's primary individual); the users' sniffers and the
    traffic they recorded; the users' notifications and daily counts, the notifications about the individuals and
    the individuals' badge counters. Deleted in both modes (``archive`` keeps messages only)."""
    t = who.tenant_id
    done = {"user_emails": 0, "attachments": 0, "directory": 0, "mentions_in_directory": 0, "sniffers": 0, "sniffer_logs": 0}
    for individual in sorted(who.individual_ids):
        for stored in purges.user_email_items(t, individual):
            for attachment in email_attachments_store.all_of_email(t, stored["id"]):
                for key in (
                    email_attachments_store.upload_key(t, attachment["id"]),
                    email_attachments_store.object_key(t, attachment["id"]),
                ):
                    email_attachments_store.delete(key)
                done["attachments"] += purges.delete_keys([(attachment["PK"], attachment["SK"])])
            done["user_emails"] += purges.delete_keys([(stored["PK"], stored["SK"])])
        purges.delete_keys([purges.user_email_count_key(t, individual)])
    gone = {("users", u) for u in who.user_ids} | {("individuals", i) for i in who.individual_ids}
    done["directory"] = purges.delete_keys((directory.pk(t, kind), directory.sk(eid)) for kind, eid in sorted(gone))
    done["mentions_in_directory"] = _strip_directory_mentions(who)
    sniffers = [s for s in purges.collection(sniffer_store.pk(t)) if s.get("user_id") in who.user_ids]
    purges.drop_sniffers(t, [str(s["id"]) for s in sniffers])
    done["sniffers"] = purges.delete_keys((s["PK"], s["SK"]) for s in sniffers)
    for user in sorted(who.user_ids):
        done["sniffer_logs"] += purges.delete_collection(sniffer_store.log_pk(t, user))
    # notifications: the users' (and their daily counts), those about the individuals; the individuals' badge counters
    notification_keys = {k for user in sorted(who.user_ids) for k in notification_store.keys_of_user(t, user)}
    notification_keys |= {k for individual in sorted(who.individual_ids) for k in notification_store.keys_of_individual(t, individual)}
    done["notifications"] = purges.delete_keys(sorted(notification_keys))
    done["badge_counts"] = purges.delete_keys(k for i in sorted(who.individual_ids) for k in badge_store.keys_of_individual(t, i))
    from parley.dal import communication_summaries as summary_store  # the individuals' communication summaries

    done["communication_summaries"] = sum(purges.delete_collection(summary_store.pk(t, i)) for i in sorted(who.individual_ids))
    from parley.domain import push  # the users' push devices: SNS endpoints, devices, logs, claims

    done.update(push.purge_users(t, who.user_ids))

    from parley.domain import text_numbers  # texting: number maps, lookups, number log lines (docs/courier.md "Texting")

    done.update(text_numbers.purge_person(t, user_ids=who.user_ids, phones=[a for a in who.addresses if a.startswith("+")]))

    from parley.domain import live  # messaging: the individuals' live-update connections (docs/courier.md "Live updates")

    done.update(live.purge(t, who.individual_ids))
    from parley.domain import channel_bridge  # messaging: the SMS bridge's routes of their phones (docs/courier.md "SMS bridge")
    from parley.domain import phones as numbers_

    region = _region(t)
    phones = {numbers_.best_effort(a, region) for a in who.addresses if "@" not in a}
    done.update(channel_bridge.purge(t, individual_ids=who.individual_ids, phones=phones))
    # voice (docs/courier.md "Voice lines", "Voice media", "Agents, conferences and dial logs"): the person's numbers are
    # their phones, their browser identities (client:<individual>) and the phones the voice items know as their
    # individuals' (a PSTN agent's, a conference's or a survey's number: an individual's purge names no phone); the
    # items those are read from are erased last
    from parley.domain import voice_calls, voice_lines, voice_recordings, voice_surveys

    numbers = phones | {f"client:{i}" for i in who.individual_ids}
    numbers |= voice_calls.person_numbers(t, who.individual_ids) | voice_surveys.person_numbers(t, who.individual_ids)
    done.update(voice_lines.purge(t, phones=numbers))  # the callers' numbers in queue entries (E.164 ones)
    done.update(voice_recordings.purge(t, individual_ids=set(who.individual_ids), numbers=numbers))
    done.update(voice_calls.purge(t, individual_ids=set(who.individual_ids), numbers=numbers))
    done.update(voice_surveys.purge(t, individual_ids=set(who.individual_ids), numbers=numbers))
    from parley.domain import channel_messages  # messaging: their messages, attachments, reactions, bookmarks (before they leave)

    done.update(channel_messages.purge_individuals(t, who.individual_ids))
    from parley.domain import channels  # messaging: the individuals leave their channels (docs/courier.md "Channels")

    done.update(channels.purge_individuals(t, who.individual_ids))
    from parley.domain import responders  # messaging: responders no longer name the users (docs/courier.md "Responders")

    done.update(responders.purge_users(t, who.user_ids))
    from parley.domain import announcers  # messaging: announcers and operations no longer name them (docs/courier.md "Announcers")

    done.update(announcers.purge(t, user_ids=set(who.user_ids), individual_ids=set(who.individual_ids)))
    from parley.domain import plugins  # messaging: plugins no longer name the users (docs/courier.md "Plugins")

    done.update(plugins.purge_users(t, who.user_ids))
    from parley.domain import ask  # Alexa: the individuals' reminders, the users' linked subscriptions (docs/courier.md "Alexa")

    done.update(ask.purge(t, user_ids=set(who.user_ids), individual_ids=set(who.individual_ids)))
    from parley.domain import video_channels  # video: the individuals leave their visits (docs/courier.md "Video visits")

    done.update(video_channels.purge_individuals(t, who.individual_ids))
    from parley.domain import video_participants  # video: the individuals' participants (docs/courier.md "Video (issue 20)")

    done.update(video_participants.purge(t, who.individual_ids))
    return done


def _region(tenant_id: str) -> str:
    from parley.dal import tenants

    tenant = tenants.get(tenant_id)
    return tenant.default_country if tenant else "US"


def _strip_directory_mentions(who: Subject) -> int:
    """Group members and leaders, and users' primary individual, that name a purged individual or user. The replica
    keeps its `last-sync-time`: the platform's next update of that entity replaces it as usual."""
    t, ids = who.tenant_id, who.individual_ids | who.user_ids
    if not ids:
        return 0
    changed = 0
    for kind, members in (("individual-groups", ("individuals", "leaders")), ("users", ())):
        for stored in purges.collection(directory.pk(t, kind)):
            if stored.get("deleted"):
                continue
            attrs = directory.attributes(stored)
            new = dict(attrs)
            for name in members:
                if isinstance(attrs.get(name), list):
                    new[name] = [m for m in attrs[name] if not (isinstance(m, dict) and m.get("id") in ids)]
            for name in ("primary-individual-id", "parent-id", "owner-id"):
                if attrs.get(name) in ids:
                    new[name] = None
            if new != attrs:
                purges.set_attrs(stored["PK"], stored["SK"], json.dumps(new, separators=(",", ":"), sort_keys=True))
                changed += 1
    return changed


def list_partitions(who: Subject) -> set[str]:
    """The partitions of the tallied lists that are about the person (their keys hold an address or an id)."""
    t = who.tenant_id
    out = {keys.candidate_pk(t, c) for c in who.candidate_ids}
    for address in who.addresses:
        out |= {keys.address_pk(t, address), keys.optin_pk(t, address), keys.forward_pk(t, address)}
    return out


def purge_tallies(who: Subject) -> tuple[int, int]:
    """(tally partitions deleted, lists still counting items): a list about the person whose tallies are not back to 0
    yet is waited for; the list of someone else their purged messages were with is dropped only once empty."""
    deleted = waiting = 0
    t = who.tenant_id
    others = {keys.address_pk(t, a) for a in who.touched - {a.lower() for a in who.addresses}}
    for tally_pk, total in purges.tally_partitions(t, list_partitions(who) | others):
        if not total:
            purges.delete_tally_partition(t, tally_pk)
            deleted += 1
        elif not any(f"#{pk}#" in tally_pk for pk in others):
            waiting += 1
    return deleted, waiting


# ───────────── the job ─────────────
def run(tenant_id: str, request_id: str, phase: str, attempt: int = 0) -> PurgeJob:
    job = get(tenant_id, request_id)
    if job.status in ("done", "failed"):
        return job
    req = job.request
    who = resolve(tenant_id, req.entity_type, req.entity_id) if phase == "data" else _subject_of(job)
    if phase == "data":
        purges.update_job(tenant_id, request_id, status="running", started_at=clock.iso(clock.now()),
                          subject=_subject_item(who))  # fmt: skip
        counts = {**purge_messages(who, archive=req.archive), **purge_own_items(who), **purge_courier(who)}
        from parley.domain import texts  # courier texting: texts, consents, receive logs (docs/courier.md)

        counts |= texts.purge(tenant_id, user_ids=who.user_ids, addresses=who.addresses)
        from parley.domain import multicasts  # the courier notifications' stores (docs/courier.md "Multicasts")

        counts |= multicasts.purge(tenant_id, who.user_ids, who.individual_ids)
        purges.update_job(tenant_id, request_id, counts=counts, subject=_subject_item(who))
        tallies_step = {"tenant_id": tenant_id, "request_id": request_id, "phase": "tallies", "attempt": 0}
        queue.enqueue_purge(tallies_step, delay_seconds=FIRST_CHECK_SECONDS)
        return get(tenant_id, request_id)
    deleted, waiting = purge_tallies(who)
    counts = {**job.counts, "tallies": job.counts.get("tallies", 0) + deleted}
    if waiting and attempt + 1 < TALLY_CHECKS:
        purges.update_job(tenant_id, request_id, counts=counts)
        queue.enqueue_purge({"tenant_id": tenant_id, "request_id": request_id, "phase": "tallies", "attempt": attempt + 1},
                            delay_seconds=DELAY_SECONDS)  # fmt: skip
        return get(tenant_id, request_id)
    status, error = ("done", None) if not waiting else ("failed", f"{waiting} tallied lists of the person still count items")
    # The job is the record of the erasure: it keeps the request, not the person (their id becomes a digest).
    fields: dict[str, Any] = {
        "counts": counts,
        "status": status,
        "finished_at": clock.iso(clock.now()),
        "subject": None,
        "request": {**job.request.model_dump(by_alias=True), "entity-id": digest(tenant_id, req.entity_id)},
    }
    if error:
        fields["error"] = error
    purges.update_job(tenant_id, request_id, **fields)
    logger.info("purge finished", extra={"tenant_id": tenant_id, "request_id": request_id, "status": status, "counts": counts})
    return get(tenant_id, request_id)


def digest(tenant_id: str, value: str) -> str:
    return "sha256:" + hashlib.sha256(f"{tenant_id}:{value}".encode()).hexdigest()


def _subject_item(who: Subject) -> dict[str, list[str]]:
    return {
        "addresses": sorted(who.addresses),
        "candidate_ids": sorted(who.candidate_ids),
        "user_ids": sorted(who.user_ids),
        "individual_ids": sorted(who.individual_ids),
        "message_ids": sorted(who.message_ids),
        "touched": sorted(who.touched),
    }


def _subject_of(job: PurgeJob) -> Subject:
    """The identifiers the data phase found (its candidate profiles are gone by now, so they cannot be resolved again).
    They are removed from the job when it finishes."""
    s = job.subject or {}
    return Subject(job.tenant_id, set(s.get("addresses", ())), set(s.get("candidate_ids", ())), set(s.get("user_ids", ())),
                   set(s.get("individual_ids", ())), set(s.get("message_ids", ())), set(s.get("touched", ())))  # fmt: skip
