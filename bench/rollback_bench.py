"""The rollback of the 5,500-row import on the embedded local stack, beside the import's own
time, measured in one run.

    python -m bench.rollback_bench samples/techman_5500.csv

The file is imported into an empty organisation (insert, through the API, the ImportJob state
machine and its handlers), then rolled back through `POST /imports/{id}/rollback` and the
RollbackImport state machine, followed to its end as the CLI follows it. Printed: each one's
time, what the rollback undid, the customer items left (none: it removed every customer the
import created, with its addresses, vehicles, match keys and identity), and the ratio: design
§6 wants the rollback in at most 1.5 x the import's time, same run.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("file", type=Path)
    args = parser.parse_args()

    from customer_import.jobs import JobStatus
    from customer_import_local.session import HowToImport, Remote, components, import_file
    from customer_import_local.stack import LocalStack
    from customer_import_local.tokens import local_token

    from bench.stored_items import customer_items

    with LocalStack() as stack:
        assert stack.endpoints is not None
        remote = Remote.of(stack.endpoints, local_token("bench", "bench"))
        started = time.perf_counter()
        result = import_file(
            remote,
            args.file,
            source="techman",
            account_id="main",
            decide=lambda _job: ("skip", None),
            on_update=lambda _job, _message: None,
            error_log_dir=Path(".local/bench"),
            how=HowToImport(),
        )
        import_s = time.perf_counter() - started
        job_id = result.job.fields["job_id"]
        items_imported = len(customer_items())

        started = time.perf_counter()
        with remote.follow(job_id) as follower:
            remote.api.rollback(job_id)
            for _job, _message in follower.events(3600, follower.read()):
                pass
        rollback_s = time.perf_counter() - started
        job = components().pipeline.job("bench", job_id)
        items_left = len(customer_items())

    undone = " · ".join(
        f"{name} {job.counter(f'reverted_{name}'):,}"
        for name in ("created", "updated", "merged", "deleted", "restored")
    )
    print(f"Rollback benchmark: {args.file} ({result.job.counter('customers'):,} customers)")
    print(
        f"  import    → {result.job.status:<27} {import_s:8.2f} s   "
        f"{items_imported:>7,} customer items stored"
    )
    print(
        f"  rollback  → {job.status:<27} {rollback_s:8.2f} s   {items_left:>7,} left   "
        f"(undone: {undone} · conflicts {job.counter('conflicts'):,})"
    )
    assert job.status in (JobStatus.ROLLED_BACK, JobStatus.ROLLED_BACK_WITH_CONFLICTS), job.status
    assert items_left == 0, f"{items_left} customer items left after the rollback"
    print(
        f"  time      rollback / import {rollback_s / import_s:8.2f} x   "
        "(design target ≤ 1.5 x, same run)"
    )


if __name__ == "__main__":
    main()
