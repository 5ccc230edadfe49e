"""One fresh benchmark process (run as a script, never imported): ``python bench/child.py <spec.json>``.

Modes (``spec["mode"]``):

- ``handler``: import one function's handler module the way Lambda does (code dir, then layers, on
  ``sys.path``) and serve its first request(s);
- ``floor``: import boto3, create the clients a function creates (``spec["clients"]``) and make the AWS
  calls its first request made (``spec["calls"]``), nothing else;
- ``monolith``: import every resource module of a family (``functions/<family>/api/*.py``), hold all their
  endpoints in one resolver (``parley.api.endpoint.family_app``, as ``parley_local.openapi.family_app`` does)
  and serve the same request.

Only the standard library is imported before the measured work. Everything the process reports is
one JSON line on the original stdout (the handler's own logging goes to stderr): times on
``time.monotonic()`` (the parent's clock too), the response, peak RSS, and, when asked, the AWS
calls made (operation, DynamoDB Count/ScannedCount) and the clients created.
"""

import time

T_START = time.monotonic()

import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402


def _proto():
    out = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # handler logs (powertools writes to stdout) go to stderr, like CloudWatch
    sys.stdout = sys.stderr
    return out


class LambdaContext:
    def __init__(self, name: str, memory: int) -> None:
        self.function_name = name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{name}"
        self.memory_limit_in_mb = memory
        self.aws_request_id = "bench-request"
        self.log_group_name = f"/aws/lambda/{name}"
        self.log_stream_name = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 29_000


class Compiles:
    """Counts modules compiled from source (no usable .pyc) while importing."""

    def __init__(self, roots: list[str]) -> None:
        import importlib._bootstrap_external as ext

        self.roots = roots
        self.compiled: list[str] = []
        self.seconds = 0.0
        original = ext.SourceLoader.source_to_code
        counter = self

        def source_to_code(loader, data, path, *, _optimize=-1):
            t = time.monotonic()
            try:
                return original(loader, data, path, _optimize=_optimize)
            finally:
                counter.seconds += time.monotonic() - t
                counter.compiled.append(str(path))

        ext.SourceLoader.source_to_code = source_to_code

    def report(self) -> dict:
        inside = [p for p in self.compiled if any(p.startswith(r) for r in self.roots)]
        return {"compiled_total": len(self.compiled), "compiled_in_artifacts": inside, "compile_ms": round(self.seconds * 1000, 2)}


class Recorder:
    """Records the boto3 clients created and the AWS calls made (a botocore event hook on every client)."""

    def __init__(self, capture_params: bool = False) -> None:
        import botocore.session

        self.clients: list[dict] = []
        self.calls: list[dict] = []
        self.capture_params = capture_params
        original = botocore.session.Session.create_client
        recorder = self

        def create_client(session, service_name, *args, **kwargs):
            cfg = kwargs.get("config")
            index = len(recorder.clients)
            recorder.clients.append(
                {
                    "service": service_name,
                    "retries": getattr(cfg, "retries", None),
                    "connect_timeout": getattr(cfg, "connect_timeout", None),
                    "read_timeout": getattr(cfg, "read_timeout", None),
                }
            )
            client = original(session, service_name, *args, **kwargs)
            client.meta.events.register("provide-client-params.*.*", lambda **kw: recorder._params(client=index, **kw))
            client.meta.events.register("after-call.*.*", recorder._after)
            return client

        botocore.session.Session.create_client = create_client

    def _params(self, params, model, client=None, **kwargs):
        op = model.name
        service = model.service_model.service_name
        entry = {"service": service, "op": op, "client": client}
        if self.capture_params:  # as the handler passed them, before the capacity report is asked for
            entry["params"] = json.loads(json.dumps(params, default=_jsonable))
        if service == "dynamodb" and op in (
            "Query",
            "Scan",
            "GetItem",
            "BatchGetItem",
            "PutItem",
            "UpdateItem",
            "DeleteItem",
            "TransactWriteItems",
            "BatchWriteItem",
            "TransactGetItems",
        ):
            params.setdefault("ReturnConsumedCapacity", "TOTAL")
        if service == "dynamodb" and op in ("Query", "Scan"):
            entry["select"] = params.get("Select", "ALL")
            entry["index"] = params.get("IndexName")
            entry["limit"] = params.get("Limit")
        self.calls.append(entry)

    def _after(self, http_response, parsed, model, **kwargs):
        if not self.calls:
            return
        entry = self.calls[-1]
        entry["status"] = getattr(http_response, "status_code", None)
        if isinstance(parsed, dict):
            for key in ("Count", "ScannedCount"):
                if key in parsed:
                    entry[key] = parsed[key]
            if "Responses" in parsed and isinstance(parsed["Responses"], dict):
                entry["Count"] = sum(len(v) for v in parsed["Responses"].values())
            if model.name == "GetItem":
                entry["Count"] = 1 if "Item" in parsed else 0
            if "LastEvaluatedKey" in parsed:
                entry["more"] = True


def _unjson(value):
    """Recorded parameters back to what the handler passed (bytes were recorded as ``{"__bytes__": latin-1}``)."""
    if isinstance(value, dict):
        if set(value) == {"__bytes__"}:
            return value["__bytes__"].encode("latin-1")
        return {k: _unjson(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unjson(v) for v in value]
    return value


def _floor(spec: dict, report: dict) -> None:
    """``import boto3``, the clients the handler created (same configuration, same order) and the AWS calls its
    first request made, replayed with those clients (``spec["calls"]``: parameters as recorded, fresh ids in
    writes). A call the emulator refuses still made its round trip: counted, not fatal."""
    import boto3
    from botocore import xform_name
    from botocore.config import Config
    from botocore.exceptions import ClientError

    clients = []
    for c in spec["clients"]:
        kwargs = {k: c[k] for k in ("retries", "connect_timeout", "read_timeout") if c.get(k) is not None}
        clients.append(boto3.client(c["service"], config=Config(**kwargs) if kwargs else None))
    report["t_imported"] = time.monotonic()
    refused = []
    for call in spec.get("calls") or []:
        api = getattr(clients[call["client"]], xform_name(call["op"]))
        try:
            api(**_unjson(call["params"]))
        except ClientError as err:
            refused.append(f"{call['op']}: {err.response.get('Error', {}).get('Code')}")
    report["t_done"] = time.monotonic()
    report["refused"] = refused


def _jsonable(value):
    if isinstance(value, bytes | bytearray):
        return {"__bytes__": value.decode("latin-1")}
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    return str(value)


def _peak_rss_kb() -> int:
    """This process's peak resident set (VmHWM). Not ``ru_maxrss``: after fork + exec that still holds the
    peak of the forked copy of the parent."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _import_path(unique: str, path: str):
    import importlib.util

    spec = importlib.util.spec_from_file_location(unique, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[unique] = module
    spec.loader.exec_module(module)
    return module


def _monolith(family: str, paths: list):
    """Every endpoint of the family in one validating resolver (``parley.api.endpoint.family_app``, as
    ``parley_local.openapi.family_app``), served as an endpoint's own handler serves its route: the family's
    Logger (API Gateway correlation id) around it, and its EMF metrics."""
    apis = []
    for path in paths:
        module = _import_path(f"parley_api_{family}." + os.path.basename(path)[: -len(".py")], path)
        if getattr(module, "api", None) is not None and module.api.endpoints:
            apis.append(module.api)
    from aws_lambda_powertools import Logger, Metrics
    from aws_lambda_powertools.logging import correlation_paths

    from parley.api.endpoint import _record, family_app

    app = family_app(family, apis)
    logger = Logger(service=family, correlation_id_path=correlation_paths.API_GATEWAY_REST)
    metrics = Metrics(namespace="Parley", service=family)

    @logger.inject_lambda_context
    def handler(event, context):
        started = time.perf_counter()
        out = app.resolve(event, context)
        _record(metrics, f"{event.get('httpMethod')} {event.get('resource')}", int(out.get("statusCode", 200)), started)
        return out

    return handler


def _prime(handler, clients: list) -> None:
    """What SnapStart's before-snapshot hook does, emulated: the endpoint's resolver built (``Endpoint._build``) and
    the clients its first request uses created (``parley.dal.aws.client``), before any request."""
    if getattr(handler, "_handler", False) is None and hasattr(handler, "_build"):
        handler._handler = handler._build()
    from parley.dal import aws

    for c in clients:
        aws.client(c["service"], retry=(c.get("retries") or {}).get("total_max_attempts") != 1)


def _summary(result) -> dict:
    if not isinstance(result, dict):
        return {"status": None, "body_bytes": 0}
    body = result.get("body")
    status = result.get("statusCode")
    out = {"status": status, "body_bytes": len(body or "")}
    if status is not None and status >= 400:
        out["body"] = (body or "")[:400]
    return out


def main() -> None:
    spec = json.loads(open(sys.argv[1]).read())  # noqa: SIM115 (read once, before anything is measured)
    if sys.path and sys.path[0] == os.path.dirname(os.path.abspath(__file__)):
        del sys.path[0]  # the bench folder itself must not shadow anything
    proto = _proto()
    report: dict = {"t_start": T_START}
    compiles = Compiles(spec.get("artifact_roots") or []) if spec.get("count_compiles") else None
    recorder = Recorder(capture_params=spec.get("capture_params", False)) if spec.get("record") else None
    mode = spec["mode"]
    try:
        if mode == "floor":
            _floor(spec, report)
        else:
            for path in reversed(spec["sys_path"]):
                sys.path.insert(0, path)
            if mode == "handler":
                module_name, attr = spec["handler"].rsplit(".", 1)  # FunctionSpec.handler: communications.send, app.lambda_handler
                handler = getattr(_import_path(module_name, os.path.join(spec["code_dir"], module_name + ".py")), attr)
            elif mode == "monolith":
                handler = _monolith(spec["family"], spec["family_modules"])
            else:
                raise SystemExit(f"unknown mode {mode}")
            report["t_imported"] = time.monotonic()
            if spec.get("prime") is not None:
                _prime(handler, spec["prime"])
                report["t_primed"] = time.monotonic()
            context = LambdaContext(spec.get("function_name", "bench"), int(spec.get("memory", 256)))
            results = []
            for event in spec["events"]:
                t = time.monotonic()
                result = handler(event, context)
                results.append(
                    {
                        **_summary(result),
                        "ms": round((time.monotonic() - t) * 1000, 2),
                        "result": result if spec.get("return_result") else None,
                    }
                )
                if "t_done" not in report:
                    report["t_done"] = time.monotonic()
            report["results"] = results
    except BaseException as err:  # report, never hang the parent
        import traceback

        report["error"] = f"{type(err).__name__}: {err}"
        report["trace"] = traceback.format_exc()[-3000:]
    report["maxrss_kb"] = _peak_rss_kb()
    report["modules"] = len(sys.modules)
    if compiles is not None:
        report["compiles"] = compiles.report()
    if recorder is not None:
        report["clients"] = recorder.clients
        report["calls"] = recorder.calls
    proto.write(json.dumps(report, default=str) + "\n")
    proto.flush()


main()
