"""Prepare's duplicate detection against an organisation that already holds many customers.

    python -m bench.duplicates_bench samples/techman_5500.csv --existing 50000

Seeds an organisation of the embedded local stack with EXISTING customers (a different
sample, plus every tenth customer of FILE, so some matches are certain) and their match
keys, straight into the local DynamoDB backend; then runs the real Prepare (S3, DynamoDB
over HTTP, as the Lambda does) on FILE twice in the same run: against that organisation and
against an empty one. The difference is what detection costs. Prints both times, the
look-ups made, and what was flagged.
"""

from __future__ import annotations

import argparse
import collections
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from customer_import.adapters.customers_dynamo import _customer_item, _stored_create
from customer_import.adapters.dynamo import CustomerModel, _match_key_items
from customer_import.customers.customer import Customer, new_customer_id
from customer_import.customers.repository import Create
from customer_import.duplicates import match_keys
from customer_import.jobs import Job, JobStatus
from customer_import.organisations import OrganisationProfile
from customer_import.pipeline import ImportPipeline
from customer_import.sources.csv_files import detect_format, iter_records
from customer_import.sources.techman import TechmanRows, check_header


def staged_customers(path: Path, org_id: str) -> list[dict[str, Any]]:
    """The valid customers of a Techman file, as Prepare stages them."""
    content = path.read_bytes()
    fmt = detect_format(content[:65536])
    records = iter_records(path.open("rb"), fmt)
    _, header = next(records)
    rows = TechmanRows(check_header(header), OrganisationProfile(org_id=org_id))
    for number, values in records:
        rows.add(number, values)
    return [
        {
            "customer_id": new_customer_id(),
            **r.to_dict(),
        }
        for r in rows.customers()
        if not r.errors
    ]


def seed(org_id: str, customers: list[dict[str, Any]]) -> int:
    """Customers and their match keys, put straight into moto's backend: seeding is not
    what this benchmark measures."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    backend = dynamodb_backends[DEFAULT_ACCOUNT_ID][CustomerModel.Meta.region]
    items = 0
    for staged in customers:
        create = Create(Customer.from_staged(org_id, "main", staged), "seed", "2026-12-01")
        customer = _stored_create(create)
        backend.put_item(CustomerModel.Meta.table_name, _customer_item(customer).serialize())
        keys = _match_key_items(org_id, customer.customer_id, match_keys(customer.flat()))
        for model, item in keys:
            backend.put_item(model.Meta.table_name, item)
        items += 1 + len(keys)
    return items


def prepare_seconds(pipeline: ImportPipeline, org_id: str, path: Path) -> tuple[float, Job]:
    """Prepare FILE for a job of ORG (outside uploads/, so no execution starts)."""
    job_id = str(uuid.uuid4())
    key = f"bench/{org_id}/{job_id}/{path.name}"
    pipeline.objects.put_text(key, path.read_text(encoding="utf-8-sig"), "text/csv")
    now = datetime.now(UTC).isoformat()
    pipeline.jobs.create(
        Job(
            org_id,
            job_id,
            JobStatus.PREPARING,
            "techman",
            "main",
            path.name,
            key,
            now,
            now,
            encoding="utf-8-sig",
            delimiter=",",
        )
    )
    started = time.perf_counter()
    pipeline.prepare(org_id, job_id)
    return time.perf_counter() - started, pipeline.job(org_id, job_id)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("file", type=Path)
    parser.add_argument("--existing", type=int, default=50_000)
    args = parser.parse_args()

    from customer_import_local.sample import write_techman_sample
    from customer_import_local.session import components
    from customer_import_local.stack import LocalStack

    with LocalStack(), tempfile.TemporaryDirectory() as tmp:
        pipeline = components().pipeline
        store = pipeline.customers
        lookups = collections.Counter[str]()
        find_by_keys = store.find_by_keys

        def counted(org_id: str, keys: Any) -> dict[str, dict[str, Any]]:
            lookups["calls"] += 1
            lookups["keys"] += len(keys)
            return find_by_keys(org_id, keys)

        store.find_by_keys = counted  # type: ignore[method-assign]

        started = time.perf_counter()
        others = Path(tmp) / "existing.csv"
        write_techman_sample(
            others, args.existing, seed=7, bad_customers=0, first_customer_number=700001
        )
        existing = staged_customers(others, "bench-dup")
        existing += staged_customers(args.file, "bench-dup")[::10]
        items = seed("bench-dup", existing)
        seeding_s = time.perf_counter() - started

        empty_s, _ = prepare_seconds(pipeline, "bench-empty", args.file)
        lookups.clear()
        full_s, job = prepare_seconds(pipeline, "bench-dup", args.file)
        flagged = collections.Counter[str](
            f"{entry['match']['kind']}/{entry['match']['confidence']}"
            for entry in pipeline.all_duplicates("bench-dup", job.job_id)
        )

    customers = job.counter("customers")
    print(
        f"Duplicate detection benchmark: {args.file} ({job.counter('rows'):,} rows, "
        f"{customers:,} customers) against {len(existing):,} stored customers"
    )
    print(f"  seeding   {items:,} items into the local backend       {seeding_s:8.2f} s")
    print(f"  prepare   against an empty organisation        {empty_s:8.2f} s")
    print(f"  prepare   against {len(existing):,} stored customers   {full_s:8.2f} s")
    print(
        f"  detection the difference                       {full_s - empty_s:8.2f} s"
        f"   ({(full_s - empty_s) / max(customers, 1) * 1000:.2f} ms per customer)"
    )
    print(
        f"  look-ups  {lookups['calls']} chunks of 100 customers, {lookups['keys']:,} match keys "
        f"in all, read by BatchGetItem (100 keys a request); no scan, no per-row query"
    )
    print(
        f"  flagged   {job.counter('duplicates'):,} possible duplicates: "
        + ", ".join(f"{n:,} {kind}" for kind, n in sorted(flagged.items()))
    )


if __name__ == "__main__":
    main()
