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
    TextFormat,
    UnreadableFile,
    UnreadableRecord,
    detect_format,
    iter_records,
)
from ..sources.files import SourceFile
from ..sources.xlsx_files import check_workbook_head
from ..uploads import too_large
from .shared import JobAudit

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
        layout = job.options.layout
        try:
            if layout.format == "xlsx":
                fmt, header, has_rows = self._workbook_header(job, head, limit)
            else:
                fmt, header, has_rows = _text_header(head, size)
        except UnreadableFile as exc:
            return reject(self.jobs, self.broadcaster, self.audit, job, str(exc))
        check = techman.check_header(header, layout.columns if layout.is_mapped else None)
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
        if not has_rows:
            return reject(self.jobs, self.broadcaster, self.audit, job, NO_DATA_ROWS)
        warnings = [_unknown_columns_warning(check.unknown)] if check.unknown else []
        if absent := [h for h, c in layout.columns.items() if c not in check.positions]:
            warnings.append(_named("Columns the profile maps are not in the file", absent))
        job = self.jobs.transition(
            org_id,
            job_id,
            JobStatus.PREPARING,
            encoding=fmt.encoding if fmt else None,
            delimiter=fmt.delimiter if fmt else None,
            warnings=warnings,
        )
        self.broadcaster.publish(job, "status")
        return {"rejected": False}

    def _workbook_header(self, job: Job, head: bytes, limit: int) -> tuple[None, list[str], bool]:
        """The header of a workbook's sheet, and whether a data row follows. The whole file
        is read: a workbook's directory is at its end."""
        check_workbook_head(head)
        source = SourceFile(
            lambda: self.objects.open(job.object_key), job.options.layout, None, limit
        )
        with source:
            records = source.records()
            header = next(records, None)
            if header is None:
                raise UnreadableFile("The sheet is empty")
            return None, header[1], next(records, None) is not None


def _text_header(head: bytes, size: int) -> tuple[TextFormat, list[str], bool]:
    """A CSV file's format and header from its head, and whether a data row follows (when the
    head is not the whole file, Prepare tells)."""
    fmt = detect_format(head)
    records = iter_records(io.BytesIO(head), fmt)
    header = next(records, None)
    if header is None:
        raise UnreadableFile("The file is empty")
    if isinstance(header[1], UnreadableRecord):
        raise UnreadableFile(f"The header row cannot be read: {header[1].reason}")
    if size > len(head) and not _LINE_BREAKS.search(head):
        # The header runs on past the head: it cannot be checked, and no header is so long.
        raise UnreadableFile(
            f"The header has more than {len(header[1]):,} columns in its first "
            f"{len(head) // 1024} KB; the limit is {techman.MAX_COLUMNS:,}"
        )
    return fmt, header[1], size > len(head) or next(records, None) is not None


def reject(
    jobs: JobStore,
    broadcaster: ProgressBroadcaster,
    audit: JobAudit,
    job: Job,
    reason: str,
    missing_columns: list[str] | None = None,
) -> dict[str, Any]:
    if job.status is JobStatus.REJECTED:  # a retry of the Validate that rejected it
        job = jobs.announce_unannounced(job)
    else:
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
    return _named("Unknown columns ignored", unknown)


def _named(what: str, names: list[str]) -> str:
    """Columns named within a bounded length (the job keeps it)."""
    shown = [name if len(name) <= 60 else name[:59] + "…" for name in names[:20]]
    more = f" and {len(names) - len(shown):,} more" if len(names) > len(shown) else ""
    return f"{what}: {', '.join(shown)}{more}"
