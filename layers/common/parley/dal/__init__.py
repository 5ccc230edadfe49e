"""Data-access layer: the only code (with ``parley.providers``) that talks to AWS."""
