"""The recycle bin on the local stack: the scheduled purge through its real handler (invoked by
`customer-import local purge`), the bin's API routes over HTTP, and the CLI's `customers
--account`, `bin list` and `bin restore`.

Customers are seeded through the DynamoDB repository directly (imports do not write through it
yet). The purge spans every organisation, so each test bins its customers in a year of its own
and asserts only about its own customers."""

from __future__ import annotations

import json
import os
import subprocess

import boto3
from customer_import.customers.customer import Customer, new_customer_id
from customer_import.customers.recycle_bin import purge_after_for
from customer_import.customers.repository import Bin, Create
from customer_import_local.stack import table_name

from tests.e2e.test_cli import CLI, cli, running

RETENTION_DAYS = 14


def seeded(
    driver, org: str, number: str, *, binned_at: str | None, account: str = "north"
) -> Customer:
    """A customer of ORG with an address and a vehicle, stored, and binned at BINNED_AT."""
    repository = driver.components.customer_repository
    new = Customer(
        org_id=org,
        account_id=account,
        customer_id=new_customer_id(),
        external_customer_number=number,
        fields={"name": f"Customer {number}", "email": f"c{number}@example.com"},
        addresses={"billing": {"line1": "1 High St", "postcode": "AB1 2CD"}},
        vehicles={"registration:AB12CDE": {"registration": "AB12 CDE", "make": "Ford"}},
    )
    assert repository.save([Create(new, "job-seed", "2026-01-01T09:00:00.000+00:00")]) == []
    if binned_at is not None:
        purge_after = purge_after_for(binned_at, RETENTION_DAYS)
        write = Bin(org, new.customer_id, 1, "job-sync", binned_at, purge_after)
        assert repository.save([write]) == []
    stored = repository.get(org, new.customer_id)
    assert stored is not None
    return stored


def records_left(customer: Customer) -> dict[str, int]:
    """How many items of the customer each of its tables still holds."""
    dynamodb = boto3.client("dynamodb")

    def held(table: str, key: dict[str, dict[str, str]]) -> int:
        found = dynamodb.get_item(TableName=table_name(table), Key=key, ConsistentRead=True)
        return int("Item" in found)

    by_customer = {"S": customer.customer_id}
    identity = f"{customer.org_id}#{customer.account_id}#{customer.external_customer_number}"
    return {
        "customers": held(
            "customers", {"org_id": {"S": customer.org_id}, "customer_id": by_customer}
        ),
        "customer_identities": held("customer_identities", {"identity_key": {"S": identity}}),
        **{
            table: dynamodb.query(
                TableName=table_name(table),
                KeyConditionExpression="customer_id = :c",
                ExpressionAttributeValues={":c": by_customer},
                ConsistentRead=True,
            )["Count"]
            for table in ("customer_addresses", "vehicles")
        },
    }


def purge(stack, tmp_path, as_of: str) -> subprocess.CompletedProcess[str]:
    return cli(["local", "purge", "--as-of", as_of], running(stack, tmp_path), tmp_path)


# ---- the purge ---------------------------------------------------------------------------------


def test_local_purge_deletes_a_binned_customer_only_once_its_retention_has_passed(
    driver, stack, org, tmp_path
) -> None:
    # Given a customer binned on 1 March 2031 (first purge day the 16th), and a live one
    binned = seeded(driver, org, "100", binned_at="2031-03-01T10:00:00.000+00:00")
    live = seeded(driver, org, "200", binned_at=None)
    assert binned.purge_after == "2031-03-16"
    assert records_left(binned) == {
        "customers": 1,
        "customer_identities": 1,
        "customer_addresses": 1,
        "vehicles": 1,
    }
    # When the purge runs as of the day before
    early = purge(stack, tmp_path, "2031-03-15")
    # Then the binned customer is kept, whole
    assert early.returncode == 0, early.stderr
    assert early.stdout.startswith("Purged ") and "due by 2031-03-15" in early.stdout
    assert records_left(binned)["customers"] == 1
    # When it runs as of its first purge day
    due = purge(stack, tmp_path, "2031-03-16")
    # Then it is gone for good: the customer, its identity, its addresses and its vehicles
    assert due.returncode == 0, due.stderr
    assert "due by 2031-03-16" in due.stdout
    assert records_left(binned) == {
        "customers": 0,
        "customer_identities": 0,
        "customer_addresses": 0,
        "vehicles": 0,
    }
    # And the live customer is untouched
    assert driver.components.customer_repository.get(org, live.customer_id) == live


def test_local_purge_refuses_a_date_that_is_not_one(stack, tmp_path) -> None:
    # Given a running stack
    # When the purge is asked for a date in another format
    result = purge(stack, tmp_path, "16/03/2031")
    # Then it exits 2 (a usage error) and says which format it takes
    assert result.returncode == 2
    assert "YYYY-MM-DD" in result.stderr or "%Y-%m-%d" in result.stderr


def test_local_purge_refuses_a_remote_stack(stack, tmp_path) -> None:
    # Given the CLI pointed at a deployed stack's API
    state_file = running(stack, tmp_path)
    remote = "https://api.example.com"
    # When the purge is asked for
    result = subprocess.run(
        [*CLI, "local", "purge", "--as-of", "2031-03-16"],
        env={**os.environ, "CUSTOMER_IMPORT_STATE_FILE": str(state_file),
             "CUSTOMER_IMPORT_API_URL": remote},
        cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    # Then it refuses, naming the API, and says how a deployed stack purges
    assert result.returncode == 1
    assert "runs on the local stack only" in result.stderr
    assert remote in result.stderr and "on its schedule" in result.stderr


def test_local_purge_without_a_local_stack_says_how_to_start_one(tmp_path) -> None:
    # Given no local stack running (no endpoints written)
    # When the purge is asked for
    result = cli(["local", "purge", "--as-of", "2031-03-16"], tmp_path / "none.json", tmp_path)
    # Then it says how to start one
    assert result.returncode == 1
    assert "customer-import local up" in result.stderr


def test_the_purge_function_reports_what_it_purged(driver, stack, org) -> None:
    # Given a customer binned in 2032, due on 16 March
    binned = seeded(driver, org, "300", binned_at="2032-03-01T10:00:00.000+00:00")
    # When the scheduled function runs as of that day, through Lambda
    from customer_import_local.stack import function_name

    from infra.description import DESCRIPTION

    response = boto3.client("lambda").invoke(
        FunctionName=function_name(DESCRIPTION.function("purge_recycle_bin")),
        Payload=json.dumps({"as_of": "2032-03-16"}),
    )
    result = json.loads(response["Payload"].read())
    # Then it answers its counts, and the customer is gone
    assert "FunctionError" not in response, result
    assert result["as_of"] == "2032-03-16" and result["purged"] >= 1
    assert driver.components.customer_repository.get(org, binned.customer_id) is None
