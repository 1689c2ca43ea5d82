"""The whole import on the embedded local stack, beside its floor, measured in one run.

    python -m bench.import_bench samples/techman_5500.csv            # time, floor, RSS
    python -m bench.import_bench samples/techman_5500.csv --runs 3   # 3 fresh processes, median
    python -m bench.import_bench samples/techman_5500.csv --memory   # memory, step by step
    python -m bench.import_bench samples/techman_77319.csv --no-floor

Prints: upload → completed time (the CLI's path: presigned POST, S3 → EventBridge → Step
Functions → Lambda → DynamoDB, WebSocket progress); the floor: the same DynamoDB items
written by plain batched `BatchWriteItem` into the same local backend; their ratio, in wall
time and in this process's CPU time (the machine is shared: CPU time moves less with what
else runs); where the import's CPU went: its writes of customer items beside the floor's,
its other requests by service, and the rest; items per second; WebSocket progress latency (batch committed and pushed →
client received); the peak RSS of the whole process (moto's backends, the handlers and the
client share it).

`--memory` traces Python allocations (tracemalloc; everything runs several times slower, so
no time is printed) and prints each Lambda step's peak and a batch imported again on its own.
A step's peak includes what moto stores for it meanwhile (its requests are answered in this
process).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import gc
import json
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from customer_import.jobs import Job

from bench.stored_items import customer_items, under_other_keys

MiB = 1_048_576


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclasses.dataclass(frozen=True)
class Floor:
    seconds: float
    cpu_seconds: float
    items: int
    rss_growth_mib: float  # what moto's DynamoDB took to store the items


def floor_seconds() -> Floor:
    """Write the items the import stored again, under keys of their own, with plain
    BatchWriteItem into the same backend."""
    import boto3

    requests = under_other_keys(customer_items())
    client = boto3.client("dynamodb")
    gc.collect()
    rss_started = rss_mib()
    started, cpu_started = time.perf_counter(), cpu_seconds()
    for start in range(0, len(requests), 25):
        by_table: dict[str, list[dict[str, Any]]] = {}
        for table, item in requests[start : start + 25]:
            by_table.setdefault(table, []).append({"PutRequest": {"Item": item}})
        pending = by_table
        while pending:
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
    seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu_started
    gc.collect()
    return Floor(seconds, cpu, len(requests), rss_mib() - rss_started)


class RequestCpu:
    """The CPU time of this process's AWS requests by kind, each on the thread that made it
    (thread CPU time, moto's answer included: it is answered in process): where the import's
    time goes beside its floor. A Lambda invocation is not counted as a request: the handler
    runs inside it, and its own requests are."""

    def __init__(self, customer_tables: frozenset[str]) -> None:
        self.customer_tables = customer_tables
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def counting(self) -> Iterator[None]:
        from botocore.client import BaseClient

        original = BaseClient._make_api_call

        def timed(client: Any, operation: str, params: dict[str, Any]) -> Any:
            if operation == "Invoke":
                return original(client, operation, params)
            started = time.thread_time()
            try:
                return original(client, operation, params)
            finally:
                kind = self._kind(client.meta.service_model.service_name, operation, params)
                self.seconds[kind] = self.seconds.get(kind, 0.0) + time.thread_time() - started

        BaseClient._make_api_call = timed  # type: ignore[method-assign]
        try:
            yield
        finally:
            BaseClient._make_api_call = original  # type: ignore[method-assign]

    def _kind(self, service: str, operation: str, params: dict[str, Any]) -> str:
        if service == "dynamodb" and operation in ("BatchWriteItem", "TransactWriteItems"):
            tables = set(params.get("RequestItems") or {}) | {
                next(iter(item.values())).get("TableName")
                for item in params.get("TransactItems", [])
            }
            if tables & self.customer_tables:
                return "customer writes"
        return {"dynamodb": "other DynamoDB", "s3": "S3"}.get(service, "other requests")


def rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("file", type=Path)
    parser.add_argument("--memory", action="store_true", help="trace memory step by step")
    parser.add_argument("--no-floor", action="store_true", help="skip the floor (large files)")
    parser.add_argument(
        "--runs", type=int, default=1, help="run N times, each in a fresh process; print the median"
    )
    parser.add_argument("--result-line", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.runs > 1:
        repeat(args.file, args.runs, args.no_floor)
        return

    if args.memory:
        tracemalloc.start()

    from customer_import_local.invoker import StepMemory
    from customer_import_local.session import Remote, components, import_file
    from customer_import_local.stack import LocalStack
    from customer_import_local.tokens import local_token

    latencies: list[float] = []

    def on_update(_job: Any, message: dict[str, Any] | None) -> None:
        if message and message.get("type") == "progress" and "sent_at" in message:
            latencies.append(message["received_at"] - message["sent_at"])

    from customer_import_local.stack import table_name

    from bench.stored_items import CUSTOMER_TABLES

    requests = RequestCpu(frozenset(table_name(t) for t in CUSTOMER_TABLES))
    with LocalStack() as stack:
        assert stack.endpoints is not None
        memory = stack.invoker.memory = StepMemory()
        rss_before = rss_mib()
        with contextlib.nullcontext() if args.memory else requests.counting():
            cpu_started = cpu_seconds()
            result = import_file(
                Remote.of(stack.endpoints, local_token("bench", "bench")),
                args.file,
                source="techman",
                account_id="main",
                decide=lambda _job: ("skip", None),
                on_update=on_update,
                error_log_dir=Path(".local/bench"),
            )
            import_cpu = cpu_seconds() - cpu_started
        job = components().pipeline.job("bench", result.job.job_id)
        objects = components().pipeline.objects
        manifest = objects.get_json(job.manifest_key or "")
        items = 0
        if args.memory:
            report_memory(args.file, job, memory, stack, manifest)
            return
        floor = None
        if not args.no_floor:
            floor = floor_seconds()
            items = floor.items
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(
        f"Import benchmark: {args.file} ({job.counter('rows'):,} rows, {job.counter('customers'):,} customers"
        + (f", {items:,} DynamoDB items)" if items else ")")
    )
    per_s = f"  {items / result.seconds:>8,.0f} items/s" if items else ""
    print(
        f"  import    upload → {job.status:<22} {result.seconds:8.2f} s{per_s}   (CPU {import_cpu:6.2f} s)"
    )
    print(
        f"            imported {job.counter('imported'):,} · failed {job.counter('failed'):,}"
        " (rows the file itself gets wrong fail by design)"
    )
    if floor:
        floor_s, floor_cpu = floor.seconds, floor.cpu_seconds
        print(
            f"  floor     plain BatchWriteItem, same items   {floor_s:8.2f} s  {items / floor_s:>8,.0f} items/s   (CPU {floor_cpu:6.2f} s)"
        )
        print(
            f"  ratio     import / floor                     {result.seconds / floor_s:8.2f} x   "
            f"CPU {import_cpu / floor_cpu:.2f} x   (design target ≤ 1.5 x, ≤ 10 s)"
        )
        written = requests.seconds.pop("customer writes", 0.0)
        others = " · ".join(f"{k} {v:.2f} s" for k, v in sorted(requests.seconds.items()))
        rest = import_cpu - written - sum(requests.seconds.values())
        print(
            f"  where     customer writes {written:.2f} s CPU, {written / floor_cpu:.2f} x the floor's;"
            f" other requests: {others}"
        )
        print(
            f"            the rest {rest:.2f} s CPU (Prepare's cleaning, the handlers' own work,"
            " the workflow, the client)"
        )
    if latencies:
        ordered = sorted(latencies)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        print(
            f"  progress  push → received, {len(ordered)} pushes      median {statistics.median(ordered) * 1000:6.1f} ms"
            f"   p95 {p95 * 1000:6.1f} ms"
        )
    print(
        f"  memory    peak RSS of this process           {peak_mib:8.0f} MiB   "
        f"(stack started: {rss_before:.0f} MiB; moto's backends, handlers and client together)"
    )
    if floor:
        print(
            f"            moto DynamoDB storing the floor's items  +{floor.rss_growth_mib:.0f} MiB RSS"
            f" ({floor.rss_growth_mib * MiB / items:,.0f} B per item)"
        )
    if args.result_line:
        result_line = {
            "import_s": result.seconds,
            "import_cpu_s": import_cpu,
            "floor_s": floor.seconds if floor else None,
            "floor_cpu_s": floor.cpu_seconds if floor else None,
            "progress_p95_ms": p95 * 1000 if latencies else None,
            "peak_rss_mib": peak_mib,
        }
        print(RESULT_PREFIX + json.dumps(result_line))


RESULT_PREFIX = "import-bench-result "


def repeat(file: Path, runs: int, no_floor: bool) -> None:
    """The same benchmark in `runs` fresh processes, one after the other, then the median
    and range of each figure: a shared machine's speed moves by ±15 % between runs."""
    command = [sys.executable, "-m", "bench.import_bench", str(file), "--result-line"]
    results: list[dict[str, Any]] = []
    for run in range(1, runs + 1):
        print(f"Run {run} of {runs}", flush=True)
        out = subprocess.run(  # noqa: S603 (this interpreter, this module, our arguments)
            command + (["--no-floor"] if no_floor else []),
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        for line in out.splitlines():
            if line.startswith(RESULT_PREFIX):
                results.append(json.loads(line[len(RESULT_PREFIX) :]))
            else:
                print(line)

    def spread(values: list[float], unit: str, digits: int = 2) -> str:
        return (
            f"median {statistics.median(values):8.{digits}f} {unit}"
            f"   ({min(values):.{digits}f} to {max(values):.{digits}f})"
        )

    print(f"Over {runs} runs, each in a fresh process:")
    print(f"  import    {spread([r['import_s'] for r in results], 's')}   (design target ≤ 10 s)")
    if not no_floor:
        print(f"  floor     {spread([r['floor_s'] for r in results], 's')}")
        ratios = [r["import_s"] / r["floor_s"] for r in results]
        cpu = [r["import_cpu_s"] / r["floor_cpu_s"] for r in results]
        print(
            f"  ratio     {spread(ratios, 'x')}   CPU {statistics.median(cpu):.2f} x"
            "   (design target ≤ 1.5 x)"
        )
    p95s = [r["progress_p95_ms"] for r in results if r["progress_p95_ms"] is not None]
    if p95s:
        print(f"  progress  p95 {spread(p95s, 'ms', 1)}")
    print(f"  memory    peak RSS {spread([r['peak_rss_mib'] for r in results], 'MiB', 0)}")


def report_memory(
    file: Path, job: Job, memory: Any, stack: Any, manifest: list[dict[str, Any]]
) -> None:
    """Per step, then a batch on its own. (What moto's DynamoDB holds is printed by the run
    without --memory: resetting moto's backends does not free their memory, so it cannot be
    measured by difference here.)"""
    from customer_import_local.session import components

    print(
        f"Import memory: {file} ({job.counter('rows'):,} rows, {job.counter('customers'):,} customers, "
        f"{len(manifest):,} batches; {job.status}), Python heap by tracemalloc"
    )
    for name, peak in sorted(memory.peaks.items(), key=lambda kv: -kv[1]):
        note = (
            "  (a batch per core at once, with what moto stores meanwhile)"
            if name == "import_batch"
            else ""
        )
        print(f"  step      {name:<22} peak {peak / MiB:8.1f} MiB{note}")
    # One batch again, alone: a redelivery, so it writes the very same items.
    biggest = max(manifest, key=lambda b: b["customers"])
    gc.collect()
    tracemalloc.reset_peak()
    before = tracemalloc.get_traced_memory()[0]
    components().pipeline.import_batch(job.org_id, job.job_id, biggest)
    alone = tracemalloc.get_traced_memory()[1] - before
    print(f"  step      import_batch, one batch alone  peak {alone / MiB:8.1f} MiB")

    print(
        f"  process   Python heap now              {tracemalloc.get_traced_memory()[0] / MiB:8.1f} MiB"
        "   (peak RSS: run without --memory; tracing inflates it)"
    )


if __name__ == "__main__":
    main()
