"""The customer repository's creates on the embedded local stack, beside their floor (issue #16).

    python -m bench.repository_bench samples/techman_5500.csv                    # 1,100 and 5,500
    python -m bench.repository_bench samples/techman_5500.csv --customers 1100
    python -m bench.repository_bench samples/techman_5500.csv --customers 1100 --profile out.prof

For each size N: the first N valid customers of FILE (all of them when it has fewer), as Prepare stages them
(`Customer.from_staged`), are created through `DynamoCustomerRepository.save` in chunks of 100,
as an import batch would (sub-records by BatchWriteItem, identity and customer by
TransactWriteItems of 50 creates, then match keys); then the floor: the very same items (built
by the repository's own item functions, for the same customers under another organisation)
written by plain BatchWriteItem, 25 a request, as `DynamoCustomerStore.write` wrote a batch.
Prints items, seconds, items/s and this process's CPU seconds of both, and their ratios: the
median of `--runs` runs, each the repository's creates then the floor (so both see the same
load on a shared machine), into fresh organisations, after one untimed chunk of both (a
fresh process's first calls). Only DynamoDB items count.
`--profile OUT` writes cProfiles of the last run (OUT: the creates, OUT.floor: the floor) for
`python -m pstats`.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import gc
import resource
import statistics
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from customer_import.adapters.dynamo import _Put
from customer_import.customers.customer import Customer, new_customer_id
from customer_import.customers.repository import Create

from bench.duplicates_bench import staged_customers

CHUNK = 100  # customers an import batch saves at once
AT = "2026-12-02T06:00:00.000+00:00"


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclasses.dataclass(frozen=True)
class Timing:
    items: int
    seconds: float
    cpu_seconds: float

    @property
    def per_second(self) -> float:
        return self.items / self.seconds


def timed(items: int, work: Callable[[], None], profile: cProfile.Profile | None = None) -> Timing:
    gc.collect()
    started, cpu_started = time.perf_counter(), cpu_seconds()
    if profile is not None:
        profile.runcall(work)
    else:
        work()
    return Timing(items, time.perf_counter() - started, cpu_seconds() - cpu_started)


def creates_for(staged: list[dict[str, Any]], org_id: str, job_id: str) -> list[Create]:
    return [
        Create(
            Customer.from_staged(org_id, "main", {**s, "customer_id": new_customer_id()}),
            job_id,
            AT,
        )
        for s in staged
    ]


def items_of(creates: list[Create]) -> list[_Put]:
    """The DynamoDB items `save` writes for these creates, built by the repository's own item
    functions."""
    from customer_import.adapters import customers_dynamo as repository
    from customer_import.adapters.dynamo import _match_key_items
    from customer_import.duplicates import match_keys

    items: list[_Put] = []
    for create in creates:
        stored = repository._stored_create(create)
        items += repository._sub_records(stored, stored.addresses, stored.vehicles)
        if stored.external_customer_number:
            items.append(repository._identity_put(stored, live=True))
        items.append(repository._customer_put(stored))
        items += _match_key_items(stored.org_id, stored.customer_id, match_keys(stored.flat()))
    return items


def written_items(org_id: str, creates: list[Create]) -> int:
    """The items the repository left in moto's tables for these creates of the organisation."""
    from customer_import.adapters.dynamo import (
        AddressModel,
        CustomerModel,
        IdentityModel,
        MatchKeyModel,
        VehicleModel,
    )
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodb.models.dynamo_type import DynamoType

    tables = dynamodb_backends[DEFAULT_ACCOUNT_ID][CustomerModel.Meta.region].tables
    ids = [DynamoType({"S": c.customer.customer_id}) for c in creates]
    count = len(tables[CustomerModel.Meta.table_name].items.get(DynamoType({"S": org_id}), {}))
    for model in (AddressModel, VehicleModel):
        partitions = tables[model.Meta.table_name].items
        count += sum(len(partitions.get(i, {})) for i in ids)
    for model in (IdentityModel, MatchKeyModel):
        count += sum(
            1 for key in tables[model.Meta.table_name].items if str(key.value).startswith(org_id)
        )
    return count


def floor(chunks: list[list[_Put]]) -> None:
    """Items by plain BatchWriteItem, 25 a request, a chunk's at once: what
    `DynamoCustomerStore.write` did for a batch (through PynamoDB's connection, as the
    repository's own batch writes go)."""
    from customer_import.adapters.dynamo import DynamoCustomerStore

    for items in chunks:
        DynamoCustomerStore._write_all(items)


def one_run(
    repository: Any, staged: list[dict[str, Any]], profile: Path | None
) -> tuple[Timing, Timing]:
    """The creates of these customers through the repository, then the floor: their items
    for the same customers under another organisation, by plain BatchWriteItem."""
    run = uuid.uuid4().hex[:8]
    org, floor_org = f"bench-repo-{run}", f"bench-floor-{run}"
    creates = creates_for(staged, org, "job-bench")
    floor_creates = creates_for(staged, floor_org, "job-bench")
    chunks = [items_of(floor_creates[s : s + CHUNK]) for s in range(0, len(staged), CHUNK)]
    refused: list[Any] = []

    def save() -> None:
        for start in range(0, len(creates), CHUNK):
            refused.extend(repository.save(creates[start : start + CHUNK]))

    profiles = (cProfile.Profile(), cProfile.Profile()) if profile else (None, None)
    saved = timed(0, save, profiles[0])
    items = written_items(org, creates)
    plain = timed(items, lambda: floor(chunks), profiles[1])
    floor_written = written_items(floor_org, floor_creates)
    if refused or items != floor_written:
        raise SystemExit(
            f"{len(refused)} creates refused; the repository left {items:,} items, "
            f"the floor {floor_written:,}"
        )
    if profile is not None and profiles[0] is not None and profiles[1] is not None:
        profiles[0].dump_stats(profile)
        profiles[1].dump_stats(f"{profile}.floor")
        print(f"    profiles: {profile} (creates), {profile}.floor (floor)")
    return dataclasses.replace(saved, items=items), plain


def median_timing(timings: list[Timing]) -> Timing:
    return Timing(
        timings[0].items,
        statistics.median(t.seconds for t in timings),
        statistics.median(t.cpu_seconds for t in timings),
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("file", type=Path)
    parser.add_argument("--customers", type=int, nargs="+", default=[1100, 5500])
    parser.add_argument("--runs", type=int, default=3, help="runs of each size: the median")
    parser.add_argument("--profile", type=Path, help="write cProfiles of the last run here")
    args = parser.parse_args()

    from customer_import.adapters.customers_dynamo import DynamoCustomerRepository
    from customer_import.settings import Settings
    from customer_import_local.stack import LocalStack

    with LocalStack():
        repository = DynamoCustomerRepository(Settings.from_env().region)
        staged = staged_customers(args.file, "bench")
        one_run(repository, staged[:CHUNK], None)  # a fresh process's first-call costs
        print(
            f"Repository benchmark: {args.file}, creates in chunks of {CHUNK}, "
            f"median of {args.runs} runs (repository, then floor, each run)"
        )
        for size in args.customers:
            size = min(size, len(staged))  # 5,500: the sample's 5,488 valid customers
            pairs: list[tuple[Timing, Timing]] = [
                one_run(
                    repository,
                    staged[:size],
                    args.profile if size == args.customers[-1] and run == args.runs - 1 else None,
                )
                for run in range(args.runs)
            ]
            saved = median_timing([s for s, _ in pairs])
            plain = median_timing([p for _, p in pairs])
            print(f"  {size:,} customers, {saved.items:,} DynamoDB items")
            for name, t in (("repository save", saved), ("floor BatchWrite", plain)):
                print(
                    f"    {name:<17} {t.seconds:7.2f} s  {t.per_second:>8,.0f} items/s"
                    f"   (CPU {t.cpu_seconds:6.2f} s)"
                )
            ratios = sorted(s.seconds / p.seconds for s, p in pairs)
            cpu = statistics.median(s.cpu_seconds / p.cpu_seconds for s, p in pairs)
            print(
                f"    ratio             {statistics.median(ratios):7.2f} x"
                f" ({ratios[0]:.2f} to {ratios[-1]:.2f})   CPU {cpu:.2f} x   (target ≤ 1.3 x)"
            )


if __name__ == "__main__":
    main()
