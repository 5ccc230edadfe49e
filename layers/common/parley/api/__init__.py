"""HTTP glue shared by every endpoint function: resolver factory, caller context, error mapping."""

from parley.api.app import build_app, caller, header, idempotency_key, sender

__all__ = ["build_app", "caller", "header", "idempotency_key", "sender"]
