"""The small interfaces the domain needs from the outside world.

The AWS adapters (`customer_import.adapters`) implement them for Lambda and the local stack;
tests use in-memory fakes. Nothing here imports boto3 or PynamoDB.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from .audit import AuditEntry
from .jobs import Job, JobStatus
from .organisations import OrganisationProfile
from .sources.csv_files import Readable

# A batch record holds a summary per failed customer (at most a batch's 100): with reasons this
# long at most, it stays far below DynamoDB's 400 KB item limit.
REASON_SUMMARY = 500


@dataclass(frozen=True)
class RowFailure:
    row: int
    column: str
    reason: str
    original: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "column": self.column,
            "reason": self.reason,
            "original": self.original,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RowFailure:
        return cls(
            int(data["row"]), data["column"], data["reason"], dict(data.get("original") or {})
        )

    def summary(self) -> RowFailure:
        """Row, column and (at most REASON_SUMMARY characters of) reason, without the original
        values: what a batch's record keeps, bounded whatever the file held."""
        reason = self.reason
        if len(reason) > REASON_SUMMARY:
            reason = reason[: REASON_SUMMARY - 1] + "…"
        return RowFailure(self.row, self.column, reason)


@dataclass(frozen=True)
class BatchOutcome:
    batch_id: str
    customers: int
    created: int
    failed: int
    vehicles: int = 0
    updated: int = 0
    unchanged: int = 0
    merged: int = 0
    deleted: int = 0
    restored: int = 0
    copied: int = 0
    moved: int = 0
    skipped_duplicates: int = 0
    skipped_user: int = 0
    failures: tuple[RowFailure, ...] = ()
    # A retry re-runs rows already counted as failed: what it settles moves out of failed
    # (`imports.counters`), and the rows it recovered leave the error log.
    retry: bool = False
    recovered_rows: tuple[int, ...] = ()
    # Where the failures are kept whole, with their original values (an object: a row's
    # values may be larger than a DynamoDB item may be); `failures` then hold their summaries.
    failures_key: str | None = None
    # The customers the batch copied and moved, by the account they came from
    # (`changes.preview.Transfers.to_list`).
    transfers: tuple[dict[str, Any], ...] = ()


class JobStore(Protocol):
    def create(self, job: Job) -> bool:
        """Store a new job; False when a job with that id already exists."""

    def get(self, org_id: str, job_id: str) -> Job:
        """Raise JobNotFound when the organisation has no such job."""

    def transition(self, org_id: str, job_id: str, to: JobStatus, **changes: Any) -> Job:
        """Move the job to `to` if its current status allows it, else raise InvalidTransition."""

    def update(self, org_id: str, job_id: str, **changes: Any) -> Job: ...

    def claim_execution(self, org_id: str, job_id: str, execution_id: str) -> bool:
        """Bind a pending job to one execution and start validating it; False if another
        execution holds it already."""

    def record_batch(self, org_id: str, job_id: str, outcome: BatchOutcome) -> Job | None:
        """Record a batch and add its counts to the job, exactly once; None if recorded before."""

    def batch_outcomes(self, job_id: str) -> list[BatchOutcome]: ...

    def announce_unannounced(self, job: Job) -> Job:
        """A step run again after it stored the job's ending: announce that ending now if
        it was never announced (the bus refused it the first time). A store that announces
        nothing returns the job as it is."""

    def unsettled(self, status: JobStatus, changed_before: str) -> list[tuple[str, str]]:
        """(org_id, job_id) of every job of any organisation in `status` (pending or
        validating) whose last change was before the ISO time `changed_before`: an index
        query, never a scan."""


class ObjectStore(Protocol):
    """Reads raise `ObjectMissing` for an object that is not there (S3 answers a role without
    `s3:ListBucket` 403 `AccessDenied` for it, not 404)."""

    def size(self, key: str) -> int: ...

    def read_head(self, key: str, size: int) -> bytes: ...

    def open(self, key: str) -> Readable: ...

    def put_json(self, key: str, data: Any) -> None: ...

    def get_json(self, key: str) -> Any: ...

    def put_text(self, key: str, text: str, content_type: str) -> None: ...

    def list_keys(self, prefix: str) -> Iterator[str]:
        """The keys under `prefix`, in S3's (UTF-8 binary) order, page by page."""

    def presigned_post(
        self, key: str, content_type: str, max_bytes: int, expires_s: int
    ) -> dict[str, Any]: ...

    def presigned_get(self, key: str, expires_s: int, file_name: str) -> str: ...


class ConnectionGone(Exception):
    """The WebSocket client went away (API Gateway answers 410)."""


class ConnectionStore(Protocol):
    def add(self, connection_id: str, org_id: str, user_id: str) -> None: ...

    def subscribe(self, connection_id: str, org_id: str, job_id: str) -> bool:
        """False if the connection is unknown or belongs to another organisation."""

    def remove(self, connection_id: str) -> None: ...

    def subscribers(self, job_id: str) -> list[str]: ...


class MessageSender(Protocol):
    def send(self, connection_id: str, message: dict[str, Any]) -> None:
        """Raise ConnectionGone when the connection no longer exists."""


class Workflow(Protocol):
    def send_success(self, task_token: str, output: dict[str, Any]) -> None: ...

    def send_failure(self, task_token: str, error: str, cause: str) -> None: ...

    def start(self, name: str, execution_input: dict[str, Any]) -> None:
        """Start an execution of the import workflow; a name already used starts nothing."""

    def start_rollback(self, name: str, execution_input: dict[str, Any]) -> None:
        """Start an execution of the rollback workflow; a name already used starts nothing."""


class OrganisationStore(Protocol):
    def get(self, org_id: str) -> OrganisationProfile:
        """The organisation's profile; the defaults when it configured nothing."""

    def put(self, profile: OrganisationProfile) -> None: ...


class AuditLog(Protocol):
    def record(self, entry: AuditEntry) -> None:
        """Store the entry once: recording the same job and action again changes nothing."""

    def page(
        self, org_id: str, limit: int, start: dict[str, str] | None
    ) -> tuple[list[AuditEntry], dict[str, str] | None]:
        """`limit` entries newest first by when each happened (an older job's late retry
        before a newer job's entries), from after `start` (the key a previous page ended on),
        and the key this page ended on (None on the last page)."""
