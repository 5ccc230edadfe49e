"""A Lambda-like execution environment: one process per function instance.

Started by ``invoke.FunctionPool`` as ``python -m parley_local.runtime <code_dir> <module.handler>``
with the function's declared environment and ``PYTHONPATH`` = code dir + layers (like /var/task
and /opt/python). It imports the handler once (the cold start), then serves invocations: one JSON
request per line on stdin, one JSON result per line on the original stdout. The handler's own
stdout (powertools logs) is redirected to stderr, as Lambda sends it to CloudWatch.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback
import uuid


class LambdaContext:
    def __init__(self, timeout_s: int) -> None:
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "local")
        self.function_version = "$LATEST"
        self.invoked_function_arn = os.environ.get("PARLEY_LOCAL_FUNCTION_ARN", "")
        self.memory_limit_in_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def main() -> None:
    code_dir, handler_path = sys.argv[1], sys.argv[2]
    proto = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    sys.path.insert(0, code_dir)
    module_name, func_name = handler_path.rsplit(".", 1)
    timeout = int(os.environ.get("PARLEY_LOCAL_TIMEOUT", "30"))
    try:
        handler = getattr(importlib.import_module(module_name), func_name)
    except Exception as err:
        proto.write(
            json.dumps({"init_error": {"errorType": type(err).__name__, "errorMessage": str(err), "stackTrace": traceback.format_exc()}})
            + "\n"
        )
        return
    proto.write(json.dumps({"ready": True}) + "\n")
    for line in sys.stdin:
        event = json.loads(line)
        try:
            result = handler(event, LambdaContext(timeout))
            out = {"result": result}
        except Exception as err:
            traceback.print_exc()
            out = {"error": {"errorType": type(err).__name__, "errorMessage": str(err)}}
        proto.write(json.dumps(out, default=str) + "\n")


if __name__ == "__main__":
    main()
