"""The send sweeper: nothing accepted is lost between the table and the queue.

Accepting a send is two steps, the message stored (QUEUED or SCHEDULED) then its job handed to SQS or its
one-time schedule created; a failed second step marks the message FAILED, but a process that dies between
the two leaves a message that no job will ever bring to the dispatcher. The same is true of a schedule
that never fires. Such messages stay on the pending index (``dal/pending.py``) because only the
dispatcher's claim takes them off it.

Every few minutes the sweeper looks for messages on the index that were due more than
``SWEEP_AFTER_SECONDS`` ago and queues a job for each. A job for a message that is in fact on its way
(a backlog, a slow schedule) is harmless: the dispatcher sends only what it can claim, once. Index
entries of messages that ended some other way are removed.

It also removes the bodies no message has: a large body is written to S3 before its message's item, after a
write intent that the message's own transaction deletes (``dal/body_intents.py``). An intent older than
``SWEEP_AFTER_SECONDS`` whose message does not exist is a body whose table write failed (or whose writer died):
the body is deleted, then the intent; one whose message exists (the transaction failed after all for another
writer's reason, a replay of the same id) only loses its intent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from parley import clock
from parley.dal import bodies, body_intents, pending, queue
from parley.models.domain import MessageStatus, SendJob
from parley.settings import get_settings

WAITING = (MessageStatus.QUEUED.value, MessageStatus.SCHEDULED.value)
PER_SHARD = 1000  # messages re-queued per shard and run (the next run takes the rest)


@dataclass(frozen=True)
class SweepResult:
    requeued: int
    refused: int  # jobs SQS did not take (queued by the next run)
    forgotten: int  # index entries of messages that had already ended
    orphan_bodies: int = 0  # bodies deleted because no message item has them


def sweep(now: datetime | None = None) -> SweepResult:
    now = now or clock.now()
    cutoff = now - timedelta(seconds=get_settings().sweep_after_seconds)
    jobs: list[SendJob] = []
    forgotten = 0
    for p in pending.due_before(cutoff, limit=PER_SHARD):
        if p.status in WAITING:
            jobs.append(SendJob(tenant_id=p.tenant_id, message_id=p.message_id))
        elif pending.forget(p.tenant_id, p.message_id, p.status):
            forgotten += 1
    refused = queue.enqueue_many(jobs)
    return SweepResult(requeued=len(jobs) - len(refused), refused=len(refused), forgotten=forgotten, orphan_bodies=sweep_bodies(cutoff))


def sweep_bodies(cutoff: datetime) -> int:
    """Delete the bodies of write intents older than ``cutoff`` whose message was never stored; drop the intents.
    Returns the number of bodies deleted."""
    intents = list(body_intents.older_than(cutoff, limit=PER_SHARD))
    if not intents:
        return 0
    kept = body_intents.stored(intents)
    removed = 0
    for intent in intents:
        if intent.message_id not in kept:
            bodies.delete(intent.body_ref)
            removed += 1
        body_intents.drop(intent)
    return removed
