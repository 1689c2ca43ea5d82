"""SweepMissing: a sync's batch of the account's customers the file no longer holds, moved to
the recycle bin (design §5.4), after every import batch wrote all it had to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..changes.log import Action, ChangeEntry, ChangeLog
from ..customers.recycle_bin import purge_after_for
from ..customers.repository import VERSION_MOVED, Bin, CustomerRepository
from ..jobs import Job
from ..ports import BatchOutcome, JobStore, ObjectStore, OrganisationStore
from ..progress import ProgressBroadcaster
from .run import JobRun, is_sweep_batch
from .shared import Clock, timestamp


@dataclass(eq=False)
class SweepMissing:
    jobs: JobStore
    objects: ObjectStore
    customers: CustomerRepository
    change_log: ChangeLog
    organisations: OrganisationStore
    broadcaster: ProgressBroadcaster
    clock: Clock

    def __call__(self, org_id: str, job_id: str, batch: dict[str, Any]) -> dict[str, Any]:
        job = self.jobs.get(org_id, job_id)
        staged: list[dict[str, Any]] = self.objects.get_json(batch["key"])["customers"]
        left_undone = self._import_left_undone(job)
        binned = 0 if left_undone else self._bin(job, batch["batch_id"], staged)
        # No customer of the file: it adds to `deleted` only, not to the batches or processed.
        outcome = BatchOutcome(
            batch_id=batch["batch_id"], customers=0, created=0, failed=0, deleted=binned
        )
        updated = self.jobs.record_batch(org_id, job_id, outcome)
        if updated is not None:
            self.broadcaster.publish(updated, "progress")
        return {"batch_id": batch["batch_id"], "binned": binned, "left_undone": left_undone}

    def _import_left_undone(self, job: Job) -> bool:
        """Whether some import batch left rows unwritten: a sync that did not write all the
        file holds bins nothing, or a customer it failed to update could be binned."""
        if job.counter("batches_done") < job.counter("batches_total"):
            return True
        return any(
            o.failed
            for o in self.jobs.batch_outcomes(job.job_id)
            if not JobRun.of_batch(o.batch_id).is_retry and not is_sweep_batch(o.batch_id)
        )

    def _bin(self, job: Job, batch_id: str, staged: list[dict[str, Any]]) -> int:
        """Bin each customer on the version Prepare read: one changed since (a person's edit,
        another import) stays live. Logged first; a batch run again bins nothing twice."""
        at = timestamp(self.clock)
        purge_after = purge_after_for(at, self.organisations.get(job.org_id).recycle_bin_days)
        entries = {
            c["customer_id"]: ChangeEntry(
                customer_id=c["customer_id"],
                account_id=job.account_id,
                external_customer_number=c.get("external_customer_number"),
                action=Action.BINNED,
                version_before=int(c["version"]),
                version_after=int(c["version"]) + 1,
                before={"deleted_at": None, "purge_after": None},
                after={"deleted_at": at, "purge_after": purge_after},
            )
            for c in staged
        }
        self.change_log.record(job.org_id, job.job_id, batch_id, list(entries.values()))
        writes = [
            Bin(job.org_id, e.customer_id, e.version_before, job.job_id, at, purge_after)
            for e in entries.values()
        ]
        binned = dict(entries)
        for refusal in self.customers.save(writes):
            current = refusal.current
            binned_before = (  # by this job, in an earlier run of this batch
                refusal.reason == VERSION_MOVED
                and current is not None
                and current.binned
                and current.updated_by_job == job.job_id
            )
            if not binned_before and isinstance(refusal.write, Bin):
                binned.pop(refusal.write.customer_id, None)
        self.change_log.record(job.org_id, job.job_id, batch_id, list(binned.values()))
        return len(binned)
