"""The inbox and posting at scale (issue 18, area B; docs/data-model.md §6.20): ``python -m bench.inbox``.

One individual holds ``channels`` channels (default 2,000) with ``per_channel`` posted messages each (default 100:
200,000 messages), seeded as the data layer writes them (channel with its ``seq``/``last_message``, the member items
with their inbox state and indexes, the messages, the inbox count) straight into the emulator's DynamoDB backend.
Then, in this process, with a botocore hook counting what DynamoDB reads:

- the inbox (``GET /v1/communication-messages/``, its handler) page 1 and page 20 (``page[limit]=100``), by
  ``-last-timestamp`` and ``-unread-count``: items read (Query ``ScannedCount`` — COUNT queries included — plus the
  items of GetItem/BatchGetItem) ÷ items returned. Target: ≤ 2.
- a post (``POST /v1/messaging-messages/``, its handler) to a channel of 500 members against a direct write (one
  ``PutItem`` of a message item of the same size), the same number of times in the same run: median latency ratio.
  Target: ≤ 1.5. The members' inbox state for such a channel is written afterwards by ChannelEventsFunction (the
  ``channel_inbox`` hook), whose cost per post is reported too (one event, 500 members).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import uuid
from typing import Any

from bench.emulator import Emulator
from bench.reads import _put
from bench.scenarios import Context, Local, function_handler, set_body, set_header, set_query
from parley_local.moto_patches import table_changed

ME, ORG = "ind-me", "org-bench"


class Reads:
    """Counts what DynamoDB reads for the calls made while it is on (items, by operation)."""

    def __init__(self) -> None:
        self.read = self.counted = self.calls = 0
        self.on = False

    def after(self, http_response: Any = None, parsed: Any = None, model: Any = None, **_: Any) -> None:
        if not self.on or parsed is None:
            return
        name = model.name
        self.calls += 1
        if name == "Query":
            scanned = int(parsed.get("ScannedCount", 0))
            self.read += scanned
            if "Items" not in parsed:
                self.counted += scanned
        elif name == "GetItem":
            self.read += int("Item" in parsed)
        elif name == "BatchGetItem":
            self.read += sum(len(v) for v in (parsed.get("Responses") or {}).values())

    def reset(self) -> None:
        self.read = self.counted = self.calls = 0


def seed(emu: Emulator, tenant_id: str, channels: int, per_channel: int, big_members: int) -> tuple[str, str, float]:
    """The individual's channels (two members each, and one of ``big_members`` members, the last): (the big channel's
    id, a two-member channel's id, seconds)."""
    from parley import clock
    from parley.dal import channel_messages as mstore
    from parley.dal import channels as cstore
    from parley.dal import table
    from parley.domain import channel_inbox

    started = time.monotonic()
    backend = emu.ddb_backend().get_table(emu.table_name)
    base = clock.now()
    big = small = ""
    for n in range(channels):
        cid = str(uuid.uuid4())
        created = clock.iso(base.replace(microsecond=0) - __import__("datetime").timedelta(days=30, seconds=n))
        last_time = clock.iso(base - __import__("datetime").timedelta(seconds=channels - n))
        channel = cstore.channel_item(tenant_id, cid, {"organization_id": ORG, "kind": "group", "name": f"Team {n}", "archived": False,
                                                       "created_at": created, "last_modified_at": created, "created_by": ME})  # fmt: skip
        last = {"id": str(uuid.uuid4()), "message": f"message {per_channel} of team {n}", "posted_time": last_time, "removed": False,
                "individual_id": "ind-other"}  # fmt: skip
        channel.update(seq=per_channel, last_message=last, last_time=last_time)
        _put(backend, table.marshal(channel))
        for seq in range(1, per_channel + 1):
            mid = last["id"] if seq == per_channel else str(uuid.uuid4())
            msg = mstore.message_item(tenant_id, {"id": mid, "channel_id": cid, "individual_id": "ind-other", "message": f"message {seq}",
                                                  "message_lc": f"message {seq}", "source": "api", "draft": False, "removed": False,
                                                  "seq": seq, "posted_time": last_time, "created_at": last_time,
                                                  "last_modified_time": last_time})  # fmt: skip
            _put(backend, table.marshal(msg))
        members = [ME, "ind-other"] + ([f"ind-{k}" for k in range(big_members - 2)] if n == channels - 1 else [])
        for ind in members:
            ack = (n * 7 + len(ind)) % (per_channel + 1)
            item = cstore.member_item(tenant_id, channel, ind, {"admin": ind == ME, "pinned": False, "notify": True, "joined_at": created})
            item.update(channel_inbox._state(tenant_id, cid, ind, per_channel, ack, None, None, last_time))
            item["iv"] = 1
            _put(backend, table.marshal(item))
        if n == channels - 1:
            big = cid
        if n == 0:
            small = cid
    count = {"PK": mstore.inbox_count_pk(tenant_id, ME), "SK": "INBOXN", "type": "inbox_count", "channels": channels,
             "counted_at": clock.iso(base)}  # fmt: skip
    _put(backend, table.marshal(count))
    table_changed()
    return big, small, time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=2000)
    parser.add_argument("--per-channel", type=int, default=100)
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--posts", type=int, default=20)
    args = parser.parse_args(argv)

    emu = Emulator().start()
    try:
        lo = Local(emu)
        tid = lo.tenant.id
        from parley.domain import directory

        user = "user-me"
        synced = "2026-11-01T09:00:00Z"
        lines = [
            json.dumps({"type": "users", "id": user, "last-sync-time": synced, "attributes": {"primary-individual-id": ME}}),
            json.dumps({"type": "individuals", "id": ME, "last-sync-time": synced, "attributes": {"owner-id": user}}),
        ]
        directory.import_lines(tid, lines)
        print(f"seeding {args.channels} channels x {args.per_channel} messages ...", flush=True)
        big, small, seconds = seed(emu, tid, args.channels, args.per_channel, args.members)

        from parley.dal import table

        reads = Reads()
        print(f"seeded in {seconds:.0f} s", flush=True)
        inbox_fn = emu.function("CourierMessagingApi.ListCommunicationMessagesFunction")
        emu.use_function_env(inbox_fn)
        table.ddb().meta.events.register("after-call.dynamodb.*", reads.after)
        inbox = function_handler(inbox_fn)
        rows = []
        for sort in ("-last-timestamp", "-unread-count"):
            for page in (1, 20):
                event = lo.event("courier_messaging/list_communication_messages")
                set_header(event, "X-User-ID", user)
                set_query(event, {"page[limit]": "100", "page[offset]": str((page - 1) * 100), "sort": sort})
                reads.reset()
                reads.on = True
                t = time.perf_counter()
                out = inbox(event, Context())
                ms = (time.perf_counter() - t) * 1000
                reads.on = False
                doc = json.loads(out["body"])
                returned = len(doc.get("data") or [])
                rows.append((sort, page, out["statusCode"], returned, reads.read, reads.counted, reads.calls, ms, doc.get("meta")))

        print()
        print("| inbox | page | HTTP | returned | read | of which COUNT | read ÷ returned | ≤ 2? | DynamoDB calls | ms | meta |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        for sort, page, status, returned, read, counted, calls, ms, meta in rows:
            ratio = read / returned if returned else float("inf")
            ok = "yes" if ratio <= 2 else "NO"
            cells = [f"sort={sort}", page, status, returned, read, counted, f"{ratio:.2f}", ok, calls, f"{ms:.0f}", json.dumps(meta)]
            print("| " + " | ".join(str(c) for c in cells) + " |")

        # posting, in a table of its own (the emulator rebuilds an index from the whole table after each write:
        # with 200,000 messages beside them, every post would measure moto, not the design)
        emu.reset()
        lo = Local(emu)
        tid = lo.tenant.id
        directory.import_lines(tid, lines)
        big, small, _seconds = seed(emu, tid, 2, 1, args.members)
        post_fn = emu.function("CourierMessagingApi.CreateMessagingMessageFunction")
        emu.use_function_env(post_fn)
        table.ddb().meta.events.register("after-call.dynamodb.*", reads.after)
        post = function_handler(post_fn)
        from collections import Counter

        from parley.dal import channel_messages as mstore
        from parley.dal.aws import client as aws_client

        made: Counter[str] = Counter()  # the AWS calls of the posts (DynamoDB and SQS), by operation

        def count_call(event_name: str = "", **_: Any) -> None:
            made[event_name.split(".")[-1]] += 1

        table.ddb().meta.events.register("after-call.dynamodb.*", count_call)
        aws_client("sqs").meta.events.register("after-call.sqs.*", count_call)

        def post_to(channel_id: str, n: int) -> tuple[float, dict]:
            event = lo.event("courier_messaging/create_messaging_message")
            set_header(event, "X-User-ID", user)
            set_body(
                event,
                {"data": {"type": "messaging-messages", "attributes": {"channel-id": channel_id, "message": f"post {n} to everyone"}}},
            )
            t = time.perf_counter()
            out = post(event, Context())
            elapsed = (time.perf_counter() - t) * 1000
            assert out["statusCode"] == 201, out["body"]
            return elapsed, out

        api_ms, small_ms, direct_ms = [], [], []
        calls_big: list[Counter[str]] = []
        calls_small: list[Counter[str]] = []
        for n in range(args.posts + 1):
            made.clear()
            elapsed, out = post_to(big, n)
            calls_big.append(Counter(made))
            made.clear()
            elapsed_small, _ = post_to(small, n)
            calls_small.append(Counter(made))
            at, text = "2026-12-07T00:00:00.000Z", f"post {n} to everyone"
            item = mstore.message_item(tid, {"id": str(uuid.uuid4()), "channel_id": big, "individual_id": ME, "message": text,
                                             "message_lc": text, "source": "api", "draft": False, "removed": False, "seq": 10**9 + n,
                                             "posted_time": at, "created_at": at, "last_modified_time": at})  # fmt: skip
            t = time.perf_counter()
            table.put_item(item, condition="attribute_not_exists(PK)")
            direct = (time.perf_counter() - t) * 1000
            if n:  # the first of each is the warm-up
                api_ms.append(elapsed)
                small_ms.append(elapsed_small)
                direct_ms.append(direct)
        # the hook's share of one post to the big channel (ChannelEventsFunction, asynchronously)
        from parley.domain import channel_events

        last = json.loads(out["body"])["data"]
        event = channel_events.new(tid, big, "message-posted", actor_individual_id=ME, message_id=last["id"], data={"inbox": "async"})
        t = time.perf_counter()
        channel_events.handle(event)
        hook_s = time.perf_counter() - t

        a, sm, d = statistics.median(api_ms), statistics.median(small_ms), statistics.median(direct_ms)
        print()
        print(f"post through the API to a {args.members}-member channel: median {a:.1f} ms; to a direct (2-member) channel "
              f"{sm:.1f} ms: ratio {a / sm:.2f} ({'≤' if a / sm <= 1.5 else '>'} 1.5); a bare PutItem of a message item "
              f"{d:.1f} ms: ratio {a / d:.2f} ({'≤' if a / d <= 1.5 else '>'} 1.5) ({args.posts} each, interleaved, same run)")  # fmt: skip
        print(f"the channel_inbox hook for one post to it (ChannelEventsFunction, after the answer): {hook_s:.2f} s")
        for name, seen in ((f"a {args.members}-member channel", calls_big[-1]), ("a direct channel", calls_small[-1])):
            ops = ", ".join(f"{op} {k}" for op, k in sorted(seen.items()))
            print(f"AWS calls of one post to {name}: {sum(seen.values())} ({ops})")
    finally:
        emu.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
