"""messaging-plugins in the single table (docs/data-model.md §6.26): every read a GetItem or a Query, never a Scan.

- plugin ``PK = TENANT#<t>#PLUGIN#<id>``, ``SK = PLUGIN``: ``{type: "messaging_plugin", tenant_id, id,
  organization_id, name, plugin_type, args, secret?, enabled, created_at, created_by?, last_modified_at,
  last_modified_by?}``; listed by organization on GSI3 (``GSI3PK = TENANT#<t>#PLUGINS#ORG#<org>``,
  ``GSI3SK = <created_at>#<id>``: creation order). A webhook's ``secret`` is kept out of ``args`` (never answered).
- name claim ``PK = TENANT#<t>#PLUGINNAME#<org>#<name>``, ``SK = PLUGINNAME``: ``{plugin_id}`` — a name is unique
  in its organization (written with the plugin in one transaction, moved in one on a rename); ``filter[name]`` is
  one GetItem of it.
"""

from __future__ import annotations

from typing import Any

from parley.dal import table

ITEM_TYPE = "messaging_plugin"
SK = "PLUGIN"
NAME_SK = "PLUGINNAME"


def pk(tenant_id: str, plugin_id: str) -> str:
    return f"TENANT#{tenant_id}#PLUGIN#{plugin_id}"


def org_pk(tenant_id: str, organization_id: str) -> str:
    return f"TENANT#{tenant_id}#PLUGINS#ORG#{organization_id}"


def name_pk(tenant_id: str, organization_id: str, name: str) -> str:
    return f"TENANT#{tenant_id}#PLUGINNAME#{organization_id}#{name}"


def _name_put(tenant_id: str, organization_id: str, name: str, plugin_id: str) -> dict[str, Any]:
    item = {"PK": name_pk(tenant_id, organization_id, name), "SK": NAME_SK, "type": "messaging_plugin_name", "tenant_id": tenant_id,
            "plugin_id": plugin_id}  # fmt: skip
    return {"Put": {"Item": table.marshal(item), "ConditionExpression": "attribute_not_exists(PK)"}}


def create(item: dict[str, Any]) -> bool:
    """Store a new plugin and its name claim in one transaction; False (nothing written) when the organization has a
    plugin of that name."""
    t, org = item["tenant_id"], item["organization_id"]
    stored = {
        **item,
        "PK": pk(t, item["id"]),
        "SK": SK,
        "type": ITEM_TYPE,
        "GSI3PK": org_pk(t, org),
        "GSI3SK": f"{item['created_at']}#{item['id']}",
    }
    return table.try_transact(
        [
            _name_put(t, org, item["name"], item["id"]),
            {"Put": {"Item": table.marshal(stored), "ConditionExpression": "attribute_not_exists(PK)"}},
        ],
        decisive=[0],
    )


def get(tenant_id: str, plugin_id: str, *, consistent: bool = False) -> dict[str, Any] | None:
    return table.get(pk(tenant_id, plugin_id), SK, consistent=consistent)


def by_name(tenant_id: str, organization_id: str, name: str) -> dict[str, Any] | None:
    """The organization's plugin of that name (its name claim, then the plugin)."""
    claim = table.get(name_pk(tenant_id, organization_id, name), NAME_SK)
    return get(tenant_id, claim["plugin_id"]) if claim else None


def page_of_org(
    tenant_id: str, organization_id: str, *, plugin_type: str | None, offset: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    """Items ``offset``..``offset+limit`` of the organization's plugins in creation order (of ``plugin_type`` only,
    when given: a filter over the organization's few plugins), and how many match."""
    params: dict[str, Any] = {"IndexName": "GSI3", "KeyConditionExpression": "GSI3PK = :pk"}
    values: dict[str, Any] = {"pk": org_pk(tenant_id, organization_id)}
    if plugin_type is not None:
        params["FilterExpression"] = "plugin_type = :ty"
        values["ty"] = plugin_type
    params["ExpressionAttributeValues"] = table.values(**values)
    return table.offset_page(offset, limit, **params)


def update(tenant_id: str, current: dict[str, Any], changes: dict[str, Any], *, remove: tuple[str, ...] = ()) -> bool:
    """Write ``changes`` (attribute → value) to the plugin, conditional on its ``last_modified_at`` being the one read
    (``current``); a new ``name`` moves its claim in the same transaction. False when the plugin changed meanwhile or
    the new name is taken (nothing written)."""
    names = {f"#a{i}": k for i, k in enumerate(changes)}
    values = {f"v{i}": v for i, v in enumerate(changes.values())}
    expr = "SET " + ", ".join(f"#a{i} = :v{i}" for i in range(len(changes)))
    if remove:
        names.update({f"#r{i}": k for i, k in enumerate(remove)})
        expr += " REMOVE " + ", ".join(f"#r{i}" for i in range(len(remove)))
    values["seen"] = current["last_modified_at"]
    update_op = {
        "Update": {
            "Key": table.key(pk(tenant_id, current["id"]), SK),
            "UpdateExpression": expr,
            "ConditionExpression": "attribute_exists(PK) AND last_modified_at = :seen",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": table.values(**values),
        }
    }
    ops = [update_op]
    new_name = changes.get("name")
    if new_name is not None and new_name != current["name"]:
        org = current["organization_id"]
        ops.append(_name_put(tenant_id, org, new_name, current["id"]))
        ops.append(
            {
                "Delete": {
                    "Key": table.key(name_pk(tenant_id, org, current["name"]), NAME_SK),
                    "ConditionExpression": "plugin_id = :id",
                    "ExpressionAttributeValues": table.values(id=current["id"]),
                }
            }
        )
    return table.try_transact(ops)


def set_enabled(tenant_id: str, plugin_id: str, enabled: bool, *, at: str, by: str | None) -> bool:
    values: dict[str, Any] = {"e": enabled, "at": at}
    expr = "SET enabled = :e, last_modified_at = :at"
    if by is not None:
        expr += ", last_modified_by = :by"
        values["by"] = by
    return table.try_update(pk(tenant_id, plugin_id), SK, expr, condition="attribute_exists(PK)", values=table.values(**values))


def of_organization(tenant_id: str, organization_id: str) -> list[dict[str, Any]]:
    """Every plugin of the organization (GSI3), for the purge."""
    return table.query_all(key_condition="GSI3PK = :pk", expr_values=table.values(pk=org_pk(tenant_id, organization_id)), index="GSI3")


def unname(tenant_id: str, plugin_id: str, fields: list[str]) -> bool:
    """REMOVE the user fields (``created_by``, ``last_modified_by``) of a plugin."""
    return table.try_update(pk(tenant_id, plugin_id), SK, "REMOVE " + ", ".join(fields), condition="attribute_exists(PK)")
