"""Reaching a stack from a command: the running one (`local up`) if it answers, otherwise an
embedded one for the length of the command."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import requests
from customer_import.adapters.wiring import Components, components_for
from customer_import.errors import InvalidDecision
from customer_import.jobs import Job, JobOptions
from customer_import.settings import Settings
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from .stack import STATE_FILE, Endpoints, LocalStack, local_credentials
from .tokens import local_token

log = logging.getLogger("customer_import_local.session")


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


@dataclass
class JobFollower:
    """Follows one job over the WebSocket, with the job record as a fallback if a push is
    missed. `events()` yields the job each time something changed, until it is final."""

    websocket_url: str
    org_id: str
    job_id: str
    poll_every_s: float = 2.0
    _messages: queue.Queue[dict[str, Any]] = field(default_factory=queue.Queue)
    _connection: Any = None
    _exit_stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    _reader: threading.Thread | None = None

    def __enter__(self) -> JobFollower:
        query = urlencode({"token": local_token(self.org_id, "cli")})
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

    def events(
        self, load_job: Callable[[], Job], timeout_s: float
    ) -> Iterator[tuple[Job, dict[str, Any] | None]]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                message: dict[str, Any] | None = self._messages.get(timeout=self.poll_every_s)
            except queue.Empty:
                message = None
            if message is not None and message.get("type") == "error":
                raise RuntimeError(f"Progress feed refused: {message.get('message')}")
            job = load_job()
            yield job, message
            if job.status.is_final:
                return
        raise TimeoutError(f"Import job {self.job_id} did not finish within {timeout_s:.0f}s")


@dataclass
class RunResult:
    file: Path
    job: Job
    seconds: float
    error_log: Path | None

    def as_json(self) -> dict[str, Any]:
        job = self.job
        return {
            "job_id": job.job_id,
            "status": str(job.status),
            "rows": job.counter("rows"),
            "customers": job.counter("customers"),
            "imported": job.counter("imported"),
            "merged": job.counter("merged"),
            "skipped_duplicates": job.counter("skipped_duplicates"),
            "skipped_user": job.counter("skipped_user"),
            "failed": job.counter("failed"),
            "duplicates": job.counter("duplicates"),
            "vehicles": job.counter("vehicles"),
            "missing_columns": list(job.missing_columns),
            "error_log": str(self.error_log) if self.error_log else None,
        }


def preview_file(
    endpoints: Endpoints, path: Path, *, source: str, org_id: str, account_id: str
) -> tuple[Job, dict[str, Any] | None]:
    """A dry run through the real Validate and Prepare: the job stops at the decision, its
    preview is read, and it is cancelled. No customer is written."""
    pipeline = components().pipeline
    created = pipeline.create_upload(org_id, account_id, source, path.name, JobOptions(), "preview")
    job_id = created.job.job_id
    with JobFollower(endpoints.websocket_url, org_id, job_id) as follower:
        upload(created.post, path)
        for job, _ in follower.events(lambda: pipeline.job(org_id, job_id), timeout_s=3600):
            if job.status == "ready":
                preview = pipeline.objects.get_json(job.preview_key or "")
                return pipeline.cancel(org_id, job_id, "preview"), preview
    return job, None


def upload(post: dict[str, Any], path: Path) -> None:
    """Upload through the presigned POST, exactly as the web app does."""
    with path.open("rb") as handle:
        response = requests.post(
            post["url"],
            data=post["fields"],
            files={"file": (path.name, handle, post["fields"].get("Content-Type", "text/csv"))},
            timeout=300,
        )
    if response.status_code >= 300:
        raise RuntimeError(
            f"Upload of {path.name} refused: HTTP {response.status_code} {response.text[:200]}"
        )


def download_error_log(org_id: str, job_id: str, target: Path) -> Path | None:
    """Save the job's error log through its presigned URL, as a browser would."""
    url = components().pipeline.error_log_url(org_id, job_id)
    if not url:
        return None
    target.parent.mkdir(parents=True, exist_ok=True)
    response = requests.get(url, timeout=60)
    response.raise_for_status()
    target.write_bytes(response.content)
    return target


def retry_job(
    endpoints: Endpoints,
    org_id: str,
    job_id: str,
    *,
    actor: str,
    on_update: Callable[[Job, dict[str, Any] | None], None],
    error_log_dir: Path,
    timeout_s: float = 3600,
) -> RunResult:
    """Re-run the rows of a job that failed to be written, following it to the end."""
    pipeline = components().pipeline
    return _act_and_follow(
        endpoints,
        org_id,
        job_id,
        lambda: pipeline.retry_failed(org_id, job_id, actor),
        on_update=on_update,
        error_log_name=lambda job: f"retry{job.counter('retries')}",
        error_log_dir=error_log_dir,
        timeout_s=timeout_s,
    )


def decide_job(
    endpoints: Endpoints,
    org_id: str,
    job_id: str,
    *,
    default: str | None,
    overrides: dict[str, str],
    actor: str,
    on_update: Callable[[Job, dict[str, Any] | None], None],
    error_log_dir: Path,
    timeout_s: float = 3600,
) -> RunResult:
    """Answer a job waiting for its decision, then follow it to the end."""
    pipeline = components().pipeline
    return _act_and_follow(
        endpoints,
        org_id,
        job_id,
        lambda: pipeline.submit_decision(org_id, job_id, default, overrides, actor),
        on_update=on_update,
        error_log_name=lambda _: "decided",
        error_log_dir=error_log_dir,
        timeout_s=timeout_s,
    )


def _act_and_follow(
    endpoints: Endpoints,
    org_id: str,
    job_id: str,
    act: Callable[[], Job],
    *,
    on_update: Callable[[Job, dict[str, Any] | None], None],
    error_log_name: Callable[[Job], str],
    error_log_dir: Path,
    timeout_s: float,
) -> RunResult:
    pipeline = components().pipeline
    started = time.perf_counter()
    with JobFollower(endpoints.websocket_url, org_id, job_id) as follower:
        job = act()
        on_update(job, None)
        for job, message in follower.events(lambda: pipeline.job(org_id, job_id), timeout_s):
            on_update(job, message)
    name = f"{Path(job.file_name).stem}-{job_id[:8]}-{error_log_name(job)}-errors.csv"
    error_log = download_error_log(org_id, job_id, error_log_dir / name)
    return RunResult(Path(job.file_name), job, time.perf_counter() - started, error_log)


# What to answer a job that is ready: (default, per-customer choices), or None to leave it
# waiting for someone else (`decide`).
Decider = Callable[[Job], tuple[str | None, dict[str, str] | None] | None]


def import_file(
    endpoints: Endpoints,
    path: Path,
    *,
    source: str,
    org_id: str,
    account_id: str,
    decide: Decider,
    actor: str,
    on_update: Callable[[Job, dict[str, Any] | None], None],
    error_log_dir: Path,
    timeout_s: float = 3600,
) -> RunResult:
    pipeline = components().pipeline
    started = time.perf_counter()
    created = pipeline.create_upload(org_id, account_id, source, path.name, JobOptions(), actor)
    job_id = created.job.job_id
    with JobFollower(endpoints.websocket_url, org_id, job_id) as follower:
        upload(created.post, path)
        decided = False
        for job, message in follower.events(lambda: pipeline.job(org_id, job_id), timeout_s):
            if job.status == "ready" and not decided:
                on_update(job, message)
                answer = decide(job)
                if answer is None:
                    return RunResult(path, job, time.perf_counter() - started, None)
                # Someone else may have decided meanwhile: the feed then says what follows.
                with contextlib.suppress(InvalidDecision):
                    job = pipeline.submit_decision(org_id, job_id, *answer, actor)
                decided = True
            on_update(job, message)
    error_log = download_error_log(
        org_id, job_id, error_log_dir / f"{path.stem}-{job_id[:8]}-errors.csv"
    )
    return RunResult(path, job, time.perf_counter() - started, error_log)
