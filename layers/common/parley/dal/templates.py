"""The CRM's email templates: one item collection per tenant, and the count that caps its size.

- ``PK = TENANT#<t>#TEMPLATES``, ``SK = TPL#<id>``: ``type = template``, ``id``, ``tenant_id``, ``name``,
  ``subject``, ``body_html``?, ``body_text``?, ``category``? (the CRM's ``type``), ``variables`` (sorted
  placeholder names), ``created_at``, ``created_by``?, ``updated_at``?, ``updated_by``?
- same PK, ``SK = COUNT``: ``type = template_counter``, ``n`` = how many templates exist. Every create
  and delete changes it in the same transaction as the template, so concurrent creates cannot pass the cap.

A tenant's templates are one Query (``begins_with(SK, "TPL#")``), a template one GetItem. Bodies stay
in the item (the template functions have no S3 access): the domain caps their stored size.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from parley.dal import keys, table

COUNT_SK = "COUNT"  # on template_pk: not a TPL# key, so the list Query never reads it
_SUMMARY = ("id", "tenant_id", "name", "subject", "category", "created_at", "created_by", "updated_at", "updated_by")
_REPLACED = ("name", "subject", "body_html", "body_text", "category", "variables", "updated_at", "updated_by")


def create(item: dict[str, Any], *, limit: int) -> bool:
    """Store a new template (``item`` has ``tenant_id``, ``id`` and the fields) unless the tenant
    already has ``limit`` templates: False then, and nothing is written."""
    pk = keys.template_pk(item["tenant_id"])
    # Only the counter's condition (op 0) means "full"; a template id taken already is an error.
    return table.try_transact(
        [
            {
                "Update": {
                    "Key": table.key(pk, COUNT_SK),
                    "UpdateExpression": "SET #t = :type ADD #n :one",
                    "ConditionExpression": "attribute_not_exists(#n) OR #n < :limit",
                    "ExpressionAttributeNames": {"#t": "type", "#n": "n"},
                    "ExpressionAttributeValues": table.values(type="template_counter", one=1, limit=limit),
                }
            },
            {
                "Put": {
                    "Item": table.marshal({"PK": pk, "SK": keys.template_sk(item["id"]), "type": "template", **item}),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            },
        ],
        decisive=(0,),
    )


def get(tenant_id: str, template_id: str) -> dict[str, Any] | None:
    return table.get(keys.template_pk(tenant_id), keys.template_sk(template_id))


def summaries(tenant_id: str) -> list[dict[str, Any]]:
    """Every template of the tenant without its bodies and variables (a projection: the list stays small)."""
    names = {f"#a{i}": attr for i, attr in enumerate(_SUMMARY)}
    return table.query_raw(
        KeyConditionExpression="PK = :pk AND begins_with(SK, :tpl)",
        ExpressionAttributeValues=table.values(pk=keys.template_pk(tenant_id), tpl=keys.template_sk("")),
        ProjectionExpression=", ".join(names),
        ExpressionAttributeNames=names,
    )


def replace(tenant_id: str, template_id: str, fields: dict[str, Any]) -> dict[str, Any] | None:
    """Overwrite a template's fields (a ``None`` removes the attribute); ``id``, ``created_*`` stay.
    None when there is no such template (nothing is written then)."""
    sets = {k: fields.get(k) for k in _REPLACED if fields.get(k) is not None}
    removes = [k for k in _REPLACED if fields.get(k) is None]
    names = {f"#a{i}": k for i, k in enumerate(_REPLACED)}
    alias = {k: n for n, k in names.items()}
    expr = "SET " + ", ".join(f"{alias[k]} = :v{i}" for i, k in enumerate(sets))
    if removes:
        expr += " REMOVE " + ", ".join(alias[k] for k in removes)
    try:
        out = table.ddb().update_item(
            TableName=table.table_name(),
            Key=table.key(keys.template_pk(tenant_id), keys.template_sk(template_id)),
            UpdateExpression=expr,
            ConditionExpression="attribute_exists(PK)",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=table.values(**{f"v{i}": v for i, v in enumerate(sets.values())}),
            ReturnValues="ALL_NEW",
        )
    except ClientError as err:
        if table.is_condition_failure(err):
            return None
        raise
    return table.unmarshal(out["Attributes"])


def delete(tenant_id: str, template_id: str) -> bool:
    """Delete a template and count it out; False when there is no such template (nothing changes)."""
    pk = keys.template_pk(tenant_id)
    # Only the template's own condition (op 0) means "no such template".
    return table.try_transact(
        [
            {"Delete": {"Key": table.key(pk, keys.template_sk(template_id)), "ConditionExpression": "attribute_exists(PK)"}},
            {
                "Update": {
                    "Key": table.key(pk, COUNT_SK),
                    "UpdateExpression": "SET #t = :type ADD #n :minus",
                    "ExpressionAttributeNames": {"#t": "type", "#n": "n"},
                    "ExpressionAttributeValues": table.values(type="template_counter", minus=-1),
                }
            },
        ],
        decisive=(0,),
    )
