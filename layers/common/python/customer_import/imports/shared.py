"""What the steps of an import share: the time, the audit entry of a job, how a step names
an error and checks a move before making it."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from ..audit import AuditEntry
from ..errors import InvalidTransition, TransientImportError
from ..jobs import Job, JobStatus, sources_of
from ..ports import AuditLog, JobStore

Clock = Callable[[], datetime]


def timestamp(clock: Clock) -> str:
    return clock().isoformat(timespec="milliseconds")


def end_announced_later(
    jobs: JobStore, org_id: str, job_id: str, to: JobStatus, **changes: Any
) -> Job:
    """End the job, even when the bus refuses its announcement: the announcing store raises
    after the ending is stored, and a caller that must go on (a person's cancel, the sweep)
    gets the stored job, unannounced, for a later step or retry to announce. A write that
    did not happen (throttled) still raises."""
    try:
        return jobs.transition(org_id, job_id, to, **changes)
    except TransientImportError:
        job = jobs.get(org_id, job_id)
        if job.status is not to:
            raise
        return job


class JobAudit:
    """The audit log's entries about a job, each naming its file, source and mode."""

    def __init__(self, log: AuditLog, clock: Clock) -> None:
        self.log = log
        self.clock = clock

    def record(self, job: Job, action: str, actor: str, **details: Any) -> None:
        self.log.record(
            AuditEntry(
                org_id=job.org_id,
                job_id=job.job_id,
                action=action,
                actor=actor,
                at=timestamp(self.clock),
                job_created_at=job.created_at,
                details={
                    "file": job.file_name,
                    "source": job.source,
                    "mode": str(job.options.mode),
                    **details,
                },
            )
        )


def error_reason(error: dict[str, Any]) -> str:
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


def must_be_able_to_become(job: Job, status: JobStatus) -> None:
    """Checked before writing what only the move justifies; the store checks it again."""
    if job.status not in sources_of(status):
        raise InvalidTransition(job.job_id, str(job.status), str(status))
