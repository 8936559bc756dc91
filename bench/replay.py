#!/usr/bin/env python3
"""The boto3 contender of `cargo bench --bench replay`: a straightforward replay script.

  replay.py STAGE FROM_MS TO_MS

Lists each provider's hour prefixes of the window, reads every object one after the other,
keeps those received in the window, sorts them by receipt time, and sends them to the webhook
queue ten per SendMessageBatch, as the ingress would (group id rule, attributes, a fresh
deduplication id). Prints "objects N sent M requests R read_s S" (S: seconds listing and
reading). Endpoint from AWS_ENDPOINT_URL.
"""
import json
import os
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone

import boto3


def group_id(provider, body, event_id):
    try:
        doc = json.loads(body)
    except ValueError:
        doc = {}
    def text(*path):
        node = doc
        for part in path:
            node = node.get(part) if isinstance(node, dict) else None
        return node if isinstance(node, str) and node else None
    if provider == "stripe":
        obj = text("data", "object", "payment_intent") or text("data", "object", "id")
    else:
        obj = text("resource", "supplementary_data", "related_ids", "order_id") or text("resource", "id")
    return f"{provider}:{obj or event_id}"


def main():
    stage, start, end = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    kwargs = dict(endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name="us-east-1")
    s3, sqs, ssm = (boto3.client(name, **kwargs) for name in ("s3", "sqs", "ssm"))
    get = lambda leaf: ssm.get_parameter(Name=f"/marketgrid/{stage}/{leaf}")["Parameter"]["Value"]
    bucket, queue = get("archive-bucket"), get("queue-url")
    requests = 0
    webhooks = []
    started = time.monotonic()
    hour = datetime.fromtimestamp(start // 3_600_000 * 3600, timezone.utc)
    while hour.timestamp() * 1000 <= end:
        for provider in ("stripe", "paypal"):
            prefix = f"webhooks/{provider}/{hour:%Y/%m/%d/%H}/"
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
                requests += 1
                for obj in page.get("Contents", []):
                    requests += 1
                    archived = json.loads(s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read())
                    if start <= archived["receivedAt"] <= end:
                        webhooks.append(archived)
        hour += timedelta(hours=1)
    objects = len(webhooks)
    read_s = time.monotonic() - started
    webhooks.sort(key=lambda w: (w["receivedAt"], w["provider"], w["eventId"]))
    sent = 0
    for i in range(0, len(webhooks), 10):
        entries = []
        for j, w in enumerate(webhooks[i:i + 10]):
            attributes = {name: {"DataType": "String", "StringValue": value}
                          for name, value in w.get("signatureHeaders", {}).items()}
            attributes["mgrid-provider"] = {"DataType": "String", "StringValue": w["provider"]}
            attributes["mgrid-received-at"] = {"DataType": "Number", "StringValue": str(w["receivedAt"])}
            if w.get("requestId"):
                attributes["mgrid-request-id"] = {"DataType": "String", "StringValue": w["requestId"]}
            entries.append({
                "Id": str(j), "MessageBody": w["body"],
                "MessageGroupId": group_id(w["provider"], w["body"], w["eventId"]),
                "MessageDeduplicationId": uuid.uuid4().hex, "MessageAttributes": attributes,
            })
        requests += 1
        result = sqs.send_message_batch(QueueUrl=queue, Entries=entries)
        sent += len(result.get("Successful", []))
    print(f"objects {objects} sent {sent} requests {requests} read_s {read_s:.3f}")


if __name__ == "__main__":
    main()
