"""Reads requests a receiver got (JSON lines: {"content_type": ..., "body": ...}) and parses each
with the CloudEvents Python SDK, as a receiver would; batches (application/cloudevents-batch+json,
which the SDK does not parse whole) event by event. Prints one JSON line per event with its
attributes and data, or exits non-zero with the SDK's error."""
import json
import sys

from cloudevents.v1.http import from_http


def events(content_type, body):
    if content_type.startswith("application/cloudevents-batch+json"):
        for item in json.loads(body):
            yield from_http({"content-type": "application/cloudevents+json"}, json.dumps(item))
    else:
        yield from_http({"content-type": content_type}, body)


for line in sys.stdin:
    request = json.loads(line)
    for event in events(request["content_type"], request["body"]):
        attributes = {key: event[key] for key in ("specversion", "id", "type", "source", "subject", "time", "sequence", "datacontenttype") if key in event}
        print(json.dumps({"attributes": attributes, "data": event.data}))
