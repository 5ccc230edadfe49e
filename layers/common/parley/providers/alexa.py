"""Alexa Skills Kit (docs/courier.md "Alexa (issue 20)"): the checks Amazon requires of a skill endpoint, and the Alexa
REST calls (Login with Amazon client credentials, Proactive Events, Reminders). Plain HTTPS with urllib and the pinned
``cryptography`` (no ``ask-sdk-webservice-support``: it brings ask-sdk-core and ask-sdk-model for five checks).

Verifying a request (``verify``), as Amazon documents for web-service skills:

1. ``SignatureCertChainUrl``: scheme ``https``, host ``s3.amazonaws.com`` (case-insensitive), port 443 if any, and a
   path that, normalized (``/echo.api/../echo.api/x`` → ``/echo.api/x``), starts with ``/echo.api/`` (case-sensitive);
2. the PEM chain at that URL: every certificate within its validity, the leaf's SAN naming ``echo-api.amazon.com``,
   the chain ending at a trusted root (``cryptography.x509.verification``: the web PKI rules);
3. ``Signature-256``: base64 of the RSA PKCS#1 v1.5 SHA-256 signature of the raw body, made with the leaf's key;
4. ``request.timestamp`` within 150 s of now.

The trusted roots are certifi's bundle (the Mozilla roots Amazon's chain ends at). Only for the local stack and the
tests, ``ALEXA_CERT_FETCH_URL`` (a loopback ``http://127.0.0.1:<port>`` or ``http://localhost:<port>``) fetches the
chain from a fake of ``s3.amazonaws.com`` instead, and ``ALEXA_CERT_ROOTS`` (a PEM file) replaces the roots by a test
CA: the roots are replaced ONLY together with a loopback fetch base, so a deployed function (no fake on its loopback)
never trusts less than the public roots, and the URL rules above are checked on the request's URL either way.

``ALEXA_LWA_URL`` (``https://api.amazon.com``) and ``ALEXA_API_URL`` (``https://api.amazonalexa.com``) are the
local stack's fake in tests.
"""

from __future__ import annotations

import base64
import json
import os
import posixpath
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime
from typing import Any

TIMEOUT_SECONDS = 10
TOLERANCE_SECONDS = 150
CERT_HOST = "s3.amazonaws.com"
CERT_PATH = "/echo.api/"
SAN = "echo-api.amazon.com"
SIGNATURE_HEADER = "Signature-256"
CERT_URL_HEADER = "SignatureCertChainUrl"
_LOOPBACK = ("127.0.0.1", "localhost")
_CHAINS: dict[str, bytes] = {}  # where the chain was fetched → the PEM chain (fetched once per container)
_ROOTS: dict[str, list[Any]] = {}


class InvalidRequest(Exception):
    """The request is not one Amazon signed now: the reason, for the 400's detail."""


class AlexaError(Exception):
    """Amazon refused a call (``status``) or could not be reached (status 0)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


# ───────────── request verification ─────────────
def cert_url(url: str | None) -> str:
    """The normalized chain URL when ``url`` obeys Amazon's rules; ``InvalidRequest`` otherwise."""
    if not url:
        raise InvalidRequest(f"the {CERT_URL_HEADER} header is missing")
    try:
        parts = urllib.parse.urlsplit(url.strip())
        port = parts.port
    except ValueError as err:
        raise InvalidRequest(f"{CERT_URL_HEADER} is not a URL: {err}") from None
    if parts.scheme.lower() != "https":
        raise InvalidRequest(f"{CERT_URL_HEADER} must be https")
    if (parts.hostname or "").lower() != CERT_HOST:
        raise InvalidRequest(f"{CERT_URL_HEADER} must be on {CERT_HOST}")
    if port not in (None, 443):
        raise InvalidRequest(f"{CERT_URL_HEADER} must be on port 443")
    path = posixpath.normpath(urllib.parse.unquote(parts.path or "/"))
    if not path.startswith(CERT_PATH):
        raise InvalidRequest(f"{CERT_URL_HEADER}'s path must start with {CERT_PATH}")
    return f"https://{CERT_HOST}{path}"


def _local_fetch_base() -> str | None:
    base = os.environ.get("ALEXA_CERT_FETCH_URL", "").strip()
    if not base:
        return None
    parts = urllib.parse.urlsplit(base)
    if parts.scheme != "http" or parts.hostname not in _LOOPBACK:
        raise InvalidRequest("ALEXA_CERT_FETCH_URL must be a loopback http URL (the local stack's fake)")
    return base.rstrip("/")


def _roots() -> list[Any]:

    local = os.environ.get("ALEXA_CERT_ROOTS", "").strip() if _local_fetch_base() else ""
    path = local or _certifi()
    if path not in _ROOTS:
        with open(path, "rb") as handle:
            _ROOTS[path] = _each_certificate(handle.read())
    return _ROOTS[path]


def _each_certificate(pem: bytes) -> list[Any]:
    """Every certificate of a bundle that ``cryptography`` accepts, one by one: a root it refuses is left out rather
    than failing every request (certifi has one with a non-positive serial number, a deprecation warning today and an
    error in a later ``cryptography``)."""
    import warnings

    from cryptography import x509

    out = []
    marker = b"-----END CERTIFICATE-----"
    for block in pem.split(marker)[:-1]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                out.append(x509.load_pem_x509_certificate(block.strip() + b"\n" + marker + b"\n"))
            except ValueError:
                continue
    return out


def _certifi() -> str:
    import certifi

    return certifi.where()


def fetch_chain(url: str) -> bytes:
    """The PEM chain at the (normalized) URL, once per container (per fetch target: the local fake's, or Amazon's)."""
    base = _local_fetch_base()
    target = f"{base}{urllib.parse.urlsplit(url).path}" if base else url
    if target in _CHAINS:
        return _CHAINS[target]
    try:
        with urllib.request.urlopen(target, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 (https, or the local fake)
            pem = response.read(256 * 1024)
    except (urllib.error.URLError, OSError) as err:
        raise InvalidRequest(f"the signing certificate chain could not be fetched: {err}") from None
    if len(_CHAINS) > 32:
        _CHAINS.clear()
    _CHAINS[target] = pem
    return pem


def check_chain(pem: bytes, now: datetime) -> Any:
    """The leaf certificate once the chain is valid at ``now``, names ``echo-api.amazon.com`` and ends at a trusted
    root; ``InvalidRequest`` otherwise."""
    from cryptography import x509
    from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

    try:
        certs = x509.load_pem_x509_certificates(pem)
    except ValueError as err:
        raise InvalidRequest(f"the signing certificate chain is not PEM: {err}") from None
    leaf, intermediates = certs[0], certs[1:]
    for cert in certs:
        if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
            raise InvalidRequest(
                f"a certificate of the chain is not valid now (valid {cert.not_valid_before_utc} to {cert.not_valid_after_utc})"
            )
    try:
        names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
    except x509.ExtensionNotFound:
        names = []
    if SAN not in names:
        raise InvalidRequest(f"the signing certificate does not name {SAN}")
    verifier = PolicyBuilder().store(Store(_roots())).time(now).build_server_verifier(x509.DNSName(SAN))
    try:
        verifier.verify(leaf, intermediates)
    except VerificationError as err:
        raise InvalidRequest(f"the signing certificate chain is not trusted: {err}") from None
    return leaf


def check_signature(leaf: Any, signature: str | None, body: bytes) -> None:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    if not signature:
        raise InvalidRequest(f"the {SIGNATURE_HEADER} header is missing")
    try:
        raw = base64.b64decode(signature.strip(), validate=True)
    except ValueError:
        raise InvalidRequest(f"{SIGNATURE_HEADER} is not base64") from None
    key = leaf.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise InvalidRequest("the signing certificate's key is not RSA")
    try:
        key.verify(raw, body, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise InvalidRequest(f"{SIGNATURE_HEADER} does not match the body") from None


def check_timestamp(envelope: dict[str, Any], now: datetime) -> datetime:
    request = envelope.get("request")
    stamp = request.get("timestamp") if isinstance(request, dict) else None
    if not isinstance(stamp, str):
        raise InvalidRequest("request.timestamp is missing")
    try:
        at = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidRequest("request.timestamp is not an ISO-8601 time") from None
    if at.tzinfo is None:
        raise InvalidRequest("request.timestamp has no time zone")
    if abs((now - at).total_seconds()) > TOLERANCE_SECONDS:
        raise InvalidRequest(f"request.timestamp is more than {TOLERANCE_SECONDS} s from now")
    return at


def verify(body: bytes, headers: dict[str, str], now: datetime) -> dict[str, Any]:
    """The request's envelope once every check passes (the order: URL, chain, signature, then the body's time)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    url = cert_url(lowered.get(CERT_URL_HEADER.lower()))
    leaf = check_chain(fetch_chain(url), now)
    check_signature(leaf, lowered.get(SIGNATURE_HEADER.lower()), body)
    try:
        envelope = json.loads(body)
    except ValueError:
        raise InvalidRequest("the body is not JSON") from None
    if not isinstance(envelope, dict):
        raise InvalidRequest("the body is not a JSON object")
    check_timestamp(envelope, now)
    return envelope


# ───────────── Alexa REST ─────────────
def _url(name: str, default: str) -> str:
    url = os.environ.get(name) or default
    if urllib.parse.urlsplit(url).scheme not in ("https", "http"):
        raise AlexaError(0, f"{name} must be http(s), not {url!r}")
    return url.rstrip("/")


def _call(method: str, url: str, *, headers: dict[str, str], data: bytes | None) -> dict[str, Any]:
    request = urllib.request.Request(url, data=data, method=method, headers={"Accept": "application/json", **headers})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 (scheme checked)
            raw = response.read()
    except urllib.error.HTTPError as err:
        body = err.read()[:500].decode("utf-8", "replace")
        raise AlexaError(err.code, f"Amazon answered {err.code}: {body}") from None
    except (urllib.error.URLError, OSError) as err:
        raise AlexaError(0, f"Amazon could not be reached: {err}") from None
    try:
        parsed = json.loads(raw or b"{}")
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def access_token(client_id: str, client_secret: str, scope: str) -> str:
    """A Login with Amazon token for the skill (client credentials grant, ``POST /auth/o2/token``)."""
    form = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret,
                                   "scope": scope}).encode()  # fmt: skip
    url = _url("ALEXA_LWA_URL", "https://api.amazon.com") + "/auth/o2/token"
    answer = _call("POST", url, headers={"Content-Type": "application/x-www-form-urlencoded"}, data=form)
    token = answer.get("access_token")
    if not isinstance(token, str) or not token:
        raise AlexaError(502, "Login with Amazon answered no access_token")
    return token


def _json(method: str, path: str, token: str, body: dict[str, Any]) -> dict[str, Any]:
    url = _url("ALEXA_API_URL", "https://api.amazonalexa.com") + path
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    return _call(method, url, headers=headers, data=json.dumps(body).encode())


def send_event(token: str, event: dict[str, Any], *, development: bool) -> None:
    """``POST /v1/proactiveEvents/`` (live) or ``/v1/proactiveEvents/stages/development`` (202 accepted)."""
    _json("POST", "/v1/proactiveEvents/stages/development" if development else "/v1/proactiveEvents/", token, event)


def create_reminder(token: str, reminder: dict[str, Any]) -> str:
    """``POST /v1/alerts/reminders`` → the reminder's ``alertToken``."""
    answer = _json("POST", "/v1/alerts/reminders", token, reminder)
    alert = answer.get("alertToken")
    if not isinstance(alert, str) or not alert:
        raise AlexaError(502, "the Reminders API answered no alertToken")
    return alert


def update_reminder(token: str, alert_token: str, reminder: dict[str, Any]) -> None:
    """``PUT /v1/alerts/reminders/{alertToken}``."""
    _json("PUT", f"/v1/alerts/reminders/{urllib.parse.quote(alert_token, safe='')}", token, reminder)
