"""The requests a person (or an ERP script) makes of a job: create an upload, read its possible
duplicates and row errors, decide, cancel, fetch its error log; and the state that waits for
the decision."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from ..changes.rules import Mode
from ..duplicates import Decision
from ..errors import InvalidDecision, InvalidTransition, InvalidUpload
from ..jobs import Job, JobOptions, JobStatus
from ..ports import JobStore, ObjectStore, OrganisationStore, Workflow
from ..progress import ProgressBroadcaster
from ..settings import Settings
from ..sources.layout import SOURCES, DateOrder
from ..uploads import upload_limit
from .shared import Clock, JobAudit, end_announced_later, timestamp
from .staging import (
    DUPLICATES_PAGE,
    ROW_ERRORS_PAGE,
    duplicates_page_key,
    row_errors_page_key,
    staged,
)

PRESIGNED_UPLOAD_SECONDS = 15 * 60
ERROR_LOG_LINK_SECONDS = 60 * 60
_SAFE_FILE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class Upload:
    job: Job
    post: dict[str, Any]


@dataclass
class DuplicatesPage:
    total: int
    offset: int
    items: list[dict[str, Any]]


RowErrorsPage = DuplicatesPage  # the same shape: how many in all, from where, which


CONTENT_TYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(eq=False)
class JobRequests:
    settings: Settings
    jobs: JobStore
    objects: ObjectStore
    workflow: Workflow
    organisations: OrganisationStore
    broadcaster: ProgressBroadcaster
    audit: JobAudit
    clock: Clock

    def create_upload(
        self,
        org_id: str,
        account_id: str,
        source: str,
        file_name: str,
        options: JobOptions,
        actor: str,
    ) -> Upload:
        """A pending job and a presigned POST bound to its exact key, type and size range."""
        if source not in SOURCES:
            raise InvalidUpload(f"Unknown source {source!r}; known: {', '.join(SOURCES)}")
        if source != options.layout.source:
            raise InvalidUpload(
                f"Source {source!r} differs from the {options.layout.source!r} the import's "
                "profile reads its files as"
            )
        safe_name = (
            _SAFE_FILE_NAME.sub("_", file_name.rsplit("/", 1)[-1]).strip("._") or "upload.csv"
        )
        job_id = str(uuid.uuid4())
        now = timestamp(self.clock)
        job = Job(
            org_id=org_id,
            job_id=job_id,
            status=JobStatus.PENDING,
            source=source,
            account_id=account_id,
            file_name=file_name,
            object_key=f"uploads/{org_id}/{job_id}/{safe_name}",
            created_at=now,
            updated_at=now,
            options=options,
            actor=actor,
        )
        self.jobs.create(job)
        # S3 refuses a larger file at the door; Validate checks the same limit again.
        limit = upload_limit(self.settings, self.organisations, org_id)
        post = self.objects.presigned_post(
            job.object_key, CONTENT_TYPES[options.layout.format], limit, PRESIGNED_UPLOAD_SECONDS
        )
        return Upload(job=job, post=post)

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
        """Check the decision against the flagged customers (and a sync over its deletion
        threshold against the confirmation it waits for), store it on the job and release the
        waiting execution with only a reference to it. A file that asked how it writes its
        dates takes the answer instead, and is read again with it."""
        decision = Decision.parse(default, overrides)
        job = self.jobs.get(org_id, job_id)
        if job.status is not JobStatus.READY or not job.task_token:
            raise InvalidDecision(
                f"Import job {job_id} is {job.status}; a decision is only accepted while it is ready"
            )
        question = self._question(job)
        if question or date_order is not None:
            return self._answer(job, question, date_order, actor)
        decision.check_covers(self._flagged_numbers(job))
        waiting_for = self._deletions_to_confirm(job)
        if waiting_for and not confirm_deletions:
            raise InvalidDecision(f"{waiting_for} (a decision with confirm_deletions)")
        stored = {**decision.to_dict(), "by": actor, "at": timestamp(self.clock)}
        if waiting_for:
            stored["confirm_deletions"] = True
        try:
            job = self.jobs.transition(
                org_id, job_id, JobStatus.IMPORTING, decision=stored, reason=None
            )
        except InvalidTransition as exc:
            raise InvalidDecision(
                f"Import job {job_id} is {exc.current}; it was decided already"
            ) from None
        self.workflow.send_success(job.task_token or "", {"decision_ref": f"{org_id}/{job_id}"})
        self.audit.record(
            job,
            "import.decided",
            actor,
            default=stored["default"],
            overrides=len(decision.overrides),
            **({"confirm_deletions": True} if waiting_for else {}),
            flagged=job.counter("duplicates"),
        )
        self.broadcaster.publish(job, "status")
        return job

    def _question(self, job: Job) -> dict[str, Any] | None:
        """What Prepare asks before it can read the file (how its dates are written), or None."""
        if not job.preview_key:
            return None
        question: dict[str, Any] | None = (
            staged(self.objects, job, job.preview_key, "the decision") or {}
        ).get("question")
        return question

    def _answer(
        self, job: Job, question: dict[str, Any] | None, date_order: str | None, actor: str
    ) -> Job:
        if question is None:
            raise InvalidDecision(
                f"Import job {job.job_id} asks no question about its dates: decide without "
                "date_order"
            )
        if date_order is None or date_order not in question["choices"]:
            raise InvalidDecision(
                f"{question['text']} Answer with date_order {' or '.join(question['choices'])}"
            )
        layout = job.options.layout.with_date_order(DateOrder(date_order))
        try:
            job = self.jobs.transition(
                job.org_id,
                job.job_id,
                JobStatus.PREPARING,
                options=replace(job.options, layout=layout),
                reason=None,
                preview_key=None,
            )
        except InvalidTransition as exc:
            raise InvalidDecision(
                f"Import job {job.job_id} is {exc.current}; it was answered already"
            ) from None
        self.workflow.send_success(
            job.task_token or "", {"decision_ref": f"{job.org_id}/{job.job_id}", "read_again": True}
        )
        self.audit.record(job, "import.answered", actor, date_order=date_order)
        self.broadcaster.publish(job, "status")
        return job

    def _deletions_to_confirm(self, job: Job) -> str | None:
        """Why the sync waits for its deletions to be confirmed (Prepare's preview says), or
        None."""
        if job.options.mode is not Mode.SYNC or not job.preview_key:
            return None
        sweep = (staged(self.objects, job, job.preview_key, "the decision") or {}).get("sweep")
        return (sweep or {}).get("confirmation")

    def _flagged_numbers(self, job: Job) -> list[str]:
        if not job.duplicates_key or not job.counter("duplicates"):
            return []
        return list(staged(self.objects, job, f"{job.duplicates_key}/flagged.json", "the decision"))

    def duplicates(
        self, org_id: str, job_id: str, offset: int = 0, limit: int = DUPLICATES_PAGE
    ) -> DuplicatesPage:
        """The customers Prepare flagged, in file order, each beside what it matches."""
        if offset < 0 or not 1 <= limit <= 1000:
            raise ValueError("offset must be 0 or more and limit between 1 and 1000")
        job = self.jobs.get(org_id, job_id)
        total = job.counter("duplicates")
        items: list[dict[str, Any]] = []
        page = offset // DUPLICATES_PAGE
        while len(items) < limit and page * DUPLICATES_PAGE < total:
            skip = max(0, offset - page * DUPLICATES_PAGE)
            items.extend(self._duplicates_page(job, page)[skip : skip + limit - len(items)])
            page += 1
        return DuplicatesPage(total=total, offset=offset, items=items)

    def all_duplicates(self, org_id: str, job_id: str) -> Iterator[dict[str, Any]]:
        """Every flagged customer in file order, read a stored page at a time."""
        job = self.jobs.get(org_id, job_id)
        for page in range(-(-job.counter("duplicates") // DUPLICATES_PAGE)):
            yield from self._duplicates_page(job, page)

    def _duplicates_page(self, job: Job, page: int) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = staged(
            self.objects, job, duplicates_page_key(job, page), "its possible duplicates"
        )
        return entries

    def row_errors(
        self, org_id: str, job_id: str, offset: int = 0, limit: int = ROW_ERRORS_PAGE
    ) -> RowErrorsPage:
        """Every error Prepare found in the whole file, in the error log's order: the rows
        that will fail, and why (the preview's customers show their own only)."""
        if offset < 0 or not 1 <= limit <= ROW_ERRORS_PAGE:
            raise ValueError(f"offset must be 0 or more and limit between 1 and {ROW_ERRORS_PAGE}")
        job = self.jobs.get(org_id, job_id)
        if not job.row_errors_key:
            raise InvalidTransition(
                job_id,
                str(job.status),
                str(JobStatus.READY),
                f"Import job {job_id} is {job.status}: its row errors are known once it is "
                "prepared",
            )
        first = self._row_errors_page(job, 0)  # every page says how many there are in all
        total, items = int(first["total"]), list[dict[str, Any]]()
        number = offset // ROW_ERRORS_PAGE
        while len(items) < limit and number * ROW_ERRORS_PAGE < total:
            page = first if number == 0 else self._row_errors_page(job, number)
            skip = max(0, offset - number * ROW_ERRORS_PAGE)
            items.extend(page["items"][skip : skip + limit - len(items)])
            number += 1
        return RowErrorsPage(total=total, offset=offset, items=items)

    def _row_errors_page(self, job: Job, number: int) -> dict[str, Any]:
        page: dict[str, Any] = self.objects.get_json(row_errors_page_key(job, number))
        return page

    def cancel(self, org_id: str, job_id: str, actor: str) -> Job:
        job = self.jobs.get(org_id, job_id)
        if job.status is not JobStatus.READY or not job.task_token:
            raise InvalidTransition(job_id, str(job.status), str(JobStatus.CANCELLED))
        # The wait must end even if the bus refused the ending: CancelJob, where the error
        # below leads, announces the ending it finds unannounced.
        job = end_announced_later(
            self.jobs, org_id, job_id, JobStatus.CANCELLED, reason=f"Cancelled by {actor}"
        )
        # The error name carries the meaning: moto (and the console) drop the cause.
        self.workflow.send_failure(job.task_token or "", "JobCancelled", f"Cancelled by {actor}")
        self.audit.record(job, "import.cancelled", actor)
        self.broadcaster.publish(job, "status")
        return job

    def job(self, org_id: str, job_id: str) -> Job:
        return self.jobs.get(org_id, job_id)

    def error_log_url(self, org_id: str, job_id: str) -> str | None:
        job = self.jobs.get(org_id, job_id)
        if not job.error_log_key:
            return None
        return self.objects.presigned_get(
            job.error_log_key, ERROR_LOG_LINK_SECONDS, f"errors-{job_id}.csv"
        )

    def conflict_log_url(self, org_id: str, job_id: str) -> str | None:
        """The CSV of the changes a rollback of the job left as they were (None: none)."""
        job = self.jobs.get(org_id, job_id)
        if not job.conflict_log_key:
            return None
        return self.objects.presigned_get(
            job.conflict_log_key, ERROR_LOG_LINK_SECONDS, f"rollback-conflicts-{job_id}.csv"
        )


@dataclass(eq=False)
class AwaitDecision:
    """The state that hands the job its task token and waits for the decision."""

    jobs: JobStore
    broadcaster: ProgressBroadcaster

    def __call__(self, org_id: str, job_id: str, task_token: str) -> dict[str, Any]:
        job = self.jobs.transition(org_id, job_id, JobStatus.READY, task_token=task_token)
        self.broadcaster.publish(job, "ready")
        return {"status": str(job.status)}
