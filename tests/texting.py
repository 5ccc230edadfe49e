"""Shared test support of the courier texts (helper E): a text-account with a number (helper D's items, written with
D's own data-access functions; the account's Twilio credentials in its secret, an account of the fake Twilio), signed
inbound SMS events for TextInboundFunction, signed status callbacks, and a callback receiver that records what it gets.
"""

from __future__ import annotations

import base64
import copy
import json
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlencode, urlsplit

from twilio.request_validator import RequestValidator

from helpers import load_event

HOST = "texting0123456789abcdefghijklmno.lambda-url.us-east-1.on.aws"
INBOUND = "CourierTextingApi.TextInboundFunction"
CALLBACKS = "root.TextCallbackFunction"
DISPATCHER = "root.DispatcherFunction"


@dataclass
class Account:
    tenant_id: str
    account_id: str
    number_id: str
    phone: str
    sid: str
    token: str
    organization_id: str


def make_account(tenant_id: str, twilio: Any, *, phone: str = "+15555550100", organization_id: str = "org-1", logging: bool = False,
                 events: dict | None = None, forward_to: str | None = None) -> Account:  # fmt: skip
    """A text-account with one number, as helper D's create and claim-number store them."""
    from parley import clock
    from parley.dal import text_numbers as d
    from parley.dal.secrets import put_tenant_secret
    from parley.domain import text_numbers

    sid, token = twilio.add_account()
    account_id, number_id, now = str(uuid.uuid4()), str(uuid.uuid4()), clock.iso(clock.now())
    put_tenant_secret(text_numbers.secret_name(tenant_id, account_id), {"account_sid": sid, "auth_token": token})
    d.put_account(d.account_item(tenant_id, account_id, {"organization_id": organization_id, "name": "main", "twilio_id": sid,
                                                         "phone_number": phone, "created_at": now, "last_modified_at": now}))  # fmt: skip
    d.create_number(d.number_item(tenant_id, number_id, {"account_id": account_id, "organization_id": organization_id,
                                                         "phone_number": phone,
                                                         "twilio_id": "PN" + uuid.uuid4().hex, "capability_sms": True, "logging": logging,
                                                         "events": events or {}, "forward_to": forward_to, "created_at": now,
                                                         "last_modified_at": now}))  # fmt: skip
    return Account(tenant_id, account_id, number_id, phone, sid, token, organization_id)


def form_event(params: dict[str, str], *, token: str, url: str | None = None, signature: str | None = None) -> dict[str, Any]:
    """A Function URL event of Twilio posting ``params`` to TextInboundFunction, signed with ``token``."""
    event = copy.deepcopy(load_event("candidate/twilio_inbound"))
    event["rawQueryString"] = ""
    event["queryStringParameters"] = None
    event["headers"]["host"] = HOST
    event["requestContext"]["domainName"] = HOST
    event["body"] = base64.b64encode(urlencode(params).encode()).decode()
    event["isBase64Encoded"] = True
    signed_url = url or f"https://{HOST}/"
    event["headers"]["x-twilio-signature"] = (
        signature if signature is not None else RequestValidator(token).compute_signature(signed_url, params)
    )
    return event


def inbound(account: Account, sender: str, text: str, *, sid: str | None = None, token: str | None = None, **kw: Any) -> dict[str, Any]:
    sid = sid or "SM" + uuid.uuid4().hex
    params = {"MessageSid": sid, "SmsSid": sid, "AccountSid": account.sid, "From": sender, "To": account.phone, "Body": text,
              "NumMedia": "0", "NumSegments": "1", "SmsStatus": "received", "ApiVersion": "2010-04-01"}  # fmt: skip
    return form_event(params, token=token or account.token, **kw)


def status_event(url: str, params: dict[str, str], *, token: str, signature: str | None = None, tenant_id: str) -> dict[str, Any]:
    """A REST API event of Twilio's status callback to a text's callback URL (as the text stored it), signed."""
    parts = urlsplit(url)
    text_id = parts.path.rstrip("/").split("/")[-2]
    event = copy.deepcopy(load_event("courier_texting/text_status_callback"))
    event["path"] = parts.path[parts.path.index("/v1/texts/") :]  # the route, after the stage or base path
    event["pathParameters"] = {"id": text_id}
    event["queryStringParameters"] = {"tenant": tenant_id}
    event["multiValueQueryStringParameters"] = {"tenant": [tenant_id]}
    event["body"] = urlencode(params)
    event["isBase64Encoded"] = False
    sig = signature if signature is not None else RequestValidator(token).compute_signature(url, params)
    for section in ("headers", "multiValueHeaders"):
        hdrs = event.setdefault(section, {}) or {}
        for k in [k for k in hdrs if k.lower() in ("content-type", "x-twilio-signature", "authorization")]:
            del hdrs[k]
        hdrs["Content-Type"] = "application/x-www-form-urlencoded" if section == "headers" else ["application/x-www-form-urlencoded"]
        hdrs["X-Twilio-Signature"] = sig if section == "headers" else [sig]
        event[section] = hdrs
    return event


@dataclass
class Receiver:
    """A local HTTP receiver of signed callbacks: records every POST; answers ``fail_with`` for the first ``failures``."""

    failures: int = 0
    fail_with: int = 500
    answer_status: int = 200
    requests: list[dict[str, Any]] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    @property
    def port(self) -> int:
        return self._server.server_address[1]  # type: ignore[union-attr]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook?x=1"

    def start(self) -> Receiver:
        me = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                me.requests.append({"path": self.path, "headers": dict(self.headers.items()), "body": raw})
                status = me.fail_with if len(me.requests) <= me.failures else me.answer_status
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", f"http://127.0.0.1:{me.port}/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self) -> None:
                me.requests.append({"path": self.path, "method": "GET"})
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    def payloads(self) -> list[dict[str, Any]]:
        return [json.loads(r["body"]) for r in self.requests if "body" in r]


def callback_queue_url() -> str:
    from parley.dal.aws import client

    return next(u for u in client("sqs").list_queues().get("QueueUrls", []) if u.endswith("-TextCallbackQueue"))


def deliver_callbacks(handler: Any, *, rounds: int = 1) -> list[dict[str, Any]]:
    """Deliver what waits on TextCallbackQueue to TextCallbackFunction ``rounds`` times; a job reported failed is made
    visible again at once (the test does not wait out its backoff). Returns every batch item failure."""
    from parley.dal.aws import client
    from parley_local.workers import _sqs_record

    sqs = client("sqs")
    url = callback_queue_url()
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    consumer = handler(CALLBACKS)
    failures: list[dict[str, Any]] = []
    for _ in range(rounds):
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"], VisibilityTimeout=30).get("Messages", [])
        if not got:
            break
        out = consumer({"Records": [_sqs_record(m, arn) for m in got]})
        failed = {f["itemIdentifier"] for f in out["batchItemFailures"]}
        failures += out["batchItemFailures"]
        for m in got:
            if m["MessageId"] in failed:
                sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
            else:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return failures


def dispatch_all(handler: Any) -> int:
    """Deliver every waiting send job to the dispatcher; how many were delivered."""
    from parley.dal.aws import client
    from parley_local.workers import _sqs_record

    sqs = client("sqs")
    url = next(u for u in sqs.list_queues().get("QueueUrls", []) if u.endswith("-SendQueue"))
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    n = 0
    while got := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"]).get("Messages", []):
        out = handler(DISPATCHER)({"Records": [_sqs_record(m, arn) for m in got]})
        assert out == {"batchItemFailures": []}, out
        sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)])
        n += len(got)
    return n


def deliveries(tenant_id: str, text_id: str) -> list[dict[str, Any]]:
    from parley.dal import texts

    return texts.callbacks_of_text(tenant_id, text_id)
