"""A shorter road into moto's DynamoDB for the emulator's server.

Every DynamoDB call of every function went through werkzeug's WSGI layer (an environ of every header, request
logging, response objects), moto's domain dispatcher and its Flask app before moto's ``DynamoHandler`` saw it:
about two thirds of the emulator's CPU for a ``GetItem``, under the one lock the emulator's DynamoDB holds. The
stack's main process is one interpreter (one GIL), so that overhead capped the whole stack's throughput.

A request that is a DynamoDB JSON call (``POST``, ``X-Amz-Target: DynamoDB_20120810.<Operation>``, a
``Content-Length`` body) is handed here straight to ``DynamoHandler.dispatch`` — the function moto's Flask app
routes it to — with the same normalized request moto builds (``moto.core.request.Request`` over a WSGI environ of
the request's headers and body), and the answer (status, headers, body) is written as Flask would write it, in
one write. Everything else (other services, chunked bodies, ``Expect``) goes the usual way. Left out, as they do
nothing for a DynamoDB client of the local stack: moto's request recorder (off unless enabled) and CORS headers.
"""

from __future__ import annotations

import io
import logging
import sys
import traceback
from typing import Any

from moto.core.request import Request

TARGET_PREFIX = "DynamoDB_20120810."
_log = logging.getLogger("parley_local.dynamodb_front")


class _DynamoRequest(Request):
    from_wsgi_server = True  # as moto's Flask app marks its requests: moto then leaves the Date header to the server


class DynamoFrontMixin:
    """Mix in before ``KeepAliveMixin`` on moto's request handler."""

    def _dynamodb_call(self) -> bool:
        headers = self.headers  # type: ignore[attr-defined]
        return (
            self.command == "POST"  # type: ignore[attr-defined]
            and (headers.get("X-Amz-Target") or "").startswith(TARGET_PREFIX)
            and (headers.get("Content-Length") or "").isdigit()
            and not headers.get("Transfer-Encoding")
            and not headers.get("Expect")
        )

    def run_wsgi(self) -> None:
        if not self._dynamodb_call():
            super().run_wsgi()  # type: ignore[misc]
            return
        body = self.rfile.read(int(self.headers["Content-Length"]))  # type: ignore[attr-defined]
        request = _DynamoRequest(self._environ(body))
        try:
            from moto.dynamodb.responses import DynamoHandler

            try:
                result = DynamoHandler.dispatch(request, request.raw_url, dict(request.headers))
            except Exception as err:
                from botocore.exceptions import ClientError  # what moto's Flask wrapper answers as a 400

                if not isinstance(err, ClientError):
                    raise
                result = 400, {}, err.response["Error"]["Message"]
            status, out_headers, content = result if len(result) == 3 else (200, {}, result)
        except Exception:
            _log.error("DynamoDB request failed:\n%s", traceback.format_exc())
            status, out_headers = 500, {"Content-Type": "application/x-amz-json-1.0"}
            content = '{"__type": "com.amazonaws.dynamodb.v20120810#InternalServerError", "message": "emulator error"}'
        self._answer(int(status), out_headers, content)

    def _environ(self, body: bytes) -> dict[str, Any]:
        host, port = self.server.server_address[:2]  # type: ignore[attr-defined]
        environ: dict[str, Any] = {
            "REQUEST_METHOD": "POST",
            "SCRIPT_NAME": "",
            "PATH_INFO": self.path.split("?", 1)[0] or "/",  # type: ignore[attr-defined]
            "QUERY_STRING": self.path.split("?", 1)[1] if "?" in self.path else "",  # type: ignore[attr-defined]
            "RAW_URI": self.path,  # type: ignore[attr-defined]
            "SERVER_NAME": str(host),
            "SERVER_PORT": str(port),
            "SERVER_PROTOCOL": self.request_version,  # type: ignore[attr-defined]
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "CONTENT_LENGTH": str(len(body)),
        }
        for name, value in self.headers.items():  # type: ignore[attr-defined]
            key = name.upper().replace("-", "_")
            if key == "CONTENT_TYPE":
                environ[key] = value
            elif key != "CONTENT_LENGTH" and "_" not in name:  # werkzeug drops underscored names too
                environ[f"HTTP_{key}"] = value
        return environ

    def _answer(self, status: int, headers: dict[str, Any], content: Any) -> None:
        data = content.encode() if isinstance(content, str) else bytes(content or b"")
        reason = self.responses.get(status, ("",))[0]  # type: ignore[attr-defined]  # http.server's phrases
        lines = [f"{self.protocol_version} {status} {reason}"]  # type: ignore[attr-defined]
        names = set()
        for name, value in headers.items():
            lname = name.lower()
            if lname in ("content-length", "connection", "transfer-encoding"):
                continue
            names.add(lname)
            lines.append(f"{name}: {value}")
        if "content-type" not in names:
            lines.append("Content-Type: text/html; charset=utf-8")  # Flask's default, as before
        lines.append(f"Content-Length: {len(data)}")
        if self.close_connection:  # type: ignore[attr-defined]
            lines.append("Connection: close")
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + data)  # type: ignore[attr-defined]
        self.wfile.flush()  # type: ignore[attr-defined]
