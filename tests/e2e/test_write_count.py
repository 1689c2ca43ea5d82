"""The local stack counts the DynamoDB items a piece of work writes (the sync benchmark and the
"unchanged customers are not written" tests rely on it)."""

from __future__ import annotations

import boto3
import pytest
from customer_import.settings import Settings
from customer_import_local.write_count import count_writes


def test_every_written_item_counts_once_and_a_cancelled_transaction_counts_nothing(
    stack: object, org: str
) -> None:
    table = Settings.from_env().organisations_table
    client = boto3.client("dynamodb")

    def item(name: str) -> dict[str, dict[str, str]]:
        return {"org_id": {"S": f"{org}-{name}"}, "profile": {"S": "{}"}}

    # Given a count of the writes
    with count_writes() as count:
        # When one put, a batch of three, a committed transaction of two and a cancelled one
        client.put_item(TableName=table, Item=item("a"))
        client.batch_write_item(
            RequestItems={table: [{"PutRequest": {"Item": item(n)}} for n in "bcd"]}
        )
        client.transact_write_items(
            TransactItems=[{"Put": {"TableName": table, "Item": item(n)}} for n in "ef"]
        )
        with pytest.raises(client.exceptions.TransactionCanceledException):
            client.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": table, "Item": item("g")}},
                    {
                        "Put": {
                            "TableName": table,
                            "Item": item("a"),
                            "ConditionExpression": "attribute_not_exists(org_id)",
                        }
                    },
                ]
            )
    # Then six items were written to that table (the stack's own work, a schedule or an
    # earlier test's execution ending, may write to others meanwhile)
    assert count.by_table[table] == 6
    assert count.total() == sum(count.by_table.values())
