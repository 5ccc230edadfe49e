"""A channel as the seed answers it (``messaging-channels``, docs/courier.md "Channels"), for one calling individual.

What other areas keep is read, never computed here: ``last-message`` (the channel's ``last_message``, messages area),
``bookmark`` (the channel's ``bookmark``, bookmarks area), ``caller-new-message-count`` (the caller's member item's
``unread``, the inbox), ``with-sms`` (the channel's ``sms.active``, the SMS bridge); absent → null / 0 / false.

Cost per channel: its members (one Query), their individuals and those individuals' users (BatchGetItem each, up to
``MAX_SUBSCRIBERS``), the organization's ``group-provider-ack`` preference (one GetItem per organization per request),
and with ``individual-group`` (get with ``include-individual-group``) the group's members and leaders.
"""

from __future__ import annotations

from typing import Any

from parley.dal import directory as dirstore
from parley.dal import table
from parley.domain import channels
from parley.models.messaging_channels import ChannelAttributes

MAX_SUBSCRIBERS = 100  # subscribers answered per channel: admins first, then by when they joined


class Views:
    """Renders channels for one request (the organizations' preferences and the groups read once)."""

    def __init__(self, tenant_id: str, *, use_group_name: bool = True, include_group: bool = False) -> None:
        self.tenant_id, self.use_group_name, self.include_group = tenant_id, use_group_name, include_group
        self._prefs: dict[tuple[str, str], Any] = {}
        self._groups: dict[str, dict[str, Any] | None] = {}

    def _pref(self, organization_id: str, name: str, default: Any) -> Any:
        import json

        from parley.dal import org_preferences

        if (organization_id, name) not in self._prefs:
            stored = org_preferences.get(self.tenant_id, organization_id, name)
            self._prefs[(organization_id, name)] = json.loads(stored["value"]) if stored else default
        return self._prefs[(organization_id, name)]

    def _group(self, group_id: str) -> dict[str, Any] | None:
        if group_id not in self._groups:
            stored = dirstore.get(self.tenant_id, "individual-groups", group_id)
            self._groups[group_id] = dirstore.attributes(stored) if stored else None
        return self._groups[group_id]

    def _subscribers(self, channel_id: str) -> list[dict[str, Any]]:
        members = channels.member_items(self.tenant_id, channel_id)
        members.sort(key=lambda m: (not m.get("admin"), m.get("joined_at", ""), m["individual_id"]))
        shown = members[:MAX_SUBSCRIBERS]
        ind_pk, user_pk = dirstore.pk(self.tenant_id, "individuals"), dirstore.pk(self.tenant_id, "users")
        found = table.batch_get([(ind_pk, dirstore.sk(m["individual_id"])) for m in shown])
        people = {i: dirstore.attributes(v) for (_, sk), v in found.items() if not v.get("deleted") for i in [sk[len("DIR#") :]]}
        owners = {a.get("owner-id") for a in people.values() if a.get("owner-id")}
        found_users = table.batch_get([(user_pk, dirstore.sk(u)) for u in owners]) if owners else {}
        users = {sk[len("DIR#") :]: dirstore.attributes(v) for (_, sk), v in found_users.items() if not v.get("deleted")}
        out = []
        for m in shown:
            person = people.get(m["individual_id"], {})
            user = users.get(person.get("owner-id") or "", {})
            out.append(
                {
                    "id": m["individual_id"],
                    "admin": bool(m.get("admin")),
                    "pinned": bool(m.get("pinned")),
                    "first-name": person.get("first-name"),
                    "last-name": person.get("last-name"),
                    "birth-date": person.get("birth-date"),
                    "email": user.get("email"),
                    "email-verified": user.get("email-verified"),
                    "phone-number": user.get("phone"),
                    "phone-number-verified": user.get("phone-verified"),
                    "phone-number-unsubscribed": user.get("phone-unsubscribed"),
                    "auto-sign-up": user.get("auto-sign-up"),
                    "communication-preferences": user.get("communication-preferences"),
                }
            )
        return out

    def render(self, channel: dict[str, Any], member: dict[str, Any] | None) -> ChannelAttributes:
        member = member or {}
        org = channel["organization_id"]
        group_id = channel.get("individual_group_id")
        group = self._group(group_id) if group_id else None
        name = channel.get("name")
        if self.use_group_name and group and group.get("name"):
            name = group["name"]
        if not name:
            name = self._pref(org, "default-channel-title", "") or None
        owner = dirstore.get(self.tenant_id, "individuals", channel["created_by"]) if channel.get("created_by") else None
        owner_attrs = dirstore.attributes(owner) if owner else {}
        unread = int(member.get("unread") or 0)
        last = channel.get("last_message")
        bookmark = channel.get("bookmark")
        sms = channel.get("sms") or {}
        group_view = None
        if self.include_group and group_id:
            from parley.domain import multicasts

            group_view = multicasts.group_view(self.tenant_id, group_id)
        return ChannelAttributes.model_validate(
            {
                "archived": bool(channel.get("archived")),
                "bookmark": {"id": bookmark["id"], "message-id": bookmark.get("message_id")} if bookmark else None,
                "caller-has-new-message": unread > 0,
                "caller-new-message-count": unread,
                "can-enable-sms": bool(channel.get("text_number_id")),
                "created-at": channel["created_at"],
                "created-by": channel.get("created_by"),
                "event-settings": channel.get("event_settings") or {"enabled": False},
                "floating": bool(channel.get("floating")),
                "group-provider-ack": bool(self._pref(org, "group-provider-ack", False)),
                "individual-group": group_view,
                "individual-group-id": group_id,
                "label": channel.get("label"),
                "last-message": {
                    "id": last["id"],
                    "message": last.get("message"),
                    "posted-time": last.get("posted_time"),
                    "removed": bool(last.get("removed")),
                }
                if last
                else None,
                "last-modified-time": channel["last_modified_at"],
                "name": name,
                "observation-id": channel.get("observation_id"),
                "org-id": org,
                "owner-id": channel.get("created_by"),
                "owner-first-name": owner_attrs.get("first-name"),
                "owner-last-name": owner_attrs.get("last-name"),
                "subscribers": self._subscribers(channel["id"]),
                "subscription-type": channel.get("subscription_type") or "none",
                "text-number": {"id": channel["text_number_id"]} if channel.get("text_number_id") else None,
                "with-sms": bool(sms.get("active")),
                "notify": member.get("notify") if member else None,
            }
        )
