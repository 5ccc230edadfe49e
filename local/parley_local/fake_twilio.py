"""A fake Twilio REST API: a real HTTP server on 127.0.0.1:<free port>, in a thread. The local stack starts one and
gives its URL to every function as ``TWILIO_API_URL`` (Lookup v2 too: ``TWILIO_LOOKUP_URL`` unset); the tests start their own.

What it does as Twilio does, for what Parley uses (HTTP Basic auth with an account SID and its auth token; form
bodies; Twilio's JSON error body ``{code, message, more_info, status}``):

- ``POST /2010-04-01/Accounts.json`` — a subaccount of the authenticating (main) account: ``sid`` (``AC`` + 32 hex),
  ``auth_token``, ``owner_account_sid``, ``friendly_name``, ``status: active``;
- ``GET /2010-04-01/Accounts/{sid}/AvailablePhoneNumbers/US/Local.json`` (``AreaCode``, ``SmsEnabled``, ``PageSize``) —
  numbers for sale, ``+1<area code>555<4 digits>`` not owned by anyone (area code 415 when none is given), empty for an
  area code in ``sold_out``;
- ``POST /2010-04-01/Accounts/{sid}/IncomingPhoneNumbers.json`` (``PhoneNumber``, ``SmsUrl``, ``SmsMethod``,
  ``StatusCallback``, …) — buys a number (``sid`` ``PN`` + 32 hex; 400 code 21422 when it is owned already),
  ``POST …/IncomingPhoneNumbers/{PN}.json`` updates its webhooks, ``DELETE`` releases it; ``GET …/IncomingPhoneNumbers.json``
  lists them; ``POST /2010-04-01/Accounts/{sub}.json`` (``Status=closed``) by the owner closes a subaccount;
- voice lines (issue 20, area A): ``POST …/Queues.json`` (``FriendlyName``, ``MaxSize``) makes a queue (``QU`` + 32
  hex), ``GET …/Queues.json`` lists them, ``DELETE …/Queues/{QU}.json`` removes one, ``GET …/Queues/{QU}/Members.json``
  lists its waiting calls (``call_sid``, ``position``, ``wait_time``, ``date_enqueued``; put there by ``enqueue`` /
  taken out by ``dequeue``, as a caller would); a number's update takes ``VoiceUrl``/``VoiceMethod`` too;
- ``POST /2010-04-01/Accounts/{sid}/Messages.json`` — a message (``SM`` + 32 hex; To, From or MessagingServiceSid, Body);
- voice media (issue 20, area C): ``POST /2010-04-01/Accounts/{sid}/Calls.json`` (To, From, Url, StatusCallback) — an
  outbound call (``CA`` + 32 hex, ``status: queued``; kept in ``voice_calls``; Twilio's fetch of ``Url`` is not
  made: tests act as Twilio); ``GET …/Recordings/{RE}.mp3`` (and ``.wav``) — a recording's audio, added with
  ``add_recording`` (404 for another account's or an unknown one); ``DELETE …/Recordings/{RE}.json`` deletes it (204;
  404 as the GET);
- voice agents and conferences (issue 20, area B): ``POST /2010-04-01/Accounts/{sid}/Keys.json`` (``FriendlyName``) —
  a standard API key (``SK`` + 32 hex) and its ``secret``, answered only here as Twilio does (kept in ``keys``);
  ``Calls.json`` also takes inline ``Twiml`` and a ``client:<identity>`` To (a Voice SDK client);
- ``POST /v1/Compositions`` (Twilio Video: ``RoomSid``, ``AudioSources``, ``VideoLayout``, ``Format``,
  ``StatusCallback``) — a composition (``CJ`` + 32 hex, ``status: enqueued``; 400 code 53100 without a RoomSid),
  ``GET /v1/Compositions/{CJ}`` reads it, ``GET /v1/Compositions/{CJ}/Media?Ttl=…`` answers Twilio's 302 with
  ``{"redirect_to": <link>}``: a link to ``GET /_media/compositions/{CJ}.mp4?Expires=…&Signature=…`` (unauthenticated,
  refused 403 once expired or tampered with; 404 until ``complete_composition``), which serves the composed bytes;
- Video (``video.twilio.com``, served at the same base URL): ``POST /v1/Rooms`` (``UniqueName``, ``Type``,
  ``RecordParticipantsOnConnect``, ``StatusCallback``, ``MaxParticipants``) — a room (``sid`` ``RM`` + 32 hex,
  ``status: in-progress``; 400 code 53113 when the account has an in-progress room of that unique name),
  ``GET /v1/Rooms/{RM}``, ``POST /v1/Rooms/{RM}`` ``Status=completed`` — ends it (``end_time``, ``duration``);
- ``GET /v2/PhoneNumbers/{number}?Fields=line_type_intelligence`` — Lookup v2: ``valid`` (an E.164 number of 8..15
  digits) and ``line_type_intelligence``: from ``line_types[number]`` if set, else by the last digit (1 landline,
  2 nonFixedVoip, 3 tollFree, else mobile) with a fake carrier.

Every request is recorded (``requests``; the local stack serves them at ``GET /_local/twilio``). ``fail_next(status,
…)`` answers the next request(s) with an error; ``stall_next(seconds)`` delays the next answer.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import secrets
import threading
import time
import urllib.parse
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_E164 = re.compile(r"\+[1-9][0-9]{7,14}")


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    form: dict[str, str]
    account_sid: str | None = None
    auth_ok: bool = False
    query: dict[str, str] = field(default_factory=dict)
    status: int = 0


@dataclass
class FakeTwilio:
    accounts: dict[str, str] = field(default_factory=dict)  # sid → auth token
    subaccounts: dict[str, dict[str, Any]] = field(default_factory=dict)  # sid → the account resource
    numbers: dict[str, dict[str, Any]] = field(default_factory=dict)  # PN sid → the incoming phone number resource
    sold_out: set[str] = field(default_factory=set)  # area codes with no number for sale
    line_types: dict[str, dict[str, Any]] = field(default_factory=dict)  # E.164 → line_type_intelligence
    voice_calls: dict[str, dict[str, Any]] = field(default_factory=dict)  # CA sid → the call resource (outbound)
    recordings: dict[str, dict[str, Any]] = field(default_factory=dict)  # RE sid → {account_sid, call_sid, audio, duration}
    keys: dict[str, dict[str, Any]] = field(default_factory=dict)  # SK sid → the API key (account_sid, secret, …)
    queues: dict[str, dict[str, Any]] = field(default_factory=dict)  # QU sid → the queue resource (voice lines)
    queue_members: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # QU sid → its waiting calls, in order
    compositions: dict[str, dict[str, Any]] = field(default_factory=dict)  # CJ sid → the composition resource (Video)
    composition_media: dict[str, bytes] = field(default_factory=dict)  # CJ sid → its file, once completed
    _media_key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    rooms: dict[str, dict[str, Any]] = field(default_factory=dict)  # RM sid → the video room resource
    # as Twilio does: once a composition is created, post its progress (enqueued, started, progress 50, available) to
    # its StatusCallback, signed with the account's auth token, and complete it (the local stack turns it on)
    composition_callbacks: bool = False
    requests: list[Recorded] = field(default_factory=list)
    max_recorded: int = 5000
    _failures: list[tuple[int, int, str]] = field(default_factory=list)
    _stalls: list[float] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def add_account(self, sid: str | None = None, token: str | None = None) -> tuple[str, str]:
        sid = sid or "AC" + secrets.token_hex(16)
        token = token or secrets.token_hex(16)
        with self._lock:
            self.accounts[sid] = token
        return sid, token

    def add_recording(self, account_sid: str, *, call_sid: str | None = None, audio: bytes | None = None, duration: int = 7) -> str:
        """A recording of the account whose audio ``GET …/Recordings/{RE}.mp3`` serves: its RecordingSid."""
        sid = "RE" + secrets.token_hex(16)
        with self._lock:
            self.recordings[sid] = {
                "account_sid": account_sid,
                "call_sid": call_sid or "CA" + secrets.token_hex(16),
                "audio": audio if audio is not None else b"ID3" + secrets.token_bytes(64),
                "duration": duration,
            }
        return sid

    def fail_next(self, status: int, code: int = 20500, message: str = "Internal Server Error", times: int = 1) -> None:
        with self._lock:
            self._failures.extend([(status, code, message)] * times)

    def stall_next(self, seconds: float) -> None:
        with self._lock:
            self._stalls.append(seconds)

    def messages(self) -> list[Recorded]:
        """Requests that created a message (authenticated, answered 201)."""
        return [r for r in self.requests if r.auth_ok and r.method == "POST" and r.path.endswith("/Messages.json")]

    def calls(self, suffix: str, method: str | None = None) -> list[Recorded]:
        """Recorded requests whose path (without the query, percent-decoded) ends with ``suffix``."""
        return [
            r
            for r in self.requests
            if urllib.parse.unquote(r.path.split("?")[0]).endswith(suffix) and (method is None or r.method == method)
        ]

    def complete_composition(
        self, composition_sid: str, media: bytes = b"\x00\x00\x00\x18ftypmp42fake", duration: int = 42
    ) -> dict[str, Any]:
        """Twilio finished composing: ``status: completed`` with the file's size and duration (the callbacks that say
        so are the caller's to post, signed, as Twilio would)."""
        with self._lock:
            resource = self.compositions[composition_sid]
            resource.update({"status": "completed", "size": len(media), "duration": duration})
            self.composition_media[composition_sid] = media
            return dict(resource)

    def _run_composition(self, composition_sid: str) -> None:
        """Twilio composing: the callbacks of a composition, signed, each a moment after the last; then completed."""
        import urllib.request

        from twilio.request_validator import RequestValidator

        with self._lock:
            resource = dict(self.compositions[composition_sid])
            token = self.accounts.get(resource["account_sid"]) or (self.subaccounts.get(resource["account_sid"]) or {}).get("auth_token")
        url = resource.get("status_callback") or ""
        media = b"\x00\x00\x00\x18ftypmp42" + secrets.token_bytes(64)
        base = {"AccountSid": resource["account_sid"], "RoomSid": resource["room_sid"], "CompositionSid": composition_sid}
        steps = [{"StatusCallbackEvent": "composition-enqueued"}, {"StatusCallbackEvent": "composition-started"},
                 {"StatusCallbackEvent": "composition-progress", "PercentageDone": "50", "SecondsRemaining": "1"},
                 {"StatusCallbackEvent": "composition-available", "Size": str(len(media)), "Duration": "42",
                  "MediaUri": f"/v1/Compositions/{composition_sid}/Media"}]  # fmt: skip
        for step in steps:
            time.sleep(0.2)
            if step["StatusCallbackEvent"] == "composition-available":
                self.complete_composition(composition_sid, media=media, duration=42)
            if not url or not token:
                continue
            params = {**base, **step, "Timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
            signature = RequestValidator(token).compute_signature(url, params)
            request = urllib.request.Request(url, data=urllib.parse.urlencode(params).encode(), method="POST",
                                             headers={"X-Twilio-Signature": signature,
                                                      "Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
            with contextlib.suppress(OSError):  # Twilio does not retry a composition's status callback
                urllib.request.urlopen(request, timeout=30).close()

    def _media_signature(self, composition_sid: str, expires: int) -> str:
        import hashlib
        import hmac

        return hmac.new(self._media_key, f"{composition_sid}:{expires}".encode(), hashlib.sha256).hexdigest()

    def number_by_phone(self, e164: str) -> dict[str, Any] | None:
        return next((n for n in self.numbers.values() if n["phone_number"] == e164), None)

    def enqueue(self, queue_sid: str, call_sid: str | None = None, wait_time: int = 0) -> str:
        """A call enters a queue (as a caller's ``<Enqueue>`` would put it there): its CallSid."""
        call_sid = call_sid or "CA" + secrets.token_hex(16)
        with self._lock:
            members = self.queue_members.setdefault(queue_sid, [])
            members.append({"call_sid": call_sid, "queue_sid": queue_sid, "wait_time": wait_time,
                            "date_enqueued": time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime())})  # fmt: skip
        return call_sid

    def dequeue(self, queue_sid: str, call_sid: str) -> None:
        with self._lock:
            self.queue_members[queue_sid] = [m for m in self.queue_members.get(queue_sid, []) if m["call_sid"] != call_sid]

    def queue_by_name(self, friendly_name: str) -> dict[str, Any] | None:
        return next((q for q in self.queues.values() if q["friendly_name"] == friendly_name), None)

    def snapshot(self) -> dict[str, Any]:
        """What the fake holds and was asked (``GET /_local/twilio``); auth tokens are left out."""
        with self._lock:
            return {
                "url": self.url,
                "accounts": sorted(self.accounts),
                "subaccounts": [{k: v for k, v in a.items() if k != "auth_token"} for a in self.subaccounts.values()],
                "numbers": list(self.numbers.values()),
                "keys": [{k: v for k, v in key.items() if k != "secret"} for key in self.keys.values()],
                "queues": list(self.queues.values()),
                "rooms": list(self.rooms.values()),
                "compositions": list(self.compositions.values()),
                "requests": [{k: v for k, v in asdict(r).items() if k != "headers"} for r in self.requests[-500:]],
            }

    # ── the resources ──

    def _available(self, area_code: str | None, page_size: int) -> list[dict[str, Any]]:
        area = area_code or "415"
        if area in self.sold_out:
            return []
        owned = {n["phone_number"] for n in self.numbers.values()}
        out: list[dict[str, Any]] = []
        for n in range(100, 10000):
            phone = f"+1{area}555{n:04d}"
            if phone in owned:
                continue
            out.append({
                "friendly_name": f"({area}) 555-{n:04d}", "phone_number": phone, "lata": "722", "rate_center": "FAKECITY",
                "latitude": "37.780000", "longitude": "-122.390000", "locality": "Fake City", "region": "CA", "postal_code": "94105",
                "iso_country": "US", "address_requirements": "none", "beta": False,
                "capabilities": {"voice": True, "SMS": True, "MMS": True, "fax": False},
            })  # fmt: skip
            if len(out) >= page_size:
                break
        return out

    def _lookup(self, number: str) -> dict[str, Any]:
        valid = _E164.fullmatch(number) is not None
        intel = self.line_types.get(number)
        if intel is None and valid:
            kind = {"1": "landline", "2": "nonFixedVoip", "3": "tollFree"}.get(number[-1], "mobile")
            intel = {"type": kind, "carrier_name": f"Fake {kind.title()} Co", "mobile_country_code": "310", "mobile_network_code": "260",
                     "error_code": None}  # fmt: skip
        return {
            "calling_country_code": "1" if number.startswith("+1") else None,
            "country_code": "US" if number.startswith("+1") else None,
            "phone_number": number,
            "national_format": None,
            "valid": valid,
            "validation_errors": [] if valid else ["INVALID_LENGTH"],
            "line_type_intelligence": intel if valid else None,
            "url": f"https://lookups.twilio.com/v2/PhoneNumbers/{urllib.parse.quote(number)}",
        }

    def start(self, host: str = "127.0.0.1", port: int = 0) -> FakeTwilio:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _answer(self, status: int, payload: dict[str, Any]) -> None:
                self._rec.status = status
                raw = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def _error(self, status: int, code: int, message: str) -> None:
                self._answer(status, {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
                                      "status": status})  # fmt: skip

            def _authenticated(self) -> str | None:
                """The account the request authenticates as (a main account or a subaccount), else None."""
                scheme, _, encoded = (self.headers.get("Authorization") or "").partition(" ")
                try:
                    user, _, password = base64.b64decode(encoded).decode().partition(":")
                except ValueError:
                    return None
                if scheme != "Basic" or not user:
                    return None
                with fake._lock:
                    known = fake.accounts.get(user) or (fake.subaccounts.get(user) or {}).get("auth_token")
                return user if known is not None and secrets.compare_digest(known, password) else None

            def _begin(self, method: str) -> tuple[list[str], dict[str, str], tuple[int, int, str] | None]:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode() if length else ""
                form = {k: v[-1] for k, v in urllib.parse.parse_qs(raw, keep_blank_values=True).items()}
                split = urllib.parse.urlsplit(self.path)
                query = {k: v[-1] for k, v in urllib.parse.parse_qs(split.query, keep_blank_values=True).items()}
                self._rec = Recorded(method, self.path, {k: v for k, v in self.headers.items()}, form, query=query)
                with fake._lock:
                    fake.requests.append(self._rec)
                    del fake.requests[: -fake.max_recorded]
                    stall = fake._stalls.pop(0) if fake._stalls else 0.0
                    failure = fake._failures.pop(0) if fake._failures else None
                if stall:
                    time.sleep(stall)
                return [urllib.parse.unquote(p) for p in split.path.strip("/").split("/")], form, failure

            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

            def do_DELETE(self) -> None:
                self._handle("DELETE")

            def _bytes(self, status: int, data: bytes, content_type: str) -> None:
                self._rec.status = status
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _no_content(self) -> None:
                self._rec.status = 204
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def _handle(self, method: str) -> None:
                parts, form, failure = self._begin(method)
                lookup = len(parts) == 3 and parts[:2] == ["v2", "PhoneNumbers"] and method == "GET"
                if len(parts) == 3 and parts[:2] == ["_media", "compositions"] and method == "GET":
                    return self._composition_file(parts[2].removesuffix(".mp4"))  # a media link: no account auth
                compositions = len(parts) >= 2 and parts[:2] == ["v1", "Compositions"]
                create_account = parts == ["2010-04-01", "Accounts.json"] and method == "POST"
                in_account = len(parts) >= 4 and parts[:2] == ["2010-04-01", "Accounts"]
                # POST /Accounts/{sid}.json: the owner changes a subaccount (Status=closed)
                account_update = (
                    len(parts) == 3 and parts[:2] == ["2010-04-01", "Accounts"] and parts[2].endswith(".json") and method == "POST"
                )
                video = len(parts) in (2, 3) and parts[:2] == ["v1", "Rooms"]
                if not (lookup or create_account or in_account or account_update or compositions or video):
                    return self._error(404, 20404, f"The requested resource {self.path} was not found")
                if in_account:
                    self._rec.account_sid = parts[2]
                who = self._authenticated()
                if who is None or (in_account and parts[2] != who):
                    return self._error(401, 20003, "Authenticate")
                self._rec.account_sid = who
                if failure:
                    return self._error(*failure)
                if lookup:
                    self._rec.auth_ok = True
                    return self._answer(200, fake._lookup(parts[2]))
                if compositions:
                    return self._composition(method, who, parts[2:], form)
                if create_account:
                    return self._subaccount(who, form)
                if video:
                    return self._room(method, who, parts[2] if len(parts) == 3 else None, form)
                if account_update:
                    return self._update_subaccount(who, parts[2].removesuffix(".json"), form)
                self._account_resource(method, who, parts[3:], form)

            def _account_resource(self, method: str, sid: str, rest: list[str], form: dict[str, str]) -> None:
                if method == "POST" and rest == ["Messages.json"]:
                    return self._message(sid, form)
                if method == "POST" and rest == ["Calls.json"]:
                    return self._voice_call(sid, form)
                if method == "POST" and rest == ["Keys.json"]:
                    return self._api_key(sid, form)
                if method == "GET" and len(rest) == 2 and rest[0] == "Recordings" and rest[1].endswith((".mp3", ".wav")):
                    return self._recording_media(sid, rest[1])
                if method == "DELETE" and len(rest) == 2 and rest[0] == "Recordings" and rest[1].endswith(".json"):
                    with fake._lock:
                        gone = fake.recordings.get(rest[1].removesuffix(".json"))
                        if gone is None or gone["account_sid"] != sid:
                            return self._error(404, 20404, f"The requested resource Recordings/{rest[1]} was not found")
                        del fake.recordings[rest[1].removesuffix(".json")]
                    self._rec.auth_ok = True
                    return self._no_content()
                if len(rest) == 3 and rest[0] == "AvailablePhoneNumbers" and rest[2] == "Local.json" and method == "GET":
                    q = self._rec.query
                    size = max(1, min(int(q.get("PageSize") or 50), 1000)) if (q.get("PageSize") or "50").isdigit() else 50
                    self._rec.auth_ok = True
                    found = fake._available(q.get("AreaCode"), size)
                    return self._answer(200, {"available_phone_numbers": found, "uri": self.path})
                if rest == ["IncomingPhoneNumbers.json"] and method == "GET":
                    self._rec.auth_ok = True
                    with fake._lock:
                        mine = [n for n in fake.numbers.values() if n["account_sid"] == sid]
                    return self._answer(200, {"incoming_phone_numbers": mine})
                if rest == ["IncomingPhoneNumbers.json"] and method == "POST":
                    return self._buy(sid, form)
                if len(rest) == 2 and rest[0] == "IncomingPhoneNumbers" and method == "POST":
                    return self._update_number(sid, rest[1].removesuffix(".json"), form)
                if len(rest) == 2 and rest[0] == "IncomingPhoneNumbers" and method == "DELETE":
                    with fake._lock:
                        gone = fake.numbers.get(rest[1].removesuffix(".json"))
                        if gone is None or gone["account_sid"] != sid:
                            return self._error(404, 20404, f"The requested resource {self.path} was not found")
                        del fake.numbers[gone["sid"]]
                    self._rec.auth_ok = True
                    return self._no_content()
                if rest and (rest[0] == "Queues.json" or rest[0] == "Queues"):
                    return self._queues(method, sid, rest, form)
                return self._error(404, 20404, f"The requested resource {self.path} was not found")

            def _queues(self, method: str, sid: str, rest: list[str], form: dict[str, str]) -> None:
                """Call queues (voice lines): create and list (``Queues.json``), delete (``Queues/{QU}.json``), the
                waiting calls (``Queues/{QU}/Members.json``)."""
                if rest == ["Queues.json"] and method == "POST":
                    if not form.get("FriendlyName"):
                        return self._error(400, 20001, "Missing required parameter FriendlyName in the post body")
                    with fake._lock:
                        if any(q["account_sid"] == sid and q["friendly_name"] == form["FriendlyName"] for q in fake.queues.values()):
                            return self._error(400, 22003, f"A queue with friendly name {form['FriendlyName']} already exists")
                        qu = "QU" + secrets.token_hex(16)
                        resource = {"sid": qu, "account_sid": sid, "friendly_name": form["FriendlyName"],
                                    "max_size": int(form.get("MaxSize") or 100), "current_size": 0, "average_wait_time": 0,
                                    "uri": f"/2010-04-01/Accounts/{sid}/Queues/{qu}.json"}  # fmt: skip
                        fake.queues[qu] = resource
                    self._rec.auth_ok = True
                    return self._answer(201, resource)
                if rest == ["Queues.json"] and method == "GET":
                    self._rec.auth_ok = True
                    with fake._lock:
                        mine = [q for q in fake.queues.values() if q["account_sid"] == sid]
                    return self._answer(200, {"queues": mine})
                qu = rest[1].removesuffix(".json") if len(rest) >= 2 else ""
                with fake._lock:
                    queue = fake.queues.get(qu)
                if queue is None or queue["account_sid"] != sid:
                    return self._error(404, 20404, f"The requested resource {self.path} was not found")
                if len(rest) == 2 and method == "DELETE":
                    with fake._lock:
                        fake.queues.pop(qu, None)
                        fake.queue_members.pop(qu, None)
                    self._rec.auth_ok = True
                    return self._no_content()
                if len(rest) == 3 and rest[2] == "Members.json" and method == "GET":
                    with fake._lock:
                        members = [{**m, "position": n + 1} for n, m in enumerate(fake.queue_members.get(qu, []))]
                    self._rec.auth_ok = True
                    return self._answer(200, {"queue_members": members, "next_page_uri": None, "page": 0, "page_size": 1000})
                return self._error(404, 20404, f"The requested resource {self.path} was not found")

            def _composition(self, method: str, sid: str, rest: list[str], form: dict[str, str]) -> None:
                if method == "POST" and not rest:
                    if not form.get("RoomSid", "").startswith("RM"):
                        return self._error(400, 53100, "RoomSid is required")
                    cj = "CJ" + secrets.token_hex(16)
                    resource = {"sid": cj, "account_sid": sid, "room_sid": form["RoomSid"], "status": "enqueued",
                                "format": form.get("Format") or "webm", "audio_sources": [form.get("AudioSources") or ""],
                                "video_layout": json.loads(form.get("VideoLayout") or "{}"),
                                "status_callback": form.get("StatusCallback"), "size": 0, "duration": 0,
                                "date_created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                                "url": f"https://video.twilio.com/v1/Compositions/{cj}"}  # fmt: skip
                    with fake._lock:
                        fake.compositions[cj] = resource
                    self._rec.auth_ok = True
                    self._answer(201, resource)
                    if fake.composition_callbacks:
                        threading.Thread(target=fake._run_composition, args=(cj,), name=f"composition-{cj}", daemon=True).start()
                    return None
                with fake._lock:
                    resource = fake.compositions.get(rest[0]) if rest else None
                    resource = dict(resource) if resource is not None and resource["account_sid"] == sid else None
                if resource is None or method != "GET" or len(rest) > 2 or (len(rest) == 2 and rest[1] != "Media"):
                    return self._error(404, 20404, f"The requested resource {self.path} was not found")
                self._rec.auth_ok = True
                if len(rest) == 1:
                    return self._answer(200, resource)
                if resource["status"] != "completed":
                    return self._error(404, 53108, "The composition's media is not available yet")
                ttl = self._rec.query.get("Ttl") or "3600"
                expires = int(time.time()) + max(1, min(int(ttl) if ttl.isdigit() else 3600, 3600))
                signature = fake._media_signature(resource["sid"], expires)
                link = f"{fake.url}/_media/compositions/{resource['sid']}.mp4?Expires={expires}&Signature={signature}"
                self._rec.status = 302
                raw = json.dumps({"redirect_to": link}).encode()
                self.send_response(302)
                self.send_header("Location", link)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def _composition_file(self, cj: str) -> None:
                query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
                expires = (query.get("Expires") or ["0"])[-1]
                signature = (query.get("Signature") or [""])[-1]
                good = expires.isdigit() and secrets.compare_digest(signature, fake._media_signature(cj, int(expires)))
                if not good or int(expires) < time.time():
                    return self._error(403, 20403, "The media link is expired or invalid")
                with fake._lock:
                    media = fake.composition_media.get(cj)
                if media is None:
                    return self._error(404, 20404, "No such media")
                self._rec.auth_ok = True
                self._rec.status = 200
                self.send_response(200)
                self.send_header("Content-Type", "video/mp4")
                self.send_header("Content-Length", str(len(media)))
                self.end_headers()
                self.wfile.write(media)

            def _room(self, method: str, sid: str, room_sid: str | None, form: dict[str, str]) -> None:
                now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
                if room_sid is None and method == "POST":
                    name = form.get("UniqueName") or ""
                    with fake._lock:
                        if name and any(r["unique_name"] == name and r["account_sid"] == sid and r["status"] == "in-progress"
                                        for r in fake.rooms.values()):  # fmt: skip
                            return self._error(400, 53113, f"Room exists: {name}")
                        rm = "RM" + secrets.token_hex(16)
                        room = {
                            "sid": rm, "account_sid": sid, "unique_name": name or rm, "status": "in-progress",
                            "type": form.get("Type") or "group",
                            "record_participants_on_connect": form.get("RecordParticipantsOnConnect") == "true",
                            "status_callback": form.get("StatusCallback"),
                            "status_callback_method": form.get("StatusCallbackMethod", "POST"),
                            "max_participants": int(form["MaxParticipants"]) if (form.get("MaxParticipants") or "").isdigit() else 50,
                            "date_created": now, "end_time": None, "duration": None, "url": f"https://video.twilio.com/v1/Rooms/{rm}",
                            "_started": time.time(),
                        }  # fmt: skip
                        fake.rooms[rm] = room
                    self._rec.auth_ok = True
                    return self._answer(201, {k: v for k, v in room.items() if not k.startswith("_")})
                with fake._lock:
                    room = fake.rooms.get(room_sid or "")
                    if room is None or room["account_sid"] != sid:
                        return self._error(404, 20404, f"The requested resource /Rooms/{room_sid} was not found")
                    if method == "POST":
                        if form.get("Status") != "completed":
                            return self._error(400, 53126, "Status must be completed")
                        if room["status"] == "in-progress":
                            room.update(status="completed", end_time=now, duration=int(time.time() - room["_started"]))
                    elif method != "GET":
                        return self._error(405, 20004, "Method not allowed")
                self._rec.auth_ok = True
                self._answer(200, {k: v for k, v in room.items() if not k.startswith("_")})

            def _subaccount(self, owner: str, form: dict[str, str]) -> None:
                if owner not in fake.accounts:
                    return self._error(403, 20008, "Subaccounts cannot create subaccounts")
                sub = "AC" + secrets.token_hex(16)
                resource = {"sid": sub, "auth_token": secrets.token_hex(16), "owner_account_sid": owner,
                            "friendly_name": form.get("FriendlyName") or f"SubAccount Created at {time.strftime('%Y-%m-%d %H:%M')}",
                            "status": "active", "type": "Full"}  # fmt: skip
                with fake._lock:
                    fake.subaccounts[sub] = resource
                self._rec.auth_ok = True
                self._answer(201, resource)

            def _update_subaccount(self, owner: str, sub: str, form: dict[str, str]) -> None:
                with fake._lock:
                    resource = fake.subaccounts.get(sub)
                    if resource is None or resource["owner_account_sid"] != owner:
                        return self._error(404, 20404, f"The requested resource Accounts/{sub} was not found")
                    if form.get("Status") in ("active", "suspended", "closed"):
                        resource["status"] = form["Status"]
                self._rec.auth_ok = True
                self._answer(200, {k: v for k, v in resource.items() if k != "auth_token"})

            def _buy(self, sid: str, form: dict[str, str]) -> None:
                phone = form.get("PhoneNumber") or ""
                if not phone and form.get("AreaCode"):
                    offer = fake._available(form["AreaCode"], 1)
                    phone = offer[0]["phone_number"] if offer else ""
                if not _E164.fullmatch(phone):
                    return self._error(400, 21421, f"PhoneNumber is invalid: {phone!r}")
                with fake._lock:
                    if fake.number_by_phone(phone) is not None:
                        return self._error(400, 21422, f"Phone number {phone} is not available")
                    pn = "PN" + secrets.token_hex(16)
                    resource = {
                        "sid": pn, "account_sid": sid, "phone_number": phone, "friendly_name": form.get("FriendlyName") or phone,
                        "sms_url": form.get("SmsUrl", ""), "sms_method": form.get("SmsMethod", "POST"),
                        "status_callback": form.get("StatusCallback", ""),
                        "status_callback_method": form.get("StatusCallbackMethod", "POST"),
                        "capabilities": {"voice": True, "sms": True, "mms": True, "fax": False},
                        "status": "in-use", "api_version": "2010-04-01",
                    }  # fmt: skip
                    fake.numbers[pn] = resource
                self._rec.auth_ok = True
                self._answer(201, resource)

            def _update_number(self, sid: str, pn: str, form: dict[str, str]) -> None:
                with fake._lock:
                    resource = fake.numbers.get(pn)
                    if resource is None or resource["account_sid"] != sid:
                        return self._error(404, 20404, f"The requested resource IncomingPhoneNumbers/{pn} was not found")
                    for name, attr in (("SmsUrl", "sms_url"), ("SmsMethod", "sms_method"), ("StatusCallback", "status_callback"),
                                       ("StatusCallbackMethod", "status_callback_method"), ("FriendlyName", "friendly_name"),
                                       ("VoiceUrl", "voice_url"), ("VoiceMethod", "voice_method")):  # fmt: skip
                        if name in form:
                            resource[attr] = form[name]
                self._rec.auth_ok = True
                self._answer(200, resource)

            def _voice_call(self, sid: str, form: dict[str, str]) -> None:
                if not form.get("To"):
                    return self._error(400, 21201, "No 'To' number is specified")
                if not form.get("From"):
                    return self._error(400, 21213, "No 'From' number is specified")
                if not form.get("Url") and not form.get("Twiml") and not form.get("ApplicationSid"):
                    return self._error(400, 21205, "Url parameter is required.")
                if not (_E164.fullmatch(form["To"]) or re.fullmatch(r"client:[A-Za-z0-9_.:@-]{1,121}", form["To"])):
                    return self._error(400, 21211, f"Invalid 'To' Phone Number: {form['To']}")
                with fake._lock:
                    owned = any(n["phone_number"] == form["From"] and n["account_sid"] == sid for n in fake.numbers.values())
                if not owned:
                    return self._error(
                        400, 21210, f"The source phone number provided, {form['From']}, is not yet verified for your account."
                    )
                call_sid = "CA" + secrets.token_hex(16)
                resource = {"sid": call_sid, "account_sid": sid, "to": form["To"], "from": form["From"], "status": "queued",
                            "direction": "outbound-api", "url": form.get("Url"), "method": form.get("Method", "POST"),
                            "status_callback": form.get("StatusCallback"), "api_version": "2010-04-01",
                            "uri": f"/2010-04-01/Accounts/{sid}/Calls/{call_sid}.json"}  # fmt: skip
                with fake._lock:
                    fake.voice_calls[call_sid] = resource
                self._rec.auth_ok = True
                self._answer(201, resource)

            def _api_key(self, sid: str, form: dict[str, str]) -> None:
                now = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime())
                key = {"sid": "SK" + secrets.token_hex(16), "friendly_name": form.get("FriendlyName") or "",
                       "secret": secrets.token_hex(16), "date_created": now, "date_updated": now}  # fmt: skip
                with fake._lock:
                    fake.keys[key["sid"]] = {**key, "account_sid": sid}
                self._rec.auth_ok = True
                self._answer(201, key)

            def _recording_media(self, sid: str, name: str) -> None:
                rec_sid, _, ext = name.rpartition(".")
                with fake._lock:
                    found = fake.recordings.get(rec_sid)
                if found is None or found["account_sid"] != sid:
                    return self._error(404, 20404, f"The requested resource Recordings/{name} was not found")
                self._rec.auth_ok = True
                self._bytes(200, found["audio"], "audio/mpeg" if ext == "mp3" else "audio/x-wav")

            def _message(self, sid: str, form: dict[str, str]) -> None:
                if not form.get("To"):
                    return self._error(400, 21604, "A 'To' phone number is required.")
                if not form.get("From") and not form.get("MessagingServiceSid"):
                    return self._error(400, 21603, "A 'From' phone number is required.")
                if not form.get("Body"):
                    return self._error(400, 21602, "Message body is required.")
                if not form["To"].startswith("+"):
                    return self._error(400, 21211, f"The 'To' number {form['To']} is not a valid phone number.")
                self._rec.auth_ok = True
                msg_sid = "SM" + secrets.token_hex(16)
                self._answer(
                    201,
                    {
                        "sid": msg_sid,
                        "account_sid": sid,
                        "to": form["To"],
                        "from": form.get("From"),
                        "messaging_service_sid": form.get("MessagingServiceSid"),
                        "body": form["Body"],
                        "status": "queued",
                        "num_segments": "1",
                        "direction": "outbound-api",
                        "api_version": "2010-04-01",
                        "uri": f"/2010-04-01/Accounts/{sid}/Messages/{msg_sid}.json",
                        "error_code": None,
                        "error_message": None,
                    },
                )

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-twilio", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
