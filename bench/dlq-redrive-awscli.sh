#!/usr/bin/env bash
# The one-at-a-time contender of `cargo bench --bench dlq`: what an operator writes with the AWS
# CLI alone. Receive one message, send it to the webhook queue with its group, a fresh
# deduplication id and its attributes, delete it; until a receive comes back empty.
# Usage: dlq-redrive-awscli.sh DLQ_URL QUEUE_URL  (endpoint from AWS_ENDPOINT_URL). Prints
# "requests N moved M".
set -euo pipefail
dlq=$1 queue=$2
aws=("${AWS_CLI:-aws}")
# AWS CLI v1 sends SQS requests to the queue URL's host unless told the endpoint.
if [ -n "${AWS_ENDPOINT_URL:-}" ]; then aws+=(--endpoint-url "$AWS_ENDPOINT_URL"); fi
requests=0 moved=0
while true; do
    requests=$((requests + 1))
    message=$("${aws[@]}" sqs receive-message --queue-url "$dlq" --max-number-of-messages 1 \
        --wait-time-seconds 1 --visibility-timeout 120 --attribute-names MessageGroupId \
        --message-attribute-names All --output json)
    [ -z "$message" ] && break
    body=$(jq -r '.Messages[0].Body' <<<"$message")
    group=$(jq -r '.Messages[0].Attributes.MessageGroupId' <<<"$message")
    attributes=$(jq -c '.Messages[0].MessageAttributes // {}' <<<"$message")
    receipt=$(jq -r '.Messages[0].ReceiptHandle' <<<"$message")
    requests=$((requests + 1))
    "${aws[@]}" sqs send-message --queue-url "$queue" --message-body "$body" \
        --message-group-id "$group" --message-deduplication-id "$(cat /proc/sys/kernel/random/uuid)" \
        --message-attributes "$attributes" >/dev/null
    requests=$((requests + 1))
    "${aws[@]}" sqs delete-message --queue-url "$dlq" --receipt-handle "$receipt"
    moved=$((moved + 1))
done
echo "requests $requests moved $moved"
