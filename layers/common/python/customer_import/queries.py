"""The read side of the API: an organisation's jobs newest first, one job with its preview,
customers by id or external number, and the state-machine executions behind a job (for ops).

Every read is scoped by the caller's organisation: a job or customer of another organisation
is not found, exactly like one that does not exist. Plain Python over small ports; no AWS.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from .audit import AuditEntry
from .errors import CustomerImportError
from .imports.run import JobRun
from .jobs import Job
from .ports import AuditLog, JobStore

T = TypeVar("T")
Key = dict[str, str]

MAX_PAGE_SIZE = 100
# What a cursor may carry: the job or audit index's key (the table's keys plus the index's
# sort key), or the customers table's key.
JOB_INDEX_KEY = frozenset({"org_id", "job_id", "created_at"})
AUDIT_INDEX_KEY = frozenset({"org_id", "entry_key", "at"})
CUSTOMER_KEY = frozenset({"org_id", "customer_id"})
MAX_CURSOR_CHARS = 2048
# Ops want the path through the workflow and what went wrong on it, not every Lambda event.
ENDINGS_THAT_MATTER = ("Failed", "TimedOut", "Aborted")
EVENTS_THAT_MATTER = frozenset(
    {
        "ExecutionStarted",
        "ExecutionSucceeded",
        "MapRunStarted",
        "MapRunSucceeded",
    }
)


class CustomerNotFound(CustomerImportError):
    def __init__(self, org_id: str, customer_id: str) -> None:
        super().__init__(f"Customer {customer_id} not found in organisation {org_id}")
        self.customer_id = customer_id


class InvalidCursor(CustomerImportError):
    """A paging cursor this API did not hand to this organisation."""


# ---- ports --------------------------------------------------------------------------------


class JobIndex(Protocol):
    def newest_first(
        self, org_id: str, limit: int, start: Key | None
    ) -> tuple[list[Job], Key | None]:
        """Up to `limit` jobs of the organisation, newest first, from after `start`; and the
        key to start the next page from (None when there is none)."""


class PreviewStore(Protocol):
    def preview(self, key: str) -> dict[str, Any] | None:
        """The preview document Prepare wrote; None once it has expired."""


class CustomerDirectory(Protocol):
    def get(self, org_id: str, customer_id: str) -> dict[str, Any] | None:
        """The customer with addresses and vehicles; None if the organisation has no such one."""

    def by_external_number(self, org_id: str, external_number: str) -> list[dict[str, Any]]:
        """The organisation's customers with this external number (the indexed look-up)."""

    def page(
        self, org_id: str, limit: int, start: Key | None
    ) -> tuple[list[dict[str, Any]], Key | None]:
        """Up to `limit` of the organisation's customers from after `start`, and the key to
        start the next page from (None when there is none)."""


@dataclass(frozen=True)
class ExecutionSummary:
    execution_arn: str
    name: str
    status: str  # RUNNING | SUCCEEDED | FAILED | TIMED_OUT | ABORTED
    started_at: str
    stopped_at: str | None = None
    error: str | None = None
    cause: str | None = None


@dataclass(frozen=True)
class HistoryEvent:
    id: int
    type: str
    timestamp: str
    previous_event_id: int | None = None
    state: str | None = None  # for *StateEntered and *StateExited events
    error: str | None = None
    cause: str | None = None

    @property
    def is_failure(self) -> bool:
        return self.type.endswith(ENDINGS_THAT_MATTER)

    @property
    def matters(self) -> bool:
        return (
            self.type in EVENTS_THAT_MATTER or self.type.endswith("StateEntered") or self.is_failure
        )


class ExecutionReader(Protocol):
    def describe(self, execution_arn: str) -> ExecutionSummary | None:
        """None if there is no such execution."""

    def describe_named(self, name: str) -> ExecutionSummary | None:
        """The import workflow's execution of this name, if any (retries are named)."""

    def history(self, execution_arn: str) -> list[HistoryEvent]:
        """The execution's history, oldest first."""


# ---- results ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


@dataclass(frozen=True)
class JobDetail:
    job: Job
    preview: dict[str, Any] | None


@dataclass(frozen=True)
class FailedState:
    state: str | None  # None when the failure belongs to the execution itself
    event: str
    error: str | None
    cause: str | None
    timestamp: str


@dataclass(frozen=True)
class ExecutionDetail:
    summary: ExecutionSummary
    failed_states: list[FailedState] = field(default_factory=list)
    events: list[HistoryEvent] = field(default_factory=list)


@dataclass(frozen=True)
class JobExecutions:
    job: Job
    executions: list[ExecutionDetail]


@dataclass(frozen=True)
class JobExecution:
    """One line of the ops list: a job and the state of its import execution."""

    job: Job
    execution: ExecutionSummary | None


# ---- the queries --------------------------------------------------------------------------


class ImportQueries:
    def __init__(
        self,
        jobs: JobStore,
        index: JobIndex,
        previews: PreviewStore,
        customers: CustomerDirectory,
        executions: ExecutionReader,
        audit: AuditLog,
    ) -> None:
        self.jobs = jobs
        self.index = index
        self.previews = previews
        self.customers = customers
        self.executions = executions
        self.audit = audit

    def jobs_newest_first(self, org_id: str, limit: int, cursor: str | None) -> Page[Job]:
        start = decode_cursor(cursor, org_id, JOB_INDEX_KEY) if cursor else None
        jobs, last = self.index.newest_first(org_id, _page_size(limit), start)
        return Page(jobs, encode_cursor(last) if last else None)

    def job(self, org_id: str, job_id: str) -> JobDetail:
        """The job (JobNotFound for another organisation's) with its preview once prepared."""
        job = self.jobs.get(org_id, job_id)
        preview = self.previews.preview(job.preview_key) if job.preview_key else None
        return JobDetail(job, preview)

    def customer(self, org_id: str, customer_id: str) -> dict[str, Any]:
        found = self.customers.get(org_id, customer_id)
        if found is None:
            raise CustomerNotFound(org_id, customer_id)
        return found

    def customers_by_external_number(
        self, org_id: str, external_number: str
    ) -> list[dict[str, Any]]:
        return self.customers.by_external_number(org_id, external_number)

    def customers_page(self, org_id: str, limit: int, cursor: str | None) -> Page[dict[str, Any]]:
        start = decode_cursor(cursor, org_id, CUSTOMER_KEY) if cursor else None
        found, last = self.customers.page(org_id, _page_size(limit), start)
        return Page(found, encode_cursor(last) if last else None)

    def audit_entries(self, org_id: str, limit: int, cursor: str | None) -> Page[AuditEntry]:
        """The organisation's audit entries, newest first by when each happened, a page at a
        time."""
        start = decode_cursor(cursor, org_id, AUDIT_INDEX_KEY) if cursor else None
        entries, last = self.audit.page(org_id, _page_size(limit), start)
        return Page(entries, encode_cursor(last) if last else None)

    def job_executions(self, org_id: str, job_id: str) -> JobExecutions:
        """The job's import execution and its retries, each with its failed states and the
        history events that matter; oldest first."""
        job = self.jobs.get(org_id, job_id)
        return JobExecutions(job, [self._detail(s) for s in self._executions_of(job)])

    def executions_newest_first(
        self, org_id: str, limit: int, cursor: str | None
    ) -> Page[JobExecution]:
        page = self.jobs_newest_first(org_id, limit, cursor)
        return Page(
            [JobExecution(job, self._main_execution(job)) for job in page.items],
            page.next_cursor,
        )

    def _main_execution(self, job: Job) -> ExecutionSummary | None:
        """The execution that registered the job, as it recorded; before it has (or for a
        job that never had one recorded), the execution StartImport named after the
        organisation and the job. For jobs registered since executions were named, the two
        are one."""
        if job.execution_id:
            return self.executions.describe(job.execution_id)
        return self.executions.describe_named(JobRun.first().execution_name(job.org_id, job.job_id))

    def _executions_of(self, job: Job) -> list[ExecutionSummary]:
        found = [self._main_execution(job)]
        found += [
            self.executions.describe_named(
                JobRun.retry(attempt).execution_name(job.org_id, job.job_id)
            )
            for attempt in range(1, job.counter("retries") + 1)
        ]
        return [summary for summary in found if summary is not None]

    def _detail(self, summary: ExecutionSummary) -> ExecutionDetail:
        history = self.executions.history(summary.execution_arn)
        return ExecutionDetail(
            summary=summary,
            failed_states=failed_states(history),
            events=[event for event in history if event.matters],
        )


def failed_states(history: list[HistoryEvent]) -> list[FailedState]:
    """Every failure in the history, with the state it happened in: the nearest state entered
    before it along the chain of previous events."""
    by_id = {event.id: event for event in history}

    def state_of(event: HistoryEvent) -> str | None:
        seen: set[int] = set()
        current: HistoryEvent | None = event
        while current is not None and current.id not in seen:
            if current.state and current.type.endswith("StateEntered"):
                return current.state
            seen.add(current.id)
            current = by_id.get(current.previous_event_id or -1)
        return None

    return [
        FailedState(
            state=None if event.type.startswith("Execution") else state_of(event),
            event=event.type,
            error=event.error,
            cause=event.cause,
            timestamp=event.timestamp,
        )
        for event in history
        if event.is_failure
    ]


# ---- paging cursors -----------------------------------------------------------------------


def encode_cursor(key: Key) -> str:
    raw = json.dumps(key, sort_keys=True, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, org_id: str, key_names: frozenset[str]) -> Key:
    """The key a cursor carries, if this API made it for this organisation and this listing.
    A cursor is not a secret, so it is checked: another organisation's key must not reach the
    query."""
    if len(cursor) > MAX_CURSOR_CHARS:
        raise InvalidCursor("The cursor is not one this API handed out")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
    except (binascii.Error, ValueError):
        raise InvalidCursor("The cursor is not one this API handed out") from None
    if (
        not isinstance(key, dict)
        or set(key) != key_names
        or not all(isinstance(value, str) and value for value in key.values())
        or key["org_id"] != org_id
    ):
        raise InvalidCursor("The cursor is not one this API handed out")
    return {str(name): str(value) for name, value in key.items()}


def _page_size(limit: int) -> int:
    return max(1, min(limit, MAX_PAGE_SIZE))
