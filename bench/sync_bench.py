"""The nightly sync on the embedded local stack, beside the first import, measured in one run.

    python -m bench.sync_bench samples/techman_5500.csv

First the file is imported into an account (insert: the migration); then an ERP's export of
the same customers a day later (`bench.nightly_file`: 5 % of the emails changed, 1 % new
customers, 1 % gone) is synced into it (mode sync), through the same API, state machine and
handlers. Printed side by side: each run's time, the DynamoDB items each wrote (counted where
moto applies writes), and for the sync the items that changed (the customer tables compared
before and after it): design §6 wants the sync to write at most 1.2 x the items that changed,
in at most half the first import's time.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from bench.nightly_file import nightly_file
from bench.stored_items import CUSTOMER_TABLES, changed_items, snapshot


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("file", type=Path)
    args = parser.parse_args()

    from customer_import_local.session import HowToImport, Remote, components, import_file
    from customer_import_local.stack import LocalStack, table_name
    from customer_import_local.tokens import local_token
    from customer_import_local.write_count import count_writes

    nightly_path = Path(".local/bench/nightly.csv")
    nightly = nightly_file(args.file, nightly_path, changed=5.0, new=1.0, gone=1.0)
    with LocalStack() as stack:
        assert stack.endpoints is not None
        remote = Remote.of(stack.endpoints, local_token("bench", "bench"))

        def run(path: Path, how: HowToImport) -> tuple[Any, float, int]:
            with count_writes() as writes:
                started = time.perf_counter()
                result = import_file(
                    remote,
                    path,
                    source="techman",
                    account_id="main",
                    decide=lambda _job: ("skip", None),
                    on_update=lambda _job, _message: None,
                    error_log_dir=Path(".local/bench"),
                    how=how,
                )
                seconds = time.perf_counter() - started
            written = writes.total(*(table_name(t) for t in CUSTOMER_TABLES))
            return components().pipeline.job("bench", result.job.job_id), seconds, written

        first, first_s, first_items = run(args.file, HowToImport())
        before = snapshot()
        sync, sync_s, sync_items = run(nightly_path, HowToImport("sync"))
        changed = changed_items(before, snapshot())

    def counts(job: Any) -> str:
        names = ("created", "updated", "unchanged", "deleted", "restored", "failed")
        return " · ".join(f"{n} {job.counter(n):,}" for n in names)

    print(
        f"Sync benchmark: {args.file} ({first.counter('customers'):,} customers), then "
        f"{nightly_path} ({len(nightly.changed):,} emails changed, {len(nightly.new):,} new, "
        f"{len(nightly.gone):,} gone)"
    )
    print(
        f"  first import  insert → {first.status:<21} {first_s:8.2f} s   "
        f"{first_items:>7,} items written   ({counts(first)})"
    )
    print(
        f"  nightly sync  sync   → {sync.status:<21} {sync_s:8.2f} s   "
        f"{sync_items:>7,} items written   ({counts(sync)})"
    )
    print(
        f"  items         the sync changed {changed:,} items; wrote {sync_items:,}: "
        f"{sync_items / max(changed, 1):.2f} x   (design target ≤ 1.2 x)"
    )
    print(
        f"  time          sync / first import {sync_s / first_s:8.2f} x   "
        "(design target ≤ 0.5 x, same run)"
    )


if __name__ == "__main__":
    main()
