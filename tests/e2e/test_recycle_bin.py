"""The recycle bin on the local stack: the scheduled purge through its real handler (invoked by
`customer-import local purge`), the bin's API routes over HTTP, and the CLI's `customers
--account`, `bin list` and `bin restore`.

Customers are seeded through the DynamoDB repository directly (imports do not write through it
yet). The purge spans every organisation, so each test bins its customers in a year of its own
and asserts only about its own customers."""

from __future__ import annotations

import base64
import json
import os
import subprocess

import boto3
import requests
from customer_import.access import CUSTOMERS_ACCESS
from customer_import.customers.customer import Customer, new_customer_id
from customer_import.customers.recycle_bin import purge_after_for
from customer_import.customers.repository import Bin, Create
from customer_import_local.stack import table_name
from customer_import_local.tokens import local_token

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


# ---- the API ----------------------------------------------------------------------------------


def api_call(stack, org: str, method: str, path: str, **params: str) -> requests.Response:
    token = local_token(org, "alice", [CUSTOMERS_ACCESS])
    return requests.request(
        method,
        f"{stack.endpoints.api_url}{path}",
        params=params,
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )


def test_an_accounts_customers_are_listed_live_only_with_id_account_and_version(
    driver, stack, org
) -> None:
    # Given two live customers of north, a binned one of north, and a live one of south
    live = [seeded(driver, org, n, binned_at=None) for n in ("1", "2")]
    binned = seeded(driver, org, "3", binned_at="2033-03-01T10:00:00.000+00:00")
    seeded(driver, org, "4", binned_at=None, account="south")
    # When north's customers are listed, a page of one at a time
    first = api_call(stack, org, "GET", "/customers", account="north", limit="1")
    second = api_call(
        stack,
        org,
        "GET",
        "/customers",
        account="north",
        limit="1",
        cursor=first.json()["next_cursor"],
    )
    # Then both pages together are its live customers, each with its id, account and version
    assert first.status_code == second.status_code == 200, first.text
    listed = first.json()["items"] + second.json()["items"]
    assert sorted(c["customer_id"] for c in listed) == sorted(c.customer_id for c in live)
    assert {(c["account"], c["version"]) for c in listed} == {("north", 1)}
    assert listed[0]["addresses"][0]["postcode"] == "AB1 2CD"
    # And by number within the account, only the live one is found
    by_number = api_call(
        stack, org, "GET", "/customers", account="north", external_customer_number="3"
    )
    assert by_number.json()["items"] == []
    # And one customer shows its id, account and version; the binned one is not found there
    one = api_call(stack, org, "GET", f"/customers/{live[0].customer_id}").json()
    assert (one["customer_id"], one["account"], one["version"]) == (live[0].customer_id, "north", 1)
    gone = api_call(stack, org, "GET", f"/customers/{binned.customer_id}")
    assert gone.status_code == 404 and "not found" in gone.json()["message"]


def test_the_bin_lists_binned_customers_per_account_newest_first(driver, stack, org) -> None:
    # Given customers of north binned on the 1st and the 2nd, one of south, and a live one
    older = seeded(driver, org, "1", binned_at="2033-03-01T10:00:00.000+00:00")
    newer = seeded(driver, org, "2", binned_at="2033-03-02T10:00:00.000+00:00")
    south = seeded(driver, org, "3", binned_at="2033-03-03T10:00:00.000+00:00", account="south")
    seeded(driver, org, "4", binned_at=None)
    # When north's bin is listed, one a page, and the whole organisation's bin
    first = api_call(stack, org, "GET", "/recycle-bin", account="north", limit="1")
    second = api_call(
        stack,
        org,
        "GET",
        "/recycle-bin",
        account="north",
        limit="1",
        cursor=first.json()["next_cursor"],
    )
    everything = api_call(stack, org, "GET", "/recycle-bin").json()["items"]
    # Then north's are newest binned first, each with when it may be purged
    assert first.status_code == 200, first.text
    assert first.json()["items"] == [
        {
            "customer_id": newer.customer_id,
            "external_customer_number": "2",
            "account": "north",
            "name": "Customer 2",
            "deleted_at": "2033-03-02T10:00:00.000+00:00",
            "purge_after": "2033-03-17",
        }
    ]
    assert [c["customer_id"] for c in second.json()["items"]] == [older.customer_id]
    # And the organisation's bin holds every account's
    assert [c["customer_id"] for c in everything] == [
        south.customer_id,
        newer.customer_id,
        older.customer_id,
    ]


def test_a_restore_brings_a_binned_customer_back_live_and_audits_it(driver, stack, org) -> None:
    # Given a binned customer
    binned = seeded(driver, org, "1", binned_at="2033-03-01T10:00:00.000+00:00")
    # When it is restored through the API
    answer = api_call(stack, org, "POST", f"/recycle-bin/{binned.customer_id}/restore")
    # Then it is live again: the same id, one version on, out of the bin, readable by id
    assert answer.status_code == 200, answer.text
    restored = answer.json()
    assert (restored["customer_id"], restored["version"]) == (
        binned.customer_id,
        binned.version + 1,
    )
    assert restored["deleted_at"] is None and restored["purge_after"] is None
    assert api_call(stack, org, "GET", "/recycle-bin").json()["items"] == []
    assert api_call(stack, org, "GET", f"/customers/{binned.customer_id}").status_code == 200
    # And the audit log says who restored it
    [entry] = [
        e
        for e in driver.components.audit.page(org, 100, None)[0]
        if e.action == "customer.restored"
    ]
    assert (entry.actor, entry.details["customer_id"]) == ("alice", binned.customer_id)
    # When it is restored again
    again = api_call(stack, org, "POST", f"/recycle-bin/{binned.customer_id}/restore")
    # Then it conflicts: it is not in the bin
    assert again.status_code == 409 and "not in the recycle bin" in again.json()["message"]


def test_a_restore_whose_number_was_taken_meanwhile_conflicts_naming_both(
    driver, stack, org
) -> None:
    # Given a binned customer, and a live one of its account that took its number since
    binned = seeded(driver, org, "7", binned_at="2033-03-01T10:00:00.000+00:00")
    taker = seeded(driver, org, "7", binned_at=None)
    # When the binned one is restored
    answer = api_call(stack, org, "POST", f"/recycle-bin/{binned.customer_id}/restore")
    # Then it conflicts, naming the number and the customer who has it, and stays binned
    assert answer.status_code == 409, answer.text
    message = answer.json()["message"]
    assert "external number 7" in message and taker.customer_id in message
    [still] = api_call(stack, org, "GET", "/recycle-bin").json()["items"]
    assert still["customer_id"] == binned.customer_id


def test_another_organisations_binned_customer_is_neither_listed_nor_restored(
    driver, stack, org
) -> None:
    # Given a binned customer of this organisation
    binned = seeded(driver, org, "1", binned_at="2033-03-01T10:00:00.000+00:00")
    other = f"other-{org}"
    # When another organisation lists its bin and restores the customer
    listed = api_call(stack, other, "GET", "/recycle-bin")
    restored = api_call(stack, other, "POST", f"/recycle-bin/{binned.customer_id}/restore")
    # Then it sees nothing, and the restore is not found, as for an id nobody has
    assert listed.json()["items"] == []
    assert restored.status_code == 404
    assert restored.json()["message"] == f"Customer {binned.customer_id} not found"
    # And the customer stays in its own organisation's bin
    assert driver.components.customer_repository.get(org, binned.customer_id).binned


def test_a_cursor_the_api_did_not_hand_out_is_a_bad_request(driver, stack, org) -> None:
    # Given forged cursors: not base64, not JSON, and a key of another organisation's bin
    forged = {
        "garbage": "%%%",
        "not json": base64.urlsafe_b64encode(b"[1, 2").decode(),
        "a list": base64.urlsafe_b64encode(b"[1, 2]").decode(),
        "another's key": base64.urlsafe_b64encode(
            json.dumps(
                {
                    "org_id": {"S": "someone-else"},
                    "customer_id": {"S": "x"},
                    "binned_org": {"S": "someone-else"},
                    "binned_key": {"S": "2033#x"},
                }
            ).encode()
        ).decode(),
    }
    for name, cursor in forged.items():
        for path, params in (("/recycle-bin", {}), ("/customers", {"account": "north"})):
            # When a page is asked from it
            answer = api_call(stack, org, "GET", path, cursor=cursor, **params)
            # Then the answer is 400, saying so, as DynamoDB would refuse such a start key
            assert answer.status_code == 400, (name, path, answer.text)
            assert answer.json()["message"] == "The cursor is not one this API handed out"


# ---- the CLI ----------------------------------------------------------------------------------


def test_customers_of_an_account_are_its_live_ones(driver, stack, org, tmp_path) -> None:
    # Given a live and a binned customer of north, and a live one of south
    live = seeded(driver, org, "1", binned_at=None)
    seeded(driver, org, "2", binned_at="2034-03-01T10:00:00.000+00:00")
    seeded(driver, org, "3", binned_at=None, account="south")
    state_file = running(stack, tmp_path)
    # When north's customers are listed, as JSON and as text
    as_json = cli(["customers", "--org", org, "--account", "north", "--json"], state_file, tmp_path)
    text = cli(["customers", "--org", org, "--account", "north"], state_file, tmp_path)
    # Then only its live customer is, with its id, account and version
    assert as_json.returncode == 0, as_json.stderr
    [customer] = json.loads(as_json.stdout)
    assert (customer["customer_id"], customer["account"], customer["version"]) == (
        live.customer_id,
        "north",
        1,
    )
    assert text.returncode == 0, text.stderr
    assert live.customer_id in text.stdout
    assert f"1 customers in account north of {org}" in text.stdout


def test_bin_list_shows_the_columns_and_bin_restore_brings_a_customer_back(
    driver, stack, org, tmp_path
) -> None:
    # Given a binned customer of north, one of south, and a running stack
    north = seeded(driver, org, "1", binned_at="2034-03-01T10:00:00.000+00:00")
    south = seeded(driver, org, "2", binned_at="2034-03-02T10:00:00.000+00:00", account="south")
    state_file = running(stack, tmp_path)
    # When the bin is listed, as text, for north as JSON, and for the whole organisation
    text = cli(["bin", "list", "--org", org], state_file, tmp_path)
    north_json = cli(
        ["bin", "list", "--org", org, "--account", "north", "--json"], state_file, tmp_path
    )
    # Then the text has the columns, newest binned first, and the count
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0].split() == [
        "customer_id",
        "external_customer_number",
        "account",
        "deleted_at",
        "purge_after",
    ]
    assert lines[1].split() == [
        south.customer_id,
        "2",
        "south",
        "2034-03-02T10:00:00.000+00:00",
        "2034-03-17",
    ]
    assert lines[2].split()[0] == north.customer_id
    assert f"2 customers in the recycle bin of {org}" in text.stdout
    # And the JSON of north holds north's only, with every column
    [entry] = json.loads(north_json.stdout)
    assert {k: entry[k] for k in ("customer_id", "account", "purge_after")} == {
        "customer_id": north.customer_id,
        "account": "north",
        "purge_after": "2034-03-16",
    }
    # When north's customer is restored, and restored again
    restored = cli(["bin", "restore", north.customer_id, "--org", org], state_file, tmp_path)
    again = cli(["bin", "restore", north.customer_id, "--org", org], state_file, tmp_path)
    # Then it is live in north, out of the bin; the second restore is refused, exit 1
    assert restored.returncode == 0, restored.stderr
    assert (
        f"Restored customer {north.customer_id} (1 Customer 1) to account north" in restored.stdout
    )
    assert again.returncode == 1
    assert "is not in the recycle bin" in again.stderr and "HTTP 409" in again.stderr
    left = cli(["bin", "list", "--org", org, "--account", "north"], state_file, tmp_path)
    assert f"The recycle bin of account north of {org} is empty." in left.stdout


def test_bin_restore_of_a_taken_number_or_an_unknown_customer_says_why(
    driver, stack, org, tmp_path
) -> None:
    # Given a binned customer whose number a live one of its account took since
    binned = seeded(driver, org, "5", binned_at="2034-03-01T10:00:00.000+00:00")
    taker = seeded(driver, org, "5", binned_at=None)
    state_file = running(stack, tmp_path)
    # When it is restored, and so is a customer nobody has, and an id that is not one
    taken = cli(["bin", "restore", binned.customer_id, "--org", org], state_file, tmp_path)
    unknown = cli(["bin", "restore", new_customer_id(), "--org", org], state_file, tmp_path)
    malformed = cli(["bin", "restore", "not-an-id", "--org", org], state_file, tmp_path)
    # Then each exits 1 with the reason
    assert taken.returncode == 1
    assert "external number 5" in taken.stderr and taker.customer_id in taken.stderr
    assert unknown.returncode == 1 and "not found" in unknown.stderr
    assert malformed.returncode == 1 and "HTTP 422" in malformed.stderr


def test_bin_list_prints_markup_and_escapes_in_a_number_as_text(
    driver, stack, org, tmp_path
) -> None:
    # Given a binned customer whose external number holds markup and an escape sequence
    seeded(driver, org, "[/]\x1b[31mred", binned_at="2034-03-01T10:00:00.000+00:00")
    # When the bin is listed
    text = cli(["bin", "list", "--org", org], running(stack, tmp_path), tmp_path)
    # Then it is printed as the characters it holds, the escape shown, not obeyed
    assert text.returncode == 0, text.stderr
    assert "[/]\\x1b[31mred" in text.stdout and "\x1b" not in text.stdout
