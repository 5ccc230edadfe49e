"""The emulator every benchmark runs against: moto as an HTTP server on 127.0.0.1, provisioned from the SAM
templates by the local stack's own ``Provisioner``.

The server runs in this (the bench's) process, on a thread, like ``parley_local`` runs it: benchmark
subprocesses reach it over HTTP (``AWS_ENDPOINT_URL``), and the bench can seed large data sets straight
into moto's in-memory DynamoDB backend (no HTTP, no serialisation) when the volume would otherwise
dominate the run.
"""

from __future__ import annotations

import logging
import os
import sys
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for extra in (ROOT / "layers" / "common", ROOT / "local"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from moto.server import ThreadedMotoServer  # noqa: E402

from parley_local import moto_patches  # noqa: E402
from parley_local.app import free_port  # noqa: E402
from parley_local.moto_patches import table_changed  # noqa: E402, F401 (bench.reads uses it)
from parley_local.stack import Provisioner, Stack  # noqa: E402
from parley_local.templates import ACCOUNT, REGION, FunctionSpec  # noqa: E402

SENDER_DOMAIN = "parley.example"
AWS_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION}


@dataclass
class Emulator:
    url: str = ""
    stack: Stack | None = None
    prov: Provisioner | None = None
    _server: Any = None
    _base_env: dict[str, str] = field(default_factory=dict)

    def start(self) -> Emulator:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        moto_patches.apply()  # the local stack's own: serialised DynamoDB, cheap transactions and queries, weak tracking
        port = free_port()
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        self._server.start()
        self.url = f"http://127.0.0.1:{port}"
        self.provision()
        return self

    def provision(self) -> Stack:
        """Create every declared resource (again, after a reset) and point this process at them."""
        for var in ("AWS_PROFILE",):
            os.environ.pop(var, None)
        os.environ.update({**AWS_ENV, "AWS_ENDPOINT_URL": self.url})
        self.prov = Provisioner(self.url)
        self.stack = self.prov.build()
        self.prov.client("ses").verify_domain_identity(Domain=SENDER_DOMAIN)
        self.use_function_env(self.stack.function("root.DispatcherFunction"))  # TABLE_NAME, queues, bucket, …
        return self.stack

    def reset(self) -> Stack:
        """Drop everything moto holds (``POST /moto-api/reset``) and provision afresh."""
        req = urllib.request.Request(self.url + "/moto-api/reset", method="POST")  # noqa: S310 (our own 127.0.0.1 server)
        urllib.request.urlopen(req, timeout=30).read()  # noqa: S310
        return self.provision()

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()

    def function(self, key: str) -> FunctionSpec:
        assert self.stack is not None
        return self.stack.function(key)

    def env_for(self, fn: FunctionSpec) -> dict[str, str]:
        """The environment a function's process gets: its declared variables, the emulator, Lambda's own."""
        base = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "TZ", "VIRTUAL_ENV") if k in os.environ}
        return {
            **base,
            **AWS_ENV,
            "AWS_ENDPOINT_URL": self.url,
            **fn.env,
            "AWS_LAMBDA_FUNCTION_NAME": fn.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory),
        }

    def use_function_env(self, fn: FunctionSpec) -> None:
        """Give this process a function's environment (for handlers run in-process)."""
        os.environ.update({k: v for k, v in fn.env.items()})
        os.environ["AWS_ENDPOINT_URL"] = self.url
        from parley.dal import aws
        from parley.settings import get_settings

        get_settings.cache_clear()
        aws.reset()

    @property
    def table_name(self) -> str:
        assert self.stack is not None
        return self.stack.table_names[0]

    def send_queue(self) -> tuple[str, str]:
        """(ARN, URL) of the send queue."""
        assert self.stack is not None
        return next((arn, url) for arn, url in self.stack.queues.items() if arn.endswith("-SendQueue"))

    def ddb_backend(self) -> Any:
        from moto.dynamodb.models import dynamodb_backends

        return dynamodb_backends[ACCOUNT][REGION]
