"""The read side's ports on AWS: the jobs table's `by_created` index, the customers table and
its `by_external_number` index, the preview objects in S3, and Step Functions' execution
descriptions and histories."""

from __future__ import annotations

import json
import threading
from datetime import datetime
from typing import Any

import boto3
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import ClientError

from ..jobs import Job
from ..queries import ExecutionSummary, HistoryEvent, ImportQueries, Key
from ..settings import Settings
from .aws import is_missing_object
from .dynamo import DynamoCustomerStore, JobModel, plain_key
from .wiring import components_for

# An execution's history is read for ops, not replayed: enough to show what went wrong.
MAX_HISTORY_EVENTS = 2000


class DynamoJobIndex:
    def newest_first(
        self, org_id: str, limit: int, start: Key | None
    ) -> tuple[list[Job], Key | None]:
        found = JobModel.by_created.query(
            org_id,
            scan_index_forward=False,
            limit=limit,
            # Every key attribute of the jobs table and its index is a string.
            last_evaluated_key={k: {"S": v} for k, v in start.items()} if start else None,
        )
        jobs = [item.to_job() for item in found]
        last = found.last_evaluated_key
        return jobs, ({k: plain_key(v) for k, v in last.items()} if last else None)


class DynamoCustomerDirectory:
    def __init__(self, store: DynamoCustomerStore) -> None:
        self.store = store

    def get(self, org_id: str, customer_id: str) -> dict[str, Any] | None:
        return self.store.get(org_id, customer_id)

    def by_external_number(self, org_id: str, external_number: str) -> list[dict[str, Any]]:
        return self.store.read(org_id, external_number)

    def page(
        self, org_id: str, limit: int, start: Key | None
    ) -> tuple[list[dict[str, Any]], Key | None]:
        return self.store.page(org_id, limit, start)


class S3PreviewStore:
    def __init__(self, client: BaseClient, bucket: str) -> None:
        self.client = client
        self.bucket = bucket

    def preview(self, key: str) -> dict[str, Any] | None:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if is_missing_object(exc):
                return None  # staging objects expire by lifecycle rule
            raise
        document: dict[str, Any] = json.loads(body)
        return document


class StepFunctionsExecutionReader:
    def __init__(self, client: BaseClient, state_machine_arn: str) -> None:
        self.client = client
        self.state_machine_arn = state_machine_arn

    def describe(self, execution_arn: str) -> ExecutionSummary | None:
        try:
            found = self.client.describe_execution(executionArn=execution_arn)
        except (self.client.exceptions.ExecutionDoesNotExist, self.client.exceptions.InvalidArn):
            return None
        return ExecutionSummary(
            execution_arn=found["executionArn"],
            name=found["name"],
            status=str(found["status"]),
            started_at=_iso(found["startDate"]),
            stopped_at=_iso(found["stopDate"]) if found.get("stopDate") else None,
            error=found.get("error"),
            cause=found.get("cause"),
        )

    def describe_named(self, name: str) -> ExecutionSummary | None:
        # arn:aws:states:{region}:{account}:stateMachine:{machine} -> ...:execution:{machine}:{name}
        prefix, machine = self.state_machine_arn.rsplit(":stateMachine:", 1)
        return self.describe(f"{prefix}:execution:{machine}:{name}")

    def history(self, execution_arn: str) -> list[HistoryEvent]:
        events: list[HistoryEvent] = []
        kwargs: dict[str, Any] = {"executionArn": execution_arn, "maxResults": 1000}
        while len(events) < MAX_HISTORY_EVENTS:
            page = self.client.get_execution_history(**kwargs)
            events.extend(_event(raw) for raw in page["events"])
            token = page.get("nextToken")
            if not token or not page["events"]:
                break
            kwargs["nextToken"] = token
        return events[:MAX_HISTORY_EVENTS]


def _event(raw: dict[str, Any]) -> HistoryEvent:
    details: dict[str, Any] = next(
        (value for name, value in raw.items() if name.endswith("EventDetails")), {}
    )
    return HistoryEvent(
        id=int(raw["id"]),
        type=str(raw["type"]),
        timestamp=_iso(raw["timestamp"]),
        previous_event_id=int(raw["previousEventId"]) if raw.get("previousEventId") else None,
        state=details.get("name") if str(raw["type"]).endswith(("Entered", "Exited")) else None,
        error=details.get("error"),
        cause=details.get("cause"),
    )


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


_cache: dict[Settings, ImportQueries] = {}
_lock = threading.Lock()


def queries_for(settings: Settings) -> ImportQueries:
    """The read side, built once per process and configuration, beside the pipeline."""
    with _lock:
        if settings not in _cache:
            components = components_for(settings)
            session = boto3.session.Session(region_name=settings.region)
            config = Config(retries={"mode": "standard", "max_attempts": 4})
            _cache[settings] = ImportQueries(
                jobs=components.jobs,
                index=DynamoJobIndex(),
                previews=S3PreviewStore(
                    session.client("s3", config=config), settings.upload_bucket
                ),
                customers=DynamoCustomerDirectory(components.customers),
                executions=StepFunctionsExecutionReader(
                    session.client("stepfunctions", config=config),
                    settings.import_state_machine_arn,
                ),
                audit=components.audit,
            )
        return _cache[settings]
