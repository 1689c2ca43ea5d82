"""Transfers between accounts on the local stack (issue #17, design §5.5), through the CLI and
the HTTP API as a person runs them: smith's customers moved to jones with their activities,
copied to brown with new ids, moved out of smith's recycle bin (the portatour ordering case);
403 without customers.transfer, 422 for an insert or a key that is not the ids."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from customer_import.access import CAPABILITIES, CUSTOMERS_ACCESS, IMPORT_MANAGE
from customer_import_local.api_client import ApiClient
from customer_import_local.tokens import local_token

from tests.e2e.test_cli import cli, running
from tests.unit.techman_files import customers, techman_csv

NUMBERS = [str(1000 + i) for i in range(20)]  # the external numbers of `customers(20)`


class Smith:
    """20 customers imported into account smith through the CLI, 2 activities on 5 of them."""

    def __init__(self, stack, org: str, tmp_path: Path) -> None:
        self.stack, self.org, self.tmp_path = stack, org, tmp_path
        self.state_file = running(stack, tmp_path)
        self.rows = customers(20)
        ran = self.run("smith.csv", self.rows, "smith", "--mode", "update")
        assert ran["created"] == 20, ran
        self.ids = self.numbers("smith")
        # Through the API, not the CLI: a CLI run is a process of its own, ~1 s each (the
        # CLI's `activities add` has its own test).
        api = ApiClient(stack.endpoints.api_url, local_token(org, "tester", CAPABILITIES))
        for number in NUMBERS[:5]:
            for day in ("2026-11-20", "2026-11-27"):
                api.add_activity(self.ids[number], "call_block", day, f"Call {number}")

    def cli(self, *args: str):  # type: ignore[no-untyped-def]
        return cli([*args, "--org", self.org], self.state_file, self.tmp_path)

    def run(self, name: str, rows: list, account: str, *args: str) -> dict:
        path = self.tmp_path / name
        path.write_bytes(techman_csv(rows))
        ran = self.cli("run", str(path), "--account", account, "--json", *args)
        assert ran.returncode == 0, ran.stderr
        result: dict = json.loads(ran.stdout)
        return result

    def preview(self, name: str, rows: list, account: str, *args: str) -> dict:
        path = self.tmp_path / name
        path.write_bytes(techman_csv(rows))
        shown = self.cli("preview", str(path), "--account", account, "--json", *args)
        assert shown.returncode == 0, shown.stderr
        document: dict = json.loads(shown.stdout)
        return document

    def listed(self, account: str) -> list[dict]:
        found = self.cli("customers", "--account", account, "--json")
        assert found.returncode == 0, found.stderr
        customers_: list[dict] = json.loads(found.stdout)
        return customers_

    def numbers(self, account: str) -> dict[str, str]:
        """The account's live customers: external number -> customer id."""
        return {c["external_customer_number"]: c["customer_id"] for c in self.listed(account)}

    def activities(self, customer_id: str) -> list[dict]:
        found = self.cli("activities", "list", customer_id, "--json")
        assert found.returncode == 0, found.stderr
        listed: list[dict] = json.loads(found.stdout)
        return listed


def test_a_move_with_related_records_takes_8_of_smiths_customers_to_jones(
    stack, org, tmp_path
) -> None:
    # Given smith's 20 customers, 5 of them with 2 activities, and jones's file of 8 of them
    smith = Smith(stack, org, tmp_path)
    eight = smith.rows[:8]
    move = ("--mode", "update", "--transfer", "move", "--with-related")

    # When jones previews the file, moving them with their related records
    preview = smith.preview("jones.csv", eight, "jones", *move)

    # Then the preview says 8 will come from smith, none from its recycle bin, each named
    assert preview["transfers"] == [
        {
            "from_account": "smith",
            "from_recycle_bin": False,
            "customers": 8,
            "copied": 0,
            "moved": 8,
        }
    ]
    assert preview["counts"]["moved"] == 8 and preview["counts"]["created"] == 0
    assert {c["planned"]["from_account"] for c in preview["customers"]} == {"smith"}

    # When jones runs it
    ran = smith.run("jones.csv", eight, "jones", *move)

    # Then smith has 12, jones the 8 with the same ids and their activities, now jones's
    assert ran["moved"] == 8 and ran["imported"] == 8, ran
    assert len(smith.numbers("smith")) == 12
    jones = smith.listed("jones")
    assert {c["external_customer_number"]: c["customer_id"] for c in jones} == {
        number: smith.ids[number] for number in NUMBERS[:8]
    }
    assert sum(c["activities"] for c in jones) == 10
    moved = smith.activities(smith.ids[NUMBERS[0]])
    assert [a["account"] for a in moved] == ["jones", "jones"]

    # When brown copies 3 of smith's remaining customers
    copied = smith.run(
        "brown.csv", smith.rows[8:11], "brown", "--mode", "update", "--transfer", "copy"
    )
    # Then brown has new customers, smith (and jones) keep theirs untouched
    assert copied["copied"] == 3, copied
    brown = smith.numbers("brown")
    assert len(brown) == 3 and not set(brown.values()) & set(smith.ids.values())
    assert len(smith.numbers("smith")) == 12 and len(smith.numbers("jones")) == 8


def test_customers_a_sync_binned_in_smith_are_moved_out_of_its_recycle_bin_by_jones(
    stack, org, tmp_path
) -> None:
    # Given smith's 20 customers, and smith's sync of a file without 3 of them (binned)
    smith = Smith(stack, org, tmp_path)
    synced = smith.run("smith-sync.csv", smith.rows[3:], "smith", "--mode", "sync")
    assert synced["deleted"] == 3, synced

    # When jones imports those 3, moving them with their related records
    three = smith.rows[:3]
    move = ("--mode", "update", "--transfer", "move", "--with-related")
    preview = smith.preview("jones.csv", three, "jones", *move)
    ran = smith.run("jones.csv", three, "jones", *move)

    # Then they were found in smith's recycle bin and are jones's, live, with their activities
    assert preview["transfers"] == [
        {"from_account": "smith", "from_recycle_bin": True, "customers": 3, "copied": 0, "moved": 3}
    ]
    assert ran["moved"] == 3, ran
    assert smith.numbers("jones") == {n: smith.ids[n] for n in NUMBERS[:3]}
    for number in NUMBERS[:3]:
        assert [a["account"] for a in smith.activities(smith.ids[number])] == ["jones", "jones"]
    binned = smith.cli("bin", "list", "--account", "smith", "--json")
    assert json.loads(binned.stdout) == []


def _create(stack, org: str, body: dict, capabilities=(IMPORT_MANAGE, CUSTOMERS_ACCESS)):
    return requests.post(
        f"{stack.endpoints.api_url}/imports",
        json={"source": "techman", "file_name": "f.csv", "size": 10, **body},
        headers={"Authorization": f"Bearer {local_token(org, 'alice', capabilities)}"},
        timeout=30,
    )


def test_a_transfer_needs_the_capability_an_update_mode_and_a_key_of_ids(stack, org) -> None:
    # Given / When alice, without customers.transfer, asks for a moving update
    forbidden = _create(stack, org, {"mode": "update", "transfer": "move"})
    # Then 403 names the capability
    assert forbidden.status_code == 403, forbidden.text
    assert "customers.transfer" in forbidden.json()["message"]

    # When an insert asks to copy, or an update keys by something that is not an id
    insert = _create(stack, org, {"mode": "insert", "transfer": "copy"})
    by_email = _create(stack, org, {"mode": "update", "key": "email", "transfer": "copy"})
    # Then 422 names the rule
    assert insert.status_code == 422, insert.text
    assert "needs mode update or sync" in insert.json()["message"]
    assert by_email.status_code == 422, by_email.text
    assert "'external', 'internal' or 'both'" in by_email.json()["message"]


def _move_options():  # type: ignore[no-untyped-def]
    from customer_import.changes.rules import Mode, Transfer
    from customer_import.jobs import JobOptions

    return JobOptions(
        auto_run=True, mode=Mode.UPDATE, transfer=Transfer.MOVE, transfer_related=True
    )


# Where a move's batch can be cut off: before its transaction, right after it (before the
# activities), between the activities and the batch's record, and at the record itself.
STEPS = {
    "before the transaction": ("customers", "save", "before"),
    "after the transaction": ("customers", "save", "after"),
    "amid the activities": ("activities", "reassign", "after"),
    "at the batch's record": ("jobs", "record_batch", "before"),
}


@pytest.mark.parametrize("step", list(STEPS))
@pytest.mark.parametrize("error", ["TransientImportError", "RuntimeError"])
def test_a_move_cut_off_at_any_step_leaves_every_customer_in_one_account_with_its_records(
    driver, org, monkeypatch, step: str, error: str
) -> None:
    from customer_import.adapters.activities_dynamo import DynamoActivityRepository
    from customer_import.adapters.customers_dynamo import DynamoCustomerRepository
    from customer_import.adapters.dynamo import DynamoJobStore
    from customer_import.customers.activities import Activity
    from customer_import.errors import TransientImportError

    # Given smith's 6 customers with 2 activities each
    rows = customers(6)
    first = driver.run(org, techman_csv(rows), account="smith", options=_move_options())
    assert first.status == "completed", first
    repository, activities = driver.components.customer_repository, driver.components.activities
    smith = {k.external_customer_number: k.customer_id for k in repository.live_keys(org, "smith")}
    for number, customer_id in smith.items():
        for day in ("2026-11-20", "2026-11-27"):
            activities.add(
                Activity.new(
                    org_id=org,
                    customer_id=customer_id,
                    account_id="smith",
                    kind="report",
                    day=day,
                    text=f"Visit {number}",
                    author="alice",
                    now=datetime.now(UTC),
                )
            )
    # And the batch moving 4 of them to jones cut off once at the step (a transient error the
    # state machine retries, or a failure it records, which `retry` writes again)
    port, name, when = STEPS[step]
    target = {
        "customers": DynamoCustomerRepository,
        "activities": DynamoActivityRepository,
        "jobs": DynamoJobStore,
    }[port]
    original = getattr(target, name)
    cut = {"done": False}

    def once(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if cut["done"] or (port == "customers" and not kwargs and not args[0]):
            return original(self, *args, **kwargs)
        if when == "after":
            original(self, *args, **kwargs)
        cut["done"] = True
        raise (TransientImportError if error == "TransientImportError" else RuntimeError)(step)

    monkeypatch.setattr(target, name, once)

    # When jones imports them, moving them with their related records, then retries what failed
    job = driver.run(org, techman_csv(rows[:4]), account="jones", options=_move_options())
    monkeypatch.setattr(target, name, original)
    if job.counter("failed"):
        driver.components.pipeline.retry_failed(org, job.job_id, "tester")
        job = driver.wait_for(org, job.job_id, {"completed", "completed_with_errors"})

    # Then it was cut off, and every customer is in exactly one account, with its records
    assert cut["done"]
    assert (job.status, job.counter("moved"), job.counter("failed")) == ("completed", 4, 0), job
    jones = {k.external_customer_number: k.customer_id for k in repository.live_keys(org, "jones")}
    left = {k.external_customer_number: k.customer_id for k in repository.live_keys(org, "smith")}
    assert jones == {n: smith[n] for n in NUMBERS[:4]}
    assert left == {n: smith[n] for n in NUMBERS[4:6]}
    assert not list(repository.binned_page(org, None, 10, None)[0])
    for number, customer_id in smith.items():
        page, _ = activities.list_for_customer(customer_id, 10, None)
        account = "jones" if number in jones else "smith"
        assert [a.account_id for a in page] == [account, account], number
    assert repository.find_by_external(org, "smith", NUMBERS[:4]) == {}
