"""In-memory implementations of the domain's ports, for tests without AWS or moto."""

from __future__ import annotations

import copy
import io
import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from customer_import.audit import AuditEntry
from customer_import.errors import InvalidTransition, JobNotFound, ObjectMissing
from customer_import.imports.counters import add, batch_deltas
from customer_import.jobs import Job, JobStatus, sources_of
from customer_import.organisations import OrganisationProfile
from customer_import.pipeline import ImportPipeline
from customer_import.ports import BatchOutcome, ConnectionGone
from customer_import.profiles import ImportProfile
from customer_import.progress import ProgressBroadcaster
from customer_import.settings import Settings

from tests.fake_activities import FakeActivityRepository
from tests.fake_customers import FakeCustomerRepository


class FakeJobStore:
    def __init__(self) -> None:
        self.jobs: dict[tuple[str, str], Job] = {}
        self.batches: dict[tuple[str, str], BatchOutcome] = {}

    def create(self, job: Job) -> bool:
        key = (job.org_id, job.job_id)
        if key in self.jobs:
            return False
        self.jobs[key] = copy.deepcopy(job)
        return True

    def get(self, org_id: str, job_id: str) -> Job:
        try:
            return copy.deepcopy(self.jobs[(org_id, job_id)])
        except KeyError:
            raise JobNotFound(org_id, job_id) from None

    def transition(self, org_id: str, job_id: str, to: JobStatus, **changes: Any) -> Job:
        job = self.get(org_id, job_id)
        if job.status not in sources_of(to):
            raise InvalidTransition(job_id, str(job.status), str(to))
        return self._store(replace(job, status=to, **changes))

    def update(self, org_id: str, job_id: str, **changes: Any) -> Job:
        return self._store(replace(self.get(org_id, job_id), **changes))

    def _store(self, job: Job) -> Job:
        self.jobs[(job.org_id, job.job_id)] = copy.deepcopy(job)
        return job

    def claim_execution(self, org_id: str, job_id: str, execution_id: str) -> bool:
        job = self.get(org_id, job_id)
        if job.status is JobStatus.PENDING and job.execution_id is None:
            self._store(replace(job, status=JobStatus.VALIDATING, execution_id=execution_id))
            return True
        return job.execution_id == execution_id

    def record_batch(self, org_id: str, job_id: str, outcome: BatchOutcome) -> Job | None:
        if (job_id, outcome.batch_id) in self.batches:
            return None
        self.batches[(job_id, outcome.batch_id)] = outcome
        job = self.get(org_id, job_id)
        return self._store(replace(job, counters=add(job.counters, batch_deltas(outcome))))

    def announce_unannounced(self, job: Job) -> Job:
        return job

    def batch_outcomes(self, job_id: str) -> list[BatchOutcome]:
        return [o for (j, _), o in sorted(self.batches.items()) if j == job_id]

    def unsettled(self, status: JobStatus, changed_before: str) -> list[tuple[str, str]]:
        return sorted(
            key
            for key, job in self.jobs.items()
            if job.status is status and job.updated_at < changed_before
        )


class FakeObjectStore:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.upload_limits: dict[str, int] = {}  # key -> the largest file its POST accepts

    def _read(self, key: str) -> bytes:
        try:
            return self.objects[key]
        except KeyError:
            raise ObjectMissing(key) from None

    def size(self, key: str) -> int:
        return len(self._read(key))

    def read_head(self, key: str, size: int) -> bytes:
        return self._read(key)[:size]

    def open(self, key: str) -> io.BytesIO:
        return io.BytesIO(self._read(key))

    def put_json(self, key: str, data: Any) -> None:
        self.objects[key] = json.dumps(data).encode()

    def get_json(self, key: str) -> Any:
        return json.loads(self._read(key))

    def put_text(self, key: str, text: str, content_type: str) -> None:
        self.objects[key] = text.encode()

    def list_keys(self, prefix: str) -> Iterator[str]:
        # S3 lists keys in the binary order of their UTF-8 bytes.
        yield from sorted((k for k in self.objects if k.startswith(prefix)), key=str.encode)

    def presigned_post(
        self, key: str, content_type: str, max_bytes: int, expires_s: int
    ) -> dict[str, Any]:
        self.upload_limits[key] = max_bytes
        return {"url": "memory://bucket", "fields": {"key": key, "Content-Type": content_type}}

    def presigned_get(self, key: str, expires_s: int, file_name: str) -> str:
        return f"memory://bucket/{key}"


class FakeOrganisations:
    def __init__(self) -> None:
        self.profiles: dict[str, OrganisationProfile] = {}

    def get(self, org_id: str) -> OrganisationProfile:
        return self.profiles.get(org_id, OrganisationProfile(org_id=org_id))

    def put(self, profile: OrganisationProfile) -> None:
        self.profiles[profile.org_id] = profile


class FakeAuditLog:
    def __init__(self) -> None:
        self.stored: dict[tuple[str, str], AuditEntry] = {}

    def record(self, entry: AuditEntry) -> None:
        self.stored.setdefault((entry.org_id, entry.sort_key), entry)

    def entries(self, org_id: str, limit: int = 50) -> list[AuditEntry]:
        """The first page: what the tests read."""
        return self.page(org_id, limit, None)[0]

    def page(
        self, org_id: str, limit: int, start: dict[str, str] | None
    ) -> tuple[list[AuditEntry], dict[str, str] | None]:
        """As the index pages: newest `at` first, ties by the table's key."""
        mine = sorted(
            ((e.at, key, e) for (org, key), e in self.stored.items() if org == org_id),
            key=lambda found: found[:2],
            reverse=True,
        )
        if start is not None:
            mine = [m for m in mine if m[:2] < (start["at"], start["entry_key"])]
        shown = mine[:limit]
        if len(mine) <= limit or not shown:
            return [e for *_, e in shown], None
        at, key, _ = shown[-1]
        return [e for *_, e in shown], {"org_id": org_id, "entry_key": key, "at": at}


class FakeProfiles:
    def __init__(self) -> None:
        self.stored: dict[tuple[str, str], ImportProfile] = {}

    def get(self, org_id: str, name: str) -> ImportProfile | None:
        return self.stored.get((org_id, name))

    def put(self, profile: ImportProfile) -> None:
        self.stored[(profile.org_id, profile.name)] = profile

    def delete(self, org_id: str, name: str) -> bool:
        return self.stored.pop((org_id, name), None) is not None

    def for_organisation(self, org_id: str) -> list[ImportProfile]:
        return sorted((p for (o, _), p in self.stored.items() if o == org_id), key=lambda p: p.name)


class FakeConnections:
    def __init__(self) -> None:
        self.connections: dict[str, dict[str, str | None]] = {}

    def add(self, connection_id: str, org_id: str, user_id: str) -> None:
        self.connections[connection_id] = {"org_id": org_id, "user_id": user_id, "job_id": None}

    def subscribe(self, connection_id: str, org_id: str, job_id: str) -> bool:
        connection = self.connections.get(connection_id)
        if connection is None or connection["org_id"] != org_id:
            return False
        connection["job_id"] = job_id
        return True

    def remove(self, connection_id: str) -> None:
        self.connections.pop(connection_id, None)

    def subscribers(self, job_id: str) -> list[str]:
        return [c for c, data in self.connections.items() if data["job_id"] == job_id]


class FakeSender:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.gone: set[str] = set()

    def send(self, connection_id: str, message: dict[str, Any]) -> None:
        if connection_id in self.gone:
            raise ConnectionGone(connection_id)
        self.sent.append((connection_id, message))


class FakeWorkflow:
    def __init__(self) -> None:
        self.successes: list[tuple[str, dict[str, Any]]] = []
        self.failures: list[tuple[str, str, str]] = []
        self.started: dict[str, dict[str, Any]] = {}
        self.rollbacks: dict[str, dict[str, Any]] = {}

    def start(self, name: str, execution_input: dict[str, Any]) -> None:
        self.started.setdefault(name, execution_input)

    def send_success(self, task_token: str, output: dict[str, Any]) -> None:
        self.successes.append((task_token, output))

    def send_failure(self, task_token: str, error: str, cause: str) -> None:
        self.failures.append((task_token, error, cause))

    def start_rollback(self, name: str, execution_input: dict[str, Any]) -> None:
        self.rollbacks.setdefault(name, execution_input)


SETTINGS = Settings(
    jobs_table="jobs",
    job_batches_table="job-batches",
    organisations_table="organisations",
    audit_log_table="audit-log",
    customers_table="customers",
    customer_match_keys_table="match-keys",
    customer_addresses_table="addresses",
    vehicles_table="vehicles",
    connections_table="connections",
    upload_bucket="bucket",
    websocket_management_endpoint="",
    import_state_machine_arn="arn:aws:states:eu-west-2:123456789012:stateMachine:ImportJob",
    region="eu-west-2",
)


class World:
    """A pipeline wired to fakes, with the fakes at hand for assertions."""

    def __init__(self, settings: Settings = SETTINGS) -> None:
        self.jobs = FakeJobStore()
        self.objects = FakeObjectStore()
        self.customers = FakeCustomerRepository()
        self.activities = FakeActivityRepository()
        self.connections = FakeConnections()
        self.sender = FakeSender()
        self.workflow = FakeWorkflow()
        self.organisations = FakeOrganisations()
        self.audit = FakeAuditLog()
        self.profiles = FakeProfiles()
        self.broadcaster = ProgressBroadcaster(self.connections, self.sender)
        self.pipeline = ImportPipeline(
            settings,
            self.jobs,
            self.objects,
            self.customers,
            self.activities,
            self.broadcaster,
            self.workflow,
            self.organisations,
            self.audit,
            self.profiles,
        )
