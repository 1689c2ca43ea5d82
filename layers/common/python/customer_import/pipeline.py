"""The import job as one object: the steps of `customer_import.imports` (one module per state
of the ImportJob state machine, plus the requests a person or an ERP script makes of a job),
composed over one set of ports and forwarded to.

The steps are built again on each call, from the ports as they are then: a test or a
benchmark that replaces a port (or the clock) after construction changes every step.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from .changes.log import Action
from .changes.store import ObjectChangeLog
from .customers.activities import ActivityRepository
from .customers.repository import CustomerRepository
from .imports.batches import BatchImport
from .imports.close import CloseJob
from .imports.finalize import FinalizeImport
from .imports.prepare import PrepareImport
from .imports.reconciliation import ChangesPage, import_changes
from .imports.register import RegisterJob, StartImport
from .imports.requests import AwaitDecision, DuplicatesPage, JobRequests, RowErrorsPage, Upload
from .imports.retry import RetryFailed
from .imports.rollback import Rollbacks, RollbackSteps
from .imports.shared import JobAudit
from .imports.staging import DUPLICATES_PAGE, ROW_ERRORS_PAGE
from .imports.sweep import SweepMissing
from .imports.validate import ValidateUpload
from .jobs import Job, JobOptions
from .ports import AuditLog, JobStore, ObjectStore, OrganisationStore, Workflow
from .profiles import ProfileStore
from .progress import ProgressBroadcaster
from .settings import Settings


class ImportPipeline:
    def __init__(
        self,
        settings: Settings,
        jobs: JobStore,
        objects: ObjectStore,
        customers: CustomerRepository,
        activities: ActivityRepository,
        broadcaster: ProgressBroadcaster,
        workflow: Workflow,
        organisations: OrganisationStore,
        audit: AuditLog,
        profiles: ProfileStore,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.profiles = profiles
        self.settings = settings
        self.organisations = organisations
        self.audit = audit
        self.jobs = jobs
        self.objects = objects
        self.customers = customers
        self.activities = activities
        self.broadcaster = broadcaster
        self.workflow = workflow
        self.clock = clock

    # ---- the steps, over the ports as they are now ------------------------------------------

    def _job_audit(self) -> JobAudit:
        return JobAudit(self.audit, self.clock)

    def _requests(self) -> JobRequests:
        return JobRequests(
            self.settings,
            self.jobs,
            self.objects,
            self.workflow,
            self.organisations,
            self.broadcaster,
            self._job_audit(),
            self.clock,
        )

    def _batches(self) -> BatchImport:
        return BatchImport(
            self.jobs,
            self.objects,
            self.customers,
            self.activities,
            ObjectChangeLog(self.objects),
            self.broadcaster,
        )

    def _rollbacks(self) -> Rollbacks:
        return Rollbacks(
            self.jobs,
            ObjectChangeLog(self.objects),
            self.customers,
            self.activities,
            self.workflow,
            self.broadcaster,
            self._job_audit(),
            self.clock,
        )

    def _rollback_steps(self) -> RollbackSteps:
        return RollbackSteps(
            self.jobs,
            self.objects,
            ObjectChangeLog(self.objects),
            self.customers,
            self.activities,
            self.broadcaster,
            self._job_audit(),
            self.clock,
        )

    def _retries(self) -> RetryFailed:
        return RetryFailed(
            self.settings,
            self.jobs,
            self.objects,
            self.workflow,
            self.broadcaster,
            self._job_audit(),
        )

    # ---- requests from people and scripts ---------------------------------------------------

    def create_upload(
        self,
        org_id: str,
        account_id: str,
        source: str,
        file_name: str,
        options: JobOptions,
        actor: str,
    ) -> Upload:
        return self._requests().create_upload(org_id, account_id, source, file_name, options, actor)

    def submit_decision(
        self,
        org_id: str,
        job_id: str,
        default: str | None,
        overrides: dict[str, str] | None,
        actor: str,
        confirm_deletions: bool = False,
        date_order: str | None = None,
    ) -> Job:
        return self._requests().submit_decision(
            org_id, job_id, default, overrides, actor, confirm_deletions, date_order
        )

    def duplicates(
        self, org_id: str, job_id: str, offset: int = 0, limit: int = DUPLICATES_PAGE
    ) -> DuplicatesPage:
        return self._requests().duplicates(org_id, job_id, offset, limit)

    def all_duplicates(self, org_id: str, job_id: str) -> Iterator[dict[str, Any]]:
        return self._requests().all_duplicates(org_id, job_id)

    def row_errors(
        self, org_id: str, job_id: str, offset: int = 0, limit: int = ROW_ERRORS_PAGE
    ) -> RowErrorsPage:
        return self._requests().row_errors(org_id, job_id, offset, limit)

    def cancel(self, org_id: str, job_id: str, actor: str) -> Job:
        return self._requests().cancel(org_id, job_id, actor)

    def retry_failed(self, org_id: str, job_id: str, actor: str) -> Job:
        return self._retries().retry_failed(org_id, job_id, actor)

    def job(self, org_id: str, job_id: str) -> Job:
        return self._requests().job(org_id, job_id)

    def rollback(self, org_id: str, job_id: str, actor: str) -> Job:
        return self._rollbacks().request(org_id, job_id, actor)

    def rollback_dry_run(self, org_id: str, job_id: str) -> dict[str, Any]:
        return self._rollbacks().dry_run(org_id, job_id)

    def changes(
        self,
        org_id: str,
        job_id: str,
        limit: int,
        cursor: str | None = None,
        action: Action | None = None,
    ) -> ChangesPage:
        return import_changes(
            self.jobs, ObjectChangeLog(self.objects), org_id, job_id, limit, cursor, action
        )

    def conflict_log_url(self, org_id: str, job_id: str) -> str | None:
        return self._requests().conflict_log_url(org_id, job_id)

    def error_log_url(self, org_id: str, job_id: str) -> str | None:
        return self._requests().error_log_url(org_id, job_id)

    # ---- the start of an import -------------------------------------------------------------

    def start_import(
        self, bucket: str, key: str, sequencer: str, event: dict[str, Any]
    ) -> dict[str, Any]:
        return StartImport(self.workflow)(bucket, key, sequencer, event)

    # ---- states of the ImportJob state machine ----------------------------------------------

    def register(self, bucket: str, key: str, sequencer: str, execution_id: str) -> dict[str, Any]:
        return RegisterJob(self.jobs, self.profiles, self.broadcaster, self.clock)(
            bucket, key, sequencer, execution_id
        )

    def validate(self, org_id: str, job_id: str) -> dict[str, Any]:
        return ValidateUpload(
            self.settings,
            self.jobs,
            self.objects,
            self.organisations,
            self.broadcaster,
            self._job_audit(),
        )(org_id, job_id)

    def prepare(self, org_id: str, job_id: str) -> dict[str, Any]:
        return PrepareImport(
            self.settings,
            self.jobs,
            self.objects,
            self.customers,
            self.organisations,
            self.broadcaster,
            self._job_audit(),
            self.clock,
        )(org_id, job_id)

    def await_decision(self, org_id: str, job_id: str, task_token: str) -> dict[str, Any]:
        return AwaitDecision(self.jobs, self.broadcaster)(org_id, job_id, task_token)

    def import_batch(self, org_id: str, job_id: str, batch: dict[str, Any]) -> dict[str, Any]:
        return self._batches().import_batch(org_id, job_id, batch)

    def sweep_missing(self, org_id: str, job_id: str, batch: dict[str, Any]) -> dict[str, Any]:
        return SweepMissing(
            self.jobs,
            self.objects,
            self.customers,
            ObjectChangeLog(self.objects),
            self.organisations,
            self.broadcaster,
            self.clock,
        )(org_id, job_id, batch)

    def record_batch_failure(
        self, org_id: str, job_id: str, batch: dict[str, Any], error: dict[str, Any]
    ) -> dict[str, Any]:
        return self._batches().record_batch_failure(org_id, job_id, batch, error)

    def stage_retry(self, org_id: str, job_id: str, attempt: int) -> dict[str, Any]:
        return self._retries().stage_retry(org_id, job_id, attempt)

    def finalize(self, org_id: str, job_id: str) -> dict[str, Any]:
        return FinalizeImport(
            self.jobs,
            self.objects,
            self.broadcaster,
            self._job_audit(),
            self._batches(),
            self.clock,
        )(org_id, job_id)

    # ---- states of the RollbackImport state machine ------------------------------------------

    def stage_rollback(self, org_id: str, job_id: str) -> dict[str, Any]:
        return self._rollback_steps().stage(org_id, job_id)

    def revert_batch(self, org_id: str, job_id: str, batch: dict[str, Any]) -> dict[str, Any]:
        return self._rollback_steps().revert_batch(org_id, job_id, batch)

    def record_revert_failure(
        self, org_id: str, job_id: str, batch: dict[str, Any], error: dict[str, Any]
    ) -> dict[str, Any]:
        return self._rollback_steps().record_revert_failure(org_id, job_id, batch, error)

    def finalize_rollback(self, org_id: str, job_id: str) -> dict[str, Any]:
        return self._rollback_steps().finalize(org_id, job_id)

    def close(
        self, org_id: str, job_id: str, status: str, error: dict[str, Any] | None
    ) -> dict[str, Any]:
        return CloseJob(self.jobs, self.broadcaster, self._job_audit())(
            org_id, job_id, status, error
        )
