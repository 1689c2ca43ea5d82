"""The import job, step by step: one method per state of the ImportJob state machine, plus the
requests a person (or an ERP script) makes of a job: create an upload, decide, cancel.

Plain Python over the ports of `customer_import.ports`; no AWS imports.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import uuid
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from . import techman
from .audit import AuditEntry
from .duplicates import (
    BatchPlan,
    Decision,
    DuplicateFinder,
    MergeChanges,
    merge_changes,
    plan_batch,
)
from .error_log import render_error_log
from .errors import InvalidDecision, InvalidTransition, InvalidUpload, ObjectMissing, StagingExpired
from .imports.counters import OUTCOME_COUNTERS
from .imports.run import JobRun, run_order
from .jobs import Job, JobOptions, JobStatus, sources_of
from .ports import (
    AuditLog,
    BatchOutcome,
    CustomerStore,
    JobStore,
    ObjectStore,
    OrganisationStore,
    RowFailure,
    Workflow,
)
from .progress import ProgressBroadcaster
from .reading import (
    HEAD_BYTES,
    TextFormat,
    UnreadableFile,
    UnreadableRecord,
    detect_format,
    iter_records,
)
from .settings import Settings
from .uploads import too_large, upload_limit

ID_NAMESPACE = uuid.UUID("6f1c7f8e-1f7a-4a4e-9d55-3c1f0e3b2a10")
SOURCES = {techman.SOURCE: techman}
PRESIGNED_UPLOAD_SECONDS = 15 * 60
ERROR_LOG_LINK_SECONDS = 60 * 60
PREVIEW_SIZE = 100
DUPLICATES_PAGE = 100
# The whole file's row errors, as the preview pages them (the error log's rows, with reasons).
ROW_ERRORS_PAGE = 1000
# Columns of failures that happened while writing, which a retry may cure.
WRITE_FAILURE_COLUMNS = ("(batch)", "(customer)")
SUMMARY_COUNTERS = ("rows", "customers", "vehicles", "imported", *OUTCOME_COUNTERS)
# How Finalize records a batch that left no outcome (see `_record_batches_without_outcome`).
BATCH_LEFT_NO_OUTCOME = {
    "Error": "BatchLeftNoOutcome",
    "Cause": "neither its import nor the record of its failure was stored",
}
_SAFE_FILE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_LINE_BREAKS = re.compile(rb"[\r\n]")
NO_DATA_ROWS = "The file has a header but no data rows"


def customer_id_for(org_id: str, job_id: str, external_customer_number: str) -> str:
    """Deterministic, so writing a batch twice writes the same customers."""
    return str(uuid.uuid5(ID_NAMESPACE, f"{org_id}/{job_id}/{external_customer_number}"))


def staging_prefix(job: Job) -> str:
    return f"staging/{job.org_id}/{job.job_id}"


@dataclass(frozen=True)
class ObjectLocation:
    """Where an uploaded object sits: `uploads/{org}/{job}/{file}` or `drops/{org}/{profile}/{file}`."""

    kind: str
    org_id: str
    scope: str  # job id for uploads, import profile for drops
    file_name: str

    @classmethod
    def parse(cls, key: str) -> ObjectLocation:
        parts = key.split("/", 3)
        if len(parts) != 4 or parts[0] not in ("uploads", "drops") or not all(parts[1:]):
            raise InvalidUpload(f"Object key {key!r} is not under uploads/ or drops/")
        return cls(parts[0], parts[1], parts[2], parts[3])


def job_id_of_object(bucket: str, key: str, sequencer: str) -> str:
    """The id of the import job an uploaded object belongs to: the one derivation that both
    starts the job's execution (named after it) and registers the job.

    An upload's key names its job (`uploads/{org}/{job}/{file}`, as `create_upload` made it).
    An ERP drop has no job yet: its id is derived from the object (`sequencer` tells two
    writes of one key apart), so a repeated event for the same object finds the same job.
    """
    location = ObjectLocation.parse(key)
    if location.kind == "drops":
        return str(uuid.uuid5(ID_NAMESPACE, f"{bucket}/{key}/{sequencer}"))
    if not _is_job_id(location.scope):
        raise InvalidUpload(f"Object key {key!r} names no import job")
    return location.scope


def _is_job_id(value: str) -> bool:
    """A job id as `create_upload` makes them: a UUID in its canonical form (which is also a
    valid execution name)."""
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False


@dataclass
class Upload:
    job: Job
    post: dict[str, Any]


class _Stager:
    """Stages customers in batches of `size` under `prefix`, then their manifest: the list
    the state machine's Map reads."""

    def __init__(
        self,
        objects: ObjectStore,
        prefix: str,
        size: int,
        id_prefix: str = "",
        *,
        retry: bool = False,
    ) -> None:
        self.objects = objects
        self.prefix = prefix
        self.size = size
        self.id_prefix = id_prefix
        self.retry = retry
        self.manifest: list[dict[str, Any]] = []
        self._batch: list[dict[str, Any]] = []

    def add(self, customer: dict[str, Any]) -> None:
        self._batch.append(customer)
        if len(self._batch) >= self.size:
            self._flush()

    def _flush(self) -> None:
        batch_id = f"{self.id_prefix}{len(self.manifest) + 1:05d}"
        key = f"{self.prefix}/batch-{batch_id}.json"
        self.objects.put_json(key, {"batch_id": batch_id, "customers": self._batch})
        entry: dict[str, Any] = {"batch_id": batch_id, "key": key, "customers": len(self._batch)}
        if self.retry:
            entry["retry"] = True
        self.manifest.append(entry)
        self._batch = []

    def finish(self, name: str) -> str:
        if self._batch:
            self._flush()
        key = f"{self.prefix}/{name}.json"
        self.objects.put_json(key, self.manifest)
        return key


class _DuplicateListing:
    """The flagged customers, for a person to review: pages of DUPLICATES_PAGE entries, and
    the list of their customer numbers that a decision is checked against."""

    def __init__(self, objects: ObjectStore, prefix: str) -> None:
        self.objects = objects
        self.prefix = prefix
        self.numbers: list[str] = []
        self._page: list[dict[str, Any]] = []
        self._pages = 0

    def add(self, entries: list[dict[str, Any]]) -> None:
        for entry in entries:
            self.numbers.append(entry["external_customer_number"])
            self._page.append(entry)
            if len(self._page) >= DUPLICATES_PAGE:
                self._flush()

    def _flush(self) -> None:
        self._pages += 1
        self.objects.put_json(f"{self.prefix}/page-{self._pages:05d}.json", self._page)
        self._page = []

    def finish(self) -> None:
        if self._page:
            self._flush()
        self.objects.put_json(f"{self.prefix}/flagged.json", self.numbers)


@dataclass
class DuplicatesPage:
    total: int
    offset: int
    items: list[dict[str, Any]]


RowErrorsPage = DuplicatesPage  # the same shape: how many in all, from where, which


class ImportPipeline:
    def __init__(
        self,
        settings: Settings,
        jobs: JobStore,
        objects: ObjectStore,
        customers: CustomerStore,
        broadcaster: ProgressBroadcaster,
        workflow: Workflow,
        organisations: OrganisationStore,
        audit: AuditLog,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.organisations = organisations
        self.audit = audit
        self.jobs = jobs
        self.objects = objects
        self.customers = customers
        self.broadcaster = broadcaster
        self.workflow = workflow
        self.clock = clock

    def _now(self) -> str:
        return self.clock().isoformat(timespec="milliseconds")

    def _audit(self, job: Job, action: str, actor: str, **details: Any) -> None:
        self.audit.record(
            AuditEntry(
                org_id=job.org_id,
                job_id=job.job_id,
                action=action,
                actor=actor,
                at=self._now(),
                job_created_at=job.created_at,
                details={
                    "file": job.file_name,
                    "source": job.source,
                    "mode": str(job.options.mode),
                    **details,
                },
            )
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
        """A pending job and a presigned POST bound to its exact key, type and size range."""
        if source not in SOURCES:
            raise InvalidUpload(f"Unknown source {source!r}; known: {', '.join(sorted(SOURCES))}")
        safe_name = (
            _SAFE_FILE_NAME.sub("_", file_name.rsplit("/", 1)[-1]).strip("._") or "upload.csv"
        )
        job_id = str(uuid.uuid4())
        now = self._now()
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
            job.object_key, "text/csv", limit, PRESIGNED_UPLOAD_SECONDS
        )
        return Upload(job=job, post=post)

    def submit_decision(
        self,
        org_id: str,
        job_id: str,
        default: str | None,
        overrides: dict[str, str] | None,
        actor: str,
    ) -> Job:
        """Check the decision against the flagged customers, store it on the job and release
        the waiting execution with only a reference to it."""
        decision = Decision.parse(default, overrides)
        job = self.jobs.get(org_id, job_id)
        if job.status is not JobStatus.READY or not job.task_token:
            raise InvalidDecision(
                f"Import job {job_id} is {job.status}; a decision is only accepted while it is ready"
            )
        decision.check_covers(self._flagged_numbers(job))
        stored = {**decision.to_dict(), "by": actor, "at": self._now()}
        try:
            job = self.jobs.transition(org_id, job_id, JobStatus.IMPORTING, decision=stored)
        except InvalidTransition as exc:
            raise InvalidDecision(
                f"Import job {job_id} is {exc.current}; it was decided already"
            ) from None
        self.workflow.send_success(job.task_token or "", {"decision_ref": f"{org_id}/{job_id}"})
        self._audit(
            job,
            "import.decided",
            actor,
            default=stored["default"],
            overrides=len(decision.overrides),
            flagged=job.counter("duplicates"),
        )
        self.broadcaster.publish(job, "status")
        return job

    def _flagged_numbers(self, job: Job) -> list[str]:
        if not job.duplicates_key or not job.counter("duplicates"):
            return []
        return list(self._staged(job, f"{job.duplicates_key}/flagged.json", "the decision"))

    def _staged(self, job: Job, key: str, needed_for: str) -> Any:
        """A staged object a request needs; the lifecycle rule may have removed it since."""
        try:
            return self.objects.get_json(key)
        except ObjectMissing:
            raise StagingExpired(job.job_id, needed_for) from None

    def _must_still_be_staged(self, job: Job, needed_for: str) -> None:
        """Refuse at once what a later step could not do: staging expires as a whole, so its
        manifest answers for it (one HEAD, whatever the file's size)."""
        try:
            self.objects.size(job.manifest_key or "")
        except ObjectMissing:
            raise StagingExpired(job.job_id, needed_for) from None

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
        entries: list[dict[str, Any]] = self._staged(
            job, f"{job.duplicates_key}/page-{page + 1:05d}.json", "its possible duplicates"
        )
        return entries

    def _put_row_error_pages(self, prefix: str, failures: list[RowFailure]) -> None:
        """The preview's view of every row error: pages of ROW_ERRORS_PAGE (row, column,
        reason), each saying how many there are in all; a page is written even for none."""
        pages = range(0, max(len(failures), 1), ROW_ERRORS_PAGE)
        for number, start in enumerate(pages, start=1):
            self.objects.put_json(
                f"{prefix}/row-errors/page-{number:05d}.json",
                {
                    "total": len(failures),
                    "items": [
                        {"row": f.row, "column": f.column, "reason": f.reason}
                        for f in failures[start : start + ROW_ERRORS_PAGE]
                    ],
                },
            )

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
        page: dict[str, Any] = self.objects.get_json(
            f"{staging_prefix(job)}/row-errors/page-{number + 1:05d}.json"
        )
        return page

    def cancel(self, org_id: str, job_id: str, actor: str) -> Job:
        job = self.jobs.get(org_id, job_id)
        if job.status is not JobStatus.READY or not job.task_token:
            raise InvalidTransition(job_id, str(job.status), str(JobStatus.CANCELLED))
        job = self.jobs.transition(
            org_id, job_id, JobStatus.CANCELLED, reason=f"Cancelled by {actor}"
        )
        # The error name carries the meaning: moto (and the console) drop the cause.
        self.workflow.send_failure(job.task_token or "", "JobCancelled", f"Cancelled by {actor}")
        self._audit(job, "import.cancelled", actor)
        self.broadcaster.publish(job, "status")
        return job

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
        self._must_still_be_staged(job, "a retry")
        run = JobRun.retry(job.counter("retries") + 1)
        job = self.jobs.transition(
            org_id, job_id, JobStatus.IMPORTING, counters={**job.counters, "retries": run.attempt}
        )
        self.workflow.start(
            run.execution_name(org_id, job_id),
            {"retry": run.attempt, "job": {"org_id": org_id, "job_id": job_id}},
        )
        self._audit(job, run.started_action(), actor, rows=job.counter("retryable"))
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
        first = _Stager(self.objects, prefix, size, run.batch_prefix, retry=True)
        late = _Stager(self.objects, prefix, size, run.late_batch_prefix, retry=True)
        for manifest_key, stager in ((job.manifest_key, first), (job.late_manifest_key, late)):
            for batch in self._staged(job, manifest_key, "a retry") if manifest_key else []:
                if batch["batch_id"] not in holding:
                    continue
                for customer in self._staged(job, batch["key"], "a retry")["customers"]:
                    if customer["rows"][0] in rows:
                        stager.add(customer)
        return {
            "manifest_key": first.finish("manifest"),
            "late_manifest_key": late.finish("late-manifest"),
            "late_batches": len(late.manifest),
        }

    # ---- the start of an import -------------------------------------------------------------

    def start_import(
        self, bucket: str, key: str, sequencer: str, event: dict[str, Any]
    ) -> dict[str, Any]:
        """Start the ImportJob execution for an `Object Created` event, named after the
        organisation and the job (`event` is its input). S3 and EventBridge deliver at least
        once: the same event again finds the name taken and starts nothing; RegisterJob still
        stops any second execution that finds its job claimed."""
        job_id = job_id_of_object(bucket, key, sequencer)
        name = JobRun.first().execution_name(ObjectLocation.parse(key).org_id, job_id)
        self.workflow.start(name, event)
        return {"job_id": job_id, "execution_name": name}

    # ---- states of the ImportJob state machine ----------------------------------------------

    def register(self, bucket: str, key: str, sequencer: str, execution_id: str) -> dict[str, Any]:
        """Turn an `Object Created` event into a job, exactly once per object."""
        location = ObjectLocation.parse(key)
        job_id = job_id_of_object(bucket, key, sequencer)
        if location.kind == "drops":
            # An ERP drop has no job yet: the first execution for the object creates it.
            now = self._now()
            self.jobs.create(
                Job(
                    org_id=location.org_id,
                    job_id=job_id,
                    status=JobStatus.PENDING,
                    source=techman.SOURCE,
                    account_id="main",
                    file_name=location.file_name,
                    object_key=key,
                    created_at=now,
                    updated_at=now,
                    options=JobOptions(auto_run=True),
                    actor=f"profile:{location.scope}",
                )
            )
        claimed = self.jobs.claim_execution(location.org_id, job_id, execution_id)
        if claimed:
            self.broadcaster.publish(self.jobs.get(location.org_id, job_id), "status")
        return {"org_id": location.org_id, "job_id": job_id, "duplicate": not claimed}

    def validate(self, org_id: str, job_id: str) -> dict[str, Any]:
        """Look at the head of the file only: size, encoding, delimiter, required columns."""
        job = self.jobs.get(org_id, job_id)
        size = self.objects.size(job.object_key)
        limit = self.organisations.get(org_id).max_file_bytes or self.settings.max_file_bytes
        if size == 0:
            # S3 refuses a ranged read of an empty object, so say it before reading.
            return self._reject(job, "The file is empty")
        if size > limit:
            return self._reject(job, too_large(size, limit))
        head = self.objects.read_head(job.object_key, HEAD_BYTES)
        try:
            fmt = detect_format(head)
        except UnreadableFile as exc:
            return self._reject(job, str(exc))
        records = iter_records(io.BytesIO(head), fmt)
        header = next(records, None)
        if header is None:
            return self._reject(job, "The file is empty")
        if isinstance(header[1], UnreadableRecord):
            return self._reject(job, f"The header row cannot be read: {header[1].reason}")
        if size > len(head) and not _LINE_BREAKS.search(head):
            # The header runs on past the head: it cannot be checked, and no header is so long.
            return self._reject(
                job,
                f"The header has more than {len(header[1]):,} columns in its first "
                f"{len(head) // 1024} KB; the limit is {techman.MAX_COLUMNS:,}",
            )
        check = SOURCES[job.source].check_header(header[1])
        if problem := check.problem():
            return self._reject(job, problem)
        if check.missing:
            return self._reject(
                job,
                f"Missing required columns: {', '.join(check.missing)}",
                missing_columns=check.missing,
            )
        if size <= len(head) and next(records, None) is None:
            return self._reject(job, NO_DATA_ROWS)
        warnings = [_unknown_columns_warning(check.unknown)] if check.unknown else []
        job = self.jobs.transition(
            org_id,
            job_id,
            JobStatus.PREPARING,
            encoding=fmt.encoding,
            delimiter=fmt.delimiter,
            warnings=warnings,
        )
        self.broadcaster.publish(job, "status")
        return {"rejected": False}

    def _reject(
        self, job: Job, reason: str, missing_columns: list[str] | None = None
    ) -> dict[str, Any]:
        job = self.jobs.transition(
            job.org_id,
            job.job_id,
            JobStatus.REJECTED,
            reason=reason,
            missing_columns=missing_columns or [],
        )
        self._audit(job, "import.rejected", job.actor, reason=reason)
        self.broadcaster.publish(job, "status")
        return {"rejected": True}

    def prepare(self, org_id: str, job_id: str) -> dict[str, Any]:
        """Stream the file twice (each customer's last row, then everything else): clean,
        group, flag possible duplicates, stage batches, write the preview."""
        job = self.jobs.get(org_id, job_id)
        fmt = TextFormat(encoding=job.encoding or "utf-8", delimiter=job.delimiter or ",")
        profile = self.organisations.get(org_id)
        max_rows = profile.max_rows or self.settings.max_rows
        records = iter_records(self.objects.open(job.object_key), fmt)
        try:
            _, header = next(records)
            columns = techman.check_header(header)
            # A first pass learns each customer's last row: the second then stages customers
            # as their rows end, and Prepare's memory stays flat in the file's size.
            index = techman.index_rows(
                columns, iter_records(self.objects.open(job.object_key), fmt), max_rows
            )
        except UnreadableFile as exc:
            return self._reject_prepared(job, str(exc))
        if index.rows == 0:  # rows of only delimiters, beyond Validate's head
            return self._reject_prepared(job, NO_DATA_ROWS)
        if index.rows > max_rows:
            return self._reject_prepared(
                job,
                f"The file has more than {max_rows:,} data rows, the limit; "
                "split it into smaller files",
            )
        rows = techman.TechmanRows(columns, profile, index.last_rows)
        rows.read(records)

        failures: list[RowFailure] = []
        prefix = staging_prefix(job)
        size = self.settings.batch_size
        first = _Stager(self.objects, prefix, size)
        # Repeats of an earlier customer of the file run after everything else (see HasRepeats).
        late = _Stager(self.objects, prefix, size, JobRun.first().late_batch_prefix)
        finder = DuplicateFinder(self._stored_customer_lookup(org_id))
        listing = _DuplicateListing(self.objects, f"{prefix}/duplicates")
        pending: list[dict[str, Any]] = []
        preview: dict[str, dict[str, Any]] = {}  # by customer id
        customers = vehicles = failed_customers = rows_with_warnings = 0
        staged_at = self._now()
        rows_failing = 0

        def settle() -> None:
            """Flag a chunk of customers in one batched look-up, then stage them."""
            if not pending:
                return
            listing.add(finder.flag(pending))
            for customer in pending:
                match = customer.get("duplicate")
                if match and customer["customer_id"] in preview:
                    preview[customer["customer_id"]]["duplicate"] = match
                (late if match and match["kind"] == "file" else first).add(customer)
            pending.clear()

        for record in rows.customers():
            customers += 1
            customer_id = customer_id_for(org_id, job_id, record.external_customer_number)
            if len(preview) < PREVIEW_SIZE:
                preview[customer_id] = {"customer_id": customer_id, **record.preview()}
            if record.errors:
                failed_customers += 1
                rows_failing += len(record.rows)
                originals = dict(zip(record.rows, record.originals, strict=True))
                failures.extend(
                    RowFailure(e.row, e.column, e.reason, originals[e.row]) for e in record.errors
                )
                continue
            rows_with_warnings += len({w.row for w in record.warnings})
            vehicles += len(record.vehicles)
            pending.append({"customer_id": customer_id, "staged_at": staged_at, **record.to_dict()})
            if len(pending) >= size:
                settle()
        settle()
        listing.finish()
        # Rows that could not be read at all come first in the error log, as they always did.
        failures[:0] = [
            RowFailure(issue.row, issue.column, issue.reason, original)
            for issue, original in rows.malformed
        ]
        rows_failing += rows.unreadable_rows

        manifest_key = first.finish("manifest")
        late_manifest_key = late.finish("late-manifest")
        row_errors_key = f"{prefix}/row-errors.json"
        preview_key = f"{prefix}/preview.json"
        self.objects.put_json(row_errors_key, [f.to_dict() for f in failures])
        self._put_row_error_pages(prefix, failures)
        # A row that cannot be read counts as a customer of its own, failed: whose it was
        # cannot be told, and so imported + skipped + failed is every customer of the file.
        failed = failed_customers + rows.unreadable_rows
        counters = {
            **job.counters,
            "rows": rows.rows,
            "rows_with_warnings": rows_with_warnings,
            "rows_failing": rows_failing,
            "customers": customers + rows.unreadable_rows,
            "vehicles": vehicles,
            "duplicates": finder.flagged,
            "batches_total": len(first.manifest) + len(late.manifest),
            "failed": failed,
            "processed": failed,
        }
        preview_counts = {
            name: counters[name]
            for name in (
                "rows",
                "customers",
                "vehicles",
                "rows_with_warnings",
                "rows_failing",
                "duplicates",
            )
        }
        # The summary counts failed customers; the preview says both, each named.
        preview_counts["customers_failing"] = failed
        unreadable_rows = [
            {"row": issue.row, "column": issue.column, "reason": issue.reason}
            for issue, _ in rows.malformed[:PREVIEW_SIZE]
        ]
        self.objects.put_json(
            preview_key,
            {
                "counts": preview_counts,
                "customers": list(preview.values()),
                "unreadable_rows": unreadable_rows,
            },
        )
        changes: dict[str, Any] = {
            "manifest_key": manifest_key,
            "late_manifest_key": late_manifest_key,
            "duplicates_key": listing.prefix,
            "row_errors_key": row_errors_key,
            "preview_key": preview_key,
            "counters": counters,
        }
        if job.options.auto_run:
            job = self.jobs.transition(org_id, job_id, JobStatus.IMPORTING, **changes)
            self.broadcaster.publish(job, "status")
        else:
            job = self.jobs.update(org_id, job_id, **changes)
        return {
            "rejected": False,
            "manifest_key": manifest_key,
            "batches": len(first.manifest),
            "late_manifest_key": late_manifest_key,
            "late_batches": len(late.manifest),
            "auto_run": job.options.auto_run,
            "decision_timeout_seconds": job.options.decision_timeout_seconds
            or self.settings.decision_timeout_seconds,
        }

    def _stored_customer_lookup(
        self, org_id: str
    ) -> Callable[[Collection[str]], dict[str, dict[str, Any]]]:
        """`find_by_keys`, skipped while the organisation has no customer at all: a first
        import (a migration) has nothing stored to match, and its look-ups would be most of
        Prepare's requests. Asked again each chunk until customers appear (another import may
        be writing them meanwhile)."""
        has_customers = False

        def look_up(keys: Collection[str]) -> dict[str, dict[str, Any]]:
            nonlocal has_customers
            has_customers = has_customers or self.customers.has_any(org_id)
            return self.customers.find_by_keys(org_id, keys) if has_customers else {}

        return look_up

    def _reject_prepared(self, job: Job, reason: str) -> dict[str, Any]:
        self._reject(job, reason)
        return {
            "rejected": True,
            "manifest_key": None,
            "batches": 0,
            "late_manifest_key": None,
            "late_batches": 0,
            "auto_run": False,
            "decision_timeout_seconds": 0,
        }

    def await_decision(self, org_id: str, job_id: str, task_token: str) -> dict[str, Any]:
        job = self.jobs.transition(org_id, job_id, JobStatus.READY, task_token=task_token)
        self.broadcaster.publish(job, "ready")
        return {"status": str(job.status)}

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
        reason = _error_reason(error)
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

    def _whole_failures(self, outcome: BatchOutcome) -> tuple[RowFailure, ...]:
        if not outcome.failures_key:
            return outcome.failures
        try:
            document = self.objects.get_json(outcome.failures_key)
        except ObjectMissing:  # expired since: the summaries still say which rows and why
            return outcome.failures
        return tuple(RowFailure.from_dict(failure) for failure in document)

    def finalize(self, org_id: str, job_id: str) -> dict[str, Any]:
        job = self._record_batches_without_outcome(self.jobs.get(org_id, job_id))
        failures = [
            RowFailure.from_dict(f) for f in self.objects.get_json(job.row_errors_key or "")
        ]
        # A row retried and failed again is reported once, with its latest reason; a row a
        # retry recovered is not reported at all: outcomes count in the order of their runs.
        write_failures: dict[int, RowFailure] = {}
        for outcome in sorted(
            self.jobs.batch_outcomes(job_id), key=lambda o: run_order(o.batch_id)
        ):
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
            _must_be_able_to_become(job, status)
        # The audit entry before the status (written once per job and action: a retried step
        # finds it there), so a job that shows a final status always has its entry. A retry's
        # outcome is an action of its own, or it would find the first outcome's entry there.
        run = JobRun(job.counter("retries"))
        finished = datetime.fromisoformat(self._now())
        self._audit(
            job,
            run.ended_action(status),
            job.actor,
            decision=(job.decision or {}).get("default", "auto-run"),
            counts={name: job.counter(name) for name in SUMMARY_COUNTERS},
            duration_s=round(
                (finished - datetime.fromisoformat(job.created_at)).total_seconds(), 3
            ),
        )
        if not ended_before:
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
                    self.record_batch_failure(job.org_id, job.job_id, batch, BATCH_LEFT_NO_OUTCOME)
        return self.jobs.get(job.org_id, job.job_id)

    def close(
        self, org_id: str, job_id: str, status: str, error: dict[str, Any] | None
    ) -> dict[str, Any]:
        """End a job that will not import: expired, cancelled or failed. Safe to repeat."""
        target = JobStatus(status)
        if target not in (JobStatus.EXPIRED, JobStatus.CANCELLED, JobStatus.FAILED):
            raise ValueError(f"close() ends jobs as expired, cancelled or failed, not {status}")
        job = self.jobs.get(org_id, job_id)
        if job.status is target:
            return {"status": str(job.status)}
        reasons = {
            JobStatus.EXPIRED: "Nobody decided in time: the import expired",
            JobStatus.CANCELLED: "Cancelled",
        }
        reason = job.reason or reasons.get(target) or f"Import failed: {_error_reason(error or {})}"
        _must_be_able_to_become(job, target)
        self._audit(job, f"import.{target}", "system", reason=reason)  # first, as in finalize
        job = self.jobs.transition(org_id, job_id, target, reason=reason)
        self.broadcaster.publish(job, "completed")
        return {"status": str(job.status)}

    def job(self, org_id: str, job_id: str) -> Job:
        return self.jobs.get(org_id, job_id)

    def error_log_url(self, org_id: str, job_id: str) -> str | None:
        job = self.jobs.get(org_id, job_id)
        if not job.error_log_key:
            return None
        return self.objects.presigned_get(
            job.error_log_key, ERROR_LOG_LINK_SECONDS, f"errors-{job_id}.csv"
        )


def _unknown_columns_warning(unknown: list[str]) -> str:
    """The columns the import ignores, named within a bounded length (the job keeps it)."""
    shown = [name if len(name) <= 60 else name[:59] + "…" for name in unknown[:20]]
    more = f" and {len(unknown) - len(shown):,} more" if len(unknown) > len(shown) else ""
    return f"Unknown columns ignored: {', '.join(shown)}{more}"


def _recovered(
    batch: dict[str, Any], customers: list[dict[str, Any]], failed_rows: set[int]
) -> tuple[int, ...]:
    """The rows a retry batch wrote this time."""
    if not batch.get("retry"):
        return ()
    return tuple(c["rows"][0] for c in customers if c["rows"][0] not in failed_rows)


def _error_reason(error: dict[str, Any]) -> str:
    """`{"Error": ..., "Cause": ...}` from a Catch, where Cause may be a Lambda error JSON."""
    name = str(error.get("Error") or "Error")
    cause = error.get("Cause") or ""
    try:
        parsed = json.loads(cause) if isinstance(cause, str) and cause.startswith("{") else None
    except json.JSONDecodeError:
        parsed = None
    if isinstance(parsed, dict) and parsed.get("errorMessage"):
        return f"{parsed.get('errorType', name)}: {parsed['errorMessage']}"
    return f"{name}: {cause}" if cause else name


def _must_be_able_to_become(job: Job, status: JobStatus) -> None:
    """Checked before writing what only the move justifies; the store checks it again."""
    if job.status not in sources_of(status):
        raise InvalidTransition(job.job_id, str(job.status), str(status))
