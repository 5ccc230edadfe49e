"""Unread counts stay exact under concurrent posts and acks (issue 18, area B; parley.domain.channel_inbox): several
threads post to one channel while members acknowledge messages; afterwards every seq was taken exactly once, each
member's head is the channel's seq, its marker is the furthest it acknowledged (or its own newest post), and its
stored unread count is exactly the posts after its marker. In-process moto applies each DynamoDB call atomically (as
DynamoDB does) while the threads interleave between calls: a lost update in the compare-and-set would show."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor

ORG = "org-1"
PEOPLE = ["p0", "p1", "p2", "p3"]
POSTS_EACH = 8


def test_unread_counts_are_exact_after_concurrent_posts_and_acks(tenant, monkeypatch):
    from parley.dal import channel_messages as mstore
    from parley.dal import channels as cstore
    from parley.domain import channel_messages as msgs
    from parley.domain import channels

    t, _ = tenant
    chan, _ = channels.create_channel(t.id, organization_id=ORG, creator_individual_id="p0", individual_ids=PEOPLE[1:], publish=False)
    cid = chan["id"]
    posted: dict[str, list[dict]] = {p: [] for p in PEOPLE}
    acked: dict[str, list[int]] = {p: [] for p in PEOPLE}

    def poster(person: str) -> None:
        for n in range(POSTS_EACH):
            posted[person].append(msgs.post(t.id, cid, person, f"{person} #{n}", publish=False))

    def acker(person: str, seed: int) -> None:
        rnd = random.Random(seed)
        for _ in range(POSTS_EACH):
            others = [m for p in PEOPLE if p != person for m in list(posted[p])]
            if not others:
                continue
            target = rnd.choice(others)
            item, _state = msgs.ack(t.id, target["id"], person)
            acked[person].append(int(item["seq"]))

    import parley.domain.channel_events as events

    monkeypatch.setattr(events, "publish", lambda *_a, **_k: None)  # no queue in this test: the inbox state is written synchronously
    with ThreadPoolExecutor(max_workers=8) as pool:
        jobs = [pool.submit(poster, p) for p in PEOPLE] + [pool.submit(acker, p, i) for i, p in enumerate(PEOPLE)]
        for job in jobs:
            job.result()

    total = len(PEOPLE) * POSTS_EACH
    channel = cstore.get_channel(t.id, cid, consistent=True)
    assert channel["seq"] == total
    seqs = sorted(int(m["seq"]) for ms in posted.values() for m in ms)
    assert seqs == list(range(1, total + 1))  # every seq once: none lost, none skipped
    assert channel["last_message"]["id"] == next(m["id"] for ms in posted.values() for m in ms if m["seq"] == total)
    for person in PEOPLE:
        member = mstore.get_member(t.id, cid, person)
        marker = max([*acked[person], *(int(m["seq"]) for m in posted[person])])
        assert member["head_seq"] == total
        assert member["ack_seq"] == marker, person
        assert member["unread"] == total - marker, person
        assert member["GSI7SK"].startswith(f"{total - marker:010d}#")
