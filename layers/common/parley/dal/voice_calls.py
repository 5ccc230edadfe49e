"""Voice queue agents, conferences and dial logs in the single table (docs/data-model.md §6.31). Tenant-scoped keys;
every read is a GetItem or a Query, never a Scan.

- an agent: ``PK = TENANT#<t>#VAGENT#<id>``, ``SK = VAGENT`` (id = uuid5 of (setting, individual): one agent per
  individual and queue, a second sign-in replaces the first); listed by setting on GSI3
  (``GSI3PK = TENANT#<t>#VAGENT#SET#<setting>``, ``GSI3SK = <created_at>#<id>``);
- a conference: ``PK = TENANT#<t>#VCONF#<id>``, ``SK = VCONF``; by organization on GSI3
  (``TENANT#<t>#VCONF#ORG#<org>``) and by (organization, individual) on GSI6 (``TENANT#<t>#VCONF#ORG#<org>#IND#<ind>``),
  both sorted ``<created_at>#<id>``;
- a dial log (one call leg): ``PK = TENANT#<t>#VDIAL#<id>``, ``SK = VDIAL`` (id = uuid5 of (tenant, CallSid)); by
  organization on GSI3 (``TENANT#<t>#VDIAL#ORG#<org>``) and, for a conference's legs, by conference on GSI6
  (``TENANT#<t>#VDIAL#CONF#<conference>``), sorted ``<created_at>#<id>``.

No SK here matches the table stream's filter for ``TallyFunction`` (``MSG``, ``HIST#…``, ``FWD#…``); GSI3/GSI6 are
not tallied.
"""

from __future__ import annotations

from typing import Any

from parley.dal import table

AGENT_SK, CONF_SK, DIAL_SK = "VAGENT", "VCONF", "VDIAL"


def _pk(tenant_id: str, kind: str, item_id: str) -> str:
    return f"TENANT#{tenant_id}#{kind}#{item_id}"


def _clean(item: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if item is None else {k: v for k, v in item.items() if not k.startswith("GSI")}


# ── agents ──


def agents_pk(tenant_id: str, setting_id: str) -> str:
    return f"TENANT#{tenant_id}#VAGENT#SET#{setting_id}"


def put_agent(tenant_id: str, fields: dict[str, Any]) -> None:
    item = {
        "PK": _pk(tenant_id, "VAGENT", fields["id"]),
        "SK": AGENT_SK,
        "type": "voice_agent",
        "tenant_id": tenant_id,
        "GSI3PK": agents_pk(tenant_id, fields["setting_id"]),
        "GSI3SK": f"{fields['created_at']}#{fields['id']}",
        **{k: v for k, v in fields.items() if v is not None},
    }
    table.put_item(item)


def get_agent(tenant_id: str, agent_id: str, *, consistent: bool = False) -> dict[str, Any] | None:
    return _clean(table.get(_pk(tenant_id, "VAGENT", agent_id), AGENT_SK, consistent=consistent))


def agents_page(tenant_id: str, setting_id: str, *, offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    params = {"IndexName": "GSI3", "KeyConditionExpression": "GSI3PK = :pk",
              "ExpressionAttributeValues": table.values(pk=agents_pk(tenant_id, setting_id))}  # fmt: skip
    items, total = table.offset_page(offset, limit, **params)
    return [i for i in (_clean(i) for i in items) if i], total


def agents_of(tenant_id: str, setting_id: str) -> list[dict[str, Any]]:
    """Every agent of the setting's queue (a queue's few agents), for matching a call leg to its agent."""
    items = table.query_all(key_condition="GSI3PK = :pk", expr_values=table.values(pk=agents_pk(tenant_id, setting_id)), index="GSI3")
    return [i for i in (_clean(i) for i in items) if i]


def set_agent_call(tenant_id: str, agent_id: str, dial_log_id: str, now: str, *, ended: bool) -> None:
    """The agent's current call: this dial log while it rings or is in progress; once it ends, cleared only if it is
    still this one (a later call the agent took stays)."""
    pk = _pk(tenant_id, "VAGENT", agent_id)
    if not ended:
        table.try_update(pk, AGENT_SK, "SET call_id = :c, last_modified_at = :now", condition="attribute_exists(PK)",
                         values=table.values(c=dial_log_id, now=now))  # fmt: skip
    else:
        table.try_update(pk, AGENT_SK, "REMOVE call_id SET last_modified_at = :now", condition="attribute_exists(PK) AND call_id = :c",
                         values=table.values(c=dial_log_id, now=now))  # fmt: skip


# ── conferences ──


def put_conference(tenant_id: str, fields: dict[str, Any]) -> None:
    org, ind, sort = fields["organization_id"], fields["individual_id"], f"{fields['created_at']}#{fields['id']}"
    item = {
        "PK": _pk(tenant_id, "VCONF", fields["id"]),
        "SK": CONF_SK,
        "type": "voice_conference",
        "tenant_id": tenant_id,
        "GSI3PK": f"TENANT#{tenant_id}#VCONF#ORG#{org}",
        "GSI3SK": sort,
        "GSI6PK": f"TENANT#{tenant_id}#VCONF#ORG#{org}#IND#{ind}",
        "GSI6SK": sort,
        **{k: v for k, v in fields.items() if v is not None},
    }
    table.put_item(item, condition="attribute_not_exists(PK)")


def get_conference(tenant_id: str, conference_id: str, *, consistent: bool = False) -> dict[str, Any] | None:
    return _clean(table.get(_pk(tenant_id, "VCONF", conference_id), CONF_SK, consistent=consistent))


def update_conference(tenant_id: str, conference_id: str, fields: dict[str, Any], *, from_states: tuple[str, ...] | None = None) -> bool:
    """SET ``fields`` on the conference; only while its state is one of ``from_states`` when given (False otherwise)."""
    names = {f"#f{i}": k for i, k in enumerate(fields)}
    values = {f":v{i}": v for i, v in enumerate(fields.values())}
    condition = "attribute_exists(PK)"
    if from_states:
        names["#s"] = "state"
        condition += " AND #s IN (" + ", ".join(f":s{i}" for i in range(len(from_states))) + ")"
        values.update({f":s{i}": s for i, s in enumerate(from_states)})
    update = "SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(fields)))
    marshalled = table.values(**{k[1:]: v for k, v in values.items()})
    return table.try_update(_pk(tenant_id, "VCONF", conference_id), CONF_SK, update, condition=condition, values=marshalled, names=names)


def conferences_page(tenant_id: str, organization_id: str, individual_id: str | None, states: list[str] | None, *, offset: int,
                     limit: int) -> tuple[list[dict[str, Any]], int]:  # fmt: skip
    if individual_id:
        key = f"TENANT#{tenant_id}#VCONF#ORG#{organization_id}#IND#{individual_id}"
        params: dict[str, Any] = {
            "IndexName": "GSI6",
            "KeyConditionExpression": "GSI6PK = :pk",
            "ExpressionAttributeValues": table.values(pk=key),
        }
    else:
        params = {"IndexName": "GSI3", "KeyConditionExpression": "GSI3PK = :pk",
                  "ExpressionAttributeValues": table.values(pk=f"TENANT#{tenant_id}#VCONF#ORG#{organization_id}")}  # fmt: skip
    if states:
        params["FilterExpression"] = "#s IN (" + ", ".join(f":s{i}" for i in range(len(states))) + ")"
        params["ExpressionAttributeNames"] = {"#s": "state"}
        params["ExpressionAttributeValues"].update(table.values(**{f"s{i}": s for i, s in enumerate(states)}))
    params["ScanIndexForward"] = False
    items, total = table.offset_page(offset, limit, **params)
    return [i for i in (_clean(i) for i in items) if i], total


# ── dial logs ──


def dial_pk(tenant_id: str, dial_id: str) -> str:
    return _pk(tenant_id, "VDIAL", dial_id)


def advance_dial(tenant_id: str, fields: dict[str, Any], rank: int) -> bool:
    """Create the dial log or move it to a later status: written only when it is new or its stored ``rank`` is lower
    (forward-only; a redelivered or older status writes nothing and answers False)."""
    sort = f"{fields['created_at']}#{fields['id']}"
    sets: dict[str, Any] = {k: v for k, v in fields.items() if v is not None and k != "created_at"}
    sets["rank"] = rank
    sets["type"] = "voice_dial_log"
    sets["tenant_id"] = tenant_id
    sets["GSI3PK"] = f"TENANT#{tenant_id}#VDIAL#ORG#{fields['organization_id']}"
    if fields.get("conference_id"):
        sets["GSI6PK"] = f"TENANT#{tenant_id}#VDIAL#CONF#{fields['conference_id']}"
    names = {f"#f{i}": k for i, k in enumerate(sets)}
    values = {f"v{i}": v for i, v in enumerate(sets.values())}
    update = "SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(sets)))
    update += ", created_at = if_not_exists(created_at, :created), GSI3SK = if_not_exists(GSI3SK, :sort)"
    if fields.get("conference_id"):
        update += ", GSI6SK = if_not_exists(GSI6SK, :sort)"
    names["#r"] = "rank"
    return table.try_update(dial_pk(tenant_id, fields["id"]), DIAL_SK, update, condition="attribute_not_exists(PK) OR #r < :v_rank",
                            values=table.values(**values, created=fields["created_at"], sort=sort, v_rank=rank), names=names)  # fmt: skip


def get_dial(tenant_id: str, dial_id: str, *, consistent: bool = False) -> dict[str, Any] | None:
    return _clean(table.get(dial_pk(tenant_id, dial_id), DIAL_SK, consistent=consistent))


def dials_page(tenant_id: str, organization_id: str, conference_id: str | None, individual_id: str | None, *, offset: int,
               limit: int) -> tuple[list[dict[str, Any]], int]:  # fmt: skip
    names: dict[str, str] = {"#o": "organization_id"}
    vals: dict[str, Any] = {"org": organization_id}
    filters = []
    if conference_id:
        params: dict[str, Any] = {"IndexName": "GSI6", "KeyConditionExpression": "GSI6PK = :pk"}
        vals["pk"] = f"TENANT#{tenant_id}#VDIAL#CONF#{conference_id}"
        filters.append("#o = :org")
    else:
        params = {"IndexName": "GSI3", "KeyConditionExpression": "GSI3PK = :pk"}
        vals["pk"] = f"TENANT#{tenant_id}#VDIAL#ORG#{organization_id}"
        names = {}
        vals.pop("org")
    if individual_id:
        names["#i"] = "individual_id"
        vals["ind"] = individual_id
        filters.append("#i = :ind")
    if filters:
        params["FilterExpression"] = " AND ".join(filters)
        params["ExpressionAttributeNames"] = names
    params["ExpressionAttributeValues"] = table.values(**vals)
    params["ScanIndexForward"] = False
    items, total = table.offset_page(offset, limit, **params)
    return [i for i in (_clean(i) for i in items) if i], total
