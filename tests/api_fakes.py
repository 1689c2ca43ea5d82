"""In-memory ports of the read side (`customer_import.queries`), beside `tests.fakes`."""

from __future__ import annotations

from typing import Any

from customer_import.jobs import Job
from customer_import.queries import ExecutionSummary, HistoryEvent, ImportQueries, Key

from tests.fakes import World


class FakeJobIndex:
    def __init__(self, world: World) -> None:
        self.world = world

    def newest_first(
        self, org_id: str, limit: int, start: Key | None
    ) -> tuple[list[Job], Key | None]:
        jobs = sorted(
            (job for (org, _), job in self.world.jobs.jobs.items() if org == org_id),
            key=lambda job: job.created_at,
            reverse=True,
        )
        if start is not None:
            jobs = [job for job in jobs if job.created_at < start["created_at"]]
        page = jobs[:limit]
        if len(jobs) <= limit:
            return page, None
        last = page[-1]
        return page, {"org_id": org_id, "job_id": last.job_id, "created_at": last.created_at}


class FakePreviews:
    def __init__(self, world: World) -> None:
        self.world = world

    def preview(self, key: str) -> dict[str, Any] | None:
        if key not in self.world.objects.objects:
            return None
        document: dict[str, Any] = self.world.objects.get_json(key)
        return document


class FakeCustomerDirectory:
    """The directory over the world's customer repository, live customers viewed as the API
    shows them."""

    def __init__(self, world: World) -> None:
        self.world = world

    def _live(self, org_id: str) -> dict[str, Any]:
        return {
            customer_id: customer.view()
            for (org, customer_id), customer in sorted(self.world.customers.customers.items())
            if org == org_id and not customer.binned
        }

    def get(self, org_id: str, customer_id: str) -> dict[str, Any] | None:
        return self._live(org_id).get(customer_id)

    def by_external_number(self, org_id: str, external_number: str) -> list[dict[str, Any]]:
        return [
            c
            for c in self._live(org_id).values()
            if c["external_customer_number"] == external_number
        ]

    def page(
        self, org_id: str, limit: int, start: dict[str, str] | None
    ) -> tuple[list[dict[str, Any]], dict[str, str] | None]:
        ordered = list(self._live(org_id).values())
        if start is not None:
            ordered = [c for c in ordered if c["customer_id"] > start["customer_id"]]
        found = ordered[:limit]
        more = len(ordered) > limit
        return found, (
            {"org_id": org_id, "customer_id": found[-1]["customer_id"]} if more else None
        )


class FakeExecutions:
    def __init__(self) -> None:
        self.by_arn: dict[str, ExecutionSummary] = {}
        self.histories: dict[str, list[HistoryEvent]] = {}

    def add(self, summary: ExecutionSummary, history: list[HistoryEvent]) -> None:
        self.by_arn[summary.execution_arn] = summary
        self.histories[summary.execution_arn] = history

    def describe(self, execution_arn: str) -> ExecutionSummary | None:
        return self.by_arn.get(execution_arn)

    def describe_named(self, name: str) -> ExecutionSummary | None:
        return next((s for s in self.by_arn.values() if s.name == name), None)

    def history(self, execution_arn: str) -> list[HistoryEvent]:
        return list(self.histories.get(execution_arn, []))


class ReadWorld(World):
    """A World with its read side wired to the same fakes."""

    def __init__(self) -> None:
        super().__init__()
        self.executions = FakeExecutions()
        self.queries = ImportQueries(
            jobs=self.jobs,
            index=FakeJobIndex(self),
            previews=FakePreviews(self),
            customers=FakeCustomerDirectory(self),
            executions=self.executions,
            audit=self.audit,
        )
