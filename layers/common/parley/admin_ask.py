"""``python -m parley.admin ask-skill``: register a tenant's Alexa skill (docs/courier.md "Alexa (issue 20)").

    ask-skill --tenant-id T --organization-id O --alexa-app-id amzn1.ask.skill.… --client-id amzn1.application-oa2-client.…
              [--development] < client-secret

The skill's Login-with-Amazon client secret is read from standard input (never a command-line argument) and kept in
the secret ``parley/alexa/<tenant>/<skill id>``. Registering the same application id again keeps its skill id and
replaces the credentials. The skill's endpoint (Alexa developer console) is ``https://<api>/v1/ask-entries/?tenant=T``.
Prints ``{"skillId", "endpoint"}``; exit status 1 when refused.
"""

from __future__ import annotations

import json
import sys
from typing import Any


def register(sub: Any) -> None:
    cmd = sub.add_parser("ask-skill", help="register a tenant's Alexa skill (its LWA client secret on standard input)")
    cmd.set_defaults(run=run)
    cmd.add_argument("--tenant-id", "--tenant", dest="tenant_id", required=True)
    cmd.add_argument("--organization-id", required=True, help="the organization the skill serves (its subscriptions are listed there)")
    cmd.add_argument("--alexa-app-id", required=True, help="the skill's application id, amzn1.ask.skill.<uuid>")
    cmd.add_argument("--client-id", required=True, help="the skill's Login-with-Amazon client id (Alexa console: Permissions)")
    cmd.add_argument("--development", action="store_true", help="send proactive events to the development stage")


def run(args: Any, local: dict | None) -> int:
    from parley.domain import ask
    from parley.errors import ParleyError

    secret = sys.stdin.readline().strip()
    try:
        skill_id = ask.register_skill(args.tenant_id, args.organization_id, args.alexa_app_id, args.client_id, secret,
                                      development=args.development)  # fmt: skip
    except ParleyError as err:
        print(err.message, file=sys.stderr)
        return 1
    api = str((local or {}).get("api", "https://<api>")).rstrip("/")
    print(json.dumps({"skillId": skill_id, "endpoint": f"{api}/v1/ask-entries/?tenant={args.tenant_id}"}))
    return 0
