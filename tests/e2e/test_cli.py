"""`customer-import` as a person runs it, in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT
from tests.unit.techman_files import HEADER, customers, row, techman_csv

CLI = [sys.executable, "-m", "customer_import_local.cli"]
JSON_KEYS = [
    "job_id",
    "status",
    "rows",
    "customers",
    "imported",
    "created",
    "updated",
    "unchanged",
    "merged",
    "deleted",
    "restored",
    "copied",
    "moved",
    "skipped_duplicates",
    "skipped_user",
    "failed",
    "duplicates",
    "vehicles",
    "missing_columns",
    "reason",
    "error_log",
]


def cli(
    args: list[str], state_file: Path, cwd: Path, answers: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `customer-import ARGS` against the stack in STATE_FILE, typing ANSWERS at prompts."""
    env = {**os.environ, "CUSTOMER_IMPORT_STATE_FILE": str(state_file)}
    return subprocess.run(
        [*CLI, *args],
        env=env,
        cwd=cwd,
        input=answers,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def running(stack, tmp_path: Path) -> Path:
    """Given the test's stack written where `local up` writes its endpoints."""
    state_file = tmp_path / "stack.json"
    state_file.write_text(stack.endpoints.to_json())
    return state_file


def test_run_imports_a_file_and_prints_the_summary_as_json(driver, stack, org, tmp_path) -> None:
    # Given a running stack and a file with a customer on two rows and one bad phone
    path = tmp_path / "garage.csv"
    path.write_bytes(
        techman_csv(
            [
                row("1", "Ann Lee", VehicleRegistration="AB12 CDE"),
                row("1", "Ann Lee", VehicleRegistration="CD34 EFG"),
                row("2", "Bob Hall"),
                row("3", "Cy Bad", Phone="+44 nope"),
            ]
        )
    )
    # When a person runs the import with --json
    result = cli(["run", str(path), "--org", org, "--json"], running(stack, tmp_path), tmp_path)
    # Then it exits 0 and prints one object with exactly the promised keys
    assert result.returncode == 0, result.stderr
    [line] = result.stdout.splitlines()
    summary = json.loads(line)
    assert list(summary) == JSON_KEYS
    assert summary["status"] == "completed_with_errors"
    assert {k: summary[k] for k in ("rows", "customers", "imported", "failed", "vehicles")} == {
        "rows": 4,
        "customers": 3,
        "imported": 2,
        "failed": 1,
        "vehicles": 2,
    }
    assert summary["missing_columns"] == []
    # And the error log was downloaded, naming the row, the column and the reason
    error_log = (tmp_path / summary["error_log"]).read_text()
    assert "5,Phone,Phone normalisation failed,3,Cy Bad,'+44 nope" in error_log
    assert ",+44 nope" not in error_log  # escaped: a spreadsheet would read it as a formula
    # And the customers are in the running stack's tables
    assert sorted(c["external_customer_number"] for c in driver.customers(org)) == ["1", "2"]


def test_a_file_without_email_exits_2_and_names_the_column(driver, stack, org, tmp_path) -> None:
    # Given a Techman export without the Email column
    path = tmp_path / "no-email.csv"
    path.write_bytes(techman_csv(customers(3), [c for c in HEADER if c != "Email"]))
    state_file = running(stack, tmp_path)
    # When it is run, with and without --json
    as_json = cli(["run", str(path), "--org", org, "--json"], state_file, tmp_path)
    as_text = cli(["run", str(path), "--org", org], state_file, tmp_path)
    # Then both exit 2; the JSON lists Email as missing, the message names it
    assert (as_json.returncode, as_text.returncode) == (2, 2)
    assert json.loads(as_json.stdout)["missing_columns"] == ["Email"]
    assert json.loads(as_json.stdout)["status"] == "rejected"
    assert "Missing required columns: Email" in as_text.stderr
    # And nothing was written to the customer tables
    assert driver.customers(org) == []


def test_without_a_running_stack_the_command_brings_its_own(tmp_path) -> None:
    # Given no running stack, a good file and a file without Email, given together
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_bytes(techman_csv(customers(3)))
    bad.write_bytes(techman_csv(customers(1), [c for c in HEADER if c != "Email"]))
    # When both are run in one command
    result = cli(["run", str(good), str(bad), "--json"], tmp_path / "absent.json", tmp_path)
    # Then each got its line from one embedded stack, and the rejection sets the exit code
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(s["status"], s["imported"]) for s in lines] == [("completed", 3), ("rejected", 0)]
    assert result.returncode == 2, result.stderr


def test_stopping_the_stack_leaves_no_thread_port_or_execution_running(tmp_path) -> None:
    # Given a stack with an execution waiting for a decision (a blocked callback)
    script = tmp_path / "stop.py"
    script.write_text(
        """
import json, socket, threading, time, requests
from customer_import.jobs import JobOptions
from customer_import_local.stack import LocalStack
from customer_import_local.session import components
from tests.unit.techman_files import customers, techman_csv

stack = LocalStack()
endpoints = stack.start()
created = components().pipeline.create_upload("o", "main", "techman", "f.csv", JobOptions(), "t")
requests.post(created.post["url"], data=created.post["fields"], files={"file": ("f.csv", techman_csv(customers(2)))})
while components().pipeline.job("o", created.job.job_id).status != "ready":
    time.sleep(0.05)
stack.stop()
ports = [int(url.rsplit(":", 1)[1]) for url in (endpoints.endpoint_url, endpoints.websocket_url, endpoints.api_url)]
def open_port(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0
print(json.dumps({"threads": [t.name for t in threading.enumerate()], "open_ports": [p for p in ports if open_port(p)]}))
"""
    )
    # When it is stopped
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # Then only the main thread is left and every port is closed
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == {
        "threads": ["MainThread"],
        "open_ports": [],
    }


def test_preview_is_a_dry_run_showing_cleaned_values_and_counts(
    driver, stack, org, tmp_path
) -> None:
    # Given a running stack and a file with a bad phone and a messy phone
    path = tmp_path / "preview.csv"
    path.write_bytes(
        techman_csv(
            [row("1", "Ann Lee", Phone="+44 (0)7712 345678"), row("2", "Bob Bad", Phone="123")]
        )
    )
    state_file = running(stack, tmp_path)
    # When a person previews it, as JSON and as a table
    as_json = cli(["preview", str(path), "--org", org, "--json"], state_file, tmp_path)
    as_table = cli(["preview", str(path), "--org", org, "--changes"], state_file, tmp_path)
    # Then the JSON has the counts and each customer with its changes and errors
    assert as_json.returncode == 0, as_json.stderr
    document = json.loads(as_json.stdout)
    assert document["counts"] == {
        "rows": 2,
        "customers": 2,
        "vehicles": 0,
        "rows_with_warnings": 0,
        "rows_failing": 1,
        "customers_failing": 1,
        "duplicates": 0,
    }
    ann, bob = document["customers"]
    assert ann["phone"] == "+447712345678"
    assert {
        "row": 2,
        "column": "Phone",
        "original": "+44 (0)7712 345678",
        "cleaned": "+447712345678",
    } in ann["changes"]
    assert bob["errors"] == [{"row": 3, "column": "Phone", "reason": "Phone normalisation failed"}]
    # And the table shows the same, saying nothing was written
    assert as_table.returncode == 0, as_table.stderr
    assert "+447712345678" in as_table.stdout and "Phone normalisation failed" in as_table.stdout
    assert "row 2 Phone: '+44 (0)7712 345678' → '+447712345678'" in as_table.stdout
    assert "nothing was written" in as_table.stdout
    # And indeed no customer exists
    assert driver.customers(org) == []


def test_preview_of_a_file_that_would_be_rejected_exits_2(stack, org, tmp_path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    result = cli(["preview", str(path), "--org", org], running(stack, tmp_path), tmp_path)
    assert result.returncode == 2
    assert "would be rejected: The file is empty" in result.stderr


def test_customers_lists_what_was_imported_with_every_field(driver, stack, org, tmp_path) -> None:
    # Given an imported customer with a vehicle
    driver.run(
        org,
        techman_csv(
            [
                row("77", "Ann Lee", VehicleRegistration="ab12 cde", VehicleMake="Ford"),
                row("78", "Bob Hall"),
            ]
        ),
    )
    # When a person looks them up by external number
    result = cli(
        ["customers", "--org", org, "--external-number", "77", "--json"],
        running(stack, tmp_path),
        tmp_path,
    )
    # Then exactly that customer comes back with every promised field, absent ones as null
    assert result.returncode == 0, result.stderr
    [customer] = json.loads(result.stdout)
    promised = {
        "customer_id",
        "external_customer_number",
        "account_id",
        "name",
        "email",
        "phone",
        "landline",
        "credit_hold",
        "customer_group",
        "notification_preferences",
        "date_created",
        "addresses",
        "vehicles",
    }
    assert promised <= set(customer)
    assert (customer["external_customer_number"], customer["landline"], customer["email"]) == (
        "77",
        None,
        "ann@example.com",
    )
    [address] = customer["addresses"]
    assert set(address) == {
        "type",
        "line1",
        "line2",
        "line3",
        "town",
        "county",
        "postcode",
        "country",
    }
    [vehicle] = customer["vehicles"]
    assert set(vehicle) == {
        "registration",
        "make",
        "model",
        "vin",
        "first_registered",
        "mot_due",
        "mileage",
    }
    assert (vehicle["registration"], vehicle["make"], vehicle["mileage"]) == (
        "AB12CDE",
        "Ford",
        None,
    )


def test_customers_without_a_running_stack_says_how_to_start_one(tmp_path) -> None:
    result = cli(["customers", "--org", "x"], tmp_path / "absent.json", tmp_path)
    assert result.returncode == 1
    assert "customer-import local up" in result.stderr


def test_retry_imports_the_failed_batch_and_prints_the_new_summary(
    driver, stack, org, tmp_path, unavailable_batch
) -> None:
    # Given an import of 150 customers whose second batch could not be written
    unavailable_batch.start()
    job = driver.run(org, techman_csv(customers(150)))
    assert job.counter("failed") == 50
    unavailable_batch.end()
    # When a person runs `retry` for that job
    result = cli(["retry", job.job_id, "--org", org, "--json"], running(stack, tmp_path), tmp_path)
    # Then it exits 0 and the summary shows every customer imported, none failed
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["status"], summary["imported"], summary["failed"], summary["error_log"]) == (
        "completed",
        150,
        0,
        None,
    )
    # And a second retry explains there is nothing left to retry
    again = cli(["retry", job.job_id, "--org", org], running(stack, tmp_path), tmp_path)
    assert again.returncode == 1 and "Cannot retry" in again.stderr
