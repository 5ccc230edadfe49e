"""Provision the declared resources in the emulator and collect functions, APIs and event sources."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from parley_local.streams import check_pattern
from parley_local.templates import (
    ACCOUNT,
    REGION,
    Authorizer,
    FunctionSpec,
    GatewayResponse,
    RecurringSchedule,
    RestApi,
    Route,
    SqsSource,
    StreamSource,
    Template,
    TemplateError,
    WebSocketApi,
    WebSocketRoute,
)

ROOT = Path(__file__).resolve().parents[2]

_PASSIVE = {  # declared, but nothing to create locally (IAM is not enforced by the emulator)
    "AWS::IAM::Role",
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::Lambda::Permission",
    "AWS::ApiGateway::GatewayResponse",
    "AWS::SQS::QueuePolicy",
    "AWS::S3::BucketPolicy",
    "AWS::Logs::LogGroup",
    "AWS::SNS::TopicPolicy",
    "AWS::CloudWatch::Alarm",  # no metrics locally: the alarms are checked on the templates (tests/infra)
}


class PublicRouting:
    """CloudFront's path matching: behaviors in order, case-sensitive; ``*`` is any characters (``/`` included), ``?``
    one character; no match → the default behavior's origin."""

    def __init__(self, behaviors: list[tuple[str, str]], default: str) -> None:
        self.behaviors = [(re.compile(_glob(pattern), re.DOTALL), origin) for pattern, origin in behaviors]
        self.default = default

    def origin(self, path: str) -> str:
        for pattern, origin in self.behaviors:
            if pattern.match(path):
                return origin
        return self.default


def _glob(pattern: str) -> str:
    return "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern) + r"\Z"


@dataclass
class Stack:
    """Everything the local gateway and workers need, resolved."""

    root: Template
    templates: list[Template] = field(default_factory=list)
    functions: dict[str, FunctionSpec] = field(default_factory=dict)  # by ARN
    apis: list[RestApi] = field(default_factory=list)
    websocket_apis: list[WebSocketApi] = field(default_factory=list)
    sqs_sources: list[SqsSource] = field(default_factory=list)
    stream_sources: list[StreamSource] = field(default_factory=list)
    queues: dict[str, str] = field(default_factory=dict)  # ARN → URL
    schedule_groups: list[str] = field(default_factory=list)
    recurring: list[RecurringSchedule] = field(default_factory=list)  # functions' ScheduleV2 events
    table_names: list[str] = field(default_factory=list)
    receipt_rules: list[dict[str, Any]] = field(default_factory=list)  # SES receipt rules (their S3 actions: where mail lands)
    # The public host's routing (a CloudFront distribution: docs/architecture.md §4.3): its path patterns in order, each
    # with its origin (a family's nested application), and the default origin. None: no distribution declared.
    public_routing: PublicRouting | None = None

    def function(self, key: str) -> FunctionSpec:
        """By ``<template>.<LogicalId>`` (e.g. ``root.DispatcherFunction``) or by logical id alone."""
        for fn in self.functions.values():
            if key in (fn.key, fn.logical_id):
                return fn
        raise KeyError(key)

    def by_arn(self, arn: str) -> FunctionSpec | None:
        """The function an ARN names, unqualified or qualified by an alias or version (``…:function:name:live``):
        there are no versions locally, every qualifier runs the function's code as the templates declare it."""
        if arn in self.functions:
            return self.functions[arn]
        unqualified, _, qualifier = arn.rpartition(":")
        return self.functions.get(unqualified) if qualifier and unqualified.count(":") == 6 else None

    def output(self, name: str) -> Any:
        return self.root.resolve(self.root.doc["Outputs"][name]["Value"])


_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNIT = {"minute": 60, "hour": 3600, "day": 86400}


def parse_rate(expression: str) -> int | None:
    """Seconds between the runs of a ``rate(N unit)`` expression (None for anything else)."""
    m = _RATE.match(expression.strip())
    return int(m.group(1)) * _UNIT[m.group(2).rstrip("s")] if m and int(m.group(1)) > 0 else None


class Provisioner:
    def __init__(
        self,
        endpoint_url: str | None,
        stack_name: str = "parley-local",
        root_template: Path | None = None,
        url_base: str = "http://127.0.0.1:3000",
        parameters: dict[str, str] | None = None,
    ) -> None:
        self.endpoint = endpoint_url
        self.parameters = dict(parameters or {})  # the root template's parameter overrides (as `sam deploy` takes them)
        self.url_base = url_base  # where the local gateway serves Function URLs (/_url/<LogicalId>/)
        self.stack_name = stack_name
        self.root_path = root_template or ROOT / "template.yaml"
        self._clients: dict[str, Any] = {}
        self.stack: Stack | None = None

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = boto3.client(
                service,
                endpoint_url=self.endpoint,
                region_name=REGION,
                aws_access_key_id="testing",
                aws_secret_access_key="testing",  # noqa: S106 (the emulator's dummy credentials)
            )
        return self._clients[service]

    # ── entry point ──
    def build(self) -> Stack:
        root = Template(self.root_path, "root", self.parameters, self._create, self.stack_name)
        self.stack = Stack(root=root)
        self._load(root)
        return self.stack

    def _load(self, tpl: Template) -> None:
        assert self.stack is not None
        self.stack.templates.append(tpl)
        for logical_id, res in list(tpl.resources.items()):
            if "Condition" in res and not tpl.condition(res["Condition"]):
                continue
            tpl.physical(logical_id)  # create everything declared, in dependency order
        for logical_id, res in list(tpl.resources.items()):
            if res["Type"] == "AWS::Serverless::Api":
                self.stack.apis.append(self._api(tpl, logical_id, res))
        for logical_id, res in list(tpl.resources.items()):
            if res["Type"] == "AWS::Serverless::Function":
                self._events(tpl, logical_id, res)
            if res["Type"] == "AWS::ApiGatewayV2::Api":
                self.stack.websocket_apis.append(self._websocket_api(tpl, logical_id))
            if res["Type"] == "AWS::ApiGateway::GatewayResponse":
                self._gateway_response(tpl, res)

    # ── resource creation ──
    def _create(self, tpl: Template, logical_id: str, res: dict[str, Any]) -> dict[str, str]:
        rtype = res["Type"]
        props = res.get("Properties") or {}
        name = tpl.physical_name(logical_id)
        if rtype == "AWS::DynamoDB::Table":
            return self._table(tpl, name, tpl.resolve(props))
        if rtype == "AWS::SQS::Queue":
            return self._queue(name, tpl.resolve(props))
        if rtype == "AWS::S3::Bucket":
            bucket = (tpl.resolve(props.get("BucketName")) or name).lower()
            self.client("s3").create_bucket(Bucket=bucket)
            if props.get("NotificationConfiguration"):
                self._bucket_notifications(bucket, tpl.resolve(props["NotificationConfiguration"]))
            return {"Ref": bucket, "Arn": f"arn:aws:s3:::{bucket}", "DomainName": f"{bucket}.s3.amazonaws.com"}
        if rtype == "AWS::SES::ReceiptRuleSet":
            rule_set = tpl.resolve(props.get("RuleSetName")) or name
            self.client("ses").create_receipt_rule_set(RuleSetName=rule_set)
            return {"Ref": rule_set}
        if rtype == "AWS::SES::ReceiptRule":
            return self._receipt_rule(tpl.resolve(props))
        if rtype == "AWS::Scheduler::ScheduleGroup":
            gname = tpl.resolve(props.get("Name")) or name
            self.client("scheduler").create_schedule_group(Name=gname)
            assert self.stack is not None
            self.stack.schedule_groups.append(gname)
            return {"Ref": gname, "Arn": f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule-group/{gname}"}
        if rtype == "AWS::Events::EventBus":
            bus = tpl.resolve(props.get("Name")) or name
            arn = self.client("events").create_event_bus(Name=bus)["EventBusArn"]
            return {"Ref": bus, "Arn": arn, "Name": bus}
        if rtype == "AWS::Events::Rule":
            return self._rule(name, tpl.resolve(props))
        if rtype == "AWS::SNS::Topic":
            topic = tpl.resolve(props.get("TopicName")) or name
            arn = self.client("sns").create_topic(Name=topic)["TopicArn"]
            return {"Ref": arn, "TopicArn": arn, "TopicName": topic}
        if rtype == "AWS::SNS::Subscription":
            p = tpl.resolve(props)
            attrs = {"RawMessageDelivery": str(bool(p.get("RawMessageDelivery", False))).lower()}
            sub = self.client("sns").subscribe(TopicArn=p["TopicArn"], Protocol=p["Protocol"], Endpoint=p["Endpoint"], Attributes=attrs)
            return {"Ref": sub["SubscriptionArn"], "Arn": sub["SubscriptionArn"]}
        if rtype == "AWS::SES::ConfigurationSet":
            cs_name = tpl.resolve(props.get("Name")) or name
            self.client("sesv2").create_configuration_set(ConfigurationSetName=cs_name)
            return {"Ref": cs_name}
        if rtype == "AWS::SES::ConfigurationSetEventDestination":
            return self._event_destination(tpl.resolve(props))
        if rtype == "AWS::IAM::Role":
            return {"Ref": name, "Arn": f"arn:aws:iam::{ACCOUNT}:role/{name}", "RoleId": tpl.fake_id(logical_id)}
        if rtype == "AWS::Serverless::LayerVersion":
            return {"Ref": f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:{name}:1", "_content": str(tpl.dir / props["ContentUri"])}
        if rtype == "AWS::Serverless::Function":
            return self._function(tpl, logical_id, name, props)
        if rtype == "AWS::Lambda::Url":  # SAM's generated <Function>Url (see Template.physical)
            function_id = res["_function"]
            tpl.physical(function_id)
            return {"FunctionUrl": f"{self.url_base}/_url/{function_id}/", "FunctionArn": tpl.physical(function_id)["Arn"]}
        if rtype == "AWS::Serverless::Api":
            return {"Ref": tpl.fake_id(logical_id), "RootResourceId": tpl.fake_id(logical_id + "/")}
        if rtype == "AWS::ApiGatewayV2::Api":
            if tpl.resolve(props.get("ProtocolType")) != "WEBSOCKET":
                raise TemplateError(f"{tpl.path}: {logical_id}: only WEBSOCKET APIs of ApiGatewayV2 are served locally")
            api_id = tpl.fake_id(logical_id)
            return {"Ref": api_id, "ApiId": api_id, "ApiEndpoint": f"wss://{api_id}.execute-api.{REGION}.amazonaws.com"}
        if rtype in ("AWS::ApiGatewayV2::Route", "AWS::ApiGatewayV2::Integration", "AWS::ApiGatewayV2::RouteResponse"):
            return {"Ref": tpl.fake_id(logical_id, 7)}  # read by _websocket_api once everything exists
        if rtype == "AWS::ApiGatewayV2::Stage":
            return {"Ref": str(tpl.resolve(props["StageName"]))}
        if rtype == "AWS::Serverless::Application":
            return self._application(tpl, logical_id, props)
        if rtype == "AWS::CloudFront::Distribution":
            return self._distribution(tpl, logical_id, tpl.resolve(props["DistributionConfig"]))
        if rtype in _PASSIVE:
            return {"Ref": name, "Arn": f"arn:aws:local:{REGION}:{ACCOUNT}:{name}"}
        raise TemplateError(f"{tpl.path}: {logical_id} has type {rtype}, which the local stack cannot create yet")

    def _distribution(self, tpl: Template, logical_id: str, cfg: dict[str, Any]) -> dict[str, str]:
        """The one public host: locally, the gateway itself, which routes a path as the distribution's behaviors do
        (first matching pattern, else the default) to the origin's family, so a path the distribution would send to
        another family's API gets that API's 404 here too. Each origin must be a nested application of this template."""
        assert self.stack is not None
        if tpl is not self.stack.root:
            raise TemplateError(f"{tpl.path}: {logical_id}: the local stack supports a distribution in the root template only")
        origins = {o["Id"] for o in cfg.get("Origins") or []}
        for origin in origins:
            if tpl.resources.get(origin, {}).get("Type") != "AWS::Serverless::Application":
                raise TemplateError(f"{tpl.path}: {logical_id}: origin {origin} is not a nested application of this template")
            tpl.physical(origin)  # the family exists before requests are routed to it
        behaviors = [(b["PathPattern"], b["TargetOriginId"]) for b in cfg.get("CacheBehaviors") or []]
        default = cfg["DefaultCacheBehavior"]["TargetOriginId"]
        for _, origin in [*behaviors, ("*", default)]:
            if origin not in origins:
                raise TemplateError(f"{tpl.path}: {logical_id}: a behavior targets {origin}, which is not one of its origins")
        self.stack.public_routing = PublicRouting(behaviors, default)
        host = self.url_base.split("://", 1)[-1]
        return {"Ref": tpl.fake_id(logical_id), "Id": tpl.fake_id(logical_id), "DomainName": host}

    def _bucket_notifications(self, bucket: str, cfg: dict[str, Any]) -> None:
        """A bucket's event notifications to SQS, as CloudFormation sets them (moto's S3 then sends them to the queue)."""
        queues = []
        for q in cfg.get("QueueConfigurations") or []:
            rules = ((q.get("Filter") or {}).get("S3Key") or {}).get("Rules") or []
            entry: dict[str, Any] = {"QueueArn": q["Queue"], "Events": [q["Event"]]}
            if rules:
                entry["Filter"] = {"Key": {"FilterRules": [{"Name": r["Name"], "Value": r["Value"]} for r in rules]}}
            queues.append(entry)
        if cfg.keys() - {"QueueConfigurations"}:
            raise TemplateError(f"bucket {bucket}: only QueueConfigurations notifications are supported locally")
        self.client("s3").put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={"QueueConfigurations": queues})

    def _event_destination(self, p: dict[str, Any]) -> dict[str, str]:
        """A configuration set's event destination, held by moto's SES (its v1 API's shape). moto publishes no event;
        the local mailbox simulator (``parley_local.ses_simulator``) reads it to publish what SES would."""
        d = p["EventDestination"]
        if d.keys() - {"Name", "Enabled", "MatchingEventTypes", "SnsDestination"}:
            raise TemplateError(f"event destination {d.get('Name')}: only SNS destinations are supported locally")
        destination = {"Name": d["Name"], "Enabled": bool(d.get("Enabled", False)), "MatchingEventTypes": d["MatchingEventTypes"]}
        if d.get("SnsDestination"):
            destination["SNSDestination"] = {"TopicARN": d["SnsDestination"]["TopicARN"]}
        self.client("ses").create_configuration_set_event_destination(
            ConfigurationSetName=p["ConfigurationSetName"], EventDestination=destination
        )
        return {"Ref": d["Name"]}

    def _receipt_rule(self, p: dict[str, Any]) -> dict[str, str]:
        """An SES receipt rule, held by moto (it never receives mail: tools put mail in the rule's bucket,
        ``parley_local.inbound``). The local stack also makes the rule set active, which is a deploy step on AWS."""
        rule = {k: v for k, v in p["Rule"].items() if v is not None}
        if isinstance(rule.get("Recipients"), str):
            rule["Recipients"] = [r for r in rule["Recipients"].split(",") if r]
        ses = self.client("ses")
        ses.create_receipt_rule(RuleSetName=p["RuleSetName"], Rule=rule)
        ses.set_active_receipt_rule_set(RuleSetName=p["RuleSetName"])
        assert self.stack is not None
        self.stack.receipt_rules.append(rule)
        return {"Ref": rule["Name"]}

    def _table(self, tpl: Template, name: str, p: dict[str, Any]) -> dict[str, str]:
        ddb = self.client("dynamodb")
        params: dict[str, Any] = {
            "TableName": p.get("TableName") or name,
            "AttributeDefinitions": p["AttributeDefinitions"],
            "KeySchema": p["KeySchema"],
            "BillingMode": p.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if p.get("GlobalSecondaryIndexes"):
            params["GlobalSecondaryIndexes"] = p["GlobalSecondaryIndexes"]
        if p.get("StreamSpecification"):
            params["StreamSpecification"] = {"StreamEnabled": True, **p["StreamSpecification"]}
        out = ddb.create_table(**params)["TableDescription"]
        ttl = p.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            ddb.update_time_to_live(TableName=params["TableName"], TimeToLiveSpecification=ttl)
        assert self.stack is not None
        self.stack.table_names.append(params["TableName"])
        return {"Ref": params["TableName"], "Arn": out["TableArn"], "StreamArn": out.get("LatestStreamArn", "")}

    def _rule(self, name: str, props: dict[str, Any]) -> dict[str, str]:
        """An EventBridge rule and its targets, in the emulator: moto's PutEvents delivers what matches to SQS targets
        (in-process, so the local SQS pollers see the messages)."""
        events = self.client("events")
        bus = props.get("EventBusName") or "default"
        params: dict[str, Any] = {"Name": name, "EventBusName": bus, "State": props.get("State", "ENABLED")}
        if props.get("EventPattern") is not None:
            params["EventPattern"] = json.dumps(props["EventPattern"])
        if props.get("ScheduleExpression"):
            raise TemplateError(f"rule {name}: scheduled rules are not run locally (use EventBridge Scheduler)")
        arn = events.put_rule(**params)["RuleArn"]
        kept = ("Id", "Arn", "Input", "InputPath", "SqsParameters")
        targets = [{k: v for k, v in t.items() if k in kept} for t in props.get("Targets", [])]
        for t in targets:
            if ":sqs:" not in t["Arn"]:
                raise TemplateError(f"rule {name}: only SQS targets are delivered locally, not {t['Arn']}")
        if targets:
            events.put_targets(Rule=name, EventBusName=bus, Targets=targets)
        return {"Ref": name, "Arn": arn}

    def _queue(self, name: str, p: dict[str, Any]) -> dict[str, str]:
        qname = p.get("QueueName") or (name + (".fifo" if p.get("FifoQueue") else ""))
        attrs = {}
        for key in ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds", "ReceiveMessageWaitTimeSeconds", "FifoQueue"):
            if key in p:
                attrs[key] = str(p[key]).lower() if isinstance(p[key], bool) else str(p[key])
        if "RedrivePolicy" in p:
            attrs["RedrivePolicy"] = json.dumps(p["RedrivePolicy"])
        url = self.client("sqs").create_queue(QueueName=qname, Attributes=attrs)["QueueUrl"]
        arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{qname}"
        assert self.stack is not None
        self.stack.queues[arn] = url
        return {"Ref": url, "Arn": arn, "QueueName": qname, "QueueUrl": url}

    def _function(self, tpl: Template, logical_id: str, name: str, props: dict[str, Any]) -> dict[str, str]:
        merged = tpl.function_props(props)
        arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
        env = {k: "" if v is None else str(v) for k, v in tpl.resolve(merged["Environment"]["Variables"]).items()}
        layer_dirs = []
        for layer in merged.get("Layers") or []:
            layer_arn = tpl.resolve(layer)
            content = self._layer_content(layer_arn)
            if content is not None:
                layer_dirs.append(content)
        url_cfg = merged.get("FunctionUrlConfig")
        spec = FunctionSpec(
            logical_id=logical_id,
            template=tpl,
            name=name,
            arn=arn,
            code_dir=(tpl.dir / merged["CodeUri"]).resolve(),
            handler=merged["Handler"],
            env=env,
            timeout=int(merged.get("Timeout", 3)),
            memory=int(merged.get("MemorySize", 128)),
            layer_dirs=layer_dirs,
            url_auth=tpl.resolve(url_cfg.get("AuthType")) if url_cfg else None,
        )
        assert self.stack is not None
        self.stack.functions[arn] = spec
        return {"Ref": name, "Arn": arn}

    def _layer_content(self, layer_arn: str) -> Path | None:
        """A layer's folder, if it holds importable code (the deps layer is only requirements: the venv has them)."""
        assert self.stack is not None
        for tpl in [self.stack.root, *self.stack.templates]:
            for logical_id, res in list(tpl.resources.items()):
                if res["Type"] == "AWS::Serverless::LayerVersion" and tpl.physical(logical_id)["Ref"] == layer_arn:
                    folder = Path(tpl.physical(logical_id)["_content"]).resolve()
                    return folder if any(p.is_dir() and (p / "__init__.py").exists() for p in folder.iterdir()) else None
        raise TemplateError(f"layer {layer_arn} is not declared in any template")

    def _application(self, tpl: Template, logical_id: str, props: dict[str, Any]) -> dict[str, str]:
        location = props["Location"]
        if not isinstance(location, str):
            raise TemplateError(f"{tpl.path}: {logical_id}: only local Location paths are supported")
        params = {k: tpl.resolve(v) for k, v in (props.get("Parameters") or {}).items()}
        child = Template((tpl.dir / location).resolve(), logical_id, params, self._create, f"{tpl.stack_name}-{logical_id}")
        tpl.children[logical_id] = child
        self._load(child)
        outputs = {f"Outputs.{k}": child.resolve(v["Value"]) for k, v in (child.doc.get("Outputs") or {}).items()}
        return {"Ref": child.stack_name, **outputs}

    # ── APIs and event sources ──
    def _api(self, tpl: Template, logical_id: str, res: dict[str, Any]) -> RestApi:
        props = res.get("Properties") or {}
        api = RestApi(
            logical_id=logical_id, template=tpl, api_id=tpl.physical(logical_id)["Ref"], stage=str(tpl.resolve(props["StageName"]))
        )
        api.binary_media_types = [str(t).replace("~1", "/") for t in tpl.resolve(props.get("BinaryMediaTypes") or [])]
        auth = props.get("Auth") or {}
        api._authorizers = {}  # type: ignore[attr-defined]
        for aname, adecl in (auth.get("Authorizers") or {}).items():
            fn_arn = tpl.resolve(adecl["FunctionArn"])
            assert self.stack is not None
            authorizer_fn = self.stack.by_arn(fn_arn)
            if authorizer_fn is None:
                raise TemplateError(f"{tpl.path}: authorizer {aname} points at {fn_arn}, which no template declares")
            if adecl.get("FunctionPayloadType", "TOKEN") != "REQUEST":
                raise TemplateError(f"{tpl.path}: authorizer {aname}: only REQUEST authorizers are supported locally")
            identity = adecl.get("Identity") or {}
            api._authorizers[aname] = Authorizer(  # type: ignore[attr-defined]
                name=aname,
                function=authorizer_fn,
                identity_headers=list(identity.get("Headers") or []),
                ttl=int(tpl.resolve(identity.get("ReauthorizeEvery", 300))),
            )
        api._default_authorizer = auth.get("DefaultAuthorizer")  # type: ignore[attr-defined]
        for rtype, decl in (props.get("GatewayResponses") or {}).items():
            params = decl.get("ResponseParameters") or {}
            api.gateway_responses[rtype] = GatewayResponse(
                status=int(tpl.resolve(decl["StatusCode"])) if "StatusCode" in decl else None,
                templates=dict(tpl.resolve(decl.get("ResponseTemplates") or {})),
                headers={k: str(v).strip("'") for k, v in tpl.resolve(params.get("Headers") or {}).items()},
            )
        return api

    def _websocket_api(self, tpl: Template, logical_id: str) -> WebSocketApi:
        """A WebSocket API as declared: its stage, and each route's Lambda proxy integration (its function, by the ARN
        in the integration URI: an alias ARN runs the function itself locally) and whether it has a route response."""
        assert self.stack is not None
        props = tpl.resources[logical_id].get("Properties") or {}

        def of_api(rtype: str) -> list[tuple[str, dict[str, Any]]]:
            return [
                (lid, r.get("Properties") or {})
                for lid, r in tpl.resources.items()
                if r["Type"] == rtype and (r.get("Properties") or {}).get("ApiId") == {"Ref": logical_id}
            ]

        stages = of_api("AWS::ApiGatewayV2::Stage")
        if len(stages) != 1:
            raise TemplateError(f"{tpl.path}: {logical_id}: the local stack serves a WebSocket API with exactly one stage")
        api = WebSocketApi(
            logical_id=logical_id,
            template=tpl,
            api_id=tpl.physical(logical_id)["Ref"],
            stage=str(tpl.resolve(stages[0][1]["StageName"])),
            route_selection=str(tpl.resolve(props.get("RouteSelectionExpression") or "")),
        )
        integrations = {tpl.physical(lid)["Ref"]: p for lid, p in of_api("AWS::ApiGatewayV2::Integration")}
        responses = {tpl.resolve(p["RouteId"]) for _, p in of_api("AWS::ApiGatewayV2::RouteResponse")}
        for lid, p in of_api("AWS::ApiGatewayV2::Route"):
            key = str(tpl.resolve(p["RouteKey"]))
            if tpl.resolve(p.get("AuthorizationType") or "NONE") != "NONE":
                raise TemplateError(f"{tpl.path}: {lid}: only routes without an API Gateway authorizer are served locally")
            target = str(tpl.resolve(p.get("Target") or ""))
            integration = integrations.get(target.removeprefix("integrations/"))
            if integration is None or tpl.resolve(integration.get("IntegrationType")) != "AWS_PROXY":
                raise TemplateError(f"{tpl.path}: {lid}: the route's target must be an AWS_PROXY integration of the API")
            uri = str(tpl.resolve(integration["IntegrationUri"]))
            m = re.search(r"/functions/(arn:[^/]+)/invocations$", uri)
            fn = self.stack.by_arn(m.group(1)) if m else None
            if fn is None:
                raise TemplateError(f"{tpl.path}: {lid}: the integration URI {uri} names no declared function")
            api.routes[key] = WebSocketRoute(route_key=key, function=fn, has_route_response=tpl.physical(lid)["Ref"] in responses)
        return api

    def _api_for(self, tpl: Template, ref: Any) -> RestApi:
        assert self.stack is not None
        if not (isinstance(ref, dict) and "Ref" in ref):
            raise TemplateError(f"{tpl.path}: RestApiId must be a Ref to an AWS::Serverless::Api")
        for api in self.stack.apis:
            if api.template is tpl and api.logical_id == ref["Ref"]:
                return api
        raise TemplateError(f"{tpl.path}: no API {ref['Ref']}")

    def _events(self, tpl: Template, logical_id: str, res: dict[str, Any]) -> None:
        assert self.stack is not None
        fn = self.stack.functions[tpl.physical(logical_id)["Arn"]]
        for ename, event in ((res.get("Properties") or {}).get("Events") or {}).items():
            etype, eprops = event["Type"], event.get("Properties") or {}
            if etype == "Api":
                api = self._api_for(tpl, eprops.get("RestApiId"))
                auth_name = ((eprops.get("Auth") or {}).get("Authorizer")) or api._default_authorizer  # type: ignore[attr-defined]
                authorizer = None if auth_name in (None, "NONE") else api._authorizers[auth_name]  # type: ignore[attr-defined]
                api.routes.append(Route(method=str(eprops["Method"]).upper(), path=eprops["Path"], function=fn, authorizer=authorizer))
            elif etype == "SQS":
                self.stack.sqs_sources.append(
                    SqsSource(
                        function=fn,
                        queue_arn=tpl.resolve(eprops["Queue"]),
                        batch_size=int(eprops.get("BatchSize", 10)),
                        batch_window=int(eprops.get("MaximumBatchingWindowInSeconds", 0)),
                        report_failures="ReportBatchItemFailures" in (eprops.get("FunctionResponseTypes") or []),
                        pollers=min(5, int((eprops.get("ScalingConfig") or {}).get("MaximumConcurrency", 5))),
                    )
                )
            elif etype == "DynamoDB":
                on_failure = ((eprops.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
                filters = [json.loads(str(tpl.resolve(f["Pattern"]))) for f in (eprops.get("FilterCriteria") or {}).get("Filters") or []]
                for pattern in filters:
                    try:
                        check_pattern(pattern)
                    except ValueError as err:
                        raise TemplateError(f"{tpl.path}: {logical_id}.{ename}: {err}") from err
                self.stack.stream_sources.append(
                    StreamSource(
                        function=fn,
                        stream_arn=str(tpl.resolve(eprops["Stream"])),
                        batch_size=int(eprops.get("BatchSize", 100)),
                        report_failures="ReportBatchItemFailures" in (eprops.get("FunctionResponseTypes") or []),
                        max_retries=int(eprops.get("MaximumRetryAttempts", -1)),
                        on_failure_arn=str(tpl.resolve(on_failure)) if on_failure else None,
                        filters=filters,
                    )
                )
            elif etype == "ScheduleV2":
                self.stack.recurring.append(self._recurring(tpl, fn, logical_id, ename, eprops))
            else:
                raise TemplateError(f"{tpl.path}: {logical_id}.{ename}: event type {etype} is not supported locally yet")

    def _recurring(self, tpl: Template, fn: FunctionSpec, logical_id: str, ename: str, eprops: dict[str, Any]) -> RecurringSchedule:
        """What SAM makes of a ``ScheduleV2`` event: an EventBridge Scheduler schedule targeting the function
        (created in the emulator, as deployed; the local scheduler fires it)."""
        expression = str(tpl.resolve(eprops["ScheduleExpression"]))
        every = parse_rate(expression)
        if every is None:
            raise TemplateError(f"{tpl.path}: {logical_id}.{ename}: only rate() expressions run locally, not {expression!r}")
        group = str(tpl.resolve(eprops.get("GroupName") or "default"))
        name = str(tpl.resolve(eprops.get("Name") or f"{logical_id}-{ename}"))
        payload = tpl.resolve(eprops.get("Input") or "{}")
        self.client("scheduler").create_schedule(
            Name=name,
            GroupName=group,
            ScheduleExpression=expression,
            FlexibleTimeWindow={"Mode": "OFF"},
            Target={"Arn": fn.arn, "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/{name}-role", "Input": payload},
        )
        return RecurringSchedule(function=fn, group=group, name=name, every_seconds=every, input=payload)

    def _gateway_response(self, tpl: Template, res: dict[str, Any]) -> None:
        props = res["Properties"]
        api = self._api_for(tpl, props["RestApiId"])
        status = props.get("StatusCode")
        api.gateway_responses[props["ResponseType"]] = GatewayResponse(
            status=int(tpl.resolve(status)) if status is not None else None,
            templates=dict(tpl.resolve(props.get("ResponseTemplates") or {})),
            headers={
                k.removeprefix("gatewayresponse.header."): str(v).strip("'")
                for k, v in tpl.resolve(props.get("ResponseParameters") or {}).items()
            },
        )
