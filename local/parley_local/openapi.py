"""OpenAPI 3 documents of the API families, generated from the handlers' own routers (powertools).

``python -m parley_local.openapi`` writes ``docs/openapi/<family>.json``; ``--check`` exits 1 when a
committed document differs from what the code generates now (CI runs the same comparison as a test).
Each family's document is built the way the deployed API is: every function its SAM template
declares with an ``Api`` event contributes its ``router`` to one resolver of that family.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

from cfnlint.decode import decode

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "docs" / "openapi"
FAMILIES = {
    "candidate": ("Parley candidate API", "Recruiter↔candidate email and SMS, provider webhooks, history and archives (seed 000)."),
    "crm": ("Parley CRM communications API", "Send, schedule, templates, tracking, threads, search and analytics (seed 001)."),
    "ats": ("Parley ATS messages API", "The messages exchanged with one applicant (seed 002)."),
}
VERSION = "1.0.0"


def _import(code_dir: Path) -> ModuleType:
    unique = "openapi_" + "_".join(code_dir.relative_to(ROOT).parts)
    if unique in sys.modules:
        return sys.modules[unique]
    spec = importlib.util.spec_from_file_location(unique, code_dir / "app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[unique] = module
    spec.loader.exec_module(module)
    return module


def family_code_dirs(family: str) -> list[Path]:
    """The code directories of the family's API functions, in template order."""
    path = ROOT / "functions" / family / "template.yaml"
    doc, matches = decode(str(path))
    if doc is None:
        raise SystemExit(f"{path}: {matches}")
    dirs = []
    for res in doc["Resources"].values():
        if res["Type"] != "AWS::Serverless::Function":
            continue
        events = (res["Properties"].get("Events") or {}).values()
        if any(e["Type"] == "Api" for e in events):
            dirs.append((path.parent / res["Properties"]["CodeUri"]).resolve())
    return dirs


@cache
def family_app(family: str) -> Any:
    """One validating resolver holding every router of the family (the "monolith" of the family)."""
    for extra in (ROOT / "layers" / "common",):
        if str(extra) not in sys.path:
            sys.path.insert(0, str(extra))
    from parley.api.app import build_app  # after the layer is on sys.path

    routers = [_import(d).router for d in family_code_dirs(family)]
    return build_app(family, *routers)  # type: ignore[arg-type]


def family_schema(family: str) -> dict[str, Any]:
    title, description = FAMILIES[family]
    app = family_app(family)
    return json.loads(app.get_openapi_json_schema(title=title, version=VERSION, description=description))


def render(family: str) -> str:
    return json.dumps(family_schema(family), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if docs/openapi/ is not what the code generates")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    stale = []
    for family in FAMILIES:
        text, target = render(family), OUT / f"{family}.json"
        if args.check:
            if not target.exists() or target.read_text() != text:
                stale.append(str(target.relative_to(ROOT)))
        else:
            target.write_text(text)
            print(f"wrote {target.relative_to(ROOT)}")
    if stale:
        print("out of date (run `make openapi`): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
