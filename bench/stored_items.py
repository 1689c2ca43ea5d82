"""The items an import stored, read from the embedded stack's moto backend: what the
benchmarks set their floors and their counts of changed items by."""

from __future__ import annotations

import json
from typing import Any

# The tables that hold customers and their records; the job's own records are not counted.
CUSTOMER_TABLES = (
    "customers",
    "customer_identities",
    "customer_addresses",
    "vehicles",
    "customer_match_keys",
)


def customer_items() -> list[tuple[str, dict[str, Any]]]:
    """Every item of the customer tables, as (physical table name, DynamoDB JSON item)."""
    from customer_import_local.stack import table_name
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    tables = dynamodb_backends[DEFAULT_ACCOUNT_ID]["eu-west-2"].tables
    items = []
    for logical in CUSTOMER_TABLES:
        name = table_name(logical)
        for stored in tables[name].items.values():
            for item in stored.values() if isinstance(stored, dict) else [stored]:
                items.append((name, item.to_json()["Attributes"]))
    return items


def snapshot() -> dict[tuple[str, str], str]:
    """`customer_items` by table and key, each as comparable JSON."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    tables = dynamodb_backends[DEFAULT_ACCOUNT_ID]["eu-west-2"].tables
    by_key = {}
    for name, item in customer_items():
        table = tables[name]
        key = [item[table.hash_key_attr]] + (
            [item[table.range_key_attr]] if table.range_key_attr else []
        )
        by_key[(name, json.dumps(key, sort_keys=True))] = json.dumps(item, sort_keys=True)
    return by_key


def changed_items(before: dict[tuple[str, str], str], after: dict[tuple[str, str], str]) -> int:
    """Items put, changed or deleted between two snapshots."""
    return sum(1 for key in before.keys() | after.keys() if before.get(key) != after.get(key))


def under_other_keys(items: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
    """The same items under keys of their own (each partition key with `-floor` appended):
    written beside the originals, never over them."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    tables = dynamodb_backends[DEFAULT_ACCOUNT_ID]["eu-west-2"].tables
    shadowed = []
    for name, item in items:
        hash_key = tables[name].hash_key_attr
        shadowed.append((name, {**item, hash_key: {"S": item[hash_key]["S"] + "-floor"}}))
    return shadowed
