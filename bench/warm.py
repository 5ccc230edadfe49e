"""Warm send: a send handler called in this process (warm: imported, clients created) against the emulator,
against the floor of making the same AWS calls directly.

The floor is the handler's own AWS calls, recorded once with their parameters (botocore hook) and replayed
with the same clients, every id in them (UUIDs, hashes, tracking tokens) replaced by fresh ones so each
replay writes new items exactly as a new send does (the conditional writes succeed, as the handler's do).
Handler and floor alternate call by call; the figure is the ratio of their medians.
"""

from __future__ import annotations

import re
import secrets
import statistics
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from bench.calls import CALLS, describe
from bench.emulator import Emulator
from bench.scenarios import Context, Local, function_handler

SENDS = {
    "CandidateApi.SendEmailFunction": "candidate/send_email",
    "CrmApi.SendFunction": "crm/send",
    "CandidateApi.SendSmsFunction": "candidate/send_sms",
}
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_HEX = re.compile(r"(?<![0-9a-f])[0-9a-f]{32,64}(?![0-9a-f])")
_TOKEN = re.compile(r"(?<=TRACK#)[A-Za-z0-9_-]{16,128}|(?<=/track/)[A-Za-z0-9_-]{16,128}|(?<=/link/)[A-Za-z0-9_-]{16,128}")


@dataclass
class WarmRow:
    key: str
    handler_ms: float
    floor_ms: float
    calls: str
    n: int
    errors: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return self.handler_ms / self.floor_ms if self.floor_ms else float("inf")


class Remap:
    """Fresh values for every id in a recorded call, consistent within one replay."""

    def __init__(self) -> None:
        self.seen: dict[str, str] = {}

    def _fresh(self, kind: str, old: str) -> str:
        if old not in self.seen:
            if kind == "uuid":
                self.seen[old] = str(uuid.uuid4())
            elif kind == "hex":
                self.seen[old] = secrets.token_hex(len(old) // 2)
            else:
                self.seen[old] = secrets.token_urlsafe(16)[: len(old)]
        return self.seen[old]

    def text(self, value: str, create: bool = True) -> str:
        def sub(kind: str) -> Any:
            return lambda m: self._fresh(kind, m.group()) if create else self.seen.get(m.group(), m.group())

        value = _UUID.sub(sub("uuid"), value)
        value = _HEX.sub(sub("hex"), value)
        return _TOKEN.sub(sub("token"), value)

    def __call__(self, value: Any, create: bool = True) -> Any:
        """``create=False``: only ids already replaced (what an earlier write of the replay made) are replaced."""
        if isinstance(value, str):
            return self.text(value, create)
        if isinstance(value, dict):
            return {k: self(v, create) for k, v in value.items()}
        if isinstance(value, list):
            return [self(v, create) for v in value]
        return value


def replay(template: list[dict[str, Any]]) -> list[str]:
    """Make the recorded calls again, directly, with fresh ids; returns the errors (should be none)."""
    from botocore import xform_name

    from parley.dal.aws import client

    remap = Remap()
    errors = []
    for call in template:
        params = remap(call["params"])
        api = getattr(client(call["service"], retry=call["service"] not in ("sesv2", "sns")), xform_name(call["op"]))
        try:
            api(**params)
        except Exception as err:  # reported, not hidden: a failing replay would make the floor meaningless
            errors.append(f"{call['op']}: {type(err).__name__}: {err}")
    return errors


def run(emu: Emulator, lo: Local, *, n: int, progress: Any = print) -> list[WarmRow]:
    rows = []
    lo.opt_in()  # the SMS sample's number consents once; every send then only reads the consent
    for key, name in SENDS.items():
        fn = emu.function(key)
        emu.use_function_env(fn)
        handler = function_handler(fn)
        events = [lo.event(name) for _ in range(n + 6)]
        for event in events[:5]:  # warm: module imported, clients created, moto's paths hot
            handler(event, Context())
        with CALLS.record(params=True) as template:
            out = handler(events[5], Context())
        if out.get("statusCode", 500) >= 400:
            raise RuntimeError(f"{key}: {out}")
        for _ in range(3):
            replay(template)
        handler_t, floor_t, errors = [], [], []
        for event in events[6:]:
            t = time.perf_counter()
            out = handler(event, Context())
            handler_t.append(time.perf_counter() - t)
            if out.get("statusCode", 500) >= 400:
                errors.append(f"handler: {out.get('statusCode')} {out.get('body', '')[:200]}")
            t = time.perf_counter()
            errors += replay(template)
            floor_t.append(time.perf_counter() - t)
        rows.append(WarmRow(key, statistics.median(handler_t) * 1000, statistics.median(floor_t) * 1000, describe(template), n, errors[:5]))
        progress(f"  warm send {key}: {rows[-1].handler_ms:.1f} ms vs {rows[-1].floor_ms:.1f} ms")
    return rows
