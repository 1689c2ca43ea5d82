"""The `ActivityRepository` on DynamoDB (`customer_activities`: hash `customer_id`, range
`activity_id`), through PynamoDB. Every read and write goes by the customer's key: a Query
(paged, or `Select=COUNT`), never a scan."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import replace

from ..customers.activities import Activity, from_item
from .dynamo import ActivityModel, _throttling_is_transient


def _item(activity: Activity) -> ActivityModel:
    return ActivityModel(
        activity.customer_id,
        activity.activity_id,
        org_id=activity.org_id,
        account_id=activity.account_id,
        kind=activity.kind,
        date=activity.date,
        text=activity.text,
        author=activity.author,
        created_at=activity.created_at,
    )


def _activity(item: ActivityModel) -> Activity:
    return from_item(item.attribute_values)


@_throttling_is_transient
class DynamoActivityRepository:
    def add(self, activity: Activity) -> None:
        _item(activity).save()

    def list_for_customer(
        self, customer_id: str, limit: int, start: str | None
    ) -> tuple[list[Activity], str | None]:
        result = ActivityModel.query(
            customer_id,
            limit=limit,
            consistent_read=True,
            last_evaluated_key=(
                {"customer_id": {"S": customer_id}, "activity_id": {"S": start}} if start else None
            ),
        )
        page = [_activity(item) for item in result]
        last = result.last_evaluated_key
        return page, str(last["activity_id"]["S"]) if last and page else None

    def count_for_customers(self, customer_ids: Collection[str]) -> dict[str, int]:
        return {
            c: ActivityModel.count(c, consistent_read=True) for c in dict.fromkeys(customer_ids)
        }

    def counts_recorded_since(self, org_id: str, since: Mapping[str, str]) -> dict[str, int]:
        if not since:
            return {}
        counts: dict[str, int] = {}
        for item in ActivityModel.by_org_created.query(
            org_id, ActivityModel.created_at >= min(since.values())
        ):
            start = since.get(item.customer_id)
            if start is not None and item.created_at >= start:
                counts[item.customer_id] = counts.get(item.customer_id, 0) + 1
        return counts

    def delete_for_customer(self, org_id: str, customer_id: str) -> int:
        gone = 0
        with ActivityModel.batch_write() as batch:
            for item in ActivityModel.query(
                customer_id, filter_condition=ActivityModel.org_id == org_id, consistent_read=True
            ):
                batch.delete(item)
                gone += 1
        return gone

    def reassign(self, customer_id: str, account_id: str) -> int:
        moved = 0
        for item in ActivityModel.query(customer_id, consistent_read=True):
            if item.account_id != account_id:
                item.update(actions=[ActivityModel.account_id.set(account_id)])
            moved += 1
        return moved

    def copy_to(
        self, source_customer_id: str, target_customer_id: str, target_account_id: str
    ) -> int:
        copied = 0
        with ActivityModel.batch_write() as batch:
            for item in ActivityModel.query(source_customer_id, consistent_read=True):
                copy = replace(
                    _activity(item), customer_id=target_customer_id, account_id=target_account_id
                )
                batch.save(_item(copy))
                copied += 1
        return copied
