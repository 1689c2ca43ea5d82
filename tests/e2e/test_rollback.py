"""Rolling imports back on the local stack (issue #18): through the API, the RollbackImport
state machine and its handlers, followed by the CLI: a merge import with a customer edited
since (the dry run foretells the conflict, the rollback leaves it and reports it in a
spreadsheet-safe CSV), an update+sync whose binned customers live again, and a move whose
customers go back to their account with their activities; a second request is refused."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime

import requests
from customer_import.access import IMPORT_MANAGE
from customer_import.changes.rules import Mode, Transfer
from customer_import.customers.activities import Activity
from customer_import.jobs import DuplicatePolicy, JobOptions
from customer_import_local.tokens import local_token

from tests.e2e.test_cli import cli, running
from tests.unit.techman_files import customers, row, techman_csv


def _numbers(driver, org: str, account: str = "main") -> dict[str, str]:
    repository = driver.components.customer_repository
    return {k.external_customer_number: k.customer_id for k in repository.live_keys(org, account)}


def _rollback(stack, org: str, job_id: str, **body):  # type: ignore[no-untyped-def]
    return requests.post(
        f"{stack.endpoints.api_url}/imports/{job_id}/rollback",
        json=body,
        headers={"Authorization": f"Bearer {local_token(org, 'alice', [IMPORT_MANAGE])}"},
        timeout=60,
    )


def test_a_merge_import_is_rolled_back_but_for_the_customer_edited_since(
    driver, stack, org, tmp_path
) -> None:
    # Given 10 stored customers, then a file of 15 merging into 5 of them (landlines filled)
    first = driver.run(org, techman_csv(customers(10)))
    assert first.status == "completed"
    before = driver.components.customer_repository.get_many(org, _numbers(driver, org).values())
    rows = [
        row(str(1000 + i), f"Customer{i} Person", PhoneLandline=f"0113 496 000{i}")
        for i in range(5)
    ] + [row(str(5000 + i), f"Newcomer{i} Person") for i in range(10)]
    merged = driver.run(
        org,
        techman_csv(rows),
        decision=None,
        options=JobOptions(auto_run=True, on_duplicate=DuplicatePolicy.MERGE),
    )
    assert (merged.counter("created"), merged.counter("merged")) == (10, 5), merged.counters
    # And what it did, read through the CLI: 10 created, 5 merged with their landlines
    state_file = running(stack, tmp_path)
    listed = cli(["changes", merged.job_id, "--org", org, "--json"], state_file, tmp_path)
    assert listed.returncode == 0, listed.stderr
    changes = json.loads(listed.stdout)
    assert Counter(c["action"] for c in changes) == {"created": 10, "merged": 5}
    [change] = [c for c in changes if c["external_customer_number"] == "1002"]
    assert {"field": "landline", "before": None, "after": "+441134960002"} in change["fields"]
    # And one merged customer edited by a person since, through the CLI (PATCH)
    repository = driver.components.customer_repository
    edited = repository.get(org, _numbers(driver, org)["1002"])
    assert edited is not None
    edit = ["edit", edited.customer_id, "--set", "name==Edited By Hand", "--org", org]
    by_hand = cli([*edit, "--version", str(edited.version), "--json"], state_file, tmp_path)
    assert by_hand.returncode == 0, by_hand.stderr
    assert json.loads(by_hand.stdout)["version"] == edited.version + 1
    # And an edit from the version read before is refused, saying why
    stale = cli([*edit, "--version", str(edited.version)], state_file, tmp_path)
    assert stale.returncode == 1 and "changed since it was read" in stale.stderr, stale.stderr
    bad = cli(["edit", edited.customer_id, "--set", "phone=12", "--org", org], state_file, tmp_path)
    assert bad.returncode == 1 and "phone: Phone normalisation failed" in bad.stderr, bad.stderr

    # When a dry run is asked through the API
    dry = _rollback(stack, org, merged.job_id, dry_run=True)
    # Then it says what the rollback would undo, and the one conflict, writing nothing
    assert dry.status_code == 200, dry.text
    plan = dry.json()
    assert (plan["reverted"]["created"], plan["reverted"]["merged"], plan["conflicts"]) == (
        10,
        4,
        1,
    )
    assert [c["external_customer_number"] for c in plan["conflict_list"]] == ["1002"]
    assert len(_numbers(driver, org)) == 20

    # When the rollback runs through the CLI
    ran = cli(["rollback", merged.job_id, "--org", org, "--json"], state_file, tmp_path)
    assert ran.returncode == 0, ran.stderr
    summary = json.loads(ran.stdout)

    # Then every created customer is gone, the merges undone but the edited one, reported
    assert summary["status"] == "rolled_back_with_conflicts"
    assert summary["reverted"]["created"] == 10 and summary["reverted"]["merged"] == 4
    assert summary["conflicts"] == 1
    assert set(_numbers(driver, org)) == {str(1000 + i) for i in range(10)}
    now = repository.get_many(org, _numbers(driver, org).values())
    for customer_id, stored in before.items():
        if stored.external_customer_number != "1002":
            assert now[customer_id].fields == stored.fields
    assert now[edited.customer_id].value("name") == "=Edited By Hand"
    conflicts = (tmp_path / summary["conflict_log"]).read_text(encoding="utf-8")
    assert "1002" in conflicts and "put back the values the merge filled" in conflicts
    # And a second rollback is refused with why
    again = _rollback(stack, org, merged.job_id)
    assert again.status_code == 409, again.text
    assert "only a completed import can be rolled back, once" in again.json()["message"]


def test_a_sync_and_a_move_rolled_back_put_binned_and_moved_customers_back(driver, org) -> None:
    # Given smith's 6 customers with an activity each
    smith_rows = customers(6)
    driver.run(org, techman_csv(smith_rows), account="smith")
    smith = _numbers(driver, org, "smith")
    for customer_id in smith.values():
        driver.components.activities.add(
            Activity.new(
                org_id=org,
                customer_id=customer_id,
                account_id="smith",
                kind="report",
                day="2026-11-30",
                text="Visit",
                author="alice",
                now=datetime.now(UTC),
            )
        )
    # And smith's sync without 1004 and 1005 (binned), then jones's move of 1000 and 1001
    sync = driver.run(
        org,
        techman_csv(smith_rows[:4]),
        decision=None,
        options=JobOptions(auto_run=True, mode=Mode.SYNC, max_delete_percent=50),
        account="smith",
    )
    assert sync.counter("deleted") == 2, sync.counters
    move = driver.run(
        org,
        techman_csv(smith_rows[:2]),
        decision=None,
        options=JobOptions(
            auto_run=True, mode=Mode.UPDATE, transfer=Transfer.MOVE, transfer_related=True
        ),
        account="jones",
    )
    assert move.counter("moved") == 2, move.counters

    # When the move, then the sync, are rolled back
    pipeline = driver.components.pipeline
    for job in (move, sync):
        pipeline.rollback(org, job.job_id, "alice")
        done = driver.wait_for(org, job.job_id, {"rolled_back", "rolled_back_with_conflicts"})
        assert done.status == "rolled_back", done.counters

    # Then smith holds all 6 again, the moved ones with their activities, none binned
    assert _numbers(driver, org, "smith") == smith
    assert _numbers(driver, org, "jones") == {}
    for customer_id in smith.values():
        page, _ = driver.components.activities.list_for_customer(customer_id, 10, None)
        assert [a.account_id for a in page] == ["smith"]
    binned, _ = driver.components.customer_repository.binned_page(org, None, 10, None)
    assert binned == []
