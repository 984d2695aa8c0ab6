#!/usr/bin/env python3
"""The benchmark's comparison, not the product: a typical hand-written Kafka-to-webhook forwarder.

What a platform team would write instead of webhook-bridge: a confluent-kafka consumer in a
group, aiohttp with at most --in-flight requests at once, each request signed like the bridge's
`hmac` scheme (X-Webhook-Signature: t=<unix seconds>,h0=<hex HMAC-SHA256(key, "<t>.<body>")>),
acknowledged on 202, retried otherwise, and offsets committed only below the lowest record not
yet acknowledged. It keeps no per-entity order (a typical forwarder doesn't), has no statuses,
batching, parking or alerts. `webhook-bridge bench` runs it with /usr/bin/python3 (Debian's
python3-confluent-kafka and python3-aiohttp) and reads the JSON line it prints at the end.
"""
import argparse, asyncio, hashlib, hmac, json, sys, time

import aiohttp
from confluent_kafka import Consumer, TopicPartition


def signature(key: bytes, body: bytes) -> str:
    t = str(int(time.time()))
    return f"t={t},h0={hmac.new(key, t.encode() + b'.' + body, hashlib.sha256).hexdigest()}"


async def main() -> int:
    parser = argparse.ArgumentParser()
    for name in ("bootstrap", "topic", "group", "url", "key"):
        parser.add_argument(f"--{name}", required=True)
    parser.add_argument("--in-flight", type=int, default=8)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--timeout-seconds", type=float, default=600)
    args = parser.parse_args()
    key = args.key.encode()

    consumer = Consumer({"bootstrap.servers": args.bootstrap, "group.id": args.group, "enable.auto.commit": False,
                         "auto.offset.reset": "earliest", "fetch.wait.max.ms": 1})
    consumer.subscribe([args.topic])
    slots = asyncio.Semaphore(args.in_flight)
    open_offsets: dict[int, set[int]] = {}  # partition -> offsets read and not yet acknowledged
    next_offset: dict[int, int] = {}        # partition -> one past the highest offset read
    acked, first, last = 0, None, None
    deadline = time.monotonic() + args.timeout_seconds

    def committable() -> list[TopicPartition]:
        return [TopicPartition(args.topic, p, min(open_offsets[p]) if open_offsets[p] else next_offset[p]) for p in next_offset]

    async def deliver(session: aiohttp.ClientSession, message) -> None:
        nonlocal acked, last
        body = message.value()
        headers = {"Content-Type": "application/json", "message_id": f"{message.topic()}-{message.partition()}-{message.offset()}",
                   "topic": message.topic(), "sequence": f"{message.partition()}-{message.offset()}"}
        try:
            while True:
                try:
                    headers["X-Webhook-Signature"] = signature(key, body)
                    async with session.post(args.url, data=body, headers=headers, timeout=aiohttp.ClientTimeout(total=15)) as response:
                        await response.read()
                        if response.status == 202:
                            break
                except (aiohttp.ClientError, asyncio.TimeoutError):
                    pass
                await asyncio.sleep(0.1)
        finally:
            slots.release()
        open_offsets[message.partition()].discard(message.offset())
        acked += 1
        last = time.monotonic()
        if acked % 1000 == 0:
            consumer.commit(offsets=committable(), asynchronous=True)

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=args.in_flight)) as session:
        tasks = set()
        while acked < args.count:
            if time.monotonic() > deadline:
                print(json.dumps({"error": "timeout", "delivered": acked}))
                return 1
            messages = consumer.consume(num_messages=500, timeout=0)
            if not messages:
                await asyncio.sleep(0.001)
                continue
            for message in messages:
                if message.error():
                    continue
                first = first or time.monotonic()
                open_offsets.setdefault(message.partition(), set()).add(message.offset())
                next_offset[message.partition()] = message.offset() + 1
                await slots.acquire()  # back-pressure: at most --in-flight requests at once
                task = asyncio.create_task(deliver(session, message))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
        await asyncio.gather(*tasks)
    consumer.commit(offsets=committable(), asynchronous=False)
    consumer.close()
    seconds = (last or time.monotonic()) - (first or time.monotonic())
    print(json.dumps({"delivered": acked, "seconds": round(seconds, 3), "rate": acked / seconds if seconds > 0 else 0.0}))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
