"""Voice queue agents, conferences and dial logs in the single table (docs/data-model.md §6.31). Tenant-scoped keys;
every read is a GetItem or a Query, never a Scan.

- an agent: ``PK = TENANT#<t>#VAGENT#<id>``, ``SK = VAGENT`` (id = uuid5 of (setting, individual): one agent per
  individual and queue, a second sign-in replaces the first); listed by setting on GSI3
  (``GSI3PK = TENANT#<t>#VAGENT#SET#<setting>``, ``GSI3SK = <created_at>#<id>``);
- a conference: ``PK = TENANT#<t>#VCONF#<id>``, ``SK = VCONF``; by organization on GSI3
  (``TENANT#<t>#VCONF#ORG#<org>``) and by (organization, individual) on GSI6 (``TENANT#<t>#VCONF#ORG#<org>#IND#<ind>``),
  both sorted ``<created_at>#<id>``; by whom it called (``to``: ``client:<individual>`` or E.164) on GSI5
  (``TENANT#<t>#VCONF#TO#<to>``, ``GSI5SK = <id>``: the purge's);
- a dial log (one call leg): ``PK = TENANT#<t>#VDIAL#<id>``, ``SK = VDIAL`` (id = uuid5 of (tenant, CallSid)); by
  organization on GSI3 (``TENANT#<t>#VDIAL#ORG#<org>``) and, for a conference's legs, by conference on GSI6
  (``TENANT#<t>#VDIAL#CONF#<conference>``), sorted ``<created_at>#<id>``; for the purge, by individual on GSI4
  (``TENANT#<t>#VDIAL#IND#<individual>``), by ``from_number`` on GSI5 and by ``to_number`` on GSI7 (both
  ``TENANT#<t>#VDIAL#NUM#<number>``: a phone, or ``client:<individual>``), each sorted ``<id>``.

No SK here matches the table stream's filter for ``TallyFunction`` (``MSG``, ``HIST#…``, ``FWD#…``), and the purge
indexes' sort keys are ids, not times: none of these items is in a tallied list.
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
        **({"GSI5PK": conferences_to_pk(tenant_id, fields["to"]), "GSI5SK": fields["id"]} if fields.get("to") else {}),
        **{k: v for k, v in fields.items() if v is not None},
    }
    table.put_item(item, condition="attribute_not_exists(PK)")


def conferences_to_pk(tenant_id: str, to: str) -> str:
    return f"TENANT#{tenant_id}#VCONF#TO#{to}"


def conferences_of(tenant_id: str, organization_id: str, individual_id: str) -> list[dict[str, Any]]:
    """Every conference of the individual in the organization (GSI6; the purge's)."""
    key = f"TENANT#{tenant_id}#VCONF#ORG#{organization_id}#IND#{individual_id}"
    return table.query_all(key_condition="GSI6PK = :pk", expr_values=table.values(pk=key), index="GSI6")


def conferences_to(tenant_id: str, to: str) -> list[dict[str, Any]]:
    """Every conference that called ``to`` (GSI5; the purge's)."""
    return table.query_all(key_condition="GSI5PK = :pk", expr_values=table.values(pk=conferences_to_pk(tenant_id, to)), index="GSI5")


def forget_in_conference(tenant_id: str, conference_id: str, remove: list[str], changes: dict[str, Any] | None = None) -> bool:
    """REMOVE ``remove`` (and SET ``changes``) on the conference; False when it is gone."""
    return _forget(_pk(tenant_id, "VCONF", conference_id), CONF_SK, remove, changes or {})


def delete_agent(tenant_id: str, agent_id: str) -> bool:
    """Delete the agent; False when there was none."""
    from botocore.exceptions import ClientError

    try:
        table.ddb().delete_item(TableName=table.table_name(), Key=table.key(_pk(tenant_id, "VAGENT", agent_id), AGENT_SK),
                                ConditionExpression="attribute_exists(PK)")  # fmt: skip
    except ClientError as err:
        if table.is_condition_failure(err):
            return False
        raise
    return True


def _forget(pk: str, sk: str, remove: list[str], changes: dict[str, Any]) -> bool:
    names = {f"#r{i}": k for i, k in enumerate(remove)} | {f"#s{i}": k for i, k in enumerate(changes)}
    update = ""
    if changes:
        update = "SET " + ", ".join(f"#s{i} = :s{i}" for i in range(len(changes)))
    if remove:
        update += " REMOVE " + ", ".join(f"#r{i}" for i in range(len(remove)))
    if not update:
        return False
    vals = table.values(**{f"s{i}": v for i, v in enumerate(changes.values())}) if changes else None
    return table.try_update(pk, sk, update.strip(), condition="attribute_exists(PK)", values=vals, names=names)


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
    # the purge's indexes: the individual (GSI4), the numbers (GSI5: from, GSI7: to)
    for index, value in (("GSI4", fields.get("individual_id") and dials_of_pk(tenant_id, fields["individual_id"])),
                         ("GSI5", fields.get("from_number") and dials_number_pk(tenant_id, fields["from_number"])),
                         ("GSI7", fields.get("to_number") and dials_number_pk(tenant_id, fields["to_number"]))):  # fmt: skip
        if value:
            sets[f"{index}PK"], sets[f"{index}SK"] = value, fields["id"]
    names = {f"#f{i}": k for i, k in enumerate(sets)}
    values = {f"v{i}": v for i, v in enumerate(sets.values())}
    update = "SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(sets)))
    update += ", created_at = if_not_exists(created_at, :created), GSI3SK = if_not_exists(GSI3SK, :sort)"
    if fields.get("conference_id"):
        update += ", GSI6SK = if_not_exists(GSI6SK, :sort)"
    names["#r"] = "rank"
    return table.try_update(dial_pk(tenant_id, fields["id"]), DIAL_SK, update, condition="attribute_not_exists(PK) OR #r < :v_rank",
                            values=table.values(**values, created=fields["created_at"], sort=sort, v_rank=rank), names=names)  # fmt: skip


def dials_of_pk(tenant_id: str, individual_id: str) -> str:
    return f"TENANT#{tenant_id}#VDIAL#IND#{individual_id}"


def dials_number_pk(tenant_id: str, number: str) -> str:
    return f"TENANT#{tenant_id}#VDIAL#NUM#{number}"


def dials_of(tenant_id: str, individual_id: str) -> list[dict[str, Any]]:
    """Every dial log naming the individual (GSI4; the purge's)."""
    return table.query_all(key_condition="GSI4PK = :pk", expr_values=table.values(pk=dials_of_pk(tenant_id, individual_id)), index="GSI4")


def dials_with(tenant_id: str, number: str) -> list[dict[str, Any]]:
    """Every dial log from (GSI5) or to (GSI7) ``number`` (the purge's)."""
    pk = dials_number_pk(tenant_id, number)
    found = {i["PK"]: i for index in ("GSI5", "GSI7") for i in table.query_all(key_condition=f"{index}PK = :pk",
                                                                              expr_values=table.values(pk=pk), index=index)}  # fmt: skip
    return list(found.values())


def forget_in_dial(tenant_id: str, dial_id: str, remove: list[str]) -> bool:
    """REMOVE ``remove`` from the dial log; False when it is gone."""
    return _forget(dial_pk(tenant_id, dial_id), DIAL_SK, remove, {})


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
