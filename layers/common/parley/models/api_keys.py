"""An API key's record: who it belongs to and where it is in its life (docs/data-model.md, ApiKey).

The key itself is never stored: the record is found by the key's SHA-256 (``key_hash``), and is shown by
its ``id`` (the first ``KEY_ID_LENGTH`` hex digits of that hash) and its ``key_prefix`` (``prl_`` + 6).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import ConfigDict

from parley.models.base import Model
from parley.models.domain import UtcDateTime

KEY_ID_LENGTH = 12  # hex digits of the SHA-256 that name a key in `admin list-keys` (48 bits: unique in a tenant)

KeyState = Literal["active", "expired", "revoked"]


class ApiKey(Model):
    model_config = ConfigDict(extra="ignore")

    key_hash: str  # SHA-256 hex of the key (the item's PK is APIKEY#<key_hash>)
    tenant_id: str
    key_prefix: str = ""  # "" for a key stored without one (none is known; listed as such)
    name: str = ""  # the operator's label (create-key --name)
    created_at: UtcDateTime | None = None
    expires_at: UtcDateTime | None = None  # refused from this instant on (rotation: the end of the overlap)
    revoked_at: UtcDateTime | None = None
    revoked: bool = False  # the flag of keys revoked before revoked_at existed: revoked, time unknown
    last_used_at: UtcDateTime | None = None  # to within domain.api_keys.LAST_USED_EVERY
    rotated_from: str = ""  # the id of the key this one replaced
    rotated_to: str = ""  # the id of the key that replaced this one

    @property
    def id(self) -> str:
        return self.key_hash[:KEY_ID_LENGTH]

    def state(self, now: datetime) -> KeyState:
        if self.revoked_at is not None or self.revoked:
            return "revoked"
        if self.expires_at is not None and now >= self.expires_at:
            return "expired"
        return "active"
