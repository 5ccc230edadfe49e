"""One fresh benchmark process (run as a script, never imported): ``python bench/child.py <spec.json>``.

Modes (``spec["mode"]``):

- ``handler``: import one function's handler module the way Lambda does (code dir, then layers, on
  ``sys.path``) and serve its first request(s);
- ``floor``: import boto3 and create the clients a function creates (``spec["clients"]``), nothing else;
- ``monolith``: import every API function module of a family, hold all their routers in one resolver
  (``parley.api.build_app(family, *routers)``, as ``parley_local.openapi.family_app`` does) and serve
  the same request.

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
            retries = getattr(cfg, "retries", None) if cfg is not None else None
            recorder.clients.append({"service": service_name, "retries": retries})
            client = original(session, service_name, *args, **kwargs)
            client.meta.events.register("provide-client-params.*.*", recorder._params)
            client.meta.events.register("after-call.*.*", recorder._after)
            return client

        botocore.session.Session.create_client = create_client

    def _params(self, params, model, **kwargs):
        op = model.name
        service = model.service_model.service_name
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
        entry = {"service": service, "op": op}
        if self.capture_params:
            entry["params"] = json.loads(json.dumps(params, default=_jsonable))
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
            import boto3
            from botocore.config import Config

            for c in spec["clients"]:
                config = Config(retries=c["retries"], connect_timeout=3, read_timeout=10) if c.get("retries") else None
                boto3.client(c["service"], config=config)
            report["t_imported"] = report["t_done"] = time.monotonic()
        else:
            for path in reversed(spec["sys_path"]):
                sys.path.insert(0, path)
            if mode == "handler":
                module = _import_path("app", os.path.join(spec["code_dir"], "app.py"))
                handler = module.lambda_handler
            elif mode == "monolith":
                routers = [_import_path(f"bench_{i}", os.path.join(d, "app.py")).router for i, d in enumerate(spec["family_dirs"])]
                from parley.api.app import build_app

                app = build_app(spec["family"], *routers)

                def handler(event, context):
                    return app.resolve(event, context)
            else:
                raise SystemExit(f"unknown mode {mode}")
            report["t_imported"] = time.monotonic()
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
