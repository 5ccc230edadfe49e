"""Read the SAM templates (root + nested applications) into a model of what they declare.

Intrinsic functions are evaluated against the physical ids the provisioner hands out, so a
function's environment, its event sources and its API routes resolve exactly as declared.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cfnlint.decode import decode

REGION = "us-east-1"
ACCOUNT = "123456789012"

# ``create(template, logical_id, resource) -> {"Ref": ..., "Arn": ..., <attr>: ...}``
Creator = Callable[["Template", str, dict[str, Any]], dict[str, str]]


class TemplateError(Exception):
    pass


@dataclass
class FunctionSpec:
    logical_id: str
    template: Template
    name: str
    arn: str
    code_dir: Path
    handler: str
    env: dict[str, str]
    timeout: int
    memory: int
    layer_dirs: list[Path]
    url_auth: str | None = None  # FunctionUrlConfig.AuthType, when the function has a URL

    @property
    def key(self) -> str:
        return f"{self.template.name}.{self.logical_id}"


@dataclass
class Authorizer:
    name: str
    function: FunctionSpec
    identity_headers: list[str]
    ttl: int


@dataclass
class Route:
    method: str  # upper-case, or ANY
    path: str  # API Gateway resource path, e.g. /communications/email/v1/activity or /x/{id}
    function: FunctionSpec
    authorizer: Authorizer | None


@dataclass
class GatewayResponse:
    status: int | None
    templates: dict[str, str]
    headers: dict[str, str]


@dataclass
class RestApi:
    logical_id: str
    template: Template
    api_id: str
    stage: str
    routes: list[Route] = field(default_factory=list)
    binary_media_types: list[str] = field(default_factory=list)  # "multipart/form-data", "*/*", … (SAM writes / as ~1)
    gateway_responses: dict[str, GatewayResponse] = field(default_factory=dict)


@dataclass
class WebSocketRoute:
    route_key: str  # $connect, $disconnect, $default, or a value of the route selection expression
    function: FunctionSpec  # the Lambda proxy integration's function
    has_route_response: bool  # the function's answer goes back on the connection (a RouteResponse is declared)


@dataclass
class WebSocketApi:
    """An ``AWS::ApiGatewayV2::Api`` of ``ProtocolType: WEBSOCKET``, its stage and its routes (Lambda proxy integrations)."""

    logical_id: str
    template: Template
    api_id: str
    stage: str
    route_selection: str  # $request.body.<field>
    routes: dict[str, WebSocketRoute] = field(default_factory=dict)

    @property
    def aws_host(self) -> str:
        """The host API Gateway gives it (what the templates build its URLs from)."""
        return f"{self.api_id}.execute-api.{REGION}.amazonaws.com"


@dataclass
class SqsSource:
    function: FunctionSpec
    queue_arn: str
    batch_size: int
    batch_window: int
    report_failures: bool
    # Lambda polls a queue with several pollers at once (five to start with, AWS documents), each invoking the function with
    # its own batch; ``ScalingConfig.MaximumConcurrency`` caps them. One poller let a backlog build under load.
    pollers: int = 5


@dataclass
class StreamSource:
    """A ``DynamoDB`` event: the table's stream read in order (one batch at a time: ``ParallelizationFactor`` 1)."""

    function: FunctionSpec
    stream_arn: str
    batch_size: int
    report_failures: bool
    max_retries: int
    on_failure_arn: str | None
    filters: list[Any] = field(default_factory=list)  # FilterCriteria patterns: a record matching none is not delivered

    def wanted(self, record: dict[str, Any]) -> bool:
        from parley_local.streams import matches

        return not self.filters or any(matches(p, record) for p in self.filters)


@dataclass
class RecurringSchedule:
    """A function's ``ScheduleV2`` event: a ``rate()`` schedule (in the default group) that invokes it."""

    function: FunctionSpec
    group: str
    name: str
    every_seconds: int
    input: str


_SUB = re.compile(r"\$\{([^}!]+)\}")


def _check_param(path: Path, name: str, decl: dict[str, Any], value: str) -> None:
    allowed = decl.get("AllowedValues")
    if allowed is not None and value not in [str(v) for v in allowed]:
        raise TemplateError(f"{path}: parameter {name}={value!r} is not one of {allowed}")
    if decl.get("Type") == "Number":
        try:
            number = float(value)
        except ValueError:
            raise TemplateError(f"{path}: parameter {name}={value!r} is not a number") from None
        if "MinValue" in decl and number < float(decl["MinValue"]):
            raise TemplateError(f"{path}: parameter {name}={value} is below its MinValue {decl['MinValue']}")
        if "MaxValue" in decl and number > float(decl["MaxValue"]):
            raise TemplateError(f"{path}: parameter {name}={value} is above its MaxValue {decl['MaxValue']}")


class Template:
    def __init__(self, path: Path, name: str, params: dict[str, str], creator: Creator, stack_name: str) -> None:
        doc, matches = decode(str(path))
        if doc is None:
            raise TemplateError(f"{path}: {matches}")
        self.path = path
        self.dir = path.parent
        self.name = name
        self.stack_name = stack_name
        self.doc: dict[str, Any] = doc
        self.resources: dict[str, dict[str, Any]] = dict(doc.get("Resources", {}))
        self.params = self._params(params)
        self._create = creator
        self._physical: dict[str, dict[str, str]] = {}
        self._in_progress: set[str] = set()
        self.children: dict[str, Template] = {}

    def _params(self, given: dict[str, str]) -> dict[str, str]:
        """The parameters' values: given, else the default. Like CloudFormation, a value a parameter's
        ``AllowedValues``, ``MinValue`` or ``MaxValue`` refuses, or a given name it does not declare, is an error."""
        declared = self.doc.get("Parameters") or {}
        unknown = sorted(set(given) - set(declared))
        if unknown:
            raise TemplateError(f"{self.path}: no parameter {', '.join(unknown)} (declared: {', '.join(declared)})")
        out = {}
        for pname, decl in declared.items():
            if pname in given:
                out[pname] = str(given[pname])
            elif "Default" in decl:
                out[pname] = str(decl["Default"])
            else:
                raise TemplateError(f"{self.path}: parameter {pname} has no value")
            _check_param(self.path, pname, decl, out[pname])
        return out

    # ── physical ids ──
    def physical(self, logical_id: str) -> dict[str, str]:
        if logical_id not in self._physical:
            base = self.resources.get(logical_id.removesuffix("Url")) or {}
            has_url = base.get("Type") == "AWS::Serverless::Function" and self.function_props(base.get("Properties") or {}).get(
                "FunctionUrlConfig"
            )
            if logical_id not in self.resources and has_url:
                # SAM generates <Function>Url for a function with FunctionUrlConfig.
                self.resources[logical_id] = {"Type": "AWS::Lambda::Url", "_function": logical_id.removesuffix("Url")}
            if logical_id not in self.resources:
                raise TemplateError(f"{self.path}: no resource {logical_id}")
            if logical_id in self._in_progress:
                raise TemplateError(f"{self.path}: circular reference through {logical_id}")
            self._in_progress.add(logical_id)
            try:
                self._physical[logical_id] = self._create(self, logical_id, self.resources[logical_id])
            finally:
                self._in_progress.discard(logical_id)
        return self._physical[logical_id]

    def physical_name(self, logical_id: str) -> str:
        return f"{self.stack_name}-{logical_id}"

    def fake_id(self, logical_id: str, n: int = 10) -> str:
        return hashlib.sha256(f"{self.stack_name}/{logical_id}".encode()).hexdigest()[:n]

    # ── conditions and intrinsics ──
    def condition(self, name: str) -> bool:
        return bool(self.resolve((self.doc.get("Conditions") or {})[name]))

    def pseudo(self, name: str) -> str | None:
        return {
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT,
            "AWS::StackName": self.stack_name,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": None,
        }.get(name, "")

    def ref(self, name: str) -> Any:
        if name in self.params:
            return self.params[name]
        if name.startswith("AWS::"):
            return self.pseudo(name)
        if name.endswith(".Alias"):
            return self.alias_arn(name.removesuffix(".Alias"))
        return self.physical(name)["Ref"]

    def alias_arn(self, logical_id: str) -> str:
        """``!Ref <Function>.Alias``: SAM's alias of a function with ``AutoPublishAlias`` (``<function ARN>:live``).
        Locally there are no versions: the qualified ARN invokes the function itself (stack.Stack.by_arn)."""
        res = self.resources.get(logical_id) or {}
        alias = (
            self.function_props(res.get("Properties") or {}).get("AutoPublishAlias")
            if res.get("Type") == "AWS::Serverless::Function"
            else None
        )
        if not alias:
            raise TemplateError(f"{self.path}: {logical_id}.Alias needs an AWS::Serverless::Function with AutoPublishAlias")
        return f"{self.physical(logical_id)['Arn']}:{self.resolve(alias)}"

    def get_att(self, logical_id: str, attr: str) -> Any:
        phys = self.physical(logical_id)
        if attr not in phys:
            raise TemplateError(f"{self.path}: {logical_id} has no attribute {attr} locally")
        return phys[attr]

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((fn, arg),) = value.items()
            if fn == "Ref":
                return self.ref(arg)
            if fn == "Fn::GetAtt":
                logical, attr = arg if isinstance(arg, list) else arg.split(".", 1)
                return self.get_att(logical, attr)
            if fn == "Fn::Sub":
                text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))
                # ${!Literal} is an escape for a literal ${Literal}
                return _SUB.sub(lambda m: str(self._sub_var(m.group(1), extra)), text).replace("${!", "${")
            if fn == "Fn::Join":
                sep, items = arg
                return sep.join(str(i) for i in self.resolve(items))
            if fn == "Fn::Select":
                idx, items = self.resolve(arg)
                return items[int(idx)]
            if fn == "Fn::Split":
                sep, text = self.resolve(arg)
                return text.split(sep)
            if fn == "Fn::If":
                cond, yes, no = arg
                return self.resolve(yes if self.condition(cond) else no)
            if fn == "Fn::Equals":
                a, b = self.resolve(arg)
                return a == b
            if fn == "Fn::Not":
                return not self.resolve(arg[0])
            if fn == "Fn::And":
                return all(self.resolve(a) for a in arg)
            if fn == "Fn::Or":
                return any(self.resolve(a) for a in arg)
            if fn == "Condition":
                return self.condition(arg)
            if fn.startswith("Fn::"):
                raise TemplateError(f"{self.path}: {fn} is not supported by the local stack")
        return {k: self.resolve(v) for k, v in value.items()}

    def _sub_var(self, var: str, extra: dict[str, Any]) -> Any:
        if var in extra:
            return extra[var]
        if "." in var and not var.startswith("AWS::"):
            logical, attr = var.split(".", 1)
            return self.get_att(logical, attr)
        return self.ref(var)

    # ── globals ──
    def function_props(self, props: dict[str, Any]) -> dict[str, Any]:
        """Function properties with the template's Globals.Function merged in, as SAM does."""
        glob = ((self.doc.get("Globals") or {}).get("Function")) or {}
        merged = {**glob, **props}
        env = {**((glob.get("Environment") or {}).get("Variables") or {}), **((props.get("Environment") or {}).get("Variables") or {})}
        merged["Environment"] = {"Variables": env}
        return merged
