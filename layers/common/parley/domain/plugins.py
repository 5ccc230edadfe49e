"""messaging-plugins (seed 003): an organization's installed integrations, each expanded in a channel into message text
for the composer (docs/courier.md "Messaging automation and scale (issue 19)" → "Plugins").

Two types ship:
- ``template``: ``args {template-id}`` names one of the tenant's templates (``parley.domain.templates``, the CRM's);
  ``expand`` renders it with the channel, the caller, the organization and the plugin as variables (``variables``) and
  answers its text body (the HTML body as text when it has none).
- ``webhook``: ``args {url, secret?}``; ``expand`` POSTs a signed JSON request to the URL with the texting callbacks'
  SSRF-safe sender (``parley.domain.text_callbacks``: every address checked, the connection pinned to it, no
  redirect), ``TIMEOUT_SECONDS`` for the whole exchange, and answers the response's JSON ``{message}`` or its text. Any
  failure is a 502 of ours (``WebhookFailed``, code ``plugin-webhook-failed``), never a 500. Signed with
  ``args.secret`` when given (write-only: never answered), else with the tenant's callback-signing secret.

A plugin is the organization's: any caller of the tenant manages it (another tenant's id is a 404); ``expand`` acts
for an individual who must be a member of the channel (404 otherwise, as for an unknown channel).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from parley import clock
from parley.dal import plugins as store
from parley.domain.ids import new_id
from parley.errors import Conflict, NotFound, ParleyError, Unprocessable
from parley.models.channel_messages import MAX_MESSAGE
from parley.models.messaging_plugins import PLUGIN_TYPES, ExpandBody, PluginAttributes, PluginCreateAttributes, PluginPatchAttributes

TIMEOUT_SECONDS = 3.0  # the webhook's whole exchange (text_callbacks.exchange)
MAX_RESPONSE_BYTES = 64 * 1024
MAX_URL = 2048
USER_AGENT = "Parley-Plugins/1.0"
_SECRET = re.compile(r"^[\x21-\x7e]{16,256}$")  # printable ASCII, no space


class WebhookFailed(ParleyError):
    """The plugin's webhook refused, failed, timed out or answered no usable message: a 502 of ours."""

    status = 502


def _not_found(plugin_id: str) -> NotFound:
    return NotFound(f"no messaging-plugin {plugin_id}", code="not-found")


def _require(tenant_id: str, plugin_id: str, *, consistent: bool = False) -> dict[str, Any]:
    item = store.get(tenant_id, plugin_id, consistent=consistent)
    if item is None:
        raise _not_found(plugin_id)
    return item


def _attributes(item: dict[str, Any]) -> PluginAttributes:
    return PluginAttributes(
        args=dict(item.get("args") or {}),
        created_at=item["created_at"],
        created_by=item.get("created_by"),
        enabled=bool(item.get("enabled")),
        last_modified_at=item["last_modified_at"],
        last_modified_by=item.get("last_modified_by"),
        name=item["name"],
        organization_id=item["organization_id"],
        type=item["plugin_type"],
    )


# ── args ──
def _check_args(
    tenant_id: str, plugin_type: str, args: dict[str, Any], *, kept_secret: str | None = None
) -> tuple[dict[str, Any], str | None]:
    """The args to store for the type and the webhook's secret (kept apart); 422 naming the member otherwise.
    ``kept_secret``: the stored secret, kept when a PATCH's args do not name ``secret`` (``null`` removes it)."""
    pointer = "/data/attributes/args"
    if plugin_type == "template":
        unknown = sorted(set(args) - {"template-id"})
        if unknown:
            raise Unprocessable(
                f"a template plugin's args have only template-id (not {', '.join(unknown)})", pointer=f"{pointer}/{unknown[0]}"
            )
        template_id = args.get("template-id")
        if not isinstance(template_id, str) or not template_id:
            raise Unprocessable("a template plugin needs args.template-id: one of the tenant's templates", pointer=f"{pointer}/template-id")
        from parley.domain import templates

        try:
            templates.get(tenant_id, template_id)
        except NotFound:
            raise Unprocessable(f"no template {template_id!r}", pointer=f"{pointer}/template-id", code="template-missing") from None
        return {"template-id": template_id}, None
    unknown = sorted(set(args) - {"url", "secret"})
    if unknown:
        raise Unprocessable(
            f"a webhook plugin's args have only url and secret (not {', '.join(unknown)})", pointer=f"{pointer}/{unknown[0]}"
        )
    url = args.get("url")
    parts = urlsplit(url) if isinstance(url, str) and len(url) <= MAX_URL else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        raise Unprocessable(
            f"args.url must be an absolute http(s) URL of at most {MAX_URL} characters, without credentials", pointer=f"{pointer}/url"
        )
    secret = kept_secret
    if "secret" in args:
        secret = args["secret"]
        if secret is not None and (not isinstance(secret, str) or not _SECRET.match(secret)):
            raise Unprocessable("args.secret must be 16 to 256 printable ASCII characters (or null)", pointer=f"{pointer}/secret")
    return {"url": url}, secret


def _check_type(plugin_type: str | None) -> str:
    if plugin_type is None or plugin_type not in PLUGIN_TYPES:
        shipped = ", ".join(PLUGIN_TYPES)
        raise Unprocessable(f"type must be one of {shipped}", pointer="/data/attributes/type", code="unknown-plugin-type")
    return plugin_type


# ── the routes ──
def create(tenant_id: str, attrs: PluginCreateAttributes, *, user_id: str | None) -> tuple[str, PluginAttributes]:
    for field in ("name", "organization_id", "type", "args"):
        if getattr(attrs, field) is None:
            raise Unprocessable(
                f"{field.replace('_', '-')} is required", pointer=f"/data/attributes/{field.replace('_', '-')}", code="required"
            )
    from parley.domain.channels import require_organization

    require_organization(tenant_id, str(attrs.organization_id), pointer="/data/attributes/organization-id")
    plugin_type = _check_type(attrs.type)
    args, secret = _check_args(tenant_id, plugin_type, dict(attrs.args or {}))
    now = clock.iso(clock.now())
    item: dict[str, Any] = {
        "tenant_id": tenant_id,
        "id": new_id(),
        "organization_id": attrs.organization_id,
        "name": attrs.name,
        "plugin_type": plugin_type,
        "args": args,
        "enabled": True,
        "created_at": now,
        "last_modified_at": now,
        **({"secret": secret} if secret else {}),
        **({"created_by": user_id, "last_modified_by": user_id} if user_id else {}),
    }
    if not store.create(item):
        raise Conflict(f"the organization has a plugin named {attrs.name!r}", pointer="/data/attributes/name", code="name-taken")
    return item["id"], _attributes(item)


def get(tenant_id: str, plugin_id: str) -> tuple[str, PluginAttributes]:
    return plugin_id, _attributes(_require(tenant_id, plugin_id))


def page(
    tenant_id: str, organization_id: str, *, name: str | None, plugin_type: str | None, offset: int, limit: int
) -> tuple[list[tuple[str, PluginAttributes]], int]:
    """The organization's plugins in creation order; ``name``: the one of that name (a key read); ``plugin_type``: of
    that type. 404 for an organization that is not the tenant's."""
    from parley.domain.channels import require_organization

    require_organization(tenant_id, organization_id, parameter="organization-id")
    if name is not None:
        item = store.by_name(tenant_id, organization_id, name)
        found = [item] if item is not None and plugin_type in (None, item["plugin_type"]) else []
        return [(i["id"], _attributes(i)) for i in found[offset : offset + limit]], len(found)
    items, total = store.page_of_org(tenant_id, organization_id, plugin_type=plugin_type, offset=offset, limit=limit)
    return [(i["id"], _attributes(i)) for i in items], total


def update(tenant_id: str, plugin_id: str, attrs: PluginPatchAttributes, *, user_id: str | None) -> tuple[str, PluginAttributes]:
    """Change ``name`` (409 when the organization has another of that name), ``type`` and ``args`` (checked for the
    resulting type: changing the type needs args for it). Absent attributes are kept."""
    given = attrs.model_fields_set
    for field in ("name", "type", "args"):
        if field in given and getattr(attrs, field) is None:
            raise Unprocessable(f"{field} cannot be null", pointer=f"/data/attributes/{field}")
    current = _require(tenant_id, plugin_id, consistent=True)
    plugin_type = _check_type(attrs.type) if "type" in given else current["plugin_type"]
    changes: dict[str, Any] = {}
    remove: tuple[str, ...] = ()
    if "args" in given or plugin_type != current["plugin_type"]:
        if "args" not in given:
            raise Unprocessable(f"changing the type to {plugin_type} needs its args", pointer="/data/attributes/args")
        kept = current.get("secret") if plugin_type == current["plugin_type"] else None
        args, secret = _check_args(tenant_id, plugin_type, dict(attrs.args or {}), kept_secret=kept)
        changes["args"] = args
        if secret:
            changes["secret"] = secret
        elif current.get("secret"):
            remove = ("secret",)
    if plugin_type != current["plugin_type"]:
        changes["plugin_type"] = plugin_type
    if "name" in given and attrs.name != current["name"]:
        changes["name"] = attrs.name
    changes["last_modified_at"] = clock.iso(clock.now())
    if user_id:
        changes["last_modified_by"] = user_id
    if not store.update(tenant_id, current, changes, remove=remove):
        again = store.get(tenant_id, plugin_id, consistent=True)
        if again is None:
            raise _not_found(plugin_id)
        if "name" in changes and store.by_name(tenant_id, current["organization_id"], str(attrs.name)) is not None:
            raise Conflict(f"the organization has a plugin named {attrs.name!r}", pointer="/data/attributes/name", code="name-taken")
        raise Conflict("the plugin changed while it was modified: try again", code="concurrent-change")
    return plugin_id, _attributes(_require(tenant_id, plugin_id, consistent=True))


def set_enabled(tenant_id: str, plugin_id: str, enabled: bool, *, user_id: str | None) -> tuple[str, PluginAttributes]:
    """enable/disable; idempotent (``last-modified-at`` moves only when ``enabled`` changes)."""
    current = _require(tenant_id, plugin_id, consistent=True)
    if bool(current.get("enabled")) != enabled and not store.set_enabled(
        tenant_id, plugin_id, enabled, at=clock.iso(clock.now()), by=user_id
    ):
        raise _not_found(plugin_id)
    return plugin_id, _attributes(_require(tenant_id, plugin_id, consistent=True))


# ── expand ──
def variables(plugin: dict[str, Any], channel: dict[str, Any], individual_id: str, user_id: str | None) -> dict[str, Any]:
    """What a template plugin renders with, and what a webhook is sent (camelCase: a template placeholder is
    ``[A-Za-z_][A-Za-z0-9_]*``, dotted): ``channel {id, name, label, kind, organizationId}``, ``caller
    {individualId, userId, firstName, lastName, preferredName, name}``, ``organization {id}``, ``plugin {id, name}``."""
    from parley.dal import directory

    stored = directory.get(plugin["tenant_id"], "individuals", individual_id)
    person = directory.attributes(stored) if stored else {}
    first, preferred = person.get("first-name"), person.get("preferred-name")
    return {
        "channel": {
            "id": channel["id"],
            "name": channel.get("name") or "",
            "label": channel.get("label") or "",
            "kind": channel.get("kind") or "",
            "organizationId": channel.get("organization_id") or "",
        },
        "caller": {
            "individualId": individual_id,
            "userId": user_id or "",
            "firstName": first or "",
            "lastName": person.get("last-name") or "",
            "preferredName": preferred or "",
            "name": preferred or first or "",
        },
        "organization": {"id": plugin["organization_id"]},
        "plugin": {"id": plugin["id"], "name": plugin["name"]},
    }


def expand(tenant_id: str, plugin_id: str, acting: Callable[[], str], body: ExpandBody, *, user_id: str | None) -> str:
    """The plugin's message for the channel. 404: an unknown plugin (before anything about the caller: ``acting``
    resolves the acting individual after), or a channel the individual is not a member of; 422: a channel of another
    organization than the plugin's; 409: a disabled plugin."""
    plugin = _require(tenant_id, plugin_id)
    individual_id = acting()
    from parley.domain.channels import require_member

    channel, _member = require_member(tenant_id, body.channel_id, individual_id, pointer="/channel-id")
    if channel.get("organization_id") != plugin["organization_id"]:
        raise Unprocessable("the channel is not in the plugin's organization", pointer="/channel-id", code="other-organization")
    if not plugin.get("enabled"):
        raise Conflict("the plugin is disabled: enable it first", code="plugin-disabled")
    given = variables(plugin, channel, individual_id, user_id)
    message = _template(tenant_id, plugin, given) if plugin["plugin_type"] == "template" else _webhook(tenant_id, plugin, given)
    problem = "an empty message" if not message.strip() else f"more than {MAX_MESSAGE} characters" if len(message) > MAX_MESSAGE else None
    if problem and plugin["plugin_type"] == "template":
        raise Unprocessable(f"the plugin's template expanded to {problem}", code="plugin-unusable-message")
    if problem:
        raise WebhookFailed(f"the webhook answered {problem}", code="plugin-webhook-failed")
    return message


def _template(tenant_id: str, plugin: dict[str, Any], given: dict[str, Any]) -> str:
    from parley.domain import templates
    from parley.errors import BadRequest

    template_id = (plugin.get("args") or {}).get("template-id", "")
    try:
        rendered = templates.render_for_send(tenant_id, template_id, given)
    except NotFound:
        raise Unprocessable(f"the plugin's template {template_id!r} no longer exists", code="template-missing") from None
    except BadRequest as err:
        raise Unprocessable(f"the plugin's template cannot be rendered: {err.message}", code="template-render-failed") from None
    if rendered.text is not None:
        return rendered.text
    from parley.domain.rendering import html_to_text

    return html_to_text(rendered.html or "")


def _webhook(tenant_id: str, plugin: dict[str, Any], given: dict[str, Any]) -> str:
    import http.client

    from parley.domain import text_callbacks

    url = (plugin.get("args") or {}).get("url", "")
    delivery_id = new_id()
    payload = {"event": "messaging-plugin.expand", "delivery-id": delivery_id, "at": clock.iso(clock.now()), **given}
    body = json.dumps(payload, separators=(",", ":")).encode()
    secret = plugin.get("secret")
    if not secret:
        from parley.dal import text_callbacks as plumbing

        secret = plumbing.signing_secret(tenant_id)
    headers = {
        "Content-Type": "application/json",
        "Accept": "application/json, text/plain",
        "User-Agent": USER_AGENT,
        text_callbacks.DELIVERY_HEADER: delivery_id,
        text_callbacks.SIGNATURE_HEADER: text_callbacks.sign(secret, int(time.time()), body),
    }
    code = "plugin-webhook-failed"
    try:
        dest = text_callbacks.destination(url)
        status, content_type, data = text_callbacks.exchange(dest, body, headers, timeout=TIMEOUT_SECONDS, max_bytes=MAX_RESPONSE_BYTES + 1)
    except text_callbacks.Refused as err:
        raise WebhookFailed(f"the webhook's URL may not be called: {err}", code=code) from None
    except (OSError, http.client.HTTPException) as err:  # timeouts included (socket.timeout is an OSError)
        raise WebhookFailed(f"the webhook could not be reached: {err}", code=code) from None
    if not 200 <= status < 300:
        raise WebhookFailed(f"the webhook answered HTTP {status}", code=code)
    if len(data) > MAX_RESPONSE_BYTES:
        raise WebhookFailed(f"the webhook's answer is larger than {MAX_RESPONSE_BYTES} bytes", code=code)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise WebhookFailed("the webhook's answer is not UTF-8", code=code) from None
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind == "application/json" or kind.endswith("+json"):
        try:
            answer = json.loads(text)
        except ValueError:
            raise WebhookFailed("the webhook's answer is not JSON", code=code) from None
        message = answer.get("message") if isinstance(answer, dict) else None
        if not isinstance(message, str):
            raise WebhookFailed('the webhook\'s JSON answer has no string "message"', code=code)
        return message
    if kind.startswith("text/") or not kind:
        return text.strip()
    raise WebhookFailed(f"the webhook answered {kind}, neither JSON nor text", code=code)


# ── purge ──
def purge_users(tenant_id: str, user_ids: Any) -> dict[str, int]:
    """The purge of a person (``domain/purge.purge_courier``): the tenant's plugins no longer name the users
    (``created_by`` / ``last_modified_by`` removed, answered null). Found through the directory's organizations (their
    partition, tombstones included), then each organization's plugins (GSI3): reads ∝ the tenant's organizations and
    plugins, a rare operation's cost. Nothing else of a plugin is about a person."""
    from parley.dal import directory, table

    users = set(user_ids)
    done = {"plugins_unnamed": 0}
    if not users:
        return done
    orgs = table.query_all(key_condition="PK = :pk", expr_values=table.values(pk=directory.pk(tenant_id, "organizations")))
    for org in orgs:
        for item in store.of_organization(tenant_id, org["entity_id"]):
            gone = [f for f in ("created_by", "last_modified_by") if item.get(f) in users]
            if gone and store.unname(tenant_id, item["id"], gone):
                done["plugins_unnamed"] += 1
    return done
