"""ImportBatch and RecordBatchFailure: a staged batch written to the customers, or failed with
why, and its outcome recorded on the job."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field, replace
from typing import Any

from ..changes.apply import (
    Applied,
    BatchContext,
    Failure,
    apply_batch,
    settled_before,
    transfer_related,
)
from ..changes.log import Action, ChangeEntry, ChangeLog
from ..changes.matching import FileCustomer, match_or_transfer
from ..changes.plan import Rules, rules_of
from ..changes.preview import Transfers
from ..changes.rules import Mode
from ..customers.activities import ActivityRepository
from ..customers.customer import Customer
from ..customers.repository import CustomerRepository
from ..duplicates import Decision, plan_batch
from ..jobs import Job
from ..ports import BatchOutcome, JobStore, ObjectStore, RowFailure
from ..progress import ProgressBroadcaster
from .shared import error_reason
from .staging import staging_prefix

log = logging.getLogger(__name__)


@dataclass(eq=False)
class BatchImport:
    jobs: JobStore
    objects: ObjectStore
    customers: CustomerRepository
    activities: ActivityRepository
    change_log: ChangeLog
    broadcaster: ProgressBroadcaster

    def import_batch(self, org_id: str, job_id: str, batch: dict[str, Any]) -> dict[str, Any]:
        job, work, logged = self._load(org_id, job_id, batch)
        applied = apply_batch(
            self.customers,
            self.change_log,
            work.context,
            work.rules,
            work.pairs,
            logged,
            self.activities,
        )
        self._record(job, work.outcome(batch, applied))
        return {"batch_id": batch["batch_id"]}

    def record_batch_failure(
        self, org_id: str, job_id: str, batch: dict[str, Any], error: dict[str, Any]
    ) -> dict[str, Any]:
        """A batch failed after its retries: what its change log shows written stays and is
        counted, the rest fails with why (`retry` writes it again, nothing twice)."""
        job, work, logged = self._load(org_id, job_id, batch)
        applied, rest = settled_before(logged, work.context, work.pairs)
        try:
            # The customers it moved or copied: their activities go along as the batch would
            # have taken them.
            transfer_related(self.activities, applied.entries)
        except Exception:
            log.exception(
                "The activities of batch %s's transfers were not all taken along",
                batch["batch_id"],
            )
        reason = f"Batch {batch['batch_id']} failed: {error_reason(error)}"
        applied.failures += [Failure(row.row, reason, "(batch)") for row, _ in rest]
        self._record(job, work.outcome(batch, applied))
        return {"batch_id": batch["batch_id"]}

    def _load(
        self, org_id: str, job_id: str, batch: dict[str, Any]
    ) -> tuple[Job, _Work, list[ChangeEntry]]:
        """The job, the batch's customers paired for its mode, and its change log as an
        earlier run left it (empty: none ran)."""
        job = self.jobs.get(org_id, job_id)
        staged: list[dict[str, Any]] = self.objects.get_json(batch["key"])["customers"]
        logged = self.change_log.read(org_id, job_id, batch["batch_id"])
        return job, self._work(job, batch, staged, ran_before=logged is not None), logged or []

    def _work(
        self, job: Job, batch: dict[str, Any], staged: list[dict[str, Any]], *, ran_before: bool
    ) -> _Work:
        options = job.options
        rules = rules_of(options)
        at = next((c["staged_at"] for c in staged if c.get("staged_at")), job.created_at)
        context = BatchContext(job.org_id, job.account_id, job.job_id, batch["batch_id"], at)
        work = _Work(context, rules, staged)
        if options.mode is Mode.INSERT:
            self._insert_pairs(job, work, ran_before=ran_before)
        else:
            chunk = [FileCustomer.from_staged(job.org_id, job.account_id, c) for c in staged]
            matched = match_or_transfer(self.customers, job.org_id, job.account_id, chunk, rules)
            work.pairs = list(zip(chunk, matched, strict=True))
        return work

    def _insert_pairs(self, job: Job, work: _Work, *, ran_before: bool) -> None:
        """The person's decision on each flagged customer: created, merged into the customer
        it repeats (fill empty fields, add what it lacks), or skipped. A customer this job
        created already is paired with itself, so a batch run again writes nothing twice (a
        batch without a change log never wrote: it logs before it writes)."""
        decided = plan_batch(work.staged, Decision.from_job(job.decision, job.options.on_duplicate))
        work.skipped_duplicates = len(decided.skipped_duplicates)
        work.skipped_user = len(decided.skipped_user)
        ids = {t for t, _ in decided.merge}
        if ran_before:
            ids |= {c["customer_id"] for c in decided.create}
        stored = self.customers.get_many(job.org_id, ids) if ids else {}
        for customer in decided.create:
            file_customer = FileCustomer.from_staged(job.org_id, job.account_id, customer)
            own = stored.get(customer["customer_id"])
            work.pairs.append(
                (file_customer, own if own and own.created_by_job == job.job_id else None)
            )
        for target, customer in decided.merge:
            file_customer = FileCustomer.from_staged(job.org_id, job.account_id, customer)
            into = stored.get(target)
            if into is None or into.binned:
                match_ = customer.get("duplicate") or {}
                reason = (
                    f"The customer it repeats (row {match_.get('row')}) was not imported"
                    if match_.get("kind") == "file"
                    else f"The customer to merge into ({target}) no longer exists"
                )
                work.unmatched.append(Failure(file_customer.row, reason))
                continue
            work.pairs.append((file_customer, into))

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


@dataclass
class _Work:
    """One batch's customers as the import's mode pairs them with stored ones."""

    context: BatchContext
    rules: Rules
    staged: list[dict[str, Any]]
    pairs: list[tuple[FileCustomer, Customer | None]] = field(default_factory=list)
    unmatched: list[Failure] = field(default_factory=list)  # a merge with nothing to merge into
    skipped_duplicates: int = 0
    skipped_user: int = 0

    def outcome(self, batch: dict[str, Any], applied: Applied) -> BatchOutcome:
        originals = {c["rows"][0]: c["originals"][0] for c in self.staged}
        failures = [
            RowFailure(f.row or 0, f.column, f.reason, originals.get(f.row or 0, {}))
            for f in self.unmatched + applied.failures
        ]
        failed_rows = {f.row for f in failures}
        created = {e.customer_id for e in applied.entries if e.action is Action.CREATED}
        counts = applied.counts
        return BatchOutcome(
            batch_id=batch["batch_id"],
            customers=len(self.staged),
            created=counts["created"],
            updated=counts["updated"],
            unchanged=counts["unchanged"],
            merged=counts["merged"],
            restored=counts["restored"],
            copied=counts["copied"],
            moved=counts["moved"],
            skipped_duplicates=self.skipped_duplicates + counts["skipped_duplicates"],
            skipped_user=self.skipped_user,
            failed=len(failed_rows),
            vehicles=sum(len(c["vehicles"]) for c in self.staged if c["customer_id"] in created),
            failures=tuple(failures),
            retry=bool(batch.get("retry")),
            recovered_rows=_recovered(batch, self.staged, failed_rows),
            transfers=tuple(_transfers(applied)),
        )


def _transfers(applied: Applied) -> list[dict[str, Any]]:
    transfers = Transfers()
    for entry in applied.entries:
        transfers.add(entry)
    return transfers.to_list()


def _recovered(
    batch: dict[str, Any], customers: list[dict[str, Any]], failed_rows: set[int]
) -> tuple[int, ...]:
    """The rows a retry batch wrote this time."""
    if not batch.get("retry"):
        return ()
    return tuple(c["rows"][0] for c in customers if c["rows"][0] not in failed_rows)
