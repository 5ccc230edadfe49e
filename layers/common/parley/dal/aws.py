"""AWS clients, created lazily (a function pays only for the clients it uses) and shared.

They are botocore's low-level clients — what ``boto3.client`` returns — made from one botocore session, without
importing boto3: boto3's package import brings its S3 transfer manager (s3transfer, concurrent.futures,
multiprocessing), 40-70 ms of every cold start that no Parley function uses. ``FastLoader`` takes out another cost
of the first client (see there). Nothing a client does differs: same models, endpoints, credentials chain, retries.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any

import botocore.session
from botocore.config import Config
from botocore.exceptions import DataNotFoundError
from botocore.loaders import Loader, instance_cache

# SDK-level retries stay on for idempotent reads/writes against DynamoDB, SQS and Scheduler.
_DEFAULT = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=3, read_timeout=10)
# Provider sends are not idempotent: no blind SDK retry; the dispatcher's claim + SQS retry decide.
_NO_RETRY = Config(retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=3, read_timeout=15)


class FastLoader(Loader):
    """botocore's data loader, except that loading a service's model does not first list every service.

    ``Loader.load_service_model`` checks that the service is known by listing all ~450 service folders and each
    one's API versions (~900 ``listdir`` and ~2,800 ``stat`` calls, 25-50 ms on Lambda, once for the model and
    once for the endpoint rules) before it reads the one folder it needs. Here the service's own folder is read
    first: when it has the model, the result is what botocore loads (the same latest version, the same extras
    merged by botocore's own code); only when it has none does botocore's full listing run, to raise its own
    ``UnknownServiceError`` (docs/upstream/botocore-loader.patch is the same change as a patch to botocore)."""

    @instance_cache
    def load_service_model(self, service_name: str, type_name: str, api_version: str | None = None) -> Any:
        extras = getattr(self, "_extras_processor", None)
        if extras is None or not hasattr(self, "_find_extras"):  # a botocore without these two helpers: its own way
            return super().load_service_model(service_name, type_name, api_version)
        try:
            version = api_version or self.determine_latest_version(service_name, type_name)
            model = self.load_data(os.path.join(service_name, version, type_name))
        except DataNotFoundError:
            return super().load_service_model(service_name, type_name, api_version)  # botocore's answer and error
        extras.process(model, self._find_extras(service_name, type_name, version))
        return model


@cache
def session() -> botocore.session.Session:
    """The process's botocore session (configuration and credentials from the environment, as boto3's)."""
    made = botocore.session.get_session()
    data_path = made.get_config_variable("data_path")
    made.register_component("data_loader", FastLoader(extra_search_paths=data_path.split(os.pathsep) if data_path else []))
    return made


@cache
def client(service: str, *, retry: bool = True) -> Any:
    return session().create_client(service, config=_DEFAULT if retry else _NO_RETRY)


def prime(services: Iterable[str]) -> None:
    """Load what creating these clients reads — service models, endpoint rules, partitions, retry and default
    configuration — into the process's botocore session, without resolving credentials and without a network connection
    (the SnapStart before-snapshot hook, ``parley.snapstart``). The clients ``client`` then creates (on first use,
    after the restore) find all of it loaded: a few milliseconds each instead of tens.

    The primed clients are unsigned and thrown away: with SnapStart, Lambda may hand the credentials out through
    the container credentials endpoint, so resolving them would be an HTTP call during init, and credentials kept
    in a snapshot would be shared by every environment restored from it."""
    from botocore import UNSIGNED

    unsigned = _DEFAULT.merge(Config(signature_version=UNSIGNED))
    for service in dict.fromkeys(services):
        session().create_client(service, config=unsigned)


_on_reset: list[Callable[[], None]] = []


def on_reset(forget: Callable[[], None]) -> None:
    """Have ``reset`` also call ``forget``: per-process caches of what the table or a secret held (a
    switch of endpoints or tables makes them wrong)."""
    _on_reset.append(forget)


def reset() -> None:
    """Forget cached clients, and the caches registered with ``on_reset`` (tests switch endpoints
    between emulators, and tables between tests). The session stays: its loaded models are the same for any
    endpoint, and a new one would parse them again (a client reads its endpoint and region when created)."""
    client.cache_clear()
    for forget in _on_reset:
        forget()
