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
- ``POST /2010-04-01/Accounts/{sid}/Messages.json`` — a message (``SM`` + 32 hex; To, From or MessagingServiceSid, Body);
- ``POST /v1/Compositions`` (Twilio Video: ``RoomSid``, ``AudioSources``, ``VideoLayout``, ``Format``,
  ``StatusCallback``) — a composition (``CJ`` + 32 hex, ``status: enqueued``; 400 code 53100 without a RoomSid),
  ``GET /v1/Compositions/{CJ}`` reads it, ``GET /v1/Compositions/{CJ}/Media?Ttl=…`` answers Twilio's 302 with
  ``{"redirect_to": <link>}``: a link to ``GET /_media/compositions/{CJ}.mp4?Expires=…&Signature=…`` (unauthenticated,
  refused 403 once expired or tampered with; 404 until ``complete_composition``), which serves the composed bytes;
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
    compositions: dict[str, dict[str, Any]] = field(default_factory=dict)  # CJ sid → the composition resource (Video)
    composition_media: dict[str, bytes] = field(default_factory=dict)  # CJ sid → its file, once completed
    _media_key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
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

    def snapshot(self) -> dict[str, Any]:
        """What the fake holds and was asked (``GET /_local/twilio``); auth tokens are left out."""
        with self._lock:
            return {
                "url": self.url,
                "accounts": sorted(self.accounts),
                "subaccounts": [{k: v for k, v in a.items() if k != "auth_token"} for a in self.subaccounts.values()],
                "numbers": list(self.numbers.values()),
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
                if not (lookup or create_account or in_account or account_update or compositions):
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
                if account_update:
                    return self._update_subaccount(who, parts[2].removesuffix(".json"), form)
                self._account_resource(method, who, parts[3:], form)

            def _account_resource(self, method: str, sid: str, rest: list[str], form: dict[str, str]) -> None:
                if method == "POST" and rest == ["Messages.json"]:
                    return self._message(sid, form)
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
                                       ("StatusCallbackMethod", "status_callback_method"), ("FriendlyName", "friendly_name")):  # fmt: skip
                        if name in form:
                            resource[attr] = form[name]
                self._rec.auth_ok = True
                self._answer(200, resource)

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
