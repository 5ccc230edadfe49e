"""OpenAPI 3 documents of the API families, generated from the endpoint declarations (powertools).

``python -m parley_local.openapi`` writes ``docs/openapi/<family>.json``; ``--check`` exits 1 when a
committed document differs from what the code generates now (CI runs the same comparison as a test).
Each family's document is built from one resolver holding every endpoint the family declares in
``functions/<family>/api/*.py`` (``parley.api.endpoint``); ``parley_local.generate`` writes it with the
SAM blocks and sample events of the same declarations. The local
stack serves the documents (``/_local/openapi/<family>.json``) and pages over them (``/_local/docs``).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from functools import cache
from html import escape
from pathlib import Path
from typing import Any

from parley_local import families

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "docs" / "openapi"
VERSION = "1.0.0"


@cache
def family_app(family: str) -> Any:
    """One validating resolver holding every endpoint the family declares (the "monolith" of the family)."""
    from parley_local.generate import _layer_on_path, apis

    _layer_on_path()
    from parley.api.endpoint import family_app as build  # after the layer is on sys.path

    return build(family, apis(family))


def family_schema(family: str) -> dict[str, Any]:
    title, description = families.openapi_info(family)
    app = family_app(family)
    return _without_powertools_422(json.loads(app.get_openapi_json_schema(title=title, version=VERSION, description=description)))


_VALIDATION_ERROR_REF = "#/components/schemas/HTTPValidationError"


def _without_powertools_422(schema: dict[str, Any]) -> dict[str, Any]:
    """Drop the 422 ``HTTPValidationError`` response powertools documents on every route of a validating
    resolver (it cannot be turned off): our validation errors are 400s in the family's error shape
    (``parley.api.errors``), and a route that really answers 422 declares it with its own model."""
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.get("responses", {})
            documented = ((responses.get("422") or {}).get("content") or {}).get("application/json", {}).get("schema", {})
            if documented.get("$ref") == _VALIDATION_ERROR_REF:
                del responses["422"]
    # ... and the components powertools adds for it (and for response validation errors, which it
    # never documents on a route) once nothing refers to them.
    schemas = schema.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ResponseValidationError", "ValidationError"):
        rest = {**schema, "components": {**schema.get("components", {}), "schemas": {k: v for k, v in schemas.items() if k != name}}}
        if f'"#/components/schemas/{name}"' not in json.dumps(rest):
            schemas.pop(name, None)
    return schema


def render(family: str) -> str:
    return json.dumps(family_schema(family), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# ───────────── the docs pages the local stack serves (/_local/docs) ─────────────
# Swagger UI's dist files come from an installed package (flask-swagger-ui, pinned in requirements/dev.txt: it ships
# swagger-ui-dist 5.x, which renders OpenAPI 3.1; only its static files are read, Flask is never imported), served
# by the stack at /_local/docs/assets/<file>: the pages work offline.
SWAGGER_UI = "/_local/docs/assets"
_ASSET_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".png": "image/png",
                ".html": "text/html; charset=utf-8"}  # fmt: skip


def swagger_ui_dir() -> Path:

    spec = importlib.util.find_spec("flask_swagger_ui")  # located, not imported (its __init__ imports Flask)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("flask-swagger-ui is not installed (requirements/dev.txt): the docs pages need its Swagger UI files")
    return Path(next(iter(spec.submodule_search_locations))) / "dist"


def swagger_ui_version() -> str:
    return (swagger_ui_dir() / "VERSION").read_text().strip().removeprefix("v")


def swagger_asset(name: str) -> tuple[bytes, str] | None:
    """(content, Content-Type) of one Swagger UI dist file by its bare name; None for anything else."""
    files = {p.name: p for p in swagger_ui_dir().iterdir() if p.is_file() and p.suffix in _ASSET_TYPES}
    path = files.get(name)
    return (path.read_bytes(), _ASSET_TYPES[path.suffix]) if path else None


_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2rem;max-width:80rem}table{border-collapse:collapse;width:100%}"
    "th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}code{white-space:nowrap}"
)


def operations(schema: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(METHOD, path, summary) of every operation of a document, in path order."""
    return [(method.upper(), path, op.get("summary", "")) for path, ops in sorted(schema["paths"].items()) for method, op in ops.items()]


def index_page() -> str:
    rows = "".join(
        f'<tr><td><a href="/_local/docs/{f}">{escape(title)}</a></td><td>{escape(description)}</td>'
        f'<td><a href="/_local/openapi/{f}.json">{f}.json</a></td></tr>'
        for f in families.names()
        for title, description in [families.openapi_info(f)]
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>Parley API docs</title><style>{_STYLE}</style></head><body>"
        "<h1>Parley API documentation</h1><p>One OpenAPI 3 document per API family, generated from the handlers' code "
        "(the same as <code>docs/openapi/&lt;family&gt;.json</code>).</p>"
        f"<table><tr><th>API</th><th>What</th><th>OpenAPI document</th></tr>{rows}</table></body></html>"
    )


def family_page(family: str, schema: dict[str, Any]) -> str:
    """Swagger UI (served by the stack, rendered in the browser) over the family's document ``schema``, and a
    plain table of its operations rendered here, so the page is useful without JavaScript too."""
    title, description = families.openapi_info(family)
    rows = "".join(
        f"<tr><td><code>{method}</code></td><td><code>{escape(path)}</code></td><td>{escape(summary)}</td></tr>"
        for method, path, summary in operations(schema)
    )
    spec_url = f"/_local/openapi/{family}.json"
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
        f"<link rel='stylesheet' href='{SWAGGER_UI}/swagger-ui.css'><style>{_STYLE}</style></head><body>"
        f"<p><a href='/_local/docs'>All APIs</a> · <a href='{spec_url}'>{family}.json</a></p>"
        f"<h1>{escape(title)}</h1><p>{escape(description)}</p>"
        "<div id='swagger-ui'></div>"
        f"<h2>Operations</h2><table><tr><th>Method</th><th>Path</th><th>Summary</th></tr>{rows}</table>"
        f"<script src='{SWAGGER_UI}/swagger-ui-bundle.js'></script>"
        f"<script>window.SwaggerUIBundle && SwaggerUIBundle({{url: {json.dumps(spec_url)}, dom_id: '#swagger-ui'}});</script>"
        "</body></html>"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if docs/openapi/ is not what the code generates")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    stale = []
    for family in families.names():
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
