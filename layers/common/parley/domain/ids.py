"""Identifiers. Message ids are random UUIDv4 (122 random bits): unguessable, safe in public URLs."""

from __future__ import annotations

import uuid


def new_id() -> str:
    return str(uuid.uuid4())
