"""The AWS call budget of each operation, counted with the botocore hook (``calls.CALLS``).

- API send: one request of each send endpoint (candidate email, CRM, SMS), with an Idempotency-Key
  where the sample has one;
- schedule: one CRM schedule request;
- bulk send to N: one CRM send with N recipients (N = 1, 10, 50, the most one record takes), then its
  dispatch: the calls must not grow with N;
- dispatch per message: one queued message through the dispatcher.

A call repeated with identical parameters inside one operation is reported as redundant.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from bench.calls import CALLS, describe
from bench.emulator import Emulator
from bench.scenarios import Context, Local, body_of, function_handler, set_body

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass
class Budget:
    name: str
    calls: list[dict[str, Any]]
    note: str = ""
    redundant: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.calls)

    @property
    def text(self) -> str:
        return describe(self.calls)


def redundant(calls: list[dict[str, Any]]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for c in calls:
        params = {k: v for k, v in (c.get("params") or {}).items() if k != "ReturnConsumedCapacity"}
        sig = c["op"] + json.dumps(params, sort_keys=True, default=str)
        seen[sig] = seen.get(sig, 0) + 1
        if seen[sig] == 2:
            key = params.get("Key") or params.get("QueueUrl") or ""
            text = _UUID.sub(
                "<id>",
                " ".join(v.get("S", "") if isinstance(v, dict) else str(v) for v in key.values()) if isinstance(key, dict) else str(key),
            )
            out.append(f"{c['service']}.{c['op']} {text}")
    return out


def _invoke(emu: Emulator, key: str, event: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    fn = emu.function(key)
    emu.use_function_env(fn)
    handler = function_handler(fn)
    with CALLS.record(params=True) as calls:
        out = handler(event, Context())
    if out.get("statusCode", 500) >= 400:
        raise RuntimeError(f"{key}: {out.get('statusCode')} {out.get('body')}")
    return out, calls


def _dispatch_one(emu: Emulator, lo: Local, message_id: str) -> list[dict[str, Any]]:
    fn = emu.function("root.DispatcherFunction")
    emu.use_function_env(fn)
    handler = function_handler(fn)
    event = {
        "Records": [
            {
                "messageId": "b1",
                "receiptHandle": "b1",
                "body": json.dumps({"tenant_id": lo.tenant.id, "message_id": message_id}),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": emu.send_queue()[0],
                "awsRegion": "us-east-1",
            }
        ]
    }
    with CALLS.record(params=True) as calls:
        out = handler(event, Context())
    if out.get("batchItemFailures"):
        raise RuntimeError(f"dispatch of {message_id} failed: {out}")
    return calls


def run(emu: Emulator, lo: Local) -> dict[str, Any]:
    lo.opt_in()
    sends = []
    for key, name in (
        ("CandidateApi.SendEmailFunction", "candidate/send_email"),
        ("CrmApi.SendFunction", "crm/send"),
        ("CandidateApi.SendSmsFunction", "candidate/send_sms"),
    ):
        _invoke(emu, key, lo.event(name))  # first call: clients created, nothing cold counted twice
        _, calls = _invoke(emu, key, lo.event(name))
        sends.append(Budget(f"API send ({name})", calls, redundant=redundant(calls)))
    _, calls = _invoke(emu, "CrmApi.ScheduleFunction", lo.event("crm/schedule"))
    schedule = Budget("schedule (crm/schedule)", calls, redundant=redundant(calls))

    bulk = []
    for n in (1, 10, 50):
        event = lo.event("crm/send")
        body = json.loads(event["body"])
        body["recipients"] = [f"bulk{i}@example.com" for i in range(n)]
        set_body(event, body)
        out, api_calls = _invoke(emu, "CrmApi.SendFunction", event)
        record_id = body_of(out)["id"]
        dispatch_calls = _dispatch_one(emu, lo, record_id)
        bulk.append(
            (
                n,
                Budget(f"bulk send to {n}: API", api_calls, redundant=redundant(api_calls)),
                Budget(f"bulk send to {n}: dispatch", dispatch_calls, redundant=redundant(dispatch_calls)),
            )
        )

    plain = lo.crm_send()
    dispatch = Budget("dispatch per message", _dispatch_one(emu, lo, plain))
    dispatch.redundant = redundant(dispatch.calls)
    return {"sends": sends, "schedule": schedule, "bulk": bulk, "dispatch": dispatch}
