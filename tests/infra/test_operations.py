"""Guards on what an operator relies on (issue 14, docs/operations.md): every function's logs are kept for a set
time, every dead-letter queue and the other signals that matter raise an alarm that reaches the operator, every
bucket has lifecycle rules, the table has point-in-time recovery and TTL.

Read on the templates as SAM transforms them (what CloudFormation gets), like tests/infra/test_templates.py."""

from __future__ import annotations

import json
import subprocess
from functools import cache
from typing import Any

import pytest
from cfnlint.decode import decode

from helpers import ROOT
from parley_local import families

SAM_PYTHON = ROOT / ".venv-sam" / "bin" / "python"
ROOT_TEMPLATE = "template.yaml"
TOPIC = {"Fn::If": ["CreateAlarmTopic", {"Ref": "AlarmTopic"}, {"Ref": "AlarmTopicArn"}]}
DLQ_RETENTION_DAYS = 14


def _doc(path: str) -> dict[str, Any]:
    out, matches = decode(str(ROOT / path))
    assert out is not None, matches
    return out


FAMILIES = [f"functions/{family}/template.yaml" for family in families.names()]
PATHS = [ROOT_TEMPLATE, *FAMILIES]


@cache
def _transformed() -> dict[str, Any]:
    if not SAM_PYTHON.exists():
        pytest.fail("the SAM CLI venv is missing: run `make install-sam` (make test does)")
    out = subprocess.run([str(SAM_PYTHON), str(ROOT / "tests/infra/sam_transform.py"), *PATHS], cwd=ROOT, capture_output=True,
                         text=True, check=True)  # fmt: skip
    return json.loads(out.stdout)


def resources(path: str) -> dict[str, Any]:
    result = _transformed()[path]
    assert "error" not in result, result.get("error")
    return result["resources"]


def of_type(path: str, rtype: str) -> dict[str, Any]:
    return {k: r for k, r in resources(path).items() if r["Type"] == rtype}


def _alarm_metrics(alarm: dict[str, Any]) -> list[dict[str, Any]]:
    """An alarm's metrics as (namespace, name, dimensions) dicts, whether it has one metric or a math/query list."""
    props = alarm["Properties"]
    if "MetricName" in props:
        return [{"Namespace": props["Namespace"], "MetricName": props["MetricName"], "Dimensions": props.get("Dimensions", [])}]
    return [m["MetricStat"]["Metric"] | {"Dimensions": m["MetricStat"]["Metric"].get("Dimensions", [])}
            for m in props["Metrics"] if "MetricStat" in m]  # fmt: skip


def _dimension(metric: dict[str, Any], name: str) -> Any:
    return next((d["Value"] for d in metric["Dimensions"] if d["Name"] == name), None)


# ───────────── logs ─────────────
@pytest.mark.parametrize("path", PATHS)
def test_every_function_writes_to_a_log_group_of_its_own_kept_log_retention_days(path):
    res = resources(path)
    functions = of_type(path, "AWS::Lambda::Function")
    groups = of_type(path, "AWS::Logs::LogGroup")
    assert functions
    used = []
    for logical_id, fn in functions.items():
        ref = (fn["Properties"].get("LoggingConfig") or {}).get("LogGroup")
        assert isinstance(ref, dict) and set(ref) == {"Ref"}, f"{logical_id}: no LoggingConfig.LogGroup"
        group = res[ref["Ref"]]
        assert group["Type"] == "AWS::Logs::LogGroup", logical_id
        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}, logical_id
        assert group["Properties"]["LogGroupName"] == {"Fn::Sub": f"/aws/lambda/${{AWS::StackName}}/{logical_id}"}
        used.append(ref["Ref"])
    assert sorted(used) == sorted(groups), "one log group per function, none left over"


def test_the_root_passes_its_log_retention_to_every_family():
    root = _doc(ROOT_TEMPLATE)
    retention = root["Parameters"]["LogRetentionDays"]
    assert retention["Default"] in retention["AllowedValues"]
    # CloudWatch Logs' own list of retention periods
    assert set(retention["AllowedValues"]) <= {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
                                               2922, 3288, 3653}  # fmt: skip
    for stack in of_type(ROOT_TEMPLATE, "AWS::CloudFormation::Stack").values():
        assert stack["Properties"]["Parameters"]["LogRetentionDays"] == {"Ref": "LogRetentionDays"}


# ───────────── alarms ─────────────
def _dead_letter_queues() -> dict[str, str]:
    """Every queue something dead-letters into → what: the redrive policies' targets, the event sources' on-failure
    destinations."""
    found: dict[str, str] = {}
    for logical_id, queue in of_type(ROOT_TEMPLATE, "AWS::SQS::Queue").items():
        policy = queue["Properties"].get("RedrivePolicy")
        if policy:
            found[policy["deadLetterTargetArn"]["Fn::GetAtt"][0]] = f"redrive policy of {logical_id}"
    for logical_id, mapping in of_type(ROOT_TEMPLATE, "AWS::Lambda::EventSourceMapping").items():
        destination = ((mapping["Properties"].get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
        if destination:
            found[destination["Fn::GetAtt"][0]] = f"on-failure destination of {logical_id}"
    return found


def test_every_dead_letter_queue_alarms_on_its_depth_and_on_its_oldest_message():
    dlqs = _dead_letter_queues()
    assert set(dlqs) == {
        "SendDLQ",
        "SesEventsDLQ",
        "InboundMailDLQ",
        "ProviderEventsDLQ",
        "DirectoryEventsDLQ",
        "PurgeDLQ",
        "TallyDLQ",
        "MulticastDLQ",
        "TextCallbackDLQ",
        "ChannelEventsDLQ",
        "AutomationDLQ",
        "ThumbnailsDLQ",
    }
    watched: dict[str, dict[str, float]] = {}
    for alarm in of_type(ROOT_TEMPLATE, "AWS::CloudWatch::Alarm").values():
        for metric in _alarm_metrics(alarm):
            queue = _dimension(metric, "QueueName")
            if metric["Namespace"] == "AWS/SQS" and queue:
                assert queue["Fn::GetAtt"][1] == "QueueName"
                assert alarm["Properties"]["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
                watched.setdefault(queue["Fn::GetAtt"][0], {})[metric["MetricName"]] = alarm["Properties"]["Threshold"]
    for dlq, what in dlqs.items():
        assert watched.get(dlq, {}).get("ApproximateNumberOfMessagesVisible") == 1, f"{dlq} ({what}): no depth alarm"
        age = watched[dlq].get("ApproximateAgeOfOldestMessage")
        assert age and age < DLQ_RETENTION_DAYS * 86400, f"{dlq}: no age alarm before SQS drops its messages"
        retention = resources(ROOT_TEMPLATE)[dlq]["Properties"]["MessageRetentionPeriod"]
        assert retention == DLQ_RETENTION_DAYS * 86400, dlq


@pytest.mark.parametrize("path", PATHS)
def test_every_alarm_notifies_the_operators_topic_on_alarm_and_on_ok(path):
    alarms = of_type(path, "AWS::CloudWatch::Alarm")
    assert alarms
    topic = TOPIC if path == ROOT_TEMPLATE else {"Ref": "AlarmTopicArn"}
    for logical_id, alarm in alarms.items():
        props = alarm["Properties"]
        assert props["AlarmActions"] == [topic], logical_id
        assert props["OKActions"] == [topic], logical_id
        assert props["AlarmDescription"], logical_id
        assert props["TreatMissingData"] == "notBreaching", logical_id
        assert props["AlarmName"]["Fn::Sub"].startswith("${AWS::StackName}-"), logical_id


def test_the_alarm_topic_is_the_parameter_or_one_the_stack_makes_and_every_family_gets_it():
    root = _doc(ROOT_TEMPLATE)
    assert root["Parameters"]["AlarmTopicArn"]["Default"] == ""
    assert root["Conditions"]["CreateAlarmTopic"] == {"Fn::Equals": [{"Ref": "AlarmTopicArn"}, ""]}
    assert root["Resources"]["AlarmTopic"]["Condition"] == "CreateAlarmTopic"
    assert root["Outputs"]["AlarmTopicArn"]["Value"] == TOPIC
    for stack in of_type(ROOT_TEMPLATE, "AWS::CloudFormation::Stack").values():
        assert stack["Properties"]["Parameters"]["AlarmTopicArn"] == TOPIC


@pytest.mark.parametrize("path", FAMILIES)
def test_each_api_family_alarms_on_the_5xx_share_of_its_own_rest_api(path):
    (api,) = of_type(path, "AWS::ApiGateway::RestApi").values()
    # API Gateway's metrics name a REST API by its name: SAM's title (the stack's name), unless a Name is given
    api_name = api["Properties"].get("Name") or api["Properties"]["Body"]["info"]["title"]
    (alarm,) = [a for a in of_type(path, "AWS::CloudWatch::Alarm").values()
                if any(m["Namespace"] == "AWS/ApiGateway" for m in _alarm_metrics(a))]  # fmt: skip
    metrics = {m["MetricName"]: m for m in _alarm_metrics(alarm)}
    assert set(metrics) == {"5XXError", "Count"}
    for m in metrics.values():
        assert _dimension(m, "ApiName") == api_name
        assert _dimension(m, "Stage") == {"Ref": "Stage"}
    props = alarm["Properties"]
    (rate,) = [m for m in props["Metrics"] if m.get("ReturnData")]
    assert rate["Expression"] == "IF(requests >= 10, errors / requests, 0)"
    assert props["Threshold"] == 0.05


def _root_alarms() -> dict[str, dict[str, Any]]:
    return {k: a["Properties"] for k, a in of_type(ROOT_TEMPLATE, "AWS::CloudWatch::Alarm").items()}


def test_dispatcher_errors_and_throttles_alarm():
    alarms = _root_alarms()
    errors = alarms["DispatcherErrorsAlarm"]
    assert (errors["Namespace"], errors["MetricName"]) == ("AWS/Lambda", "Errors")
    assert errors["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": "DispatcherFunction"}}]
    throttles = alarms["LambdaThrottlesAlarm"]
    assert (throttles["Namespace"], throttles["MetricName"], throttles.get("Dimensions")) == ("AWS/Lambda", "Throttles", None)
    table = alarms["TableThrottlesAlarm"]
    metrics = {m["MetricStat"]["Metric"]["MetricName"]: m["MetricStat"]["Metric"] for m in table["Metrics"] if "MetricStat" in m}
    assert set(metrics) == {"ReadThrottleEvents", "WriteThrottleEvents"}
    assert all(_dimension(m | {"Dimensions": m["Dimensions"]}, "TableName") == {"Ref": "Table"} for m in metrics.values())


def test_the_provider_failure_rate_alarm_reads_what_the_dispatcher_emits_per_tenant():
    from parley import metrics

    (query,) = [m["Expression"] for m in _root_alarms()["ProviderFailureRateAlarm"]["Metrics"]]
    # a metrics query of the alarm, not SQL run by the code
    expected = f"SELECT AVG({metrics.PROVIDER_CALL_FAILED}) FROM SCHEMA(Parley, service, {metrics.TENANT_DIMENSION}) "  # noqa: S608
    assert query.startswith(expected)
    assert f"GROUP BY {metrics.TENANT_DIMENSION}" in query
    assert "WHERE service = 'dispatcher'" in query


def test_ses_reputation_alarms_fire_before_ses_reviews_the_account():
    alarms = _root_alarms()
    bounce, complaint = alarms["SesBounceRateAlarm"], alarms["SesComplaintRateAlarm"]
    assert (bounce["Namespace"], bounce["MetricName"]) == ("AWS/SES", "Reputation.BounceRate")
    assert (complaint["Namespace"], complaint["MetricName"]) == ("AWS/SES", "Reputation.ComplaintRate")
    assert 0 < bounce["Threshold"] < 0.05  # SES reviews an account at 5% bounces
    assert 0 < complaint["Threshold"] < 0.001  # and at 0.1% complaints


# ───────────── dead letters: the consumers know when a receive is the last ─────────────
def test_every_queue_consumer_knows_its_queues_max_receive_count():
    """A consumer records why a message failed on its last receive (``dlq show``): it must know which one that is."""
    res = resources(ROOT_TEMPLATE)
    checked = []
    for mapping in of_type(ROOT_TEMPLATE, "AWS::Lambda::EventSourceMapping").values():
        source = mapping["Properties"]["EventSourceArn"]
        if "Fn::GetAtt" not in source or res[source["Fn::GetAtt"][0]]["Type"] != "AWS::SQS::Queue":
            continue
        queue = res[source["Fn::GetAtt"][0]]
        function = mapping["Properties"]["FunctionName"]["Ref"].removesuffix("Aliaslive")
        env = res[function]["Properties"]["Environment"]["Variables"]
        declared = env.get("MAX_RECEIVE_COUNT", env.get("MAX_SEND_ATTEMPTS"))
        assert declared is not None, function
        assert int(declared) == queue["Properties"]["RedrivePolicy"]["maxReceiveCount"], function
        checked.append(function)
    assert sorted(checked) == [
        "AutomationFunction",
        "ChannelEventsFunction",
        "DirectoryEventsFunction",
        "DispatcherFunction",
        "InboundMailFunction",
        "MulticastFunction",
        "ProviderEventsFunction",
        "PurgeFunction",
        "SesEventsFunction",
        "TextCallbackFunction",
        "ThumbnailsFunction",
    ]


# ───────────── retention: buckets and the table ─────────────
def test_every_bucket_has_lifecycle_rules():
    buckets = of_type(ROOT_TEMPLATE, "AWS::S3::Bucket")
    assert set(buckets) == {"BodyBucket", "InboundMailBucket"}
    for logical_id, bucket in buckets.items():
        rules = bucket["Properties"]["LifecycleConfiguration"]["Rules"]
        assert rules and all(r["Status"] == "Enabled" for r in rules), logical_id
        assert any(r.get("AbortIncompleteMultipartUpload") for r in rules), logical_id
    (tiering,) = [r for r in buckets["BodyBucket"]["Properties"]["LifecycleConfiguration"]["Rules"] if r.get("Transitions")]
    # Intelligent-Tiering only tiers objects of 128 KiB or more: smaller bodies would pay a transition for nothing
    assert int(tiering["ObjectSizeGreaterThan"]) >= 128 * 1024
    # a body lives as long as its message: only unprocessed attachment uploads (uploads/) expire
    expiring = [r for r in buckets["BodyBucket"]["Properties"]["LifecycleConfiguration"]["Rules"] if r.get("ExpirationInDays")]
    assert [(r.get("Prefix"), r["ExpirationInDays"]) for r in expiring] == [("uploads/", 1)]
    (expiry,) = [r for r in buckets["InboundMailBucket"]["Properties"]["LifecycleConfiguration"]["Rules"] if r.get("ExpirationInDays")]
    assert expiry["ExpirationInDays"] == {"Ref": "InboundMailRetentionDays"}
    # a post whose processing failed must still be there when its job is redriven from the inbound DLQ
    assert _doc(ROOT_TEMPLATE)["Parameters"]["InboundMailRetentionDays"]["MinValue"] > DLQ_RETENTION_DAYS


def test_the_table_has_point_in_time_recovery_and_ttl_on_the_ttl_attribute():
    table = _doc(ROOT_TEMPLATE)["Resources"]["Table"]
    props = table["Properties"]
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}
    assert table["DeletionPolicy"] == "Retain"


def test_the_purge_may_read_and_delete_every_object_a_persons_data_is_kept_in():
    """PurgeFunction deletes S3 objects in the body bucket (message bodies, user-email attachments, the courier voice
    recordings' audio at ``voice-recordings/<t>/<sid>.mp3``, looked for with HeadObject first: GetObject, and
    ListBucket for a 404 rather than a 403 on a missing one) and in the inbound-mail bucket, and knows the body
    bucket's name (the Globals' BODY_BUCKET)."""
    from parley.dal import voice_media

    assert voice_media.recording_key("t", "RE1").startswith("voice-recordings/t/")  # the recordings live in the body bucket
    role = resources(ROOT_TEMPLATE)["PurgeFunctionRole"]
    statements = [s for p in role["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]]
    for bucket in ("BodyBucket", "InboundMailBucket"):
        granted = set()
        for s in statements:
            subs = [r["Fn::Sub"] for r in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]]) if "Fn::Sub" in r]
            if s["Effect"] == "Allow" and any(sub[0].endswith(":s3:::${bucketName}/*") and sub[1] == {"bucketName": {"Ref": bucket}}
                                              for sub in subs):  # fmt: skip
                granted |= set(s["Action"])
        assert {"s3:DeleteObject", "s3:GetObject", "s3:ListBucket"} <= granted, bucket
    # and reads the text accounts' Twilio credentials, to delete a purged person's recordings at Twilio too
    secrets = [s for s in statements if "secretsmanager:GetSecretValue" in json.dumps(s.get("Action"))]
    assert any(":secret:parley/texting/*" in json.dumps(s["Resource"]) for s in secrets)
    env = _doc(ROOT_TEMPLATE)["Globals"]["Function"]["Environment"]["Variables"]
    assert env["BODY_BUCKET"] == {"Ref": "BodyBucket"}
    assert "BODY_BUCKET" not in _doc(ROOT_TEMPLATE)["Resources"]["PurgeFunction"]["Properties"]["Environment"]["Variables"]
