#!/usr/bin/env python3
"""Helpers for `cargo bench --bench dlq`, and its batched boto3 contender.

  dlq.py prepare STAGE            disable the processor's event source mapping (the emulator's
                                  mapping receives on every send but runs no code)
  dlq.py fill STAGE N GROUPS      put N webhooks, in GROUPS message groups, in the DLQ
  dlq.py depth STAGE              print "dlq_visible dlq_in_flight queue_visible queue_in_flight"
  dlq.py drain STAGE              empty the webhook queue by receiving and deleting
  dlq.py purge STAGE              empty the webhook queue with PurgeQueue (waits out its once a
                                  minute limit)
  dlq.py urls STAGE               print "webhook_queue_url dlq_url"
  dlq.py redrive STAGE            the batched boto3 redrive: receive 10, send them as one batch,
                                  delete what was sent; prints "requests N moved M"

The endpoint comes from AWS_ENDPOINT_URL; the queue URLs from the stage's SSM parameters.
"""
import json
import os
import sys
import uuid

import boto3


def clients():
    endpoint = os.environ["AWS_ENDPOINT_URL"]
    kwargs = dict(endpoint_url=endpoint, region_name="us-east-1")
    return boto3.client("sqs", **kwargs), boto3.client("ssm", **kwargs), boto3.client("lambda", **kwargs)


def urls(ssm, stage):
    get = lambda leaf: ssm.get_parameter(Name=f"/marketgrid/{stage}/{leaf}")["Parameter"]["Value"]
    return get("queue-url"), get("dlq-url")


def main():
    command, stage = sys.argv[1], sys.argv[2]
    sqs, ssm, lam = clients()
    queue, dlq = urls(ssm, stage)
    if command == "prepare":
        # By the queue, not the function: the mapping targets the processor's `live` alias, which
        # a listing by function name does not match, and a mapping left enabled makes the
        # emulator run the processor in a container for every copy the redrive sends.
        arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        mappings = lam.list_event_source_mappings(EventSourceArn=arn)["EventSourceMappings"]
        assert mappings, f"no event source mapping reads {arn}"
        for mapping in mappings:
            lam.update_event_source_mapping(UUID=mapping["UUID"], Enabled=False)
    elif command == "fill":
        count, groups = int(sys.argv[3]), int(sys.argv[4])
        run = uuid.uuid4().hex[:8]
        entries = []
        for n in range(count):
            group = n % groups
            event = f"evt_{run}_{n:05d}"
            body = {"id": event, "type": "payment_intent.succeeded",
                    "data": {"object": {"id": f"pi_{group}", "amount": 1000 + n}}}
            entries.append({
                "Id": str(n % 10), "MessageBody": json.dumps(body),
                "MessageGroupId": f"stripe:pi_{run}_{group}", "MessageDeduplicationId": event,
                "MessageAttributes": {
                    "mgrid-provider": {"DataType": "String", "StringValue": "stripe"},
                    "mgrid-received-at": {"DataType": "Number", "StringValue": "1764403200000"},
                },
            })
        for i in range(0, len(entries), 10):
            sent = sqs.send_message_batch(QueueUrl=dlq, Entries=entries[i:i + 10])
            assert not sent.get("Failed"), sent["Failed"]
    elif command == "depth":
        def depth(url):
            a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
                "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
            return a["ApproximateNumberOfMessages"], a["ApproximateNumberOfMessagesNotVisible"]
        print(*depth(dlq), *depth(queue))
    elif command == "purge":
        # Allowed once a minute per queue: wait for the next chance.
        import time
        while True:
            try:
                sqs.purge_queue(QueueUrl=queue)
                break
            except sqs.exceptions.PurgeQueueInProgress:
                time.sleep(5)
    elif command == "urls":
        print(queue, dlq)
    elif command == "drain":
        # PurgeQueue is allowed once a minute; receive and delete instead.
        while True:
            received = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, VisibilityTimeout=60).get("Messages", [])
            if not received:
                break
            sqs.delete_message_batch(QueueUrl=queue, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(received)])
    elif command == "redrive":
        requests = moved = 0
        while True:
            requests += 1
            received = sqs.receive_message(
                QueueUrl=dlq, MaxNumberOfMessages=10, WaitTimeSeconds=1, VisibilityTimeout=120,
                MessageAttributeNames=["All"], MessageSystemAttributeNames=["MessageGroupId"],
            ).get("Messages", [])
            if not received:
                break
            entries = [{
                "Id": str(i), "MessageBody": m["Body"],
                "MessageGroupId": m["Attributes"]["MessageGroupId"],
                "MessageDeduplicationId": uuid.uuid4().hex,
                "MessageAttributes": m.get("MessageAttributes", {}),
            } for i, m in enumerate(received)]
            requests += 1
            sent = sqs.send_message_batch(QueueUrl=queue, Entries=entries)
            done = [received[int(s["Id"])] for s in sent.get("Successful", [])]
            if done:
                requests += 1
                deleted = sqs.delete_message_batch(QueueUrl=dlq, Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)])
                moved += len(deleted.get("Successful", []))
        print(f"requests {requests} moved {moved}")
    else:
        sys.exit(f"unknown command {command}")


if __name__ == "__main__":
    main()
