"""Each step's throughput in bytes of the file per second, on files cut in hostile ways.

    python -m bench.linearity_bench samples/techman_5500.csv

A benchmark, not a test: it prints figures and asserts nothing. Three files go through
Validate, Prepare, every batch and Finalize, in process, with the real domain code on the
in-memory fakes of the tests (so the figures are the steps' own cost, without S3 or DynamoDB):

- one data row of 140,000 fields (1.5 MB), which once kept Finalize busy for minutes;
- about 29 MB of long rows (a 3,000-character note on each; every tenth one over the limit,
  so its row fails and Finalize writes a long error log);
- the 5,500-customer sample.

A step that is linear in the file's size shows about the same bytes/s on each file.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

from customer_import.jobs import JobOptions

from tests.fakes import World
from tests.unit.techman_files import HEADER, customers, row, techman_csv

ORG = "bench"


def one_row_of_140000_fields() -> bytes:
    fields = [b"9999", *([b"0123456789"] * 139_999)]
    return techman_csv(customers(20)) + b",".join(fields) + b"\r\n"


def long_rows(target_bytes: int = 29 * 1024 * 1024) -> bytes:
    def note(n: int) -> str:
        return "n" * (5000 if n % 10 == 0 else 3000)  # the limit is 4,000

    count = target_bytes // 3_250  # about a row's bytes, its note included
    return techman_csv(
        [{**row(str(100_000 + n), f"Customer{n} Person"), "Notes": note(n)} for n in range(count)],
        [*HEADER, "Notes"],
    )


def timed(step: Callable[[], object]) -> float:
    started = time.perf_counter()
    step()
    return time.perf_counter() - started


def steps(data: bytes) -> dict[str, float]:
    """Seconds per step for one file, from upload to Finalize."""
    world = World()
    upload = world.pipeline.create_upload(
        ORG, "main", "techman", "bench.csv", JobOptions(auto_run=True), "bench"
    )
    world.objects.objects[upload.job.object_key] = data
    job_id = upload.job.job_id
    world.pipeline.register("bucket", upload.job.object_key, "seq", "execution-1")
    seconds = {"Validate": timed(lambda: world.pipeline.validate(ORG, job_id))}
    seconds["Prepare"] = timed(lambda: world.pipeline.prepare(ORG, job_id))
    job = world.pipeline.job(ORG, job_id)

    def batches() -> None:
        for manifest_key in (job.manifest_key, job.late_manifest_key):
            for batch in world.objects.get_json(manifest_key) if manifest_key else []:
                world.pipeline.import_batch(ORG, job_id, batch)

    seconds["batches"] = timed(batches)
    seconds["Finalize"] = timed(lambda: world.pipeline.finalize(ORG, job_id))
    final = world.pipeline.job(ORG, job_id)
    print(
        f"    {final.status}: {final.counter('customers'):,} customers, "
        f"{final.counter('imported'):,} imported, {final.counter('failed'):,} failed"
    )
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sample", type=Path, help="the 5,500-customer sample (make builds it)")
    args = parser.parse_args()
    files = {
        "one row of 140,000 fields": one_row_of_140000_fields(),
        "long rows": long_rows(),
        args.sample.name: args.sample.read_bytes(),
    }
    names = ("Validate", "Prepare", "batches", "Finalize")
    print(f"{'file':<28}{'MB':>7}" + "".join(f"{n + ' MB/s':>16}" for n in names))
    for label, data in files.items():
        print(f"{label}:")
        seconds = steps(data)
        size = len(data) / 1_000_000
        figures = "".join(f"{size / max(seconds[n], 1e-9):>16,.1f}" for n in names)
        print(f"{'':<28}{size:>7.1f}{figures}")


if __name__ == "__main__":
    main()
