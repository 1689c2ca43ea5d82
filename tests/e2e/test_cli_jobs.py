"""What the CLI says about a job is true, and a job can be picked up again: progress counts
processed apart from imported, the preview lists the whole file's errors in both units,
`jobs follow` and `jobs error-log` after an interrupted run, `decide` times the import, a
refused token is told before any upload, and an API that is gone is said so."""

from __future__ import annotations

import json

from tests.e2e.test_cli import cli, running
from tests.unit.techman_files import customers, row, techman_csv


def test_run_shows_processed_apart_from_imported(stack, org, tmp_path) -> None:
    # Given a file of three customers, one of whom fails its cleanup
    path = tmp_path / "f.csv"
    path.write_bytes(
        techman_csv([row("1", "Ann Lee"), row("2", "Bob Hall"), row("3", "Cy", Phone="1")])
    )
    # When it is run
    result = cli(["run", str(path), "--org", org], running(stack, tmp_path), tmp_path)
    # Then the bar ends with what was processed and what became of it, never "3/3 imported"
    assert result.returncode == 0, result.stderr
    assert "3 of 3 processed · 2 imported · 1 failed" in result.stderr
    assert "3/3" not in result.stderr


def test_preview_lists_the_whole_files_errors_and_counts_both_units(stack, org, tmp_path) -> None:
    # Given 120 customers, the last 20 with a bad phone, one of them on two rows
    rows = customers(120)
    for bad in rows[100:]:
        bad["Phone"] = "123"
    rows.append({**rows[-1], "VehicleRegistration": "AB12 CDE"})
    path = tmp_path / "f.csv"
    path.write_bytes(techman_csv(rows))
    state_file = running(stack, tmp_path)
    # When it is previewed, as text and as JSON
    text = cli(["preview", str(path), "--org", org], state_file, tmp_path)
    as_json = cli(["preview", str(path), "--org", org, "--json"], state_file, tmp_path)
    # Then both units are named, and every error is listed, beyond the first 100 customers
    assert text.returncode == 0, text.stderr
    assert "20 customers (21 rows) will fail" in text.stdout
    assert "row 121 Phone: Phone normalisation failed" in text.stdout
    document = json.loads(as_json.stdout)
    assert [e["row"] for e in document["errors"]] == list(range(102, 122))
    assert document["counts"]["customers_failing"] == 20


def test_an_interrupted_run_is_followed_again_and_its_error_log_fetched(
    driver, stack, org, tmp_path
) -> None:
    # Given a job that ran without the CLI watching, one of its rows failing
    job = driver.run(org, techman_csv([row("1", "Ann Lee"), row("2", "Bo", Phone="1")]))
    clean = driver.run(org, techman_csv([row("3", "Cy Dean")]))
    state_file = running(stack, tmp_path)
    # When it is followed, and its error log fetched, and a clean job's
    followed = cli(["jobs", "follow", job.job_id, "--org", org], state_file, tmp_path)
    out = tmp_path / "errors.csv"
    fetched = cli(
        ["jobs", "error-log", job.job_id, "--org", org, "--out", str(out)], state_file, tmp_path
    )
    none = cli(["jobs", "error-log", clean.job_id, "--org", org], state_file, tmp_path)
    # Then following prints its summary, timed by the job itself, and saves its error log
    assert followed.returncode == 0, followed.stderr
    assert "completed_with_errors in" in followed.stderr
    assert "since the job was created" in followed.stderr
    assert "imported 1" in followed.stderr and "failed 1" in followed.stderr
    assert "error log: " in followed.stderr
    # And the error log is where it was asked to go, naming the row and the reason
    assert fetched.returncode == 0, fetched.stderr
    assert fetched.stdout.strip() == str(out)
    assert "3,Phone,Phone normalisation failed" in out.read_text()
    # And a job without failed rows says it has none
    assert none.returncode == 0, none.stderr
    assert "it has no error log" in none.stderr


def test_decide_times_the_import_after_the_decision(driver, stack, org, tmp_path) -> None:
    # Given a job waiting for its decision
    job = driver.upload(org, techman_csv(customers(3)))
    driver.wait_for(org, job.job_id, {"ready"})
    # When it is decided
    result = cli(
        ["decide", job.job_id, "--org", org, "--default", "skip"],
        running(stack, tmp_path),
        tmp_path,
    )
    # Then the summary says how long the import took after the decision, by the job's clock
    assert result.returncode == 0, result.stderr
    assert "→ completed in " in result.stderr and "s after the decision" in result.stderr


def test_an_api_that_does_not_answer_is_said_so(tmp_path) -> None:
    # Given an API address where nothing listens
    # When a command asks it
    result = cli(
        ["jobs", "list", "--api-url", "http://127.0.0.1:9", "--token", "t"],
        tmp_path / "absent.json",
        tmp_path,
    )
    # Then the command says so, without a traceback
    assert result.returncode == 1
    assert "The API at http://127.0.0.1:9 does not answer" in result.stderr
    assert "Traceback" not in result.stderr
