"""Outbound provider adapters (email, SMS). Like ``parley.dal``, the only other layer that calls out."""
