"""Import jobs: their states, the moves between them and what a job record holds."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from .changes.rules import DEFAULT_MAX_DELETE_PERCENT, FieldPolicy, MatchKey, Mode, Transfer
from .imports.counters import OUTCOME_COUNTERS, ROLLBACK_COUNTERS
from .sources.layout import FileLayout


class JobStatus(StrEnum):
    PENDING = "pending"
    VALIDATING = "validating"
    REJECTED = "rejected"
    PREPARING = "preparing"
    READY = "ready"
    IMPORTING = "importing"
    COMPLETED = "completed"
    COMPLETED_WITH_ERRORS = "completed_with_errors"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    ROLLING_BACK = "rolling_back"
    ROLLED_BACK = "rolled_back"
    ROLLED_BACK_WITH_CONFLICTS = "rolled_back_with_conflicts"

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATUSES


FINAL_STATUSES = frozenset(
    {
        JobStatus.REJECTED,
        JobStatus.COMPLETED,
        JobStatus.COMPLETED_WITH_ERRORS,
        JobStatus.FAILED,
        JobStatus.CANCELLED,
        JobStatus.EXPIRED,
        JobStatus.ROLLED_BACK,
        JobStatus.ROLLED_BACK_WITH_CONFLICTS,
    }
)

# Design §2. Auto-run jobs go from preparing straight to importing: nobody is asked.
ALLOWED_TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.PENDING: frozenset({JobStatus.VALIDATING, JobStatus.FAILED}),
    JobStatus.VALIDATING: frozenset({JobStatus.REJECTED, JobStatus.PREPARING, JobStatus.FAILED}),
    # Preparing may still reject: the row limit only shows once the file is streamed. A file
    # that asks how its dates are written waits at ready, then is read again with the answer.
    JobStatus.PREPARING: frozenset(
        {JobStatus.READY, JobStatus.IMPORTING, JobStatus.REJECTED, JobStatus.FAILED}
    ),
    JobStatus.READY: frozenset(
        {
            JobStatus.IMPORTING,
            JobStatus.PREPARING,
            JobStatus.CANCELLED,
            JobStatus.EXPIRED,
            JobStatus.FAILED,
        }
    ),
    JobStatus.IMPORTING: frozenset(
        {JobStatus.COMPLETED, JobStatus.COMPLETED_WITH_ERRORS, JobStatus.FAILED}
    ),
    JobStatus.COMPLETED: frozenset({JobStatus.ROLLING_BACK}),
    # A retry of the rows that failed to write imports again.
    JobStatus.COMPLETED_WITH_ERRORS: frozenset({JobStatus.ROLLING_BACK, JobStatus.IMPORTING}),
    JobStatus.ROLLING_BACK: frozenset(
        {JobStatus.ROLLED_BACK, JobStatus.ROLLED_BACK_WITH_CONFLICTS, JobStatus.FAILED}
    ),
}


def sources_of(target: JobStatus) -> frozenset[JobStatus]:
    """Every status a job may be in for it to move to `target`."""
    return frozenset(src for src, targets in ALLOWED_TRANSITIONS.items() if target in targets)


# An account's name, as imports and profiles take it.
ACCOUNT_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"


class DuplicatePolicy(StrEnum):
    SKIP = "skip"
    MERGE = "merge"
    CREATE = "create"


@dataclass
class JobOptions:
    """How a job reads and writes (design §5.4). A record stored before an option existed
    reads back with its default."""

    auto_run: bool = False
    on_duplicate: DuplicatePolicy = DuplicatePolicy.SKIP
    mode: Mode = Mode.INSERT
    decision_timeout_seconds: int | None = None
    key: MatchKey = MatchKey.EXTERNAL
    field_policy: FieldPolicy = FieldPolicy.OVERWRITE
    # A sync that would bin more of the account than this asks for a confirmation first.
    max_delete_percent: float = DEFAULT_MAX_DELETE_PERCENT
    confirm_deletions: bool = False
    # A file customer the account lacks and another account holds (design §5.5).
    transfer: Transfer = Transfer.NONE
    transfer_related: bool = False  # its activities go along (moved, or copied)
    # The organisation's import profile these options came from, if any.
    profile: str | None = None
    # How the file is read: Techman's columns as they are, or a profile's mapping.
    layout: FileLayout = field(default_factory=FileLayout)

    def to_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "layout": self.layout.to_dict(),
            "on_duplicate": str(self.on_duplicate),
            "mode": str(self.mode),
            "key": str(self.key),
            "field_policy": str(self.field_policy),
            "transfer": str(self.transfer),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> JobOptions:
        data = data or {}
        return cls(
            auto_run=bool(data.get("auto_run", False)),
            on_duplicate=DuplicatePolicy(data.get("on_duplicate", DuplicatePolicy.SKIP)),
            mode=Mode(data.get("mode", Mode.INSERT)),
            decision_timeout_seconds=data.get("decision_timeout_seconds"),
            key=MatchKey(data.get("key", MatchKey.EXTERNAL)),
            field_policy=FieldPolicy(data.get("field_policy", FieldPolicy.OVERWRITE)),
            max_delete_percent=float(data.get("max_delete_percent", DEFAULT_MAX_DELETE_PERCENT)),
            confirm_deletions=bool(data.get("confirm_deletions", False)),
            transfer=Transfer(data.get("transfer", Transfer.NONE)),
            transfer_related=bool(data.get("transfer_related", False)),
            profile=data.get("profile"),
            layout=FileLayout.from_dict(data.get("layout")),
        )


COUNTER_NAMES = (
    "rows",
    "rows_with_warnings",
    "rows_failing",
    "customers",
    "vehicles",
    "duplicates",
    "batches_total",
    "batches_done",
    "processed",
    "imported",
    *OUTCOME_COUNTERS,
    "retries",
    # Set by Finalize: the failed rows that failed to be written, which a retry imports again.
    "retryable",
    # A rollback's (design §5.7): its batches, and what it undid, by what the import had done.
    *ROLLBACK_COUNTERS,
)


def describe_progress(counters: Mapping[str, int]) -> str:
    """Where an import is, in customers: "5,488 of 5,500 processed · 5,475 imported · 12
    failed" (updated, merged, binned, skipped and the like too, when there are any; imported
    counts created, updated, merged, restored, copied and moved). Processed counts every customer
    settled, the failed ones included: a bar of it never says "imported" of what was not."""

    def count(name: str) -> int:
        return int(counters.get(name, 0))

    parts = [
        f"{count('processed'):,} of {count('customers'):,} processed",
        f"{count('imported'):,} imported",
    ]
    for name, label in (
        ("updated", "updated"),
        ("unchanged", "unchanged"),
        ("merged", "merged"),
        ("deleted", "binned"),
        ("restored", "restored"),
        ("copied", "copied from other accounts"),
        ("moved", "moved from other accounts"),
        ("skipped_duplicates", "skipped (duplicates)"),
        ("skipped_user", "skipped (your choice)"),
    ):
        if count(name):
            parts.append(f"{count(name):,} {label}")
    parts.append(f"{count('failed'):,} failed")
    return " · ".join(parts)


@dataclass
class Job:
    org_id: str
    job_id: str
    status: JobStatus
    source: str
    account_id: str
    file_name: str
    object_key: str
    created_at: str
    updated_at: str
    options: JobOptions = field(default_factory=JobOptions)
    actor: str = "system"
    execution_id: str | None = None
    task_token: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    missing_columns: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    reason: str | None = None
    manifest_key: str | None = None
    late_manifest_key: str | None = None
    duplicates_key: str | None = None
    preview_key: str | None = None
    row_errors_key: str | None = None
    error_log_key: str | None = None
    conflict_log_key: str | None = None  # a rollback's conflicts, as a CSV
    # The `event_id` of the last ending announced on the event bus (`notifications`).
    announced_event_id: str | None = None
    decision: dict[str, Any] | None = None
    counters: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTER_NAMES, 0))

    def counter(self, name: str) -> int:
        return int(self.counters.get(name, 0))

    def progress_event(self, event_type: str = "progress") -> dict[str, Any]:
        """The message pushed to WebSocket subscribers (design §2, issue 5)."""
        skipped = self.counter("skipped_duplicates") + self.counter("skipped_user")
        return {
            "type": event_type,
            "job_id": self.job_id,
            "status": str(self.status),
            "processed": self.counter("processed"),
            "total": self.counter("customers"),
            "imported": self.counter("imported"),
            **{name: self.counter(name) for name in OUTCOME_COUNTERS},
            "skipped": skipped,
            "progress": describe_progress(self.counters),
            "missing_columns": list(self.missing_columns),
            "reason": self.reason,
            # When the push left, so a client can measure how late progress reaches it.
            "sent_at": time.time(),
        }
