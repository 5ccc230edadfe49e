"""The courier voice media in the single table and the body bucket (docs/data-model.md §6.32). Tenant-scoped keys;
every read is a GetItem or a Query, never a Scan.

- a recording: ``PK = TENANT#<t>#VREC#<RecordingSid>``, ``SK = VREC``, ``type = voice_recording`` (the id is Twilio's
  RecordingSid, so a repeated callback finds its item); listed by organization on the non-tallied generic index GSI3:
  ``GSI3PK = TENANT#<t>#VREC#ORG#<organization>``, ``GSI3SK = <created_at>#<sid>``; for the purge, by individual on
  GSI4 (``TENANT#<t>#VREC#IND#<individual>``) and by caller on GSI5 (``TENANT#<t>#VREC#NUM#<phone_number>``), both
  sorted ``<sid>``; the audio at ``voice-recordings/<t>/<sid>.mp3`` in the body bucket;
- a survey: ``PK = TENANT#<t>#VSURVEY#<id>``, ``SK = VSURVEY``, ``type = voice_survey``, its answers in the map
  ``answers`` (question index → answer, each written only if absent); listed by organization on GSI3:
  ``GSI3PK = TENANT#<t>#VSURVEY#ORG#<organization>``, ``GSI3SK = <created_at>#<id>``; for the purge, by individual on
  GSI4 (``TENANT#<t>#VSURVEY#IND#<individual>``) and by the number called on GSI5
  (``TENANT#<t>#VSURVEY#NUM#<spec phone-number>``), both sorted ``<id>``;
- synthesized speech: no item; the audio at ``tts/<t>/<sha256 of voice and text>.mp3`` (the same text and voice is
  synthesized once).

No SK here matches the table stream's filter for ``TallyFunction`` (``MSG``, ``HIST#…``, ``FWD#…``), and the purge
indexes' sort keys are ids, not times: none of these items is in a tallied list.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from parley.dal import table
from parley.dal.aws import client
from parley.settings import get_settings

REC_SK = "VREC"
SURVEY_SK = "VSURVEY"
INDEX = "GSI3"


# ── recordings ──


def recording_pk(tenant_id: str, sid: str) -> str:
    return f"TENANT#{tenant_id}#VREC#{sid}"


def recording_org_pk(tenant_id: str, organization_id: str) -> str:
    return f"TENANT#{tenant_id}#VREC#ORG#{organization_id}"


def recording_key(tenant_id: str, sid: str) -> str:
    return f"voice-recordings/{tenant_id}/{sid}.mp3"


def recordings_of_pk(tenant_id: str, individual_id: str) -> str:
    return f"TENANT#{tenant_id}#VREC#IND#{individual_id}"


def recordings_number_pk(tenant_id: str, number: str) -> str:
    return f"TENANT#{tenant_id}#VREC#NUM#{number}"


def _person_keys(fields: dict[str, Any], item_id: str, of: str, number: str | None, tenant_id: str, kind: str) -> dict[str, str]:
    """The purge's index keys of an item naming the individual ``of`` (GSI4) and the phone ``number`` (GSI5)."""
    out: dict[str, str] = {}
    if fields.get(of):
        out |= {"GSI4PK": f"TENANT#{tenant_id}#{kind}#IND#{fields[of]}", "GSI4SK": item_id}
    if number:
        out |= {"GSI5PK": f"TENANT#{tenant_id}#{kind}#NUM#{number}", "GSI5SK": item_id}
    return out


def _person_query(index: str, pk: str) -> list[dict[str, Any]]:
    return table.query_all(key_condition=f"{index}PK = :pk", expr_values=table.values(pk=pk), index=index)


def recordings_of(tenant_id: str, individual_id: str) -> list[dict[str, Any]]:
    """Every recording naming the individual (GSI4; the purge's)."""
    return _person_query("GSI4", recordings_of_pk(tenant_id, individual_id))


def recordings_with(tenant_id: str, number: str) -> list[dict[str, Any]]:
    """Every recording of a call from ``number`` (GSI5; the purge's)."""
    return _person_query("GSI5", recordings_number_pk(tenant_id, number))


def delete_recording(tenant_id: str, sid: str) -> bool:
    """Delete the recording's item; False when there was none."""
    try:
        table.ddb().delete_item(TableName=table.table_name(), Key=table.key(recording_pk(tenant_id, sid), REC_SK),
                                ConditionExpression="attribute_exists(PK)")  # fmt: skip
    except ClientError as err:
        if table.is_condition_failure(err):
            return False
        raise
    return True


def get_recording(tenant_id: str, sid: str, *, consistent: bool = False) -> dict[str, Any] | None:
    return table.get(recording_pk(tenant_id, sid), REC_SK, consistent=consistent)


def upsert_recording(tenant_id: str, sid: str, *, created: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    """Create the recording's item if absent (``created``: set only then) and set ``fields`` (``None`` left out).
    A ``completed`` item never goes back to ``inprogress`` (``state`` in ``fields`` is written only forward)."""
    names: dict[str, str] = {}
    vals: dict[str, Any] = {}
    sets: list[str] = []
    fields = {**fields, **_person_keys(fields, sid, "individual_id", fields.get("phone_number"), tenant_id, "VREC")}
    for n, (k, v) in enumerate(created.items()):
        names[f"#c{n}"] = k
        vals[f":c{n}"] = v
        sets.append(f"#c{n} = if_not_exists(#c{n}, :c{n})")
    for n, (k, v) in enumerate((k, v) for k, v in fields.items() if v is not None and k != "state"):
        names[f"#f{n}"] = k
        vals[f":f{n}"] = v
        sets.append(f"#f{n} = :f{n}")
    state = fields.get("state")
    if state == "completed":
        sets.append("#st = :done")
        vals[":done"] = "completed"
    else:
        sets.append("#st = if_not_exists(#st, :prog)")
        vals[":prog"] = "inprogress"
    names["#st"] = "state"
    out = table.ddb().update_item(
        TableName=table.table_name(),
        Key=table.key(recording_pk(tenant_id, sid), REC_SK),
        UpdateExpression="SET " + ", ".join(sets),
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=table.values(**{k[1:]: v for k, v in vals.items()}),
        ReturnValues="ALL_NEW",
    )
    return table.unmarshal(out["Attributes"])


def count_download(tenant_id: str, sid: str, now: str) -> dict[str, Any] | None:
    """One more download of an existing recording (ADD): the item after, or None when there is none."""
    try:
        out = table.ddb().update_item(
            TableName=table.table_name(),
            Key=table.key(recording_pk(tenant_id, sid), REC_SK),
            UpdateExpression="ADD download_count :one SET last_downloaded_at = :now",
            ConditionExpression="attribute_exists(PK)",
            ExpressionAttributeValues=table.values(one=1, now=now),
            ReturnValues="ALL_NEW",
        )
    except ClientError as err:
        if table.is_condition_failure(err):
            return None
        raise
    return table.unmarshal(out["Attributes"])


def recording_page(
    tenant_id: str,
    organization_id: str,
    *,
    individual_id: str | None,
    setting_id: str | None,
    states: list[str] | None,
    offset: int,
    limit: int,
) -> tuple[list[dict[str, Any]], int]:
    """The organization's recordings, newest first (a Query on GSI3, the filters applied to it)."""
    params: dict[str, Any] = {
        "IndexName": INDEX,
        "KeyConditionExpression": "GSI3PK = :pk",
        "ExpressionAttributeValues": table.values(pk=recording_org_pk(tenant_id, organization_id)),
        "ScanIndexForward": False,
    }
    conditions, names = [], {}
    if individual_id:
        conditions.append("individual_id = :ind")
        params["ExpressionAttributeValues"] |= table.values(ind=individual_id)
    if setting_id:
        conditions.append("setting_id = :set")
        params["ExpressionAttributeValues"] |= table.values(set=setting_id)
    if states:
        names["#st"] = "state"
        marks = []
        for n, s in enumerate(states):
            marks.append(f":s{n}")
            params["ExpressionAttributeValues"] |= table.values(**{f"s{n}": s})
        conditions.append(f"#st IN ({', '.join(marks)})")
    if conditions:
        params["FilterExpression"] = " AND ".join(conditions)
    if names:
        params["ExpressionAttributeNames"] = names
    return table.offset_page(offset, limit, **params)


# ── surveys ──


def survey_pk(tenant_id: str, survey_id: str) -> str:
    return f"TENANT#{tenant_id}#VSURVEY#{survey_id}"


def survey_org_pk(tenant_id: str, organization_id: str) -> str:
    return f"TENANT#{tenant_id}#VSURVEY#ORG#{organization_id}"


def put_survey(tenant_id: str, survey_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    item = {
        "PK": survey_pk(tenant_id, survey_id),
        "SK": SURVEY_SK,
        "type": "voice_survey",
        "tenant_id": tenant_id,
        "id": survey_id,
        "GSI3PK": survey_org_pk(tenant_id, fields["organization_id"]),
        "GSI3SK": f"{fields['created_at']}#{survey_id}",
        "answers": {},
        **_person_keys(fields, survey_id, "individual_id", (fields.get("spec") or {}).get("phone-number"), tenant_id, "VSURVEY"),
        **{k: v for k, v in fields.items() if v is not None},
    }
    table.put_item(item, condition="attribute_not_exists(PK)")
    return item


def surveys_of(tenant_id: str, individual_id: str) -> list[dict[str, Any]]:
    """Every survey of the individual (GSI4; the purge's)."""
    return _person_query("GSI4", f"TENANT#{tenant_id}#VSURVEY#IND#{individual_id}")


def surveys_with(tenant_id: str, number: str) -> list[dict[str, Any]]:
    """Every survey that called ``number`` (GSI5; the purge's)."""
    return _person_query("GSI5", f"TENANT#{tenant_id}#VSURVEY#NUM#{number}")


def forget_in_survey(tenant_id: str, survey_id: str, changes: dict[str, Any], remove: list[str]) -> bool:
    """SET ``changes`` and REMOVE ``remove`` on the survey; False when it is gone."""
    names = {f"#s{i}": k for i, k in enumerate(changes)} | {f"#r{i}": k for i, k in enumerate(remove)}
    update = "SET " + ", ".join(f"#s{i} = :s{i}" for i in range(len(changes)))
    if remove:
        update += " REMOVE " + ", ".join(f"#r{i}" for i in range(len(remove)))
    return table.try_update(survey_pk(tenant_id, survey_id), SURVEY_SK, update, condition="attribute_exists(PK)",
                            values=table.values(**{f"s{i}": v for i, v in enumerate(changes.values())}), names=names)  # fmt: skip


def get_survey(tenant_id: str, survey_id: str, *, consistent: bool = False) -> dict[str, Any] | None:
    return table.get(survey_pk(tenant_id, survey_id), SURVEY_SK, consistent=consistent)


def move_survey(
    tenant_id: str, survey_id: str, *, to: str, from_states: tuple[str, ...], now: str, extra: dict[str, Any] | None = None
) -> bool:
    """``state`` to ``to`` when it is one of ``from_states`` (forward only), with ``extra`` fields; False otherwise."""
    names = {"#st": "state"}
    vals: dict[str, Any] = {"to": to, "now": now}
    sets = ["#st = :to", "last_modified_at = :now"]
    for n, (k, v) in enumerate((extra or {}).items()):
        names[f"#x{n}"] = k
        vals[f"x{n}"] = v
        sets.append(f"#x{n} = :x{n}")
    marks = []
    for n, s in enumerate(from_states):
        vals[f"f{n}"] = s
        marks.append(f":f{n}")
    try:
        table.ddb().update_item(
            TableName=table.table_name(),
            Key=table.key(survey_pk(tenant_id, survey_id), SURVEY_SK),
            UpdateExpression="SET " + ", ".join(sets),
            ConditionExpression=f"attribute_exists(PK) AND #st IN ({', '.join(marks)})",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=table.values(**vals),
        )
    except ClientError as err:
        if table.is_condition_failure(err):
            return False
        raise
    return True


def put_answer(tenant_id: str, survey_id: str, question: int, answer: dict[str, Any], now: str) -> bool:
    """The answer to question ``question``, only if it has none (True when written)."""
    try:
        table.ddb().update_item(
            TableName=table.table_name(),
            Key=table.key(survey_pk(tenant_id, survey_id), SURVEY_SK),
            UpdateExpression="SET answers.#q = :a, last_modified_at = :now",
            ConditionExpression="attribute_exists(PK) AND attribute_not_exists(answers.#q)",
            ExpressionAttributeNames={"#q": str(question)},
            ExpressionAttributeValues=table.values(a=answer, now=now),
        )
    except ClientError as err:
        if table.is_condition_failure(err):
            return False
        raise
    return True


def survey_page(
    tenant_id: str, organization_id: str, *, individual_id: str | None, states: list[str] | None, offset: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    params: dict[str, Any] = {
        "IndexName": INDEX,
        "KeyConditionExpression": "GSI3PK = :pk",
        "ExpressionAttributeValues": table.values(pk=survey_org_pk(tenant_id, organization_id)),
        "ScanIndexForward": False,
    }
    conditions = []
    if individual_id:
        conditions.append("individual_id = :ind")
        params["ExpressionAttributeValues"] |= table.values(ind=individual_id)
    if states:
        marks = []
        for n, s in enumerate(states):
            marks.append(f":s{n}")
            params["ExpressionAttributeValues"] |= table.values(**{f"s{n}": s})
        conditions.append(f"#st IN ({', '.join(marks)})")
        params["ExpressionAttributeNames"] = {"#st": "state"}
    if conditions:
        params["FilterExpression"] = " AND ".join(conditions)
    return table.offset_page(offset, limit, **params)


# ── audio in the body bucket ──


def _s3() -> Any:
    return client("s3")


def put_audio(key: str, data: bytes, content_type: str) -> None:
    _s3().put_object(Bucket=get_settings().body_bucket, Key=key, Body=data, ContentType=content_type)


def delete_audio(key: str) -> bool:
    """Delete the audio object (True when it was there)."""
    if not audio_exists(key):
        return False
    _s3().delete_object(Bucket=get_settings().body_bucket, Key=key)
    return True


def audio_exists(key: str) -> bool:
    from parley.dal import uploads

    return uploads.head(key) is not None


def audio_link(key: str, *, filename: str, content_type: str, expires_in: int) -> str:
    from parley.dal import uploads

    return uploads.presigned_get(key, filename=filename, content_type=content_type, expires_in=expires_in)
