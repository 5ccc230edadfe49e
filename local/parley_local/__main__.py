"""``python -m parley_local`` — run Parley on this machine (see README.md)."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from parley_local.app import LocalStack, tune_gc, write_state

log = logging.getLogger("parley_local")


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m parley_local", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3000, help="API port (0 = any free port)")
    parser.add_argument("--moto-port", type=int, default=0, help="emulator port (0 = any free port)")
    parser.add_argument("--state-file", type=Path, default=Path(".local/stack.json"), help="where to write URLs and the demo key")
    parser.add_argument(
        "--idle-timeout", type=float, default=60.0, help="seconds before an idle function instance is shut down (0 = never)"
    )
    parser.add_argument("--max-instances", type=int, default=12, help="warm instances per function (each serves one event at a time)")
    parser.add_argument("--no-demo", action="store_true", help="do not create the demo tenant")
    parser.add_argument(
        "--parameter-overrides", nargs="+", default=[], metavar="NAME=VALUE",
        help="the root template's parameters, as `sam deploy --parameter-overrides` takes them "
        "(e.g. AuthorizerCacheSeconds=5: the authorizer cache's TTL)",
    )  # fmt: skip
    args = parser.parse_args()
    malformed = [item for item in args.parameter_overrides if "=" not in item]
    if malformed:
        parser.error(f"--parameter-overrides takes NAME=VALUE, got: {', '.join(malformed)}")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")

    stack = LocalStack(
        host=args.host, port=args.port, moto_port=args.moto_port, idle_timeout=args.idle_timeout, max_instances=args.max_instances,
        parameters=dict(item.split("=", 1) for item in args.parameter_overrides),
    ).start()  # fmt: skip
    stack.warm()
    state = stack.state()
    if not args.no_demo:
        demo = stack.create_tenant("Demo tenant", sender_name="Parley Demo", created_by="make run (demo tenant)")
        stack.demo_tenant_id = demo["tenantId"]
        demo["userTokens"] = stack.enable_user_tokens(demo["tenantId"])  # POST /_local/user-token mints them (decision S5)
        demo["twilio"] = stack.give_twilio_account(demo["tenantId"])  # texting accounts are its subaccounts (the fake Twilio)
        state["demo"] = demo
    tune_gc()
    write_state(args.state_file, state)

    print(
        f"\nParley is running locally.\n  API       {stack.api_url}\n  emulator  {stack.moto_url} (moto)\n"
        f"  console   {stack.api_url}/\n  routes    {stack.api_url}/_local\n  outbox    {stack.api_url}/_local/outbox\n"
        + "".join(f"  websocket {gw.url} ({gw.api.template.name}; ?token=<key>&individual-id=<id>)\n" for gw in stack.websockets),
        flush=True,
    )
    if not args.no_demo:
        print(
            f"Demo tenant {demo['tenantId']}\n  API key   {demo['apiKey']}\n\nSend an email:\n"
            f"  curl -s -X POST {stack.api_url}/communications/email/v1/send \\\n"
            f"    -H 'Authorization: Bearer {demo['apiKey']}' -H 'x-ph-userid: recruiter-1' \\\n"
            f"    -H 'Content-Type: application/json' -H 'Idempotency-Key: demo-1' \\\n"
            '    -d \'{"toEmail": "candidate@example.com", "subject": "Hello from Parley", "emailContent": "<p>Hi there!</p>"}\'\n\n'
            f"Then: curl -s {stack.api_url}/_local/outbox\n"
            f"      curl -s '{stack.api_url}/communications/email/v1/activity?emailActivityId=<id>' "
            f"-H 'Authorization: Bearer {demo['apiKey']}' -H 'x-ph-userid: recruiter-1'\n\n"
            "CRM: schedule an email two minutes ahead, then list what is scheduled:\n"
            f"  curl -s -X POST {stack.api_url}/api/v1/communications/schedule \\\n"
            f"    -H 'Authorization: Bearer {demo['apiKey']}' -H 'Content-Type: application/json' \\\n"
            '    -d "{\\"subject\\": \\"Later\\", \\"body\\": \\"<p>Hi</p>\\", \\"recipients\\": [\\"jan@example.com\\"], '
            '\\"scheduledAt\\": \\"$(date -u -d \'+2 min\' +%Y-%m-%dT%H:%M:%SZ)\\"}"\n'
            f"  curl -s {stack.api_url}/api/v1/communications/scheduled -H 'Authorization: Bearer {demo['apiKey']}'\n\n"
            "A user bearer token (JWT) for user-1 of the demo tenant, sent instead of the key:\n"
            f'  curl -s -X POST {stack.api_url}/_local/user-token -d \'{{"sub": "user-1"}}\'\n',
            flush=True,
        )
    print(f"State written to {args.state_file}. Ctrl-C stops everything.", flush=True)

    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    # With a timeout: a signal the kernel hands to another thread only runs its handler when the main thread
    # next runs Python code, and an untimed wait would never return to do so (SIGTERM then hung under load).
    while not done.wait(0.2):
        pass
    log.info("stopping (signal received)")
    stack.stop()
    # Everything is stopped and nothing is left to write: skip the interpreter's teardown (under load it took
    # 10+ s after stop() had returned, on threads and objects that no longer matter).
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
