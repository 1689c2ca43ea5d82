"""An in-memory `ActivityRepository`: the port's semantics, which the DynamoDB adapter is
tested against too (tests/integration/test_activity_repository.py)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import replace

from customer_import.customers.activities import Activity


class FakeActivityRepository:
    def __init__(self) -> None:
        # customer_id -> activity_id -> activity (the table's hash and range keys)
        self.items: dict[str, dict[str, Activity]] = {}

    def add(self, activity: Activity) -> None:
        self.items.setdefault(activity.customer_id, {})[activity.activity_id] = activity

    def list_for_customer(
        self, customer_id: str, limit: int, start: str | None
    ) -> tuple[list[Activity], str | None]:
        ordered = [
            a for i, a in sorted(self.items.get(customer_id, {}).items()) if not start or i > start
        ]
        page = ordered[:limit]
        return page, page[-1].activity_id if len(ordered) > limit else None

    def count_for_customers(self, customer_ids: Collection[str]) -> dict[str, int]:
        return {c: len(self.items.get(c, {})) for c in customer_ids}

    def counts_recorded_since(self, org_id: str, since: Mapping[str, str]) -> dict[str, int]:
        counts: dict[str, int] = {}
        for customer_id, held in self.items.items():
            for activity in held.values():
                start = since.get(customer_id)
                if activity.org_id == org_id and start is not None and activity.created_at >= start:
                    counts[customer_id] = counts.get(customer_id, 0) + 1
        return counts

    def delete_for_customer(self, org_id: str, customer_id: str) -> int:
        held = self.items.get(customer_id, {})
        gone = [i for i, a in held.items() if a.org_id == org_id]
        for activity_id in gone:
            del held[activity_id]
        return len(gone)

    def reassign(self, customer_id: str, account_id: str) -> int:
        held = self.items.get(customer_id, {})
        for activity_id, activity in held.items():
            held[activity_id] = replace(activity, account_id=account_id)
        return len(held)

    def copy_to(
        self, source_customer_id: str, target_customer_id: str, target_account_id: str
    ) -> int:
        source = list(self.items.get(source_customer_id, {}).values())
        for activity in source:
            self.add(
                replace(activity, customer_id=target_customer_id, account_id=target_account_id)
            )
        return len(source)
