"""The deps layer as ``sam build`` ships it (``make test`` builds before the suites): powertools carries the lazy-import
patch (layers/deps/patches/powertools-lazy-init.patch), still exports what Parley imports, and no longer loads every
resolver and event source (asyncio, zipfile, tempfile) at a function's cold start."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / ".aws-sam" / "build" / "DepsLayer" / "python"

pytestmark = pytest.mark.skipif(not LAYER.exists(), reason="no sam build output (make build)")

PROBE = """
import json, sys
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, LambdaFunctionUrlResolver, Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.utilities.data_classes import SQSEvent, event_source
import aws_lambda_powertools.event_handler as eh
print(json.dumps({"loaded": sorted(m for m in ("asyncio", "zipfile", "tempfile") if m in sys.modules),
                  "all": sorted(eh.__all__), "dir_has_all": set(eh.__all__) <= set(dir(eh))}))
"""


def test_the_built_powertools_is_patched_and_imports_lazily():
    init = (LAYER / "aws_lambda_powertools" / "event_handler" / "__init__.py").read_text()
    assert "def __getattr__" in init
    out = subprocess.run([sys.executable, "-c", PROBE], env={"PYTHONPATH": str(LAYER)}, capture_output=True, text=True, check=True)
    got = json.loads(out.stdout)
    assert got["loaded"] == []
    assert "APIGatewayRestResolver" in got["all"] and got["dir_has_all"]
