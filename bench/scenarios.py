"""The first request of every API function: its sample event (``events/<family>/<dir>.json``) made to succeed
against the emulator — the tenant's real id and settings in the authorizer context, and whatever the
request needs to exist (a record, a template, a tracking token, a candidate, an opt-in) created first.

State is created through the handlers themselves, run in this process (``Local.call``), so it is exactly
what the API would have stored. ``prepare(key)`` returns a fresh event each time: a request that consumes
its state (cancel, delete, template delete, …) gets new state for every run.
"""

from __future__ import annotations

import base64
import copy
import importlib.util
import json
import sys
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from bench.emulator import ROOT, SENDER_DOMAIN, Emulator

EVENTS = ROOT / "events"
PHONE = "+15555550100"
CANDIDATE_EMAIL = "ada@example.com"
TWILIO_TOKEN = "bench-twilio-auth-token"  # noqa: S105 (a made-up token for the emulator)


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / f"{name}.json").read_text())


class Context:
    function_name = "bench"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    memory_limit_in_mb = 256
    aws_request_id = "bench-setup"
    log_group_name = "/aws/lambda/bench"
    log_stream_name = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 29_000


def import_module(code_dir: Path, module: str = "app") -> Any:
    """A function's handler module, imported by path under a unique name (each code dir's modules are separate)."""
    unique = "bench_fn_" + "_".join(code_dir.relative_to(ROOT).parts) + "_" + module
    if unique in sys.modules:
        return sys.modules[unique]
    spec = importlib.util.spec_from_file_location(unique, code_dir / f"{module}.py")
    assert spec and spec.loader
    module_ = importlib.util.module_from_spec(spec)
    sys.modules[unique] = module_
    spec.loader.exec_module(module_)
    return module_


def function_handler(fn: Any) -> Callable[[dict[str, Any], Any], Any]:
    """The Lambda handler a declared function names (``FunctionSpec.handler``, ``module.attr``), from its code dir:
    an endpoint (``communications.send``, a ``parley.api.endpoint.Endpoint``) or an ``app.lambda_handler``."""
    module, attr = fn.handler.rsplit(".", 1)
    return getattr(import_module(fn.code_dir, module), attr)


def set_header(event: dict[str, Any], name: str, value: str | None) -> None:
    for section in ("headers", "multiValueHeaders"):
        hdrs = event.get(section)
        if hdrs is None:
            if value is None:
                continue
            hdrs = event[section] = {}
        for existing in [k for k in hdrs if k.lower() == name.lower()]:
            del hdrs[existing]
        if value is not None:
            hdrs[name] = value if section == "headers" else [value]


def set_query(event: dict[str, Any], query: dict[str, str] | None) -> None:
    event["queryStringParameters"] = query
    event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()} if query else None


def set_body(event: dict[str, Any], body: Any) -> None:
    event["body"] = body if (body is None or isinstance(body, str)) else json.dumps(body)


def set_path_param(event: dict[str, Any], name: str, value: str) -> None:
    old = (event.get("pathParameters") or {})[name]
    event["pathParameters"][name] = value
    event["path"] = event["path"].replace(old, value)
    ctx = event.get("requestContext") or {}
    if "path" in ctx:
        ctx["path"] = ctx["path"].replace(old, value)


def body_of(response: dict[str, Any]) -> Any:
    return json.loads(response["body"])


class Local:
    """A tenant on the emulator and the API's handlers run in this process, to create state."""

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        from parley import clock
        from parley.domain.auth import configure_tenant, create_tenant
        from parley.domain.context import Caller

        tenant, self.api_key = create_tenant("Bench Talent", f"no-reply@{SENDER_DOMAIN}", "Bench Talent Team")
        configure_tenant(tenant.id, reply_domain=f"reply.{SENDER_DOMAIN}")
        self.tenant = tenant.model_copy(update={"reply_domain": f"reply.{SENDER_DOMAIN}"})
        self.authorizer = {"principalId": tenant.id, **Caller.of(self.tenant).authorizer_context(), "integrationLatency": 12}
        self.clock = clock
        self._n = 0

    # ── events ──
    def event(self, name: str) -> dict[str, Any]:
        """A sample event, for this tenant."""
        event = copy.deepcopy(load_event(name))
        ctx = event.get("requestContext")
        if ctx is not None and "authorizer" in ctx:
            ctx["authorizer"] = dict(self.authorizer)
        headers = event.get("headers") or {}
        if any(k.lower() == "idempotency-key" for k in headers):
            set_header(event, "Idempotency-Key", f"bench-{uuid.uuid4()}")
        return event

    def window(self) -> dict[str, str]:
        now = self.clock.now()
        return {"fromTime": self.clock.iso(now - timedelta(days=1)), "toTime": self.clock.iso(now + timedelta(days=1))}

    def call(self, key: str, event: dict[str, Any]) -> dict[str, Any]:
        """Invoke a declared function's handler in this process (its environment set), expecting success."""
        fn = self.emu.function(key)
        self.emu.use_function_env(fn)
        out = function_handler(fn)(event, Context())
        status = out.get("statusCode", 200) if isinstance(out, dict) else 200
        if status >= 400:
            raise RuntimeError(f"setup call {key} failed: {status} {out.get('body')}")
        return out

    # ── state ──
    def crm_send(self, **changes: Any) -> str:
        event = self.event("crm/send")
        body = {**json.loads(event["body"]), **changes}
        set_body(event, body)
        return body_of(self.call("CrmApi.SendFunction", event))["id"]

    def crm_schedule(self) -> str:
        return body_of(self.call("CrmApi.ScheduleFunction", self.event("crm/schedule")))["id"]

    def crm_sent(self) -> str:
        """A record the dispatcher has sent (SES on the emulator)."""
        from parley.domain.dispatch import dispatch
        from parley.models.domain import SendJob

        record_id = self.crm_send()
        self.emu.use_function_env(self.emu.function("root.DispatcherFunction"))
        outcome = dispatch(SendJob(tenant_id=self.tenant.id, message_id=record_id), receive_count=1)
        if outcome.result != "sent":
            raise RuntimeError(f"could not send record {record_id}: {outcome}")
        return record_id

    def template(self) -> str:
        return body_of(self.call("CrmApi.CreateTemplateFunction", self.event("crm/create_template")))["id"]

    def track_token(self) -> str:
        from parley.dal import messages

        record_id = self.crm_send()
        msg = messages.get(self.tenant.id, record_id)
        assert msg is not None and msg.track_token, "the sample send enables tracking"
        return msg.track_token

    def email(self) -> str:
        return body_of(self.call("CandidateApi.SendEmailFunction", self.event("candidate/send_email")))["data"]["emailActivityId"]

    def opt_in(self) -> None:
        self.call("CandidateApi.SmsOptinPutFunction", self.event("candidate/sms_optin_put"))

    def sms(self) -> str:
        self.opt_in()
        out = body_of(self.call("CandidateApi.SendSmsFunction", self.event("candidate/send_sms")))
        return out["data"]["messageSID"]

    def candidate_id(self) -> str:
        from parley.domain import candidates

        return candidates.resolve(self.tenant.id, email=CANDIDATE_EMAIL)

    def twilio(self, name: str) -> dict[str, Any]:
        from twilio.request_validator import RequestValidator

        from parley.dal.secrets import put_tenant_secret
        from parley.domain.auth import configure_tenant

        secret = f"parley/{self.tenant.id}"
        put_tenant_secret(secret, {"twilio_account_sid": "AC0123", "twilio_auth_token": TWILIO_TOKEN})
        configure_tenant(self.tenant.id, secret_name=secret)
        event = copy.deepcopy(load_event(f"candidate/{name}"))
        params = dict(parse_qsl(base64.b64decode(event["body"]).decode(), keep_blank_values=True))
        query = f"tenant={self.tenant.id}"
        event["rawQueryString"] = query
        event["queryStringParameters"] = {"tenant": self.tenant.id}
        event["body"] = base64.b64encode(urlencode(params).encode()).decode()
        url = f"https://{event['headers']['host']}/?{query}"
        event["headers"]["x-twilio-signature"] = RequestValidator(TWILIO_TOKEN).compute_signature(url, params)
        return event


# ───────────── the first request of each function ─────────────
Prepare = Callable[[Local], dict[str, Any]]


def _plain(name: str) -> Prepare:
    return lambda lo: lo.event(name)


def _windowed(name: str, **extra: str) -> Prepare:
    def prep(lo: Local) -> dict[str, Any]:
        event = lo.event(name)
        set_query(event, {**(event.get("queryStringParameters") or {}), **lo.window(), **extra})
        return event

    return prep


def _with_record(name: str, make: Callable[[Local], str], param: str = "id") -> Prepare:
    def prep(lo: Local) -> dict[str, Any]:
        event = lo.event(name)
        set_path_param(event, param, make(lo))
        return event

    return prep


def _with_ids(name: str) -> Prepare:
    def prep(lo: Local) -> dict[str, Any]:
        event = lo.event(name)
        set_query(event, {"ids": lo.crm_send()})
        return event

    return prep


def _email_activity(lo: Local) -> dict[str, Any]:
    event = lo.event("candidate/email_activity")
    set_query(event, {"emailActivityId": lo.email()})
    return event


def _email_history(lo: Local) -> dict[str, Any]:
    lo.email()
    return _windowed("candidate/email_history", email=CANDIDATE_EMAIL)(lo)


def _sms_history(lo: Local) -> dict[str, Any]:
    lo.sms()
    return _windowed("candidate/sms_history", phone=PHONE)(lo)


def _sms_activity(lo: Local) -> dict[str, Any]:
    event = lo.event("candidate/sms_activity")
    set_query(event, {"activityId": lo.sms(), "phoneNumber": PHONE})
    return event


def _sms_send(lo: Local) -> dict[str, Any]:
    lo.opt_in()
    return lo.event("candidate/send_sms")


def _forward_profile(lo: Local) -> dict[str, Any]:
    lo.candidate_id()
    return lo.event("candidate/forward_profile")


def _email_events(lo: Local) -> dict[str, Any]:
    """SendGrid's sample events, about a message this tenant really sent (its id in the custom args)."""
    message_id = lo.email()
    event = lo.event("candidate/receive_events")
    text = event["body"].replace("3f1c2d4e-5b6a-4c7d-8e9f-0a1b2c3d4e5f", message_id)
    set_body(event, text)
    set_header(event, "X-Twilio-Email-Event-Webhook-Signature", None)  # the tenant has no verification key set
    set_header(event, "X-Twilio-Email-Event-Webhook-Timestamp", None)
    return event


def _ats(lo: Local) -> dict[str, Any]:
    lo.email()
    event = lo.event("ats/applicant_messages")
    set_path_param(event, "companyID", lo.tenant.id)
    set_path_param(event, "applicantID", lo.candidate_id())
    return event


def _by_entity(lo: Local) -> dict[str, Any]:
    lo.crm_send()  # the sample send is linked to deal 42, the entity the sample asks for
    return lo.event("crm/by_entity")


def _link_click(lo: Local) -> dict[str, Any]:
    event = lo.event("crm/link_click")
    set_path_param(event, "id", lo.track_token())
    return event


def _track_pixel(lo: Local) -> dict[str, Any]:
    event = lo.event("crm/track_pixel")
    set_path_param(event, "id", lo.track_token())
    return event


def _send_template(lo: Local) -> dict[str, Any]:
    event = lo.event("crm/send_template")
    set_path_param(event, "templateId", lo.template())
    body = json.loads(event["body"])
    body["variables"] = {**body["variables"], "quoteNumber": "Q-42"}
    set_body(event, body)
    return event


def _analytics(lo: Local) -> dict[str, Any]:
    lo.crm_sent()
    event = lo.event("crm/get_analytics")
    now = lo.clock.now()
    set_query(event, {"from": lo.clock.iso(now - timedelta(days=30)), "to": lo.clock.iso(now + timedelta(days=1))})
    return event


def _reply(lo: Local) -> dict[str, Any]:
    lo.email()
    return lo.event("candidate/email_reply")


FIRST_REQUEST: dict[str, Prepare] = {
    # candidate (seed 000)
    "CandidateApi.SendEmailFunction": _plain("candidate/send_email"),
    "CandidateApi.EmailActivityFunction": _email_activity,
    "CandidateApi.EmailHistoryFunction": _email_history,
    "CandidateApi.SmsOptinGetFunction": _plain("candidate/sms_optin_get"),
    "CandidateApi.SmsOptinPutFunction": _plain("candidate/sms_optin_put"),
    "CandidateApi.SmsOptinHistoryFunction": _plain("candidate/sms_optin_history"),
    "CandidateApi.ForwardProfileFunction": _forward_profile,
    "CandidateApi.ForwardProfileActivityFunction": _plain("candidate/forward_profile_activity"),
    "CandidateApi.EmailTransactionalFunction": _windowed("candidate/email_transactional"),
    "CandidateApi.EmailReplyFunction": _reply,
    "CandidateApi.ReceiveEventsFunction": _email_events,
    "CandidateApi.SendSmsFunction": _sms_send,
    "CandidateApi.SmsHistoryFunction": _sms_history,
    "CandidateApi.SmsActivityFunction": _sms_activity,
    "CandidateApi.SmsTransactionalFunction": _windowed("candidate/sms_transactional"),
    "CandidateApi.TwilioInboundFunction": lambda lo: lo.twilio("twilio_inbound"),
    "CandidateApi.TwilioStatusFunction": lambda lo: lo.twilio("twilio_status"),
    # ats (seed 002)
    "AtsApi.ApplicantMessagesFunction": _ats,
    # crm (seed 001)
    "CrmApi.GetAnalyticsFunction": _analytics,
    "CrmApi.ByEntityFunction": _by_entity,
    "CrmApi.CsvExportFunction": _plain("crm/csv_export"),
    "CrmApi.DeleteListFunction": _with_ids("crm/delete_list"),
    "CrmApi.DynamicSearchGetFunction": _plain("crm/dynamic_search_get"),
    "CrmApi.DynamicSearchPostFunction": _plain("crm/dynamic_search_post"),
    "CrmApi.FindFunction": _with_ids("crm/find"),
    "CrmApi.FindAllFunction": _plain("crm/find_all"),
    "CrmApi.FindListFunction": _with_ids("crm/find_list"),
    "CrmApi.FindByIdFunction": _with_record("crm/find_by_id", Local.crm_send),
    "CrmApi.LinkClickFunction": _link_click,
    "CrmApi.PageFunction": _plain("crm/page"),
    "CrmApi.ScheduleFunction": _plain("crm/schedule"),
    "CrmApi.ScheduledFunction": _plain("crm/scheduled"),
    "CrmApi.SendFunction": _plain("crm/send"),
    "CrmApi.SendTemplateFunction": _send_template,
    "CrmApi.TrackPixelFunction": _track_pixel,
    "CrmApi.DeleteFunction": _with_record("crm/delete", Local.crm_send),
    "CrmApi.CancelFunction": _with_record("crm/cancel", Local.crm_schedule),
    "CrmApi.CommentFunction": _with_record("crm/comment", Local.crm_send),
    "CrmApi.ResendFunction": _with_record("crm/resend", Local.crm_sent),
    "CrmApi.ThreadFunction": _with_record("crm/thread", Local.crm_send),
    "CrmApi.CreateTemplateFunction": _plain("crm/create_template"),
    "CrmApi.ListTemplatesFunction": _plain("crm/list_templates"),
    "CrmApi.GetTemplateFunction": _with_record("crm/get_template", Local.template, "templateId"),
    "CrmApi.UpdateTemplateFunction": _with_record("crm/update_template", Local.template, "templateId"),
    "CrmApi.DeleteTemplateFunction": _with_record("crm/delete_template", Local.template, "templateId"),
}


def _authorizer(lo: Local) -> dict[str, Any]:
    event = copy.deepcopy(load_event("core/authorizer"))
    set_header(event, "Authorization", f"Bearer {lo.api_key}")
    return event


def _dispatcher(lo: Local) -> dict[str, Any]:
    event = copy.deepcopy(load_event("core/dispatcher"))
    event["Records"][0]["body"] = json.dumps({"tenant_id": lo.tenant.id, "message_id": lo.crm_send()})
    return event


def _ses_events(lo: Local) -> dict[str, Any]:
    event = copy.deepcopy(load_event("core/ses_events"))
    record = event["Records"][0]
    record["body"] = record["body"].replace("3f1c2d4e-5b6a-4c7d-8e9f-0a1b2c3d4e5f", lo.crm_sent()).replace("tenant-example", lo.tenant.id)
    return event


def _inbound_mail(lo: Local) -> dict[str, Any]:
    """The sample's S3 event (another bucket: ignored) and a queued Inbound Parse pointer naming a stored message."""
    event = copy.deepcopy(load_event("core/inbound_mail"))
    record = event["Records"][1]
    record["body"] = record["body"].replace("3f1c2d4e-5b6a-4c7d-8e9f-0a1b2c3d4e5f", lo.crm_send()).replace("tenant-example", lo.tenant.id)
    return event


def _provider_events(lo: Local) -> dict[str, Any]:
    """A queued SendGrid chunk about a message this tenant really sent, and a queued inbound SMS (a fresh SID)."""
    event = copy.deepcopy(load_event("core/provider_events"))
    message_id = lo.email()
    sid = "SM" + uuid.uuid4().hex
    for record in event["Records"]:
        body = record["body"].replace("3f1c2d4e-5b6a-4c7d-8e9f-0a1b2c3d4e5f", message_id).replace("tenant-example", lo.tenant.id)
        record["body"] = body.replace("SM00000000000000000000000000000001", sid)
    return event


def _sweeper(lo: Local) -> dict[str, Any]:
    return copy.deepcopy(load_event("core/sweeper"))


# Not API routes, but every request (authorizer) or every send (dispatcher, SES events) or webhook (provider
# events) starts them cold too;
# the sweeper starts cold on (nearly) every run, every 5 minutes.
CORE: dict[str, Prepare] = {
    "root.AuthorizerFunction": _authorizer,
    "root.DispatcherFunction": _dispatcher,
    "root.SesEventsFunction": _ses_events,
    "root.InboundMailFunction": _inbound_mail,
    "root.ProviderEventsFunction": _provider_events,
    "root.SweeperFunction": _sweeper,
}

# First requests that change nothing a repeat depends on: one prepared event serves every run. The others
# (sends with an Idempotency-Key, cancel, delete, resend, webhooks, the dispatcher, tracking's first open, …)
# get fresh state for each run, so every run takes the same path as the first.
REUSABLE = frozenset(
    {
        "CandidateApi.EmailActivityFunction",
        "CandidateApi.EmailHistoryFunction",
        "CandidateApi.SmsOptinGetFunction",
        "CandidateApi.SmsOptinHistoryFunction",
        "CandidateApi.ForwardProfileActivityFunction",
        "CandidateApi.EmailTransactionalFunction",
        "CandidateApi.SmsHistoryFunction",
        "CandidateApi.SmsActivityFunction",
        "CandidateApi.SmsTransactionalFunction",
        "AtsApi.ApplicantMessagesFunction",
        "CrmApi.GetAnalyticsFunction",
        "CrmApi.ByEntityFunction",
        "CrmApi.CsvExportFunction",
        "CrmApi.DynamicSearchGetFunction",
        "CrmApi.DynamicSearchPostFunction",
        "CrmApi.FindFunction",
        "CrmApi.FindAllFunction",
        "CrmApi.FindListFunction",
        "CrmApi.FindByIdFunction",
        "CrmApi.PageFunction",
        "CrmApi.ScheduledFunction",
        "CrmApi.ThreadFunction",
        "CrmApi.ListTemplatesFunction",
        "CrmApi.GetTemplateFunction",
        "root.AuthorizerFunction",
        "root.SweeperFunction",
    }
)
