"""One embedded local stack per test session (moto is patched process-wide), started lazily by
the tests that need it. Each test isolates its data under an organisation of its own."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from customer_import.jobs import Job, JobOptions, JobStatus


@pytest.fixture(scope="session")
def stack() -> Iterator[object]:
    from customer_import_local.stack import LocalStack

    with LocalStack() as running:
        yield running


@pytest.fixture
def org() -> str:
    return f"org-{uuid.uuid4().hex[:8]}"


@dataclass
class Driver:
    """Drives imports as the web app would: create an upload, POST the file, follow the job."""

    stack: object

    @property
    def components(self):  # type: ignore[no-untyped-def]
        from customer_import_local.session import components

        return components()

    def upload(
        self,
        org: str,
        content: bytes,
        options: JobOptions | None = None,
        name: str = "customers.csv",
        account: str = "main",
    ) -> Job:
        created = self.components.pipeline.create_upload(
            org, account, "techman", name, options or JobOptions(), "tester"
        )
        response = requests.post(
            created.post["url"],
            data=created.post["fields"],
            files={"file": (name, content, "text/csv")},
            timeout=30,
        )
        assert response.status_code == 204, response.text
        return created.job

    def wait_for(self, org: str, job_id: str, statuses: set[str], timeout_s: float = 120) -> Job:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            job = self.components.pipeline.job(org, job_id)
            if job.status in statuses:
                return job
            time.sleep(0.05)
        raise AssertionError(f"job {job_id} stuck in {job.status}, expected one of {statuses}")

    def run(
        self,
        org: str,
        content: bytes,
        decision: str | None = "skip",
        options: JobOptions | None = None,
        account: str = "main",
    ) -> Job:
        job = self.upload(org, content, options, account=account)
        final = {s.value for s in JobStatus if s.is_final}
        job = self.wait_for(org, job.job_id, {"ready"} | final)
        if job.status == "ready" and decision:
            self.components.pipeline.submit_decision(org, job.job_id, decision, None, "tester")
            job = self.wait_for(org, job.job_id, final)
        return job

    def customers(self, org: str) -> list[dict]:
        return self.components.customers.read(org)


@pytest.fixture
def driver(stack: object) -> Driver:
    return Driver(stack)


@pytest.fixture
def eventually() -> Callable[[Callable[[], bool], float], None]:
    def wait(condition: Callable[[], bool], timeout_s: float = 30) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.05)
        raise AssertionError("condition not met in time")

    return wait


def written_by(writes: Any) -> tuple[str, str | None] | None:
    """The organisation and external number of the first customer a repository save writes
    (a batch's first customer), for faults injected into one batch."""
    for write in writes:
        customer = getattr(write, "customer", None) or getattr(write, "after", None)
        if customer is not None:
            return customer.org_id, customer.external_customer_number
    return None


@pytest.fixture
def unavailable_batch(monkeypatch, org):  # type: ignore[no-untyped-def]
    """`unavailable_batch.start()` makes every write of the org's batch that begins with
    customer 1100 fail (the second batch of `customers(n)`); `.end()` brings the table back."""
    from customer_import.adapters.customers_dynamo import DynamoCustomerRepository

    original = DynamoCustomerRepository.save

    def broken(self, writes):  # type: ignore[no-untyped-def]
        if written_by(writes) == (org, "1100"):
            raise RuntimeError("table unavailable")
        return original(self, writes)

    class Switch:
        @staticmethod
        def start() -> None:
            monkeypatch.setattr(DynamoCustomerRepository, "save", broken)

        @staticmethod
        def end() -> None:
            monkeypatch.setattr(DynamoCustomerRepository, "save", original)

    return Switch


REPO_ROOT = Path(__file__).resolve().parent.parent
