"""Possible duplicates through the real state machine, DynamoDB and the CLI (issue 4)."""

from __future__ import annotations

import json

from tests.e2e.test_cli import cli, running
from tests.unit.techman_files import customers, row, techman_csv
from tests.unit.test_duplicates import second_file


def stored_by_number(driver, org: str) -> dict[str, dict]:
    return {c["external_customer_number"]: c for c in driver.customers(org)}


def test_merge_through_the_state_machine_fills_gaps_and_adds_vehicles_only(driver, org) -> None:
    # Given a stored customer with no landline and one vehicle
    first = driver.run(org, techman_csv([row("1000", "Ann Lee", VehicleRegistration="AB12CDE")]))
    assert first.status == "completed"
    # When a file matching her by email (other name, a landline, her vehicle again, a new one)
    # and repeating itself inside the file is imported with merge
    incoming = [
        row("9", "Annie Smith", Email="ann@example.com", PhoneLandline="020 7946 0000"),
        row("9", "Annie Smith", Email="ann@example.com", VehicleRegistration="ab12 cde"),
        row("10", "Bo Smith", Email="bo@example.com", VehicleRegistration="BO51ABC"),
        row("11", "Bo Smith", Email="bo@example.com", VehicleRegistration="XY65ZZZ"),
    ]
    job = driver.run(org, techman_csv(incoming), decision="merge")
    # Then the job counts one created and two merged (one into the stored customer, one into
    # the file's earlier customer, written by the Map that runs after the others): three
    # customers whose stored record now reflects the file
    assert job.status == "completed"
    assert job.counter("duplicates") == 2
    assert (
        job.counter("imported"),
        job.counter("created"),
        job.counter("merged"),
        job.counter("failed"),
    ) == (3, 1, 2, 0)
    stored = stored_by_number(driver, org)
    assert sorted(stored) == ["10", "1000"]
    # And Ann kept her name and phone, gained the landline, and her vehicle was not doubled
    ann = stored["1000"]
    assert ann["name"] == "Ann Lee" and ann["phone"] == "+447712001000"
    assert ann["landline"] == "+442079460000"
    assert [v["registration"] for v in ann["vehicles"]] == ["AB12CDE"]
    # And Bo has both vehicles
    assert sorted(v["registration"] for v in stored["10"]["vehicles"]) == ["BO51ABC", "XY65ZZZ"]


def test_reimporting_the_same_file_with_skip_imports_nothing(driver, org) -> None:
    content = techman_csv(customers(150))
    assert driver.run(org, content).counter("imported") == 150
    again = driver.run(org, content, decision="skip")
    assert again.status == "completed"
    assert again.counter("duplicates") == 150
    assert (again.counter("imported"), again.counter("skipped_duplicates")) == (0, 150)
    assert len(driver.customers(org)) == 150


def test_run_with_a_default_prints_the_counts(driver, stack, org, tmp_path) -> None:
    # Given six stored customers and a second file overlapping them (see `second_file`)
    driver.run(org, techman_csv(customers(6)))
    path = tmp_path / "second.csv"
    path.write_bytes(techman_csv(second_file()))
    # When it is imported with --on-duplicate merge
    result = cli(
        ["run", str(path), "--org", org, "--on-duplicate", "merge", "--json"],
        running(stack, tmp_path),
        tmp_path,
    )
    # Then the JSON says what happened to each kind of customer
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    keys = ("duplicates", "imported", "created", "merged", "skipped_duplicates")
    assert {k: summary[k] for k in keys} == {
        "duplicates": 5,
        "imported": 6,
        "created": 1,
        "merged": 5,
        "skipped_duplicates": 0,
    }
    assert len(driver.customers(org)) == 7


def test_review_asks_per_customer_and_all_remaining(driver, stack, org, tmp_path) -> None:
    # Given six stored customers and a second file overlapping them
    driver.run(org, techman_csv(customers(6)))
    path = tmp_path / "second.csv"
    path.write_bytes(techman_csv(second_file()))
    # When a person reviews: skip the first, merge the second, create the third, merge the rest
    result = cli(
        ["run", str(path), "--org", org, "--review", "--json"],
        running(stack, tmp_path),
        tmp_path,
        answers="s\nm\nc\nM\n",
    )
    # Then each flagged customer was shown beside what it matches, and the answers counted
    assert result.returncode == 0, result.stderr
    assert "[1/5] row 2: 2000 · Different Name" in result.stderr
    assert "matches a stored customer: 1000 · Customer0 Person" in result.stderr
    assert "on email (high confidence)" in result.stderr
    assert "on name (low confidence)" in result.stderr
    summary = json.loads(result.stdout)
    keys = ("imported", "created", "merged", "skipped_user", "failed")
    assert {k: summary[k] for k in keys} == {
        "imported": 5,
        "created": 2,
        "merged": 3,
        "skipped_user": 1,
        "failed": 0,
    }


def test_hold_then_decide_answers_a_waiting_job(driver, stack, org, tmp_path) -> None:
    # Given a job left waiting for its decision
    driver.run(org, techman_csv(customers(6)))
    path = tmp_path / "second.csv"
    path.write_bytes(techman_csv(second_file()))
    state_file = running(stack, tmp_path)
    held = cli(["run", str(path), "--org", org, "--hold", "--json"], state_file, tmp_path)
    assert held.returncode == 0, held.stderr
    job = json.loads(held.stdout)
    assert (job["status"], job["duplicates"]) == ("ready", 5)
    # When a decision leaves a flagged customer out, it is refused and changes nothing
    refused = cli(
        ["decide", job["job_id"], "--org", org, "--set", "2000=merge"], state_file, tmp_path
    )
    assert refused.returncode == 1
    assert "No decision for 4 flagged customer(s): 2001, 2002, 2003, 2005" in refused.stderr
    # And the duplicates can be listed
    listed = cli(["duplicates", job["job_id"], "--org", org, "--json"], state_file, tmp_path)
    assert json.loads(listed.stdout)["total"] == 5
    # And a complete decision imports it
    decided = cli(
        ["decide", job["job_id"], "--org", org, "--default", "skip", "--set", "2001=merge"],
        state_file,
        tmp_path,
    )
    assert decided.returncode == 0, decided.stderr
    assert (
        "imported 2 (created 1 · updated 0 · merged 1 · restored 0) · unchanged 0 · binned 0"
        " · skipped (duplicates) 4 · skipped (your choice) 0" in decided.stderr
    )
    # And deciding again is refused
    again = cli(["decide", job["job_id"], "--org", org, "--default", "skip"], state_file, tmp_path)
    assert again.returncode == 1
    assert "a decision is only accepted while it is ready" in again.stderr
