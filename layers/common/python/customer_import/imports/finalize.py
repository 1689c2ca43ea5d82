"""FinalizeImport: the error log, the job's final status and audit entry, and the summary the
execution returns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..changes.preview import Transfers
from ..error_log import render_error_log
from ..errors import ObjectMissing
from ..jobs import Job, JobStatus
from ..ports import BatchOutcome, JobStore, ObjectStore, RowFailure
from ..progress import ProgressBroadcaster
from .batches import BatchImport
from .counters import OUTCOME_COUNTERS
from .retry import WRITE_FAILURE_COLUMNS
from .run import JobRun, run_order
from .shared import Clock, JobAudit, must_be_able_to_become, timestamp

SUMMARY_COUNTERS = ("rows", "customers", "vehicles", "imported", *OUTCOME_COUNTERS)
# How Finalize records a batch that left no outcome (see `_record_batches_without_outcome`).
BATCH_LEFT_NO_OUTCOME = {
    "Error": "BatchLeftNoOutcome",
    "Cause": "neither its import nor the record of its failure was stored",
}


@dataclass(eq=False)
class FinalizeImport:
    jobs: JobStore
    objects: ObjectStore
    broadcaster: ProgressBroadcaster
    audit: JobAudit
    batches: BatchImport
    clock: Clock

    def __call__(self, org_id: str, job_id: str) -> dict[str, Any]:
        job = self._record_batches_without_outcome(self.jobs.get(org_id, job_id))
        failures = [
            RowFailure.from_dict(f) for f in self.objects.get_json(job.row_errors_key or "")
        ]
        # A row retried and failed again is reported once, with its latest reason; a row a
        # retry recovered is not reported at all: outcomes count in the order of their runs.
        write_failures: dict[int, RowFailure] = {}
        transfers = Transfers()
        for outcome in sorted(
            self.jobs.batch_outcomes(job_id), key=lambda o: run_order(o.batch_id)
        ):
            transfers.extend(outcome.transfers)
            write_failures.update(
                (failure.row, failure) for failure in self._whole_failures(outcome)
            )
            for row in outcome.recovered_rows:
                write_failures.pop(row, None)
        failures.extend(write_failures.values())
        error_log_key = None
        if failures:
            error_log_key = f"error-logs/{org_id}/{job_id}.csv"
            self.objects.put_text(error_log_key, render_error_log(failures), "text/csv")
        status = JobStatus.COMPLETED_WITH_ERRORS if job.counter("failed") else JobStatus.COMPLETED
        ended_before = job.status is status  # a retry of a Finalize that ended the job
        if not ended_before:
            must_be_able_to_become(job, status)
        # The audit entry before the status (written once per job and action: a retried step
        # finds it there), so a job that shows a final status always has its entry. A retry's
        # outcome is an action of its own, or it would find the first outcome's entry there.
        run = JobRun(job.counter("retries"))
        finished = datetime.fromisoformat(timestamp(self.clock))
        self.audit.record(
            job,
            run.ended_action(status),
            job.actor,
            decision=(job.decision or {}).get("default", "auto-run"),
            counts={name: job.counter(name) for name in SUMMARY_COUNTERS},
            **({"transfers": listed} if (listed := transfers.to_list()) else {}),
            duration_s=round(
                (finished - datetime.fromisoformat(job.created_at)).total_seconds(), 3
            ),
        )
        if ended_before:
            job = self.jobs.announce_unannounced(job)
        else:
            # What `retry` may import again: the rows that failed to be written, unrecovered.
            retryable = sum(1 for f in write_failures.values() if f.column in WRITE_FAILURE_COLUMNS)
            counters = {**job.counters, "retryable": retryable}
            job = self.jobs.transition(
                org_id, job_id, status, error_log_key=error_log_key, counters=counters
            )
        self.broadcaster.publish(job, "completed")
        # The execution's output: ops tell a job completed with errors from a clean one by it.
        return {
            "job_id": job_id,
            "status": str(job.status),
            "counts": {name: job.counter(name) for name in SUMMARY_COUNTERS},
        }

    def _record_batches_without_outcome(self, job: Job) -> Job:
        """Fail the rows of every staged batch that left no outcome (its import and the record
        of its failure both failed, or its Map run failed first), naming the batch: the import
        goes on, the counts add up, and `retry` can write them. What such a batch wrote stays,
        counted as imported."""
        if job.counter("batches_done") >= job.counter("batches_total"):
            return job
        recorded = {outcome.batch_id for outcome in self.jobs.batch_outcomes(job.job_id)}
        for manifest_key in (job.manifest_key, job.late_manifest_key):
            for batch in self.objects.get_json(manifest_key) if manifest_key else []:
                if batch["batch_id"] not in recorded:
                    self.batches.record_batch_failure(
                        job.org_id, job.job_id, batch, BATCH_LEFT_NO_OUTCOME
                    )
        return self.jobs.get(job.org_id, job.job_id)

    def _whole_failures(self, outcome: BatchOutcome) -> tuple[RowFailure, ...]:
        if not outcome.failures_key:
            return outcome.failures
        try:
            document = self.objects.get_json(outcome.failures_key)
        except ObjectMissing:  # expired since: the summaries still say which rows and why
            return outcome.failures
        return tuple(RowFailure.from_dict(failure) for failure in document)
