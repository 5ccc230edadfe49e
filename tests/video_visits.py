"""Shared support of the video visits' e2e tests (issue 20, area D): a clinic on the local stack — a tenant, its
directory (a host, a patient, an outsider with their users' emails), a main Twilio account in the fake, a
text-account of the organization made through the API (its Twilio project hosts the rooms), the tenant's encounter
webhook (``encounter_webhook_url`` in its provider secret) pointing at a local receiver — and Twilio Video's room
callbacks, signed with the account's auth token and POSTed to VideoCallbackFunction's Function URL as Twilio would."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import requests
from twilio.request_validator import RequestValidator

from helpers import import_directory

T1 = "2026-11-01T09:00:00Z"


@dataclass
class Clinic:
    tenant_id: str
    key: str
    stranger_key: str
    organization_id: str
    account_id: str
    host_user: str
    host: str  # individual ids
    patient_user: str
    patient: str
    outsider_user: str
    outsider: str

    def headers(self, user: str | None = None, key: str | None = None) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {key or self.key}",
            "Content-Type": "application/vnd.api+json",
            "X-User-ID": user or self.host_user,
        }


def make_clinic(local: Any, tmp_path: Any, receiver_url: str | None) -> Clinic:
    from parley.dal import secrets
    from parley.domain.auth import configure_tenant

    tenant, stranger = local.new_tenant("video"), local.new_tenant("video-stranger")
    tid = tenant["tenantId"]
    org, hu, h, pu, p, ou, o = (str(uuid.uuid4()) for _ in range(7))
    email = {hu: "pat@example.com", pu: "sam@example.com"}
    lines = [
        {"type": "organizations", "id": org, "last-sync-time": T1, "attributes": {"name": "northside", "display-name": "Northside"}},
        {"type": "users", "id": hu, "last-sync-time": T1, "attributes": {"username": "pat", "primary-individual-id": h,
                                                                        "email": email[hu]}},
        {"type": "users", "id": pu, "last-sync-time": T1, "attributes": {"username": "sam", "primary-individual-id": p,
                                                                        "email": email[pu]}},
        {"type": "users", "id": ou, "last-sync-time": T1, "attributes": {"username": "lee", "primary-individual-id": o}},
        {"type": "individuals", "id": h, "last-sync-time": T1, "attributes": {"first-name": "Pat", "owner-id": hu}},
        {"type": "individuals", "id": p, "last-sync-time": T1, "attributes": {"first-name": "Sam", "owner-id": pu}},
        {"type": "individuals", "id": o, "last-sync-time": T1, "attributes": {"first-name": "Lee", "owner-id": ou}},
    ]  # fmt: skip
    assert import_directory(local, tmp_path, tid, lines)["invalid"] == 0
    # the same people in the stranger's directory: its requests fail on the visit, not on the individual
    assert import_directory(local, tmp_path, stranger["tenantId"], lines)["invalid"] == 0
    given = requests.post(local.api + "/_local/twilio/account", json={"tenantId": tid}, timeout=10)
    assert given.status_code == 201, given.text
    if receiver_url:  # before any function reads (and caches) the tenant's secret
        current = secrets.named_secret(given.json()["secretName"])
        name = f"parley/{tid}-video-{uuid.uuid4().hex[:6]}"  # a new name: no function holds a stale copy
        secrets.put_tenant_secret(name, {**current, "encounter_webhook_url": receiver_url})
        configure_tenant(tid, secret_name=name)
    clinic = Clinic(tid, tenant["apiKey"], stranger["apiKey"], org, "", hu, h, pu, p, ou, o)
    doc = {"data": {"type": "text-accounts", "attributes": {"organization-id": org}}}
    account = requests.post(local.api + "/v1/text-accounts/", json=doc, headers=clinic.headers(), timeout=30)
    assert account.status_code == 201, account.text
    clinic.account_id = account.json()["data"]["id"]
    return clinic


def key_secret(clinic: Clinic) -> tuple[str, str]:
    """The API key the stack made for the account's tokens: ``(key sid, secret)`` from Secrets Manager."""
    from parley.dal import secrets
    from parley.domain import text_numbers

    kept = secrets.named_secret(text_numbers.api_key_secret_name(clinic.tenant_id, clinic.account_id))
    return kept["key_sid"], kept["key_secret"]


def room_callback(local: Any, clinic: Clinic, room_sid: str, room_name: str, event: str, seq: int, *, identity: str | None = None,
                  forged: bool = False) -> requests.Response:  # fmt: skip
    """Twilio Video posting a room event to VideoCallbackFunction's Function URL, signed with the account's token."""
    from parley.domain import text_numbers

    sid, token = text_numbers.account_auth(clinic.tenant_id, clinic.account_id)
    url = f"{local.api}/_url/VideoCallbackFunction/room"
    status = "completed" if event == "room-ended" else "in-progress"
    params = {"AccountSid": sid, "RoomSid": room_sid, "RoomName": room_name, "RoomStatus": status,
              "RoomType": "group", "StatusCallbackEvent": event, "SequenceNumber": str(seq),
              "Timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())}  # fmt: skip
    if identity:
        params.update(ParticipantIdentity=identity, ParticipantSid="PA" + uuid.uuid4().hex,
                      ParticipantStatus="connected" if event == "participant-connected" else "disconnected")  # fmt: skip
    signature = "forged" if forged else RequestValidator(token).compute_signature(url, params)
    return requests.post(url, data=params, headers={"X-Twilio-Signature": signature}, timeout=30)
