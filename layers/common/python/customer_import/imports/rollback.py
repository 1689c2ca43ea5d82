"""The rollback of an import (design §5.7): its request (or dry run) and the steps of the
RollbackImport state machine: StageRollback, RevertBatch, RecordRevertFailure, FinalizeRollback."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..changes.log import ChangeEntry, ChangeLog
from ..changes.rollback import REVERTED, Conflict, Reverted, revert, would
from ..changes.store import batch_order
from ..customers.activities import ActivityRepository
from ..customers.repository import CustomerRepository
from ..error_log import spreadsheet_safe
from ..errors import InvalidTransition, ObjectMissing
from ..jobs import Job, JobStatus
from ..ports import BatchOutcome, JobStore, ObjectStore, RowFailure, Workflow
from ..progress import ProgressBroadcaster
from .counters import REVERTED_COUNTERS, ROLLBACK_BATCH_PREFIX
from .shared import Clock, JobAudit, error_reason, timestamp
from .staging import staging_prefix

ROLLBACK_BATCH = 100
ROLLED_BACK_FROM = (JobStatus.COMPLETED, JobStatus.COMPLETED_WITH_ERRORS)
DRY_RUN_CONFLICTS_SHOWN = 100


def rollback_execution_name(job_id: str) -> str:
    return f"{job_id}-rollback"


def import_batches(jobs: JobStore, job_id: str) -> list[str]:
    """The batches the import ran (its retries' and its sweep's included), in the order they
    ran: each recorded an outcome (Finalize records one for a batch that left none)."""
    ids = [
        o.batch_id
        for o in jobs.batch_outcomes(job_id)
        if not o.batch_id.startswith(ROLLBACK_BATCH_PREFIX)
    ]
    return sorted(ids, key=batch_order)


def newest_first(
    change_log: ChangeLog, org_id: str, job_id: str, batch_ids: Sequence[str]
) -> Iterator[ChangeEntry]:
    """Every change the batches logged, newest first, one entry per customer: a customer
    changed twice by the import is undone once, to its state before the first change (the
    oldest before-image of each value, the newest version)."""
    by_customer: dict[str, ChangeEntry] = {}
    for batch_id in reversed(batch_ids):
        for entry in reversed(change_log.read(org_id, job_id, batch_id) or []):
            newer = by_customer.get(entry.customer_id)
            by_customer[entry.customer_id] = (
                entry
                if newer is None
                else replace(
                    entry,
                    version_after=newer.version_after,
                    account_id=newer.account_id,
                    before={**newer.before, **entry.before},
                    after={**entry.after, **newer.after},
                )
            )
    yield from by_customer.values()


def _chunks(entries: Iterator[ChangeEntry], size: int) -> Iterator[list[ChangeEntry]]:
    chunk: list[ChangeEntry] = []
    for entry in entries:
        chunk.append(entry)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _conflict_failure(conflict: Conflict) -> RowFailure:
    entry = conflict.entry
    return RowFailure(
        entry.row or 0, str(entry.action), f"{conflict.would}: {conflict.since}", conflict.to_dict()
    )


@dataclass(eq=False)
class Rollbacks:
    """A person's (or a script's) request to roll an import back, and its dry run."""

    jobs: JobStore
    change_log: ChangeLog
    customers: CustomerRepository
    activities: ActivityRepository
    workflow: Workflow
    broadcaster: ProgressBroadcaster
    audit: JobAudit
    clock: Clock

    def dry_run(self, org_id: str, job_id: str) -> dict[str, Any]:
        """What rolling the import back would do now: counts per kind and the conflicts."""
        job = self._rollbackable(self.jobs.get(org_id, job_id))
        total = Reverted()
        at = timestamp(self.clock)
        entries = newest_first(self.change_log, org_id, job_id, import_batches(self.jobs, job_id))
        for chunk in _chunks(entries, ROLLBACK_BATCH):
            done = revert(
                self.customers, self.activities, org_id, job.job_id, chunk, at, dry_run=True
            )
            total.counts.update(done.counts)
            total.conflicts += done.conflicts
        return {
            "job_id": job_id,
            "dry_run": True,
            "reverted": {name: total.counts[name] for name in REVERTED.values()},
            "conflicts": len(total.conflicts),
            "conflict_list": [c.to_dict() for c in total.conflicts[:DRY_RUN_CONFLICTS_SHOWN]],
        }

    def request(self, org_id: str, job_id: str, actor: str) -> Job:
        """Start the rollback (once: the job moves to rolling_back, which nothing leaves but
        the rollback's own end)."""
        job = self._rollbackable(self.jobs.get(org_id, job_id))
        job = self.jobs.transition(org_id, job.job_id, JobStatus.ROLLING_BACK, reason=None)
        self.audit.record(job, "import.rollback-requested", actor)
        self.workflow.start_rollback(
            rollback_execution_name(job_id), {"job": {"org_id": org_id, "job_id": job_id}}
        )
        self.broadcaster.publish(job, "status")
        return job

    @staticmethod
    def _rollbackable(job: Job) -> Job:
        if job.status not in ROLLED_BACK_FROM:
            raise InvalidTransition(
                job.job_id,
                str(job.status),
                str(JobStatus.ROLLING_BACK),
                f"Import job {job.job_id} is {job.status}: only a completed import can be rolled "
                "back, once",
            )
        return job


@dataclass(eq=False)
class RollbackSteps:
    jobs: JobStore
    objects: ObjectStore
    change_log: ChangeLog
    customers: CustomerRepository
    activities: ActivityRepository
    broadcaster: ProgressBroadcaster
    audit: JobAudit
    clock: Clock

    def stage(self, org_id: str, job_id: str) -> dict[str, Any]:
        """The import's changes, newest first, in staged batches of 100 customers, and their
        manifest (the Map's items)."""
        job = self.jobs.get(org_id, job_id)
        prefix = f"{staging_prefix(job)}/rollback"
        at = timestamp(self.clock)
        manifest: list[dict[str, Any]] = []
        entries = newest_first(self.change_log, org_id, job_id, import_batches(self.jobs, job_id))
        for number, chunk in enumerate(_chunks(entries, ROLLBACK_BATCH), start=1):
            batch_id = f"{ROLLBACK_BATCH_PREFIX}{number:05d}"
            key = f"{prefix}/{batch_id}.json"
            self.objects.put_json(key, {"at": at, "entries": [e.to_dict() for e in chunk]})
            manifest.append({"batch_id": batch_id, "key": key, "customers": len(chunk)})
        manifest_key = f"{prefix}/rollback-manifest.json"
        self.objects.put_json(manifest_key, manifest)
        job = self.jobs.update(org_id, job_id, counters={"rollback_batches_total": len(manifest)})
        self.broadcaster.publish(job, "progress")
        return {"manifest_key": manifest_key, "batches": len(manifest)}

    def revert_batch(self, org_id: str, job_id: str, batch: dict[str, Any]) -> dict[str, Any]:
        """Undo a staged batch; a batch run again counts what an earlier run undid and writes
        nothing twice (its intent, the customers it was to write, is kept first)."""
        job = self.jobs.get(org_id, job_id)
        staged = self.objects.get_json(batch["key"])
        entries = [ChangeEntry.from_dict(e) for e in staged["entries"]]
        intent_key = f"{batch['key'].removesuffix('.json')}-intent.json"
        try:
            earlier: list[str] = self.objects.get_json(intent_key)
        except ObjectMissing:
            earlier = []
        done = revert(
            self.customers,
            self.activities,
            org_id,
            job_id,
            entries,
            staged["at"],
            undone_before=earlier,
            before_writing=lambda ids: self.objects.put_json(intent_key, sorted({*earlier, *ids})),
        )
        self._record(
            job, batch, len(entries), done.counts, [_conflict_failure(c) for c in done.conflicts]
        )
        return {"batch_id": batch["batch_id"]}

    def record_revert_failure(
        self, org_id: str, job_id: str, batch: dict[str, Any], error: dict[str, Any]
    ) -> dict[str, Any]:
        """A batch that failed after its retries: what an earlier run undid is counted, the
        rest is reported as left as it was, with why."""
        job = self.jobs.get(org_id, job_id)
        staged = self.objects.get_json(batch["key"])
        entries = [ChangeEntry.from_dict(e) for e in staged["entries"]]
        reason = f"Not rolled back: batch {batch['batch_id']} failed: {error_reason(error)}"
        conflicts = [_conflict_failure(Conflict(e, would(e), reason)) for e in entries]
        self._record(job, batch, len(entries), {}, conflicts)
        return {"batch_id": batch["batch_id"]}

    def _record(
        self,
        job: Job,
        batch: dict[str, Any],
        customers: int,
        counts: dict[str, int] | Any,
        conflicts: Sequence[RowFailure],
    ) -> None:
        outcome = BatchOutcome(
            batch_id=batch["batch_id"],
            customers=customers,
            created=int(counts.get("created", 0)),
            updated=int(counts.get("updated", 0)),
            merged=int(counts.get("merged", 0)),
            deleted=int(counts.get("deleted", 0)),
            restored=int(counts.get("restored", 0)),
            copied=int(counts.get("copied", 0)),
            moved=int(counts.get("moved", 0)),
            failed=len(conflicts),
            failures=tuple(conflicts),
        )
        if conflicts:
            outcome = self._conflicts_set_aside(job, outcome)
        updated = self.jobs.record_batch(job.org_id, job.job_id, outcome)
        if updated is not None:
            self.broadcaster.publish(updated, "progress")

    def _conflicts_set_aside(self, job: Job, outcome: BatchOutcome) -> BatchOutcome:
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

    def finalize(self, org_id: str, job_id: str) -> dict[str, Any]:
        """The conflict CSV, the final status and audit entry, the last push."""
        job = self.jobs.get(org_id, job_id)
        conflicts: list[dict[str, Any]] = []
        for outcome in self.jobs.batch_outcomes(job_id):
            if outcome.batch_id.startswith(ROLLBACK_BATCH_PREFIX) and outcome.failed:
                conflicts += self._whole(outcome)
        conflict_log_key = None
        if conflicts:
            conflict_log_key = f"rollback-logs/{org_id}/{job_id}-conflicts.csv"
            self.objects.put_text(conflict_log_key, render_conflicts(conflicts), "text/csv")
        status = (
            JobStatus.ROLLED_BACK_WITH_CONFLICTS
            if job.counter("conflicts")
            else JobStatus.ROLLED_BACK
        )
        counts = {name: job.counter(name) for name in (*REVERTED_COUNTERS, "conflicts")}
        if job.status is not status:
            self.audit.record(
                job, "import.rolled_back", job.actor, status=str(status), counts=counts
            )
            job = self.jobs.transition(org_id, job_id, status, conflict_log_key=conflict_log_key)
        self.broadcaster.publish(job, "completed")
        return {"job_id": job_id, "status": str(job.status), "counts": counts}

    def _whole(self, outcome: BatchOutcome) -> list[dict[str, Any]]:
        """The outcome's conflicts whole; their summaries when the object has expired."""
        if outcome.failures_key:
            try:
                return [dict(f["original"]) for f in self.objects.get_json(outcome.failures_key)]
            except ObjectMissing:
                pass
        return [{"action": f.column, "since": f.reason} for f in outcome.failures]


CONFLICT_COLUMNS = (
    "customer_id",
    "account",
    "external_customer_number",
    "action",
    "would",
    "since",
)


def render_conflicts(conflicts: Sequence[dict[str, Any]]) -> str:
    """The conflict CSV: one row a customer left as it was, every cell spreadsheet-safe."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CONFLICT_COLUMNS)
    for conflict in conflicts:
        writer.writerow([spreadsheet_safe(conflict.get(name, "")) for name in CONFLICT_COLUMNS])
    return out.getvalue()
