"""Integers as the seeds' clients can hold them: a Java ``int`` (int32).

Every integer a request carries (query, path and body) is one of these, so a value beyond what the
client's type can parse is a 400 in the family's error shape, never stored or echoed back (decision S3).
The bounds and the format also reach the OpenAPI documents (``minimum``, ``maximum``, ``format``);
``tests/infra/test_openapi_truth.py`` checks that no integer input is left without them.
"""

from __future__ import annotations

from typing import Annotated, Any

from annotated_types import Ge, Le
from pydantic import GetJsonSchemaHandler
from pydantic_core import CoreSchema

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


class _Format:
    """Adds the OpenAPI ``format`` to the field's JSON schema."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> dict[str, Any]:
        out = handler(schema)
        out["format"] = self.name
        return out

    def __repr__(self) -> str:
        return f"Format({self.name!r})"


Int32 = Annotated[int, Ge(INT32_MIN), Le(INT32_MAX), _Format("int32")]
"""A Java ``int``: what the seeds type ``int32``, and ``integer`` without a format (a generated Java
client maps that to ``Integer``). Narrower bounds go next to it: ``Annotated[Int32, Query(ge=0)]``.

No request of the seeds carries a ``long``: their int64 fields (epoch milliseconds) are response fields.
"""
