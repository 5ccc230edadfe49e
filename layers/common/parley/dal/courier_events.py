"""The courier events bus (EventBridge, ``CourierEventsBus``): the events the courier APIs emit for announcers
(parley.domain.courier_events; docs/architecture.md "Courier events")."""

from __future__ import annotations

import json
from typing import Any

from parley.dal.aws import client
from parley.settings import get_settings

SOURCE = "parley.courier"


def bus_name() -> str:
    return get_settings().courier_events_bus_name


def put(entries: list[tuple[str, dict[str, Any]]]) -> None:
    """Put ``(detail-type, detail)`` events on the bus, 10 per PutEvents; raise when one is not accepted."""
    events = client("events")
    bus = bus_name()
    for start in range(0, len(entries), 10):
        chunk = [{"EventBusName": bus, "Source": SOURCE, "DetailType": kind, "Detail": json.dumps(detail, separators=(",", ":"))}
                 for kind, detail in entries[start : start + 10]]  # fmt: skip
        out = events.put_events(Entries=chunk)
        if out.get("FailedEntryCount"):
            failed = next(e for e in out["Entries"] if e.get("ErrorCode"))
            raise RuntimeError(f"the courier events bus refused {out['FailedEntryCount']} event(s): {failed.get('ErrorMessage', '')}")
