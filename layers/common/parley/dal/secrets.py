"""Tenant provider credentials, kept in AWS Secrets Manager (one JSON secret per tenant).

Read through powertools Parameters, which caches each secret for ``max_age`` seconds per container; the
tenant item that names the secret is cached as long (``tenants.cached``), so a provider send reads neither
the table nor Secrets Manager more than once per tenant every ``CACHE_SECONDS``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from aws_lambda_powertools.utilities import parameters

from parley.dal import tenants
from parley.dal.aws import client

CACHE_SECONDS = tenants.CACHE_SECONDS  # 300 s


@lru_cache(maxsize=4)
def _provider(sm_client: Any) -> parameters.SecretsProvider:
    """One provider per client: powertools keeps its max_age cache on the provider instance."""
    return parameters.SecretsProvider(boto3_client=sm_client)


def tenant_secret(tenant_id: str) -> dict[str, Any]:
    """The tenant's credential secret as a dict ({} when the tenant has none configured)."""
    tenant = tenants.cached(tenant_id, max_age=CACHE_SECONDS)
    if tenant is None or not tenant.secret_name:
        return {}
    return _provider(client("secretsmanager")).get(tenant.secret_name, transform="json", max_age=CACHE_SECONDS) or {}


def named_secret(name: str) -> dict[str, Any]:
    """A JSON secret by name (e.g. a tenant's ``jwt_secret_name``), cached like the others ({} when not a JSON object).
    ``LookupError`` when it cannot be read (no such secret, no access, not JSON)."""
    try:
        value = _provider(client("secretsmanager")).get(name, transform="json", max_age=CACHE_SECONDS)
    except (parameters.exceptions.GetParameterError, parameters.exceptions.TransformParameterError) as err:
        raise LookupError(f"secret {name}: {err}") from err
    return value if isinstance(value, dict) else {}


def put_tenant_secret(name: str, value: dict[str, Any]) -> None:
    """Create or replace a secret (operators and the local stack; deployed functions only read)."""
    import json

    sm = client("secretsmanager")
    try:
        sm.create_secret(Name=name, SecretString=json.dumps(value))
    except sm.exceptions.ResourceExistsException:
        sm.put_secret_value(SecretId=name, SecretString=json.dumps(value))


def create_once(name: str, value: dict[str, Any]) -> dict[str, Any]:
    """Create the secret with ``value`` unless it exists: the value that is kept (``value``, or the one a racing
    writer stored first), so every caller ends up with the same one."""
    import json

    sm = client("secretsmanager")
    try:
        sm.create_secret(Name=name, SecretString=json.dumps(value))
    except sm.exceptions.ResourceExistsException:
        return fresh_named_secret(name)
    return value


def fresh_named_secret(name: str) -> dict[str, Any]:
    """``named_secret`` read from Secrets Manager now (the container's cache refreshed), for a value just written
    elsewhere (e.g. a texting account's voice API key, created once)."""
    try:
        value = _provider(client("secretsmanager")).get(name, transform="json", max_age=CACHE_SECONDS, force_fetch=True)
    except (parameters.exceptions.GetParameterError, parameters.exceptions.TransformParameterError) as err:
        raise LookupError(f"secret {name}: {err}") from err
    return value if isinstance(value, dict) else {}
