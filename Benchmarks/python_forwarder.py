#!/usr/bin/env python3
"""The benchmark's comparison, not the product: a typical hand-written Kafka-to-webhook forwarder.

What a platform team would write instead of webhook-bridge: a confluent-kafka consumer in a
group, aiohttp with at most --in-flight requests at once (keep-alive), each request signed like
the bridge's `hmac` scheme (X-Webhook-Signature: t=<unix seconds>,h0=<hex HMAC-SHA256(key,
"<t>.<body>")>), acknowledged on 202 and otherwise retried after 100 ms, and offsets committed
only below the lowest record not yet acknowledged (every 1,000 acks or 1 s, and at the end).
It keeps no per-entity order (a typical forwarder doesn't) and has none of the bridge's
statuses, batching, parking or alerts.

`webhook-bridge bench` runs it with /usr/bin/python3 (Debian's python3-confluent-kafka and
python3-aiohttp) against the same embedded broker and nginx as the bridge:
    python_forwarder.py --bootstrap H:P --topic T --group G --url URL --key bench-hash-key-0123 \
        --in-flight 8 --count 20000 --timeout-seconds 600
and reads the one JSON line it prints: {"delivered": N, "seconds": S, "rate": N/S}, S measured
from the first record received to the last acknowledgement. Exit 1 on --timeout-seconds.
"""
import argparse, asyncio, hashlib, hmac, json, sys, time

import aiohttp
from confluent_kafka import Consumer, TopicPartition


def signature(key: bytes, body: bytes) -> str:
    t = str(int(time.time()))
    return f"t={t},h0={hmac.new(key, t.encode() + b'.' + body, hashlib.sha256).hexdigest()}"


async def forward(args: argparse.Namespace, consumer: Consumer) -> int:
    key = args.key.encode()
    slots = asyncio.Semaphore(args.in_flight)  # back-pressure: at most --in-flight records taken off the consumer
    open_offsets: dict[int, set[int]] = {}     # partition -> offsets read and not yet acknowledged
    next_offset: dict[int, int] = {}           # partition -> one past the highest offset read
    acked, first, last, last_commit = 0, None, None, time.monotonic()

    def committable() -> list[TopicPartition]:
        return [TopicPartition(args.topic, p, min(open_offsets[p]) if open_offsets[p] else next_offset[p]) for p in next_offset]

    async def deliver(session: aiohttp.ClientSession, message) -> None:
        nonlocal acked, last, last_commit
        body, topic, partition, offset = message.value(), message.topic(), message.partition(), message.offset()
        headers = {"Content-Type": "application/json", "message_id": f"{topic}-{partition}-{offset}",
                   "topic": topic, "sequence": f"{partition}-{offset}"}
        try:
            while True:
                try:
                    headers["X-Webhook-Signature"] = signature(key, body)
                    async with session.post(args.url, data=body, headers=headers) as response:
                        await response.read()
                        if response.status == 202:
                            break
                except (aiohttp.ClientError, asyncio.TimeoutError):
                    pass
                await asyncio.sleep(0.1)
        finally:
            slots.release()
        open_offsets[partition].discard(offset)
        acked += 1
        last = time.monotonic()
        if acked % 1000 == 0 or last - last_commit >= 1:
            consumer.commit(offsets=committable(), asynchronous=True)
            last_commit = last

    connector = aiohttp.TCPConnector(limit=args.in_flight)  # keep-alive is aiohttp's default
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=15)) as session:
        tasks, taken = set(), 0
        while taken < args.count:
            messages = consumer.consume(num_messages=500, timeout=0)  # never blocks the event loop
            if not messages:
                await asyncio.sleep(0.001)
                continue
            for message in messages:
                if message.error() or taken == args.count:
                    continue  # records past --count are neither sent nor committed
                taken += 1
                first = first or time.monotonic()
                open_offsets.setdefault(message.partition(), set()).add(message.offset())
                next_offset[message.partition()] = message.offset() + 1
                await slots.acquire()
                task = asyncio.create_task(deliver(session, message))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
        await asyncio.gather(*tasks)
    if next_offset:
        consumer.commit(offsets=committable(), asynchronous=False)
    seconds = (last or 0) - (first or 0)
    print(json.dumps({"delivered": acked, "seconds": round(seconds, 3), "rate": round(acked / seconds, 1) if seconds > 0 else 0.0}))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name in ("bootstrap", "topic", "group", "url", "key"):
        parser.add_argument(f"--{name}", required=True)
    parser.add_argument("--in-flight", type=int, default=8)
    parser.add_argument("--count", type=int, required=True, help="stop once this many records are acknowledged and committed")
    parser.add_argument("--timeout-seconds", type=float, default=600, help="give up (exit 1) after this long")
    args = parser.parse_args()
    consumer = Consumer({"bootstrap.servers": args.bootstrap, "group.id": args.group, "enable.auto.commit": False,
                         "auto.offset.reset": "earliest",
                         # librdkafka's mock cluster (the bench's broker) holds every fetch for the
                         # whole fetch.wait.max.ms; a real broker answers as soon as records arrive.
                         "fetch.wait.max.ms": 1})
    consumer.subscribe([args.topic])
    try:
        return asyncio.run(asyncio.wait_for(forward(args, consumer), args.timeout_seconds))
    except asyncio.TimeoutError:
        print(f"timed out after {args.timeout_seconds} s", file=sys.stderr)
        return 1
    finally:
        consumer.close()


if __name__ == "__main__":
    sys.exit(main())
