"""ValidateUpload: the head of the file only (size, encoding, delimiter, required columns);
and how a step rejects a job."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any

from ..jobs import Job, JobStatus
from ..ports import JobStore, ObjectStore, OrganisationStore
from ..progress import ProgressBroadcaster
from ..settings import Settings
from ..sources import techman
from ..sources.csv_files import (
    HEAD_BYTES,
    UnreadableFile,
    UnreadableRecord,
    detect_format,
    iter_records,
)
from ..uploads import too_large
from .shared import JobAudit

SOURCES = {techman.SOURCE: techman}
NO_DATA_ROWS = "The file has a header but no data rows"
_LINE_BREAKS = re.compile(rb"[\r\n]")


@dataclass(eq=False)
class ValidateUpload:
    settings: Settings
    jobs: JobStore
    objects: ObjectStore
    organisations: OrganisationStore
    broadcaster: ProgressBroadcaster
    audit: JobAudit

    def __call__(self, org_id: str, job_id: str) -> dict[str, Any]:
        """Look at the head of the file only: size, encoding, delimiter, required columns."""
        job = self.jobs.get(org_id, job_id)
        if job.reason:
            # Refused when it was registered (a drop without its profile): nothing to read.
            return reject(self.jobs, self.broadcaster, self.audit, job, job.reason)
        size = self.objects.size(job.object_key)
        limit = self.organisations.get(org_id).max_file_bytes or self.settings.max_file_bytes
        if size == 0:
            # S3 refuses a ranged read of an empty object, so say it before reading.
            return reject(self.jobs, self.broadcaster, self.audit, job, "The file is empty")
        if size > limit:
            return reject(self.jobs, self.broadcaster, self.audit, job, too_large(size, limit))
        head = self.objects.read_head(job.object_key, HEAD_BYTES)
        try:
            fmt = detect_format(head)
        except UnreadableFile as exc:
            return reject(self.jobs, self.broadcaster, self.audit, job, str(exc))
        records = iter_records(io.BytesIO(head), fmt)
        header = next(records, None)
        if header is None:
            return reject(self.jobs, self.broadcaster, self.audit, job, "The file is empty")
        if isinstance(header[1], UnreadableRecord):
            return reject(
                self.jobs,
                self.broadcaster,
                self.audit,
                job,
                f"The header row cannot be read: {header[1].reason}",
            )
        if size > len(head) and not _LINE_BREAKS.search(head):
            # The header runs on past the head: it cannot be checked, and no header is so long.
            return reject(
                self.jobs,
                self.broadcaster,
                self.audit,
                job,
                f"The header has more than {len(header[1]):,} columns in its first "
                f"{len(head) // 1024} KB; the limit is {techman.MAX_COLUMNS:,}",
            )
        check = SOURCES[job.source].check_header(header[1])
        if problem := check.problem():
            return reject(self.jobs, self.broadcaster, self.audit, job, problem)
        if check.missing:
            return reject(
                self.jobs,
                self.broadcaster,
                self.audit,
                job,
                f"Missing required columns: {', '.join(check.missing)}",
                missing_columns=check.missing,
            )
        if size <= len(head) and next(records, None) is None:
            return reject(self.jobs, self.broadcaster, self.audit, job, NO_DATA_ROWS)
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


def reject(
    jobs: JobStore,
    broadcaster: ProgressBroadcaster,
    audit: JobAudit,
    job: Job,
    reason: str,
    missing_columns: list[str] | None = None,
) -> dict[str, Any]:
    job = jobs.transition(
        job.org_id,
        job.job_id,
        JobStatus.REJECTED,
        reason=reason,
        missing_columns=missing_columns or [],
    )
    audit.record(job, "import.rejected", job.actor, reason=reason)
    broadcaster.publish(job, "status")
    return {"rejected": True}


def _unknown_columns_warning(unknown: list[str]) -> str:
    """The columns the import ignores, named within a bounded length (the job keeps it)."""
    shown = [name if len(name) <= 60 else name[:59] + "…" for name in unknown[:20]]
    more = f" and {len(unknown) - len(shown):,} more" if len(unknown) > len(shown) else ""
    return f"Unknown columns ignored: {', '.join(shown)}{more}"
