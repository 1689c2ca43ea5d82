"""ImportBatch and RecordBatchFailure: a staged batch written to the customers, or failed with
why, and its outcome recorded on the job."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from typing import Any

from ..duplicates import BatchPlan, Decision, MergeChanges, merge_changes, plan_batch
from ..jobs import Job
from ..ports import BatchOutcome, CustomerStore, JobStore, ObjectStore, RowFailure
from ..progress import ProgressBroadcaster
from .shared import error_reason
from .staging import staging_prefix


@dataclass(eq=False)
class BatchImport:
    jobs: JobStore
    objects: ObjectStore
    customers: CustomerStore
    broadcaster: ProgressBroadcaster

    def import_batch(self, org_id: str, job_id: str, batch: dict[str, Any]) -> dict[str, Any]:
        job = self.jobs.get(org_id, job_id)
        customers: list[dict[str, Any]] = self.objects.get_json(batch["key"])["customers"]
        plan = self._plan(job, customers)
        failures = self.customers.write(job, plan.create) + self._merge(job, plan.merge)
        failed_rows = {f.row for f in failures}
        created = [c for c in plan.create if c["rows"][0] not in failed_rows]
        outcome = BatchOutcome(
            batch_id=batch["batch_id"],
            customers=len(customers),
            created=len(created),
            merged=sum(1 for _, c in plan.merge if c["rows"][0] not in failed_rows),
            skipped_duplicates=len(plan.skipped_duplicates),
            skipped_user=len(plan.skipped_user),
            failed=len(failed_rows),
            vehicles=sum(len(c["vehicles"]) for c in created),
            failures=tuple(failures),
            retry=bool(batch.get("retry")),
            recovered_rows=_recovered(batch, customers, failed_rows),
        )
        self._record(job, outcome)
        return {"batch_id": batch["batch_id"]}

    def _plan(self, job: Job, customers: list[dict[str, Any]]) -> BatchPlan:
        return plan_batch(customers, Decision.from_job(job.decision, job.options.on_duplicate))

    def _merge(self, job: Job, merges: list[tuple[str, dict[str, Any]]]) -> list[RowFailure]:
        """Merge incoming customers into stored ones, computed against what is stored now, so
        running the batch again adds nothing twice."""
        if not merges:
            return []
        stored = self.customers.stored_for_merge(job.org_id, {target for target, _ in merges})
        changes: list[MergeChanges] = []
        failures: list[RowFailure] = []
        for target, incoming in merges:
            existing = stored.get(target)
            if existing is None:
                match = incoming.get("duplicate") or {}
                reason = (
                    f"The customer it repeats (row {match.get('row')}) was not imported"
                    if match.get("kind") == "file"
                    else f"The customer to merge into ({target}) no longer exists"
                )
                failures.append(
                    RowFailure(incoming["rows"][0], "(customer)", reason, incoming["originals"][0])
                )
                continue
            change = merge_changes(existing, incoming)
            changes.append(change)
            stored[target] = existing.after(change)  # two repeats of one customer in a batch
        return failures + self.customers.merge(job, changes)

    def record_batch_failure(
        self, org_id: str, job_id: str, batch: dict[str, Any], error: dict[str, Any]
    ) -> dict[str, Any]:
        """A batch failed after its retries: what was written stays, the rest fails with why.
        A merge may have been applied in part; `retry` applies it again, adding nothing twice."""
        job = self.jobs.get(org_id, job_id)
        customers: list[dict[str, Any]] = self.objects.get_json(batch["key"])["customers"]
        plan = self._plan(job, customers)
        written = self.customers.existing_ids(org_id, [c["customer_id"] for c in plan.create])
        created = [c for c in plan.create if c["customer_id"] in written]
        unfinished = [c for c in plan.create if c["customer_id"] not in written]
        unfinished += [c for _, c in plan.merge]
        reason = error_reason(error)
        failures = tuple(
            RowFailure(
                c["rows"][0],
                "(batch)",
                f"Batch {batch['batch_id']} failed: {reason}",
                c["originals"][0],
            )
            for c in unfinished
        )
        outcome = BatchOutcome(
            batch_id=batch["batch_id"],
            customers=len(customers),
            created=len(created),
            skipped_duplicates=len(plan.skipped_duplicates),
            skipped_user=len(plan.skipped_user),
            failed=len(failures),
            vehicles=sum(len(c["vehicles"]) for c in created),
            failures=failures,
            retry=bool(batch.get("retry")),
            recovered_rows=_recovered(batch, customers, {f.row for f in failures}),
        )
        self._record(job, outcome)
        return {"batch_id": batch["batch_id"]}

    def _record(self, job: Job, outcome: BatchOutcome) -> None:
        if outcome.failures:
            outcome = self._failures_set_aside(job, outcome)
        updated = self.jobs.record_batch(job.org_id, job.job_id, outcome)
        if updated is not None:
            self.broadcaster.publish(updated, "progress")

    def _failures_set_aside(self, job: Job, outcome: BatchOutcome) -> BatchOutcome:
        """Keep the batch's failures whole (original values and all) in an object, and their
        summaries in its record: a file's values are unbounded, a record is not. The object is
        named after its content, so a batch run again never replaces the one its record
        (written once) names."""
        document = [failure.to_dict() for failure in outcome.failures]
        content = json.dumps(document, sort_keys=True, separators=(",", ":"))
        digest = hashlib.sha256(content.encode()).hexdigest()[:16]
        key = f"{staging_prefix(job)}/failures/{outcome.batch_id}-{digest}.json"
        self.objects.put_json(key, document)
        return replace(
            outcome,
            failures=tuple(failure.summary() for failure in outcome.failures),
            failures_key=key,
        )


def _recovered(
    batch: dict[str, Any], customers: list[dict[str, Any]], failed_rows: set[int]
) -> tuple[int, ...]:
    """The rows a retry batch wrote this time."""
    if not batch.get("retry"):
        return ()
    return tuple(c["rows"][0] for c in customers if c["rows"][0] not in failed_rows)
