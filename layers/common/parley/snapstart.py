"""Lambda SnapStart runtime hooks (docs/architecture.md §3.1): prime before the snapshot, re-seed after a restore.

With SnapStart, Lambda runs a function's init once per published version, snapshots the initialised environment
and resumes every later cold start from that snapshot. The Python runtime provides ``snapshot_restore_py``, whose
``register_before_snapshot`` / ``register_after_restore`` hooks run just before the snapshot is taken and just
after an environment is restored from it. Outside Lambda (tests, the local stack, SnapStart off) the module is
absent, or its hooks are never called: ``register`` then changes nothing and the function initialises as before.

Before the snapshot (``prime``), everything a first request would otherwise build is built, without opening a
network connection:

- the settings (``get_settings``: the environment parsed once);
- the boto3 clients' models and endpoint rules (``parley.dal.aws.prime``: no credentials are resolved — see there);
- the validators of the ``Caller`` model (every API request and the authorizer build one) and of any models given;
- the phone number parser, for a function whose code handles phone numbers (``parley.domain.phones`` imported);
- whatever the caller adds (an endpoint builds its resolver and its route's validators: ``parley.api.endpoint``).

After a restore (``after_restore``): ``random`` is re-seeded from ``os.urandom`` (every environment restored from
one snapshot would otherwise draw the same backoff jitter). ``uuid.uuid4`` and ``secrets`` read ``os.urandom`` on
every call, so ids, API keys and tracking tokens need nothing.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

_hooked = False  # the after-restore hook is registered once per process


def _hooks() -> Any:
    try:
        import snapshot_restore_py  # provided by the Lambda Python runtime (3.12+), not installed elsewhere
    except ImportError:
        return None
    return snapshot_restore_py


def register(*, services: Iterable[str] = (), models: Iterable[type] = (), then: Callable[[], None] | None = None) -> bool:
    """Prime ``services`` (boto3 client names), ``models`` and ``then()`` before the snapshot, and re-seed after a
    restore. Called at import time by a handler module. Returns whether the runtime's hooks were found."""
    return register_hook(partial(prime, tuple(services), tuple(models), then))


def register_hook(before_snapshot: Callable[[], None]) -> bool:
    """Run ``before_snapshot()`` before the snapshot (it should end up calling ``prime``), and ``after_restore``
    after each restore (registered once per process). Returns whether the runtime's hooks were found."""
    global _hooked
    hooks = _hooks()
    if hooks is None:
        return False
    hooks.register_before_snapshot(before_snapshot)
    if not _hooked:
        hooks.register_after_restore(after_restore)
        _hooked = True
    return True


def prime(services: Iterable[str] = (), models: Iterable[type] = (), then: Callable[[], None] | None = None) -> None:
    """What the before-snapshot hook runs (see the module doc). Safe to call more than once."""
    from parley.dal import aws
    from parley.domain.context import Caller
    from parley.settings import get_settings

    get_settings()
    aws.prime(services)
    for model in (Caller, *models):
        model.model_rebuild(force=True)  # a deferred model (parley.models.base) builds its validator now
    if "parley.domain.phones" in sys.modules:
        from parley.models import phones

        phones.prime()
    if then is not None:
        then()


def after_restore() -> None:
    """What the after-restore hook runs: ``random`` re-seeded from ``os.urandom``."""
    random.seed()
