"""Reaching a stack from a command, as a web app or an ERP script does: its HTTP API with a
bearer token, and its WebSocket for live progress. The stack is the one `--api-url` names,
the running one (`local up`) if it answers, or an embedded one for the length of the command.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import requests
from customer_import.access import CAPABILITIES
from customer_import.adapters.wiring import Components, components_for
from customer_import.imports.counters import OUTCOME_COUNTERS
from customer_import.jobs import JobStatus, describe_progress
from customer_import.settings import Settings
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from .api_client import ApiClient, ApiError, Choice
from .stack import STATE_FILE, Endpoints, LocalStack, local_credentials
from .tokens import local_token

log = logging.getLogger("customer_import_local.session")

# Without a WebSocket (an API named by URL alone), the job is read this often instead.
POLL_EVERY_S = 1.0


class NoStack(Exception):
    """No stack answers where the command needs a running one."""


def running_stack(state_file: Path = STATE_FILE) -> Endpoints | None:
    """The stack `local up` started, if it still answers."""
    if not state_file.exists():
        return None
    try:
        endpoints = Endpoints.from_file(state_file)
        requests.get(f"{endpoints.endpoint_url}/moto-api/", timeout=1)
    except (OSError, ValueError, TypeError, requests.RequestException):
        return None
    return endpoints


@contextlib.contextmanager
def stack_session(log_level: str = "WARNING") -> Iterator[Endpoints]:
    """The running stack with this process's AWS clients pointed at it, or an embedded one."""
    endpoints = running_stack()
    if endpoints is not None:
        os.environ.update(local_credentials(endpoints.endpoint_url, endpoints.region))
        os.environ.update(endpoints.environment)
        yield endpoints
        return
    with LocalStack(log_level=log_level) as stack:
        assert stack.endpoints is not None
        yield stack.endpoints


def components() -> Components:
    return components_for(Settings.from_env())


@dataclass(frozen=True)
class Remote:
    """A stack as its clients see it: the HTTP API as the token's caller, and the WebSocket
    (None when only the API is known: progress is then read from the API)."""

    api: ApiClient
    websocket_url: str | None

    @classmethod
    def of(cls, endpoints: Endpoints, token: str) -> Remote:
        return cls(ApiClient(endpoints.api_url, token), endpoints.websocket_url)

    def follow(self, job_id: str) -> JobFollower:
        return JobFollower(self.api, self.websocket_url, job_id)


@contextlib.contextmanager
def remote_session(
    org_id: str,
    *,
    api_url: str | None = None,
    websocket_url: str | None = None,
    token: str | None = None,
    embedded: bool = True,
    log_level: str = "WARNING",
) -> Iterator[Remote]:
    """The stack at `api_url`; else the running one; else, if `embedded`, one of this
    process for the length of the block (NoStack otherwise). Without a token, one for
    `org_id` signed with the local stack's key."""
    token = token or local_token(org_id, "cli", CAPABILITIES)
    if api_url:
        yield Remote(ApiClient(api_url, token), websocket_url)
        return
    endpoints = running_stack()
    if endpoints is None and not embedded:
        raise NoStack("No local stack is running: start one with `customer-import local up`")
    with stack_session(log_level) as endpoints:
        yield Remote.of(endpoints, token)


@dataclass(frozen=True)
class JobView:
    """A job as the API shows it (`GET /imports/{id}`), kept current between reads by the
    progress pushes."""

    fields: dict[str, Any]

    @classmethod
    def refused(cls, file_name: str, reason: str) -> JobView:
        """A file the API would not take (empty, too large): rejected before any job."""
        return cls({"job_id": None, "status": "rejected", "file_name": file_name, "reason": reason})

    @property
    def job_id(self) -> str:
        return str(self.fields["job_id"])

    @property
    def status(self) -> JobStatus:
        return JobStatus(self.fields["status"])

    @property
    def file_name(self) -> str:
        return str(self.fields["file_name"])

    @property
    def reason(self) -> str | None:
        return self.fields.get("reason")

    @property
    def warnings(self) -> list[str]:
        return list(self.fields.get("warnings") or [])

    @property
    def missing_columns(self) -> list[str]:
        return list(self.fields.get("missing_columns") or [])

    @property
    def preview(self) -> dict[str, Any] | None:
        return self.fields.get("preview")

    def counter(self, name: str) -> int:
        return int((self.fields.get("counts") or {}).get(name, 0))

    @property
    def progress(self) -> str:
        """ "5,488 of 5,500 processed · 5,475 imported · 12 failed", as the workflow pushes it."""
        return describe_progress(self.fields.get("counts") or {})

    def advanced(self, push: dict[str, Any]) -> JobView:
        """This job with the counts and state of a progress push."""
        counts = dict(self.fields.get("counts") or {})
        for name, pushed in (
            ("processed", "processed"),
            ("customers", "total"),
            ("imported", "imported"),
            *((name, name) for name in OUTCOME_COUNTERS),
        ):
            if isinstance(push.get(pushed), int):
                counts[name] = push[pushed]
        return replace(self, fields={**self.fields, "status": push["status"], "counts": counts})


@dataclass
class JobFollower:
    """Follows one job over the WebSocket, reading it from the API when its state changes
    and whenever a push is late. `events()` yields the job each time something changed,
    until it is final."""

    api: ApiClient
    websocket_url: str | None
    job_id: str
    poll_every_s: float = 2.0
    _messages: queue.Queue[dict[str, Any]] = field(default_factory=queue.Queue)
    _connection: Any = None
    _exit_stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    _reader: threading.Thread | None = None

    def __enter__(self) -> JobFollower:
        if self.websocket_url is None:
            self.poll_every_s = POLL_EVERY_S
            return self
        query = urlencode({"token": self.api.token})
        self._connection = self._exit_stack.enter_context(
            connect(f"{self.websocket_url}/?{query}", open_timeout=10)
        )
        self._connection.send(json.dumps({"action": "subscribe", "job_id": self.job_id}))
        # The subscription answers with the job's current state; only then is nothing missed.
        first = json.loads(self._connection.recv(timeout=30))
        if first.get("type") == "error":
            self._exit_stack.close()
            raise RuntimeError(f"Progress feed refused: {first.get('message')}")
        self._messages.put(first)
        self._reader = threading.Thread(target=self._read, name="job-follower", daemon=True)
        self._reader.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._exit_stack.close()
        if self._reader is not None:
            self._reader.join(5)

    def _read(self) -> None:
        try:
            for raw in self._connection:
                message = json.loads(raw)
                message["received_at"] = time.time()
                self._messages.put(message)
        except ConnectionClosed:
            pass

    def read(self) -> JobView:
        return JobView(self.api.job(self.job_id))

    def events(
        self, timeout_s: float, job: JobView | None = None
    ) -> Iterator[tuple[JobView, dict[str, Any] | None]]:
        deadline = time.monotonic() + timeout_s
        job = job or self.read()
        while time.monotonic() < deadline:
            try:
                message: dict[str, Any] | None = self._messages.get(timeout=self.poll_every_s)
            except queue.Empty:
                message = None
            if message is not None and message.get("type") == "error":
                raise RuntimeError(f"Progress feed refused: {message.get('message')}")
            if message is not None and message.get("status") == job.status:
                # Progress within a state: the push says all the bar needs.
                job = job.advanced(message)
            else:
                job = self.read()
            yield job, message
            if job.status.is_final:
                return
        raise TimeoutError(f"Import job {self.job_id} did not finish within {timeout_s:.0f}s")


@dataclass
class RunResult:
    file: Path
    job: JobView
    seconds: float
    error_log: Path | None
    # What `seconds` counts from, when not from the command's start ("after the decision").
    since: str = ""

    @property
    def took(self) -> str:
        return f" in {self.seconds:.1f}s" + (f" {self.since}" if self.since else "")

    def as_json(self) -> dict[str, Any]:
        job = self.job
        return {
            "job_id": job.fields["job_id"],
            "status": str(job.status),
            "rows": job.counter("rows"),
            "customers": job.counter("customers"),
            "imported": job.counter("imported"),
            **{name: job.counter(name) for name in OUTCOME_COUNTERS},
            "duplicates": job.counter("duplicates"),
            "vehicles": job.counter("vehicles"),
            "missing_columns": job.missing_columns,
            "reason": job.reason,
            "error_log": str(self.error_log) if self.error_log else None,
        }


OnUpdate = Callable[[JobView, dict[str, Any] | None], None]
# What to answer a job that is ready: (default, per-customer choices), or None to leave it
# waiting for someone else (`decide`).
Decider = Callable[[JobView], tuple[Choice | None, dict[str, Choice] | None] | None]


@dataclass(frozen=True)
class HowToImport:
    """How a job writes (design §5.4): its mode and, for update and sync, the options."""

    mode: str = "insert"
    key: str = "external"
    field_policy: str = "overwrite"
    options: dict[str, Any] = field(default_factory=dict)
    transfer: str = "none"
    transfer_related: bool = False
    # An import profile: it gives all of the above.
    profile: str | None = None


def _create(
    remote: Remote, path: Path, source: str, account_id: str, how: HowToImport
) -> dict[str, Any] | JobView:
    """A job and the form to upload its file; or, if the API refuses the file (400: empty,
    too large), a rejected job saying why."""
    try:
        if how.profile is not None:
            created: dict[str, Any] = remote.api.create_import_with_profile(
                path.name, path.stat().st_size, how.profile, source=source
            )
            return created
        created = remote.api.create_import(
            path.name,
            path.stat().st_size,
            source=source,
            account=account_id,
            mode=how.mode,
            key=how.key,
            field_policy=how.field_policy,
            options=how.options,
            transfer=how.transfer,
            transfer_related=how.transfer_related,
        )
    except ApiError as exc:
        if exc.status == 400:
            return JobView.refused(path.name, exc.message)
        raise
    return created


def preview_file(
    remote: Remote, path: Path, *, source: str, account_id: str, how: HowToImport = HowToImport()
) -> tuple[JobView, dict[str, Any] | None]:
    """A dry run through the real Validate and Prepare: the job stops at the decision, its
    preview and the whole file's row errors (`errors`) are read, and it is cancelled. No
    customer is written."""
    created = _create(remote, path, source, account_id, how)
    if isinstance(created, JobView):
        return created, None
    with remote.follow(created["job_id"]) as follower:
        remote.api.upload(created, path)
        for job, _ in follower.events(timeout_s=3600):
            if job.status == JobStatus.READY:
                preview = {
                    **(job.preview or {}),
                    "errors": list(remote.api.all_row_errors(job.job_id)),
                }
                return JobView(remote.api.cancel(job.job_id)), preview
    return job, None


def import_file(
    remote: Remote,
    path: Path,
    *,
    source: str,
    account_id: str,
    decide: Decider,
    on_update: OnUpdate,
    error_log_dir: Path,
    timeout_s: float = 3600,
    how: HowToImport = HowToImport(),
) -> RunResult:
    """Create the job, upload the file with its presigned POST, answer the decision, follow
    the job to the end and save its error log: what the web app does."""
    started = time.perf_counter()
    created = _create(remote, path, source, account_id, how)
    if isinstance(created, JobView):
        return RunResult(path, created, time.perf_counter() - started, None)
    job_id = created["job_id"]
    with remote.follow(job_id) as follower:
        remote.api.upload(created, path)
        decided = False
        for job, message in follower.events(timeout_s):
            if job.status == JobStatus.READY and not decided:
                on_update(job, message)
                answer = decide(job)
                if answer is None:
                    return RunResult(path, job, time.perf_counter() - started, None)
                try:
                    job = JobView(remote.api.decide(job_id, *answer))
                except ApiError as exc:
                    # Someone else may have decided meanwhile: the feed then says what follows.
                    if exc.status != 409:
                        raise
                decided = True
            on_update(job, message)
    error_log = remote.api.download_error_log(
        job_id, error_log_dir / f"{path.stem}-{job_id[:8]}-errors.csv"
    )
    return RunResult(path, job, time.perf_counter() - started, error_log)


# How long a followed job took, by the job's own clock: from when the API accepted the act
# (its `updated_at` then) or, only following it, from its creation; never the command's time.
SINCE = {
    "decide": ("updated_at", "after the decision"),
    "retry": ("updated_at", "after the retry began"),
    "follow": ("created_at", "since the job was created"),
}


def act_and_follow(
    remote: Remote,
    job_id: str,
    act: Callable[[], dict[str, Any]],
    *,
    label: str,
    on_update: OnUpdate,
    error_log_dir: Path,
    timeout_s: float = 3600,
) -> RunResult:
    """Act on a job through the API (decide, retry; follow only reads it), follow it to the
    end and save its error log under a name that says which act it followed."""
    with remote.follow(job_id) as follower:
        acted = JobView(act())
        on_update(acted, None)
        job = acted
        for job, message in follower.events(timeout_s, acted):
            on_update(job, message)
            if job.status is JobStatus.READY and (
                label == "follow" or acted.status is JobStatus.PREPARING
            ):
                # It waits for someone's decision (a file read again after an answer may ask
                # for one): following it further would hang.
                break
    start_field, since = SINCE[label]
    seconds = (
        datetime.fromisoformat(job.fields["updated_at"])
        - datetime.fromisoformat(acted.fields[start_field])
    ).total_seconds()
    if label == "retry":
        label = f"retry{job.counter('retries')}"
    name = f"{Path(job.file_name).stem}-{job_id[:8]}-{label}-errors.csv"
    error_log = remote.api.download_error_log(job_id, error_log_dir / name)
    return RunResult(Path(job.file_name), job, seconds, error_log, since)
