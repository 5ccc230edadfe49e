"""The Twilio REST calls of texting accounts, numbers and lookups (docs/courier.md "Texting" → "Accounts, numbers,
lookups"): plain HTTPS with urllib (no SDK: the ``twilio`` package's client costs ~150 ms of import at cold start for
five form POSTs and GETs), against ``TWILIO_API_URL`` (``https://api.twilio.com``; the local stack's fake Twilio) and
``TWILIO_LOOKUP_URL`` (``https://lookups.twilio.com``; locally the same fake).

- ``create_subaccount``: ``POST /2010-04-01/Accounts.json`` with the tenant's main account → ``(sid, auth token)``;
- ``available_number``: ``GET …/AvailablePhoneNumbers/US/Local.json`` (SMS-capable, in an area code if given);
- ``buy_number``: ``POST …/IncomingPhoneNumbers.json`` with ``SmsUrl`` / ``StatusCallback`` (our webhooks);
  ``release_number`` and ``close_subaccount`` undo a purchase or a subaccount the table could not record;
- ``lookup``: ``GET /v2/PhoneNumbers/{number}?Fields=line_type_intelligence`` (line type, carrier, MCC/MNC).

A refusal by Twilio is a ``TwilioError`` with its HTTP status and Twilio error code; an unreachable Twilio (or a
timeout) is a ``TwilioError`` with status 0. The domain maps them to answers (never a 500).
"""

from __future__ import annotations

import base64
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from parley.settings import get_settings

TIMEOUT_SECONDS = 10
API_VERSION = "2010-04-01"


class TwilioError(Exception):
    def __init__(self, status: int, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _base(lookup: bool = False) -> str:
    settings = get_settings()
    url = (os.environ.get("TWILIO_LOOKUP_URL") or settings.twilio_api_url) if lookup else settings.twilio_api_url
    if urllib.parse.urlsplit(url).scheme not in ("https", "http"):
        raise TwilioError(0, f"the Twilio URL must be http(s), not {url!r}")
    return url.rstrip("/")


def _call(method: str, url: str, sid: str, token: str, form: dict[str, str] | None = None) -> dict[str, Any]:
    auth = base64.b64encode(f"{sid}:{token}".encode()).decode()
    headers = {"Authorization": f"Basic {auth}", "Accept": "application/json"}
    data = None
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310 (scheme checked)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 (scheme checked)
            raw = response.read()
    except urllib.error.HTTPError as err:
        body = err.read()
        try:
            parsed = json.loads(body or b"{}")
        except ValueError:
            parsed = {}
        parsed = parsed if isinstance(parsed, dict) else {}
        message = str(parsed.get("message") or body[:200].decode("utf-8", "replace") or err.reason)
        raise TwilioError(err.code, message, parsed.get("code")) from None
    except (urllib.error.URLError, OSError) as err:
        raise TwilioError(0, f"Twilio unreachable: {getattr(err, 'reason', err)}") from None
    try:
        out = json.loads(raw or b"{}")
    except ValueError:
        raise TwilioError(0, f"Twilio answered something that is not JSON: {raw[:100]!r}") from None
    if not isinstance(out, dict):
        raise TwilioError(0, "Twilio answered something that is not a JSON object")
    return out


def _account_url(sid: str, resource: str) -> str:
    return f"{_base()}/{API_VERSION}/Accounts/{urllib.parse.quote(sid, safe='')}/{resource}"


def create_subaccount(main_sid: str, main_token: str, friendly_name: str) -> tuple[str, str]:
    """A new subaccount of the main account: ``(its sid, its auth token)``."""
    out = _call("POST", f"{_base()}/{API_VERSION}/Accounts.json", main_sid, main_token, {"FriendlyName": friendly_name[:64]})
    if not out.get("sid") or not out.get("auth_token"):
        raise TwilioError(0, "Twilio created an account but its answer has no sid or auth_token")
    return str(out["sid"]), str(out["auth_token"])


def available_number(sid: str, token: str, area_code: str | None = None, country: str = "US") -> dict[str, Any] | None:
    """The first SMS-capable local number for sale (in ``area_code`` if given), or None when there is none."""
    query = {"SmsEnabled": "true", "PageSize": "1", **({"AreaCode": area_code} if area_code else {})}
    url = _account_url(sid, f"AvailablePhoneNumbers/{country}/Local.json") + "?" + urllib.parse.urlencode(query)
    found = _call("GET", url, sid, token).get("available_phone_numbers") or []
    return found[0] if found and isinstance(found[0], dict) else None


def buy_number(sid: str, token: str, phone_number: str, *, sms_url: str, status_url: str, friendly_name: str = "") -> dict[str, Any]:
    """Buy ``phone_number`` into the account, its inbound SMS and status webhooks pointing at ours (POST)."""
    form = {
        "PhoneNumber": phone_number,
        "SmsUrl": sms_url,
        "SmsMethod": "POST",
        "StatusCallback": status_url,
        "StatusCallbackMethod": "POST",
        **({"FriendlyName": friendly_name[:64]} if friendly_name else {}),
    }
    out = _call("POST", _account_url(sid, "IncomingPhoneNumbers.json"), sid, token, form)
    if not out.get("sid") or not out.get("phone_number"):
        raise TwilioError(0, "Twilio bought a number but its answer has no sid or phone_number")
    return out


def release_number(sid: str, token: str, number_sid: str) -> None:
    """Give a bought number back (``DELETE …/IncomingPhoneNumbers/{PN}.json``)."""
    _call("DELETE", _account_url(sid, f"IncomingPhoneNumbers/{urllib.parse.quote(number_sid, safe='')}.json"), sid, token)


def close_subaccount(main_sid: str, main_token: str, sid: str) -> None:
    """Close a subaccount of the main account (``POST /Accounts/{sid}.json Status=closed``; Twilio keeps it 30 days)."""
    _call("POST", f"{_base()}/{API_VERSION}/Accounts/{urllib.parse.quote(sid, safe='')}.json", main_sid, main_token, {"Status": "closed"})


def lookup(sid: str, token: str, e164: str) -> dict[str, Any]:
    """Twilio Lookup v2 with line type intelligence: ``{valid, line_type_intelligence: {type, carrier_name,
    mobile_country_code, mobile_network_code, error_code}}``."""
    url = f"{_base(lookup=True)}/v2/PhoneNumbers/{urllib.parse.quote(e164, safe='')}?Fields=line_type_intelligence"
    return _call("GET", url, sid, token)


# ── voice (issue 20, area C: voice surveys and recordings) ──


def create_call(sid: str, token: str, *, to: str, from_: str, url: str, status_callback: str | None = None) -> dict[str, Any]:
    """An outbound call (``POST …/Calls.json``) whose TwiML Twilio fetches from ``url`` (POST) once it is answered;
    its status events go to ``status_callback`` (initiated, ringing, answered, completed) when given."""
    form = {"To": to, "From": from_, "Url": url, "Method": "POST"}
    if status_callback:
        form |= {"StatusCallback": status_callback, "StatusCallbackMethod": "POST"}
    out = _call("POST", _account_url(sid, "Calls.json"), sid, token, form)
    if not out.get("sid"):
        raise TwilioError(0, "Twilio created a call but its answer has no sid")
    return out


# ── voice (issue 20, area B: docs/courier.md "Voice (issue 20)" → "Agents, conferences and dial logs") ──


def create_key(sid: str, token: str, friendly_name: str) -> tuple[str, str]:
    """A new standard API key of the account (``POST …/Keys.json``): ``(its sid SK…, its secret)``; the secret is
    answered only now, so the caller keeps it."""
    out = _call("POST", _account_url(sid, "Keys.json"), sid, token, {"FriendlyName": friendly_name[:64]})
    if not out.get("sid") or not out.get("secret"):
        raise TwilioError(0, "Twilio created a key but its answer has no sid or secret")
    return str(out["sid"]), str(out["secret"])


def create_twiml_call(sid: str, token: str, *, to: str, from_: str, twiml: str, status_url: str) -> dict[str, Any]:
    """Place an outbound call (``POST …/Calls.json``) running ``twiml`` (given inline, not fetched), its status events
    (initiated, ringing, answered, completed) POSTed to ``status_url``."""
    form = {
        "To": to,
        "From": from_,
        "Twiml": twiml,
        "StatusCallback": status_url,
        "StatusCallbackMethod": "POST",
        "StatusCallbackEvent": "initiated ringing answered completed",
    }
    out = _call("POST", _account_url(sid, "Calls.json"), sid, token, form)
    if not out.get("sid"):
        raise TwilioError(0, "Twilio created a call but its answer has no sid")
    return out


def recording_media(sid: str, token: str, recording_sid: str, max_bytes: int = 50 * 1024 * 1024) -> bytes:
    """A recording's audio as MP3 (``GET …/Recordings/{RE}.mp3``, with the account's credentials: the URL is made
    here from the sid, never taken from a callback). At most ``max_bytes`` (a longer answer is a ``TwilioError``)."""
    url = _account_url(sid, f"Recordings/{urllib.parse.quote(recording_sid, safe='')}.mp3")
    auth = base64.b64encode(f"{sid}:{token}".encode()).decode()
    request = urllib.request.Request(url, method="GET", headers={"Authorization": f"Basic {auth}", "Accept": "audio/mpeg"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 (scheme checked by _base)
            data = response.read(max_bytes + 1)
    except urllib.error.HTTPError as err:
        raise TwilioError(err.code, f"Twilio refused the recording {recording_sid}: {err.reason}") from None
    except (urllib.error.URLError, OSError) as err:
        raise TwilioError(0, f"Twilio unreachable: {getattr(err, 'reason', err)}") from None
    if len(data) > max_bytes:
        raise TwilioError(0, f"the recording {recording_sid} is larger than {max_bytes} bytes")
    return data


def delete_recording(sid: str, token: str, recording_sid: str) -> None:
    """Delete a recording at Twilio (``DELETE …/Recordings/{RE}.json``: its audio and transcriptions; the purge's)."""
    _call("DELETE", _account_url(sid, f"Recordings/{urllib.parse.quote(recording_sid, safe='')}.json"), sid, token)


# ── voice lines (issue 20, docs/courier.md "Voice (issue 20)" → "Voice lines") ──


def create_queue(sid: str, token: str, friendly_name: str, max_size: int = 100) -> dict[str, Any]:
    """A call queue of the account (``POST …/Queues.json``): ``{sid: QU…, friendly_name, …}``."""
    out = _call("POST", _account_url(sid, "Queues.json"), sid, token, {"FriendlyName": friendly_name[:64], "MaxSize": str(max_size)})
    if not out.get("sid"):
        raise TwilioError(0, "Twilio created a queue but its answer has no sid")
    return out


def delete_queue(sid: str, token: str, queue_sid: str) -> None:
    _call("DELETE", _account_url(sid, f"Queues/{urllib.parse.quote(queue_sid, safe='')}.json"), sid, token)


def set_voice_webhooks(sid: str, token: str, number_sid: str, *, voice_url: str, status_url: str) -> dict[str, Any]:
    """Point a number's voice webhook (``VoiceUrl``, POST) and call status callback (``StatusCallback``) at ours;
    empty URLs clear them (``POST …/IncomingPhoneNumbers/{PN}.json``)."""
    form = {"VoiceUrl": voice_url, "VoiceMethod": "POST", "StatusCallback": status_url, "StatusCallbackMethod": "POST"}
    return _call("POST", _account_url(sid, f"IncomingPhoneNumbers/{urllib.parse.quote(number_sid, safe='')}.json"), sid, token, form)


def queue_members(sid: str, token: str, queue_sid: str) -> list[dict[str, Any]]:
    """The calls waiting in a queue (``GET …/Queues/{QU}/Members.json``): ``call_sid``, ``position``, ``wait_time``
    (seconds), ``date_enqueued``; every page followed (``next_page_uri``)."""
    url = _account_url(sid, f"Queues/{urllib.parse.quote(queue_sid, safe='')}/Members.json") + "?PageSize=1000"
    members: list[dict[str, Any]] = []
    for _ in range(100):  # 100 pages of 1,000: far beyond a queue's MaxSize (5,000 at most)
        out = _call("GET", url, sid, token)
        members.extend(m for m in out.get("queue_members") or [] if isinstance(m, dict))
        following = out.get("next_page_uri")
        if not following:
            break
        url = f"{_base()}{following}"
    return members


# ── Twilio Video: compositions (docs/courier.md "Video (issue 20)" → "Participants, compositions and callbacks") ──
def video_base() -> str:
    """Twilio Video's REST base: ``TWILIO_VIDEO_URL``, else the fake's ``TWILIO_API_URL`` when it is not Twilio's own
    (the local stack and the tests serve every Twilio host from one fake), else ``https://video.twilio.com``."""
    url = os.environ.get("TWILIO_VIDEO_URL") or ""
    if not url:
        api = get_settings().twilio_api_url.rstrip("/")
        url = "https://video.twilio.com" if api == "https://api.twilio.com" else api
    if urllib.parse.urlsplit(url).scheme not in ("https", "http"):
        raise TwilioError(0, f"the Twilio Video URL must be http(s), not {url!r}")
    return url.rstrip("/")


def create_composition(sid: str, token: str, room_sid: str, *, status_callback: str) -> dict[str, Any]:
    """``POST /v1/Compositions``: every participant's audio and video of the room in a grid, as MP4, Twilio posting
    its progress to ``status_callback``."""
    form = {
        "RoomSid": room_sid,
        "AudioSources": "*",
        "VideoLayout": json.dumps({"grid": {"video_sources": ["*"]}}),
        "Format": "mp4",
        "StatusCallback": status_callback,
        "StatusCallbackMethod": "POST",
    }
    out = _call("POST", f"{video_base()}/v1/Compositions", sid, token, form)
    if not out.get("sid"):
        raise TwilioError(0, "Twilio created a composition but its answer has no sid")
    return out


def composition_media(sid: str, token: str, composition_sid: str, *, ttl: int) -> str:
    """A short-lived link to the composed file: ``GET /v1/Compositions/{sid}/Media?Ttl=…`` answers a 302 whose JSON
    body's ``redirect_to`` is a URL valid ``ttl`` seconds (1..3600)."""
    url = f"{video_base()}/v1/Compositions/{urllib.parse.quote(composition_sid, safe='')}/Media?Ttl={max(1, min(ttl, 3600))}"
    auth = base64.b64encode(f"{sid}:{token}".encode()).decode()
    request = urllib.request.Request(url, method="GET", headers={"Authorization": f"Basic {auth}", "Accept": "application/json"})  # noqa: S310

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            raw, location = response.read(), response.headers.get("Location")
    except urllib.error.HTTPError as err:
        if err.code not in (301, 302, 303, 307):
            raise TwilioError(err.code, f"Twilio refused the composition's media: {err.reason}") from None
        raw, location = err.read(), err.headers.get("Location")
    except (urllib.error.URLError, OSError) as err:
        raise TwilioError(0, f"Twilio unreachable: {getattr(err, 'reason', err)}") from None
    try:
        parsed = json.loads(raw or b"{}")
    except ValueError:
        parsed = {}
    link = (parsed.get("redirect_to") if isinstance(parsed, dict) else None) or location
    if not link or urllib.parse.urlsplit(str(link)).scheme not in ("https", "http"):
        raise TwilioError(0, "Twilio answered no media link for the composition")
    return str(link)
