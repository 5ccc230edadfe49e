"""Smoke test of a running Parley: ``python -m parley.smoke --stack NAME --sender-email ADDR`` (deployed) or
``python -m parley.smoke`` (the local stack of ``.local/stack.json``; ``make smoke``).

It reads where the stack is (a deployed stack's CloudFormation outputs, or the local stack's state file), makes a
throwaway tenant with the admin command's own code, and then goes through the public HTTP APIs as a client would:

1. schedules a CRM email 20 s ahead and one an hour ahead; ``GET /scheduled`` lists both; cancels the second;
2. sends an email to SES's mailbox simulator ``success@simulator.amazonses.com`` and one to
   ``bounce@simulator.amazonses.com`` (candidate API);
3. waits until their activity shows ``delivered`` and ``bounce`` (SES's events, through the configuration set,
   SNS, SQS and the SES events consumer) and the history lists both;
4. checks that a new send to the bounced address is refused: the bounce put it on the tenant's suppression list;
5. waits until the scheduled email was sent (EventBridge Scheduler → send queue → dispatcher);

and in every case ends the tenant: its key is revoked and the tenant disabled (``domain.api_keys``: what
``admin revoke-key`` and ``admin disable-tenant`` do).
Each step prints ✓ or ✗; the exit status is 0 when every step passed, 1 when one failed, 2 when there was no
stack to test. The simulator's addresses work in the SES sandbox and do not count against the sending quota or
the account's reputation; the sender must be an identity SES has verified (deployed).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode
from urllib.request import Request, urlopen

SIMULATOR = "simulator.amazonses.com"
USER = "parley-smoke"  # the x-ph-userid / X-User-ID the smoke test acts as
SCHEDULE_LEAD_S = 20  # how far ahead the email that must fire is scheduled (the CRM wants at least 5 s)


class TargetError(Exception):
    """No stack to test: the deployed stack cannot be described, or the local stack is not running."""


class StepFailed(Exception):
    """A step's check did not hold (the message says what was expected and what came)."""


@dataclass
class Target:
    description: str
    candidate_api: str  # base URLs, without a trailing slash (a deployed API's includes its stage)
    crm_api: str
    table: str
    local: dict[str, Any] | None = None  # the local stack's state (the admin code then tells its console the key)


def deployed(stack_name: str, region: str | None = None) -> Target:
    """The deployed root stack ``stack_name``: its CloudFormation outputs (``CandidateApiUrl``, ``CrmApiUrl``,
    ``TableName``); this process's parley code is pointed at its table."""
    if region:
        os.environ["AWS_REGION"] = os.environ["AWS_DEFAULT_REGION"] = region
    from parley.dal import aws, stack_outputs
    from parley.settings import get_settings

    aws.reset()
    try:
        outputs = stack_outputs.outputs(stack_name)
    except stack_outputs.StackNotFound as err:
        raise TargetError(str(err)) from None
    except Exception as err:  # no credentials, no region, no network: say so instead of a traceback
        raise TargetError(f"cannot read the outputs of stack {stack_name!r}: {err}") from None
    missing = [k for k in ("CandidateApiUrl", "CrmApiUrl", "TableName") if not outputs.get(k)]
    if missing:
        raise TargetError(f"stack {stack_name!r} has no output {', '.join(missing)}: is it Parley's root stack?")
    os.environ["TABLE_NAME"] = outputs["TableName"]
    get_settings.cache_clear()
    aws.reset()
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "the default region"
    return Target(f"stack {stack_name} ({region})", outputs["CandidateApiUrl"].rstrip("/"), outputs["CrmApiUrl"].rstrip("/"),
                  outputs["TableName"])  # fmt: skip


def local(state_file: Path) -> Target:
    """The running local stack described by ``state_file`` (``python -m parley_local`` writes it): one gateway
    serves every API family."""
    from parley import admin

    try:
        state = admin.target_local(state_file)
    except admin.TargetError as err:
        raise TargetError(str(err)) from None
    api = str(state.get("api") or "").rstrip("/")
    if not api:
        raise TargetError(f"{state_file} names no API URL")
    return Target(f"the local stack of {state_file} ({api})", api, api, os.environ["TABLE_NAME"], state)


# ───────────── HTTP ─────────────
@dataclass
class Answer:
    status: int
    body: Any  # parsed JSON, else the text

    def field(self, *path: str | int) -> Any:
        value = self.body
        for part in path:
            try:
                value = value[part]
            except (KeyError, IndexError, TypeError):
                raise StepFailed(f"the answer has no {'.'.join(map(str, path))}: {self.text()}") from None
        return value

    def text(self, limit: int = 300) -> str:
        raw = self.body if isinstance(self.body, str) else json.dumps(self.body)
        return raw if len(raw) <= limit else raw[:limit] + "…"


def call(method: str, url: str, key: str, body: Any = None, headers: dict[str, str] | None = None, timeout: float = 30) -> Answer:
    data = None if body is None else json.dumps(body).encode()
    request = Request(url, data=data, method=method)  # noqa: S310 (the stack's own API URLs: https deployed, http locally)
    request.add_header("Authorization", f"Bearer {key}")
    request.add_header("Accept", "application/json")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urlopen(request, timeout=timeout) as out:  # noqa: S310
            status, raw = out.status, out.read()
    except HTTPError as err:
        status, raw = err.code, err.read()
    except (URLError, TimeoutError, OSError) as err:
        raise StepFailed(f"{method} {url}: {getattr(err, 'reason', err)}") from None
    text = raw.decode("utf-8", errors="replace")
    try:
        return Answer(status, json.loads(text))
    except ValueError:
        return Answer(status, text)


def expect(answer: Answer, status: int, what: str) -> Answer:
    if answer.status != status:
        raise StepFailed(f"{what}: expected HTTP {status}, got {answer.status}: {answer.text()}")
    return answer


def wait_for(check: Callable[[], Any], timeout: float, interval: float = 1.0) -> Any:
    """``check()`` every ``interval`` s until it returns something truthy (returned); StepFailed after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise StepFailed(f"not within {timeout:.0f} s")
        time.sleep(interval)


# ───────────── the run ─────────────
@dataclass
class Smoke:
    target: Target
    sender_email: str
    timeout: float = 120.0
    keep: bool = False
    out: Callable[[str], None] = print
    run_id: str = field(default_factory=lambda: datetime.now(UTC).strftime("%Y%m%d%H%M%S") + "-" + uuid.uuid4().hex[:6])
    passed: int = 0
    ok: bool = False  # every step passed (set at the end of the steps; a failed clean-up unsets it)
    tenant_id: str = ""
    api_key: str = ""

    def step(self, title: str, action: Callable[[], str]) -> None:
        t0 = time.monotonic()
        try:
            detail = action()
        except StepFailed as err:
            self.out(f"✗ {title} ({time.monotonic() - t0:.1f} s): {err}")
            raise
        except Exception as err:
            self.out(f"✗ {title} ({time.monotonic() - t0:.1f} s): {type(err).__name__}: {err}")
            raise StepFailed(str(err)) from err
        self.passed += 1
        self.out(f"✓ {title} ({time.monotonic() - t0:.1f} s)" + (f": {detail}" if detail else ""))

    def address(self, mailbox: str, label: str) -> str:
        return f"{mailbox}+{label}-{self.run_id}@{SIMULATOR}"

    # the APIs
    def candidate(self, method: str, path: str, body: Any = None, query: dict[str, Any] | None = None, **headers: str) -> Answer:
        url = self.target.candidate_api + path + (f"?{urlencode(query)}" if query else "")
        return call(method, url, self.api_key, body, {"x-ph-userid": USER, **headers})

    def crm(self, method: str, path: str, body: Any = None) -> Answer:
        return call(method, self.target.crm_api + "/api/v1/communications" + path, self.api_key, body, {"X-User-ID": USER})

    def send(self, to: str, label: str) -> Answer:
        body = {"toEmail": to, "subject": f"Parley smoke test {self.run_id} ({label})", "emailContent": f"<p>Smoke test {self.run_id}.</p>"}
        return self.candidate("POST", "/communications/email/v1/send", body, **{"Idempotency-Key": f"smoke-{self.run_id}-{label}"})

    def activity(self, message_id: str) -> list[str]:
        answer = expect(self.candidate("GET", "/communications/email/v1/activity", query={"emailActivityId": message_id}), 200, "activity")
        return [str(e.get("event")) for e in answer.field("data")]

    def run(self) -> bool:
        started = time.monotonic()
        self.out(f"Parley smoke test {self.run_id} against {self.target.description}")
        try:
            self._steps()
        except StepFailed:
            pass
        finally:
            self._cleanup()
        self.out(f"{'passed' if self.ok else 'FAILED'}: {self.passed} step(s) passed in {time.monotonic() - started:.0f} s")
        return self.ok

    def _steps(self) -> None:
        state: dict[str, Any] = {}

        def tenant() -> str:
            from parley import admin

            made, key = admin.create_tenant(self.target.local, f"parley smoke {self.run_id}", self.sender_email, "Parley smoke test")
            self.tenant_id, self.api_key = made.id, key
            return f"tenant {made.id}, key {key[:10]}…, sender {self.sender_email}"

        self.step("create a throwaway tenant", tenant)

        def schedule() -> str:
            due = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=SCHEDULE_LEAD_S)
            later = due + timedelta(hours=1)
            answers = []
            for when, label in ((due, "scheduled"), (later, "cancelled")):
                body = {"subject": f"Parley smoke test {self.run_id} ({label})", "body": f"<p>Due at {when.isoformat()}</p>",
                        "recipients": [self.address("success", label)], "scheduledAt": when.isoformat().replace("+00:00", "Z")}  # fmt: skip
                answer = expect(self.crm("POST", "/schedule", body), 200, f"POST /schedule ({label})")
                if answer.field("status") != "SCHEDULED":
                    raise StepFailed(f"the {label} email is {answer.field('status')}, not SCHEDULED")
                answers.append(answer)
            state["scheduled"], state["cancelled"] = (a.field("id") for a in answers)
            state["due"] = due
            return f"{state['scheduled']} at {due.isoformat()}, {state['cancelled']} an hour later"

        self.step("schedule two CRM emails", schedule)

        def listed() -> str:
            ids = [r.get("id") for r in expect(self.crm("GET", "/scheduled"), 200, "GET /scheduled").field()]
            wanted = [state["scheduled"], state["cancelled"]]
            if ids != wanted:
                raise StepFailed(f"GET /scheduled lists {ids}, expected {wanted} (by due time)")
            return "both, in due order"

        self.step("GET /scheduled lists them", listed)

        def cancel() -> str:
            answer = expect(self.crm("POST", f"/{state['cancelled']}/cancel"), 200, "POST /{id}/cancel")
            if answer.field("status") != "CANCELLED":
                raise StepFailed(f"the cancelled email is {answer.field('status')}")
            ids = [r.get("id") for r in expect(self.crm("GET", "/scheduled"), 200, "GET /scheduled").field()]
            if ids != [state["scheduled"]]:
                raise StepFailed(f"after the cancel GET /scheduled lists {ids}, expected only {state['scheduled']}")
            return f"{state['cancelled']} CANCELLED and no longer listed"

        self.step("cancel the later one", cancel)

        for mailbox in ("success", "bounce"):

            def send(mailbox: str = mailbox) -> str:
                to = self.address(mailbox, "send")
                answer = expect(self.send(to, mailbox), 200, "POST /communications/email/v1/send")
                state[mailbox] = answer.field("data", "emailActivityId")
                state[f"{mailbox}_to"] = to
                return f"{to} → emailActivityId {state[mailbox]}"

            self.step(f"send an email to the SES mailbox simulator's {mailbox}@", send)

        for mailbox, event in (("success", "delivered"), ("bounce", "bounce")):

            def outcome(mailbox: str = mailbox, event: str = event) -> str:
                seen: list[list[str]] = [[]]

                def arrived() -> bool:
                    seen[0] = self.activity(state[mailbox])
                    return event in seen[0]

                try:
                    wait_for(arrived, self.timeout, 2.0)
                except StepFailed as err:
                    raise StepFailed(f"{err}; activity so far: {seen[0]}") from None
                return ", ".join(seen[0])

            self.step(f"activity of the {mailbox}@ email shows {event!r}", outcome)

        def history() -> str:
            now = datetime.now(UTC)
            query = {"fromTime": (now - timedelta(hours=1)).isoformat(), "toTime": (now + timedelta(minutes=5)).isoformat(),
                     "limit": 50, "offset": 0}  # fmt: skip
            answer = expect(self.candidate("GET", "/communications/email/v1/history", query=query), 200, "history")
            outbound = {(r.get("recipient") or "").lower() for r in answer.field("data") if r.get("messageType") == "outbound"}
            missing = [a for a in (state["success_to"], state["bounce_to"]) if a.lower() not in outbound]
            if missing:
                raise StepFailed(f"the history of the last hour lacks {missing}; it lists {sorted(outbound)}")
            return f"{len(outbound)} outbound email(s), both sends among them"

        self.step("history lists both emails", history)

        def suppressed() -> str:
            answer = self.send(state["bounce_to"], "bounce-again")
            if answer.status == 200:
                raise StepFailed(f"a send to the bounced address was accepted ({answer.text()}): the bounce did not suppress it")
            message = str(answer.body.get("message", "")) if isinstance(answer.body, dict) else answer.text()
            if answer.status != 400 or "suppression list" not in message:
                raise StepFailed(f"expected HTTP 400 naming the suppression list, got {answer.status}: {answer.text()}")
            return f"400: {message}"

        self.step("a new send to the bounced address is refused", suppressed)

        def fired() -> str:
            seen = [""]

            def sent() -> bool:
                seen[0] = str(expect(self.crm("GET", f"/find/{state['scheduled']}"), 200, "GET /find/{id}").field("status"))
                return seen[0] == "SENT"

            remaining = max(0.0, (state["due"] - datetime.now(UTC)).total_seconds())
            try:
                wait_for(sent, remaining + self.timeout, 2.0)
            except StepFailed as err:
                raise StepFailed(f"{err} after its due time; it is {seen[0]}") from None
            record = expect(self.crm("GET", f"/find/{state['scheduled']}"), 200, "GET /find/{id}")
            sent_at = str(record.field("sentAt"))
            if datetime.fromisoformat(sent_at.replace("Z", "+00:00")) < state["due"]:
                raise StepFailed(f"sent at {sent_at}, before its due time {state['due'].isoformat()}")
            return f"SENT at {sent_at} (due {state['due'].isoformat()})"

        self.step("the scheduled email is sent at its time", fired)
        self.ok = True

    def _cleanup(self) -> None:
        if not self.tenant_id:
            return
        if self.keep:
            self.out(f"• kept tenant {self.tenant_id} (--keep); its API key: {self.api_key}")
            return

        def retire() -> str:
            from parley.domain import api_keys

            api_keys.revoke(self.tenant_id, self.api_key)
            api_keys.set_tenant_disabled(self.tenant_id, True)
            return f"key revoked, tenant {self.tenant_id} disabled (its few items stay)"

        try:
            self.step("clean up", retire)
        except StepFailed:
            self.ok = False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m parley.smoke", description=__doc__.splitlines()[0])
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--stack", help="a deployed root stack's name (CloudFormation; AWS credentials from the environment)")
    where.add_argument("--local", nargs="?", const=".local/stack.json", default=None, metavar="STATE_FILE",
                       help="the running local stack (the default without --stack; STATE_FILE default .local/stack.json)")  # fmt: skip
    parser.add_argument("--region", default=None, help="the deployed stack's region (default: the environment's)")
    parser.add_argument("--sender-email", default=None,
                        help="the throwaway tenant's From address: an identity SES has verified (required with --stack; "
                        "locally default smoke@parley.example)")  # fmt: skip
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for each asynchronous outcome (default 120)")
    parser.add_argument("--keep", action="store_true", help="leave the tenant and its key in place (printed) instead of retiring it")
    args = parser.parse_args(argv)
    if args.stack and not args.sender_email:
        parser.error("--sender-email is required with --stack: an address (or a domain's address) SES has verified")
    try:
        target = deployed(args.stack, args.region) if args.stack else local(Path(args.local or ".local/stack.json"))
    except TargetError as err:
        print(f"✗ {err}", file=sys.stderr)
        return 2
    sender = args.sender_email or "smoke@parley.example"
    if "@" not in sender:
        parser.error("--sender-email must be an email address")
    return 0 if Smoke(target, sender, timeout=args.timeout, keep=args.keep).run() else 1


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # each step shows as it ends
    raise SystemExit(main())
