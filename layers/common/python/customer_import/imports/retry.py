"""A retry of the rows that failed to be written: asked for and started (`retry_failed`), then
staged by the retry's own execution (`stage_retry`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import InvalidTransition
from ..jobs import Job, JobStatus
from ..ports import JobStore, ObjectStore, Workflow
from ..progress import ProgressBroadcaster
from ..settings import Settings
from .run import JobRun
from .shared import JobAudit
from .staging import Stager, must_still_be_staged, staged, staging_prefix

# Columns of failures that happened while writing, which a retry may cure.
WRITE_FAILURE_COLUMNS = ("(batch)", "(customer)")


@dataclass(eq=False)
class RetryFailed:
    settings: Settings
    jobs: JobStore
    objects: ObjectStore
    workflow: Workflow
    broadcaster: ProgressBroadcaster
    audit: JobAudit

    def retry_failed(self, org_id: str, job_id: str, actor: str) -> Job:
        """Import again the rows that failed to be written (a batch that failed after its
        retries, a customer the database refused), and only those: checked on the job and
        started here, staged by the retry's own execution (`stage_retry`), so the request
        answers at once whatever the file's size. Rows that failed their cleanup would fail
        again: they stay in the error log, to be fixed in the file."""
        job = self.jobs.get(org_id, job_id)
        if job.status is not JobStatus.COMPLETED_WITH_ERRORS:
            raise InvalidTransition(
                job_id,
                str(job.status),
                str(JobStatus.IMPORTING),
                f"Import job {job_id} is {job.status}; only an import that completed with "
                "errors can be retried",
            )
        if not job.counter("retryable"):
            raise InvalidTransition(
                job_id,
                str(job.status),
                str(JobStatus.IMPORTING),
                f"Import job {job_id} has nothing to retry: none of its rows failed to be "
                "written; fix the rows in the error log and import the file again",
            )
        must_still_be_staged(self.objects, job, "a retry")
        run = JobRun.retry(job.counter("retries") + 1)
        job = self.jobs.transition(
            org_id, job_id, JobStatus.IMPORTING, counters={**job.counters, "retries": run.attempt}
        )
        self.workflow.start(
            run.execution_name(org_id, job_id),
            {"retry": run.attempt, "job": {"org_id": org_id, "job_id": job_id}},
        )
        self.audit.record(job, run.started_action(), actor, rows=job.counter("retryable"))
        self.broadcaster.publish(job, "status")
        return job

    def stage_retry(self, org_id: str, job_id: str, attempt: int) -> dict[str, Any]:
        """The first step of a retry's execution: stage again the customers of the rows that
        failed to be written and were not recovered since, read from the batches Prepare
        staged that hold them; repeats inside the file again after the rest."""
        job = self.jobs.get(org_id, job_id)
        outcomes = self.jobs.batch_outcomes(job_id)
        recovered = {row for outcome in outcomes for row in outcome.recovered_rows}
        rows = {
            f.row for o in outcomes for f in o.failures if f.column in WRITE_FAILURE_COLUMNS
        } - recovered
        # A retry's own failures repeat rows of the first run's batches: only those are read.
        holding = {
            o.batch_id for o in outcomes if not o.retry and rows & {f.row for f in o.failures}
        }
        run = JobRun.retry(attempt)
        prefix = f"{staging_prefix(job)}/retry-{attempt}"
        size = self.settings.batch_size
        first = Stager(self.objects, prefix, size, run.batch_prefix, retry=True)
        late = Stager(self.objects, prefix, size, run.late_batch_prefix, retry=True)
        for manifest_key, stager in ((job.manifest_key, first), (job.late_manifest_key, late)):
            for batch in staged(self.objects, job, manifest_key, "a retry") if manifest_key else []:
                if batch["batch_id"] not in holding:
                    continue
                for customer in staged(self.objects, job, batch["key"], "a retry")["customers"]:
                    if customer["rows"][0] in rows:
                        stager.add(customer)
        return {
            "manifest_key": first.finish("manifest"),
            "late_manifest_key": late.finish("late-manifest"),
            "late_batches": len(late.manifest),
        }
