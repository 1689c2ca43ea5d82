"""Prepare's throughput on a Techman file, beside plain `csv` parsing of the same file.

    python -m bench.prepare_bench samples/techman_5500.csv [--repeat 3]

Both are measured in this run, on this machine, best of `--repeat`; the ratio is what to
watch. Prepare runs the real domain code (decode, clean, group, stage batches, preview) over
in-memory adapters, so the figure is Prepare's own cost, without S3 or DynamoDB. Its peak
memory is Prepare's own too: the staged batches leave it as S3 objects would (only their
size is kept), so the figure should not grow with the file.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from customer_import.cleaning import normalise_phone
from customer_import.jobs import JobOptions

from tests.fakes import FakeObjectStore, World

ORG = "bench"


def plain_csv(data: bytes) -> int:
    rows = 0
    for _ in csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")):
        rows += 1
    return rows - 1


class SentAwayObjectStore(FakeObjectStore):
    """Staged batches go out of the process, as to S3: only their size stays."""

    def __init__(self) -> None:
        super().__init__()
        self.sent_bytes = 0

    def put_json(self, key: str, data: Any) -> None:
        if "/batch-" in key:
            self.sent_bytes += len(json.dumps(data))
            return
        super().put_json(key, data)


def prepare(data: bytes) -> int:
    normalise_phone.cache_clear()  # each run starts cold, as one Lambda invocation would
    world = World()
    world.objects = world.pipeline.objects = SentAwayObjectStore()
    upload = world.pipeline.create_upload(
        ORG, "main", "techman", "bench.csv", JobOptions(), "bench"
    )
    world.objects.objects[upload.job.object_key] = data
    job_id = world.pipeline.register("bucket", upload.job.object_key, "seq", "bench")["job_id"]
    world.pipeline.validate(ORG, job_id)
    world.pipeline.prepare(ORG, job_id)
    return world.pipeline.job(ORG, job_id).counter("rows")


def best_of(repeat: int, fn: Callable[[bytes], int], data: bytes) -> tuple[float, int]:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        rows = fn(data)
        timings.append(time.perf_counter() - started)
    return min(timings), rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("file", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    data = args.file.read_bytes()

    baseline_s, baseline_rows = best_of(args.repeat, plain_csv, data)
    prepare_s, prepare_rows = best_of(args.repeat, prepare, data)
    assert baseline_rows == prepare_rows, (baseline_rows, prepare_rows)
    tracemalloc.start()
    prepare(data)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    print(
        f"Prepare benchmark: {args.file} ({len(data) / 1_048_576:.1f} MB, {prepare_rows:,} data rows), best of {args.repeat}"
    )
    print(
        f"  baseline  plain csv.reader       {baseline_s * 1000:8.1f} ms  {baseline_rows / baseline_s:>10,.0f} rows/s"
    )
    print(
        f"  prepare   clean, group, stage    {prepare_s * 1000:8.1f} ms  {prepare_rows / prepare_s:>10,.0f} rows/s"
    )
    print(f"  ratio     prepare / baseline     {prepare_s / baseline_s:8.1f} x")
    print(
        f"  peak Python memory in Prepare    {peak / 1_048_576:8.1f} MiB (tracemalloc; staged batches sent away, as to S3)"
    )


if __name__ == "__main__":
    main()
