"""The whole import on the embedded local stack, beside its floor, measured in one run.

    python -m bench.import_bench samples/techman_5500.csv

Prints: upload → completed time (the CLI's path: presigned POST, S3 → EventBridge → Step
Functions → Lambda → DynamoDB, WebSocket progress); the floor: the same DynamoDB items
written by plain batched `BatchWriteItem` into the same local backend; their ratio; items
per second; WebSocket progress latency (push sent → client received); the process's peak
memory (stack, handlers and client share this process).
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import statistics
import time
from pathlib import Path
from typing import Any

from customer_import.adapters.dynamo import DynamoCustomerStore
from customer_import.jobs import Job


def floor_seconds(job: Job, batches: list[list[dict[str, Any]]]) -> tuple[float, int]:
    """Write the import's own items again, under fresh keys, with plain BatchWriteItem."""
    import boto3

    store = DynamoCustomerStore()
    shadow = dataclasses.replace(job, org_id=f"{job.org_id}-floor")
    requests: list[tuple[str, dict[str, Any]]] = []
    for batch in batches:
        for customer in batch:
            for model, item in store._items(shadow, customer):
                requests.append((model.Meta.table_name, item))
    client = boto3.client("dynamodb")
    started = time.perf_counter()
    for start in range(0, len(requests), 25):
        by_table: dict[str, list[dict[str, Any]]] = {}
        for table, item in requests[start : start + 25]:
            by_table.setdefault(table, []).append({"PutRequest": {"Item": item}})
        pending = by_table
        while pending:
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
    return time.perf_counter() - started, len(requests)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("file", type=Path)
    args = parser.parse_args()

    from customer_import_local.session import components, import_file
    from customer_import_local.stack import LocalStack

    latencies: list[float] = []

    def on_update(job: Job, message: dict[str, Any] | None) -> None:
        if message and message.get("type") == "progress" and "sent_at" in message:
            latencies.append(message["received_at"] - message["sent_at"])

    with LocalStack() as stack:
        assert stack.endpoints is not None
        result = import_file(
            stack.endpoints,
            args.file,
            source="techman",
            org_id="bench",
            account_id="main",
            on_duplicate="skip",
            actor="bench",
            on_update=on_update,
            error_log_dir=Path(".local/bench"),
        )
        job = result.job
        objects = components().pipeline.objects
        batches = [
            objects.get_json(b["key"])["customers"]
            for b in objects.get_json(job.manifest_key or "")
        ]
        floor_s, items = floor_seconds(job, batches)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(
        f"Import benchmark: {args.file} ({job.counter('rows'):,} rows, {job.counter('customers'):,} customers, {items:,} DynamoDB items)"
    )
    print(
        f"  import    upload → {job.status:<22} {result.seconds:8.2f} s  {items / result.seconds:>8,.0f} items/s"
    )
    print(
        f"            imported {job.counter('imported'):,} · failed {job.counter('failed'):,}"
        " (rows the file itself gets wrong fail by design)"
    )
    print(
        f"  floor     plain BatchWriteItem, same items   {floor_s:8.2f} s  {items / floor_s:>8,.0f} items/s"
    )
    print(
        f"  ratio     import / floor                     {result.seconds / floor_s:8.2f} x   (design target ≤ 1.5 x, ≤ 10 s)"
    )
    if latencies:
        ordered = sorted(latencies)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        print(
            f"  progress  push → received, {len(ordered)} batches      median {statistics.median(ordered) * 1000:6.1f} ms"
            f"   p95 {p95 * 1000:6.1f} ms"
        )
    print(f"  memory    peak RSS of this process           {peak_mib:8.0f} MiB")


if __name__ == "__main__":
    main()
