"""The CLI goes through the HTTP API with a bearer token, as a web app or an ERP script does:
`local token`, `jobs list|show`, and `run`, `customers`, `decide`, `retry` and `preview` as
the token's caller, refused what the token may not do."""

from __future__ import annotations

import json

import requests
from customer_import.access import CUSTOMERS_ACCESS, IMPORT_MANAGE

from tests.e2e.test_cli import cli, running
from tests.unit.techman_files import customers, techman_csv


def test_local_token_prints_a_token_the_api_accepts_with_exactly_its_capabilities(
    stack, org, tmp_path
) -> None:
    # Given a token printed for a user who may read customers only
    result = cli(
        ["local", "token", "--org", org, "--user", "carol", "--capability", CUSTOMERS_ACCESS],
        running(stack, tmp_path),
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    headers = {"Authorization": f"Bearer {result.stdout.strip()}"}
    # When it is used on a customer route and an import route
    customers_answer = requests.get(
        f"{stack.endpoints.api_url}/customers",
        params={"external_customer_number": "1"},
        headers=headers,
        timeout=30,
    )
    imports_answer = requests.get(f"{stack.endpoints.api_url}/imports", headers=headers, timeout=30)
    # Then the customer route serves them (nothing imported yet), the import route refuses
    assert (customers_answer.status_code, customers_answer.json()["items"]) == (200, [])
    assert imports_answer.status_code == 403
    assert IMPORT_MANAGE in imports_answer.json()["message"]


def test_jobs_list_and_show_read_the_organisations_jobs_through_the_api(
    driver, stack, org, tmp_path
) -> None:
    # Given a completed import and a running stack
    job = driver.run(org, techman_csv(customers(2)))
    state_file = running(stack, tmp_path)
    # When a person lists the jobs, and shows the one job, as JSON and as text
    listed = cli(["jobs", "list", "--org", org, "--json"], state_file, tmp_path)
    shown = cli(["jobs", "show", job.job_id, "--org", org, "--json"], state_file, tmp_path)
    text = cli(["jobs", "show", job.job_id, "--org", org], state_file, tmp_path)
    # Then the list holds the job, and the job shows its counts
    assert listed.returncode == 0, listed.stderr
    assert [j["job_id"] for j in json.loads(listed.stdout)["items"]] == [job.job_id]
    assert json.loads(shown.stdout)["counts"]["imported"] == 2
    assert text.returncode == 0, text.stderr
    assert "status     completed" in text.stdout and "imported 2" in text.stdout


def test_jobs_show_of_another_organisations_job_says_not_found(
    driver, stack, org, tmp_path
) -> None:
    # Given a job of this organisation
    job = driver.run(org, techman_csv(customers(1)))
    # When someone of another organisation asks for it
    result = cli(
        ["jobs", "show", job.job_id, "--org", "someone-else"], running(stack, tmp_path), tmp_path
    )
    # Then the command fails, saying the job was not found
    assert result.returncode == 1
    assert f"Import job {job.job_id} not found" in result.stderr
    assert "404" in result.stderr


def test_run_and_customers_act_as_the_tokens_caller_through_a_named_api(
    stack, org, tmp_path
) -> None:
    # Given only the API's URL and a token of a user of the organisation (no stack file)
    token = cli(
        ["local", "token", "--org", org, "--user", "erp-bot", "--capability", IMPORT_MANAGE,
         "--capability", CUSTOMERS_ACCESS],
        running(stack, tmp_path),
        tmp_path,
    ).stdout.strip()  # fmt: skip
    named = ["--api-url", stack.endpoints.api_url, "--token", token]
    path = tmp_path / "erp.csv"
    path.write_bytes(techman_csv(customers(3)))
    absent = tmp_path / "absent.json"
    # When the file is imported (progress read from the API: no WebSocket named) and the
    # customers are listed
    run = cli(["run", str(path), "--json", *named], absent, tmp_path)
    listed = cli(["customers", "--json", *named], absent, tmp_path)
    audit = cli(["audit", "--json", *named], absent, tmp_path)
    # Then the job was created, decided and followed through the API as that user
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    assert (summary["status"], summary["imported"]) == ("completed", 3)
    job = requests.get(
        f"{stack.endpoints.api_url}/imports/{summary['job_id']}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    ).json()
    assert (job["created_by"], job["decision"]["by"]) == ("erp-bot", "erp-bot")
    # And the audit log, read through the API, says so
    assert audit.returncode == 0, audit.stderr
    assert ("import.decided", "erp-bot") in {
        (e["action"], e["actor"]) for e in json.loads(audit.stdout)
    }
    # And the organisation's customers are the three imported, read page by page
    assert listed.returncode == 0, listed.stderr
    assert sorted(c["external_customer_number"] for c in json.loads(listed.stdout)) == [
        "1000",
        "1001",
        "1002",
    ]


def test_a_token_without_the_capability_is_refused_with_its_name(stack, org, tmp_path) -> None:
    # Given a token that may read customers but not manage imports
    token = cli(
        ["local", "token", "--org", org, "--capability", CUSTOMERS_ACCESS],
        running(stack, tmp_path),
        tmp_path,
    ).stdout.strip()
    path = tmp_path / "f.csv"
    path.write_bytes(techman_csv(customers(1)))
    # When it is used to import and to preview
    run = cli(["run", str(path), "--token", token], running(stack, tmp_path), tmp_path)
    preview = cli(["preview", str(path), "--token", token], running(stack, tmp_path), tmp_path)
    # Then both are refused by the API, naming the capability, before any upload bar, and
    # nothing was created
    for result in (run, preview):
        assert result.returncode == 1
        assert IMPORT_MANAGE in result.stderr and "403" in result.stderr
        assert "uploading" not in result.stderr
    listed = cli(["jobs", "list", "--org", org, "--json"], running(stack, tmp_path), tmp_path)
    assert json.loads(listed.stdout)["items"] == []


def test_audit_prints_a_page_with_the_command_for_the_next_and_all_of_it_on_request(
    stack, org, tmp_path
) -> None:
    # Given an organisation with three audit entries
    from customer_import.adapters.dynamo import DynamoAuditLog
    from customer_import.audit import AuditEntry

    for minute in range(3):
        at = f"2026-11-20T09:0{minute}:00+00:00"
        DynamoAuditLog().record(AuditEntry(org, f"job-{minute}", "import.created", "ann", at, at))
    state_file = running(stack, tmp_path)
    # When the log is read two entries at a time, then the rest from the cursor printed
    first = cli(["audit", "--org", org, "--limit", "2"], state_file, tmp_path)
    assert first.returncode == 0, first.stderr
    [more] = [line for line in first.stdout.splitlines() if line.startswith("More: --cursor ")]
    cursor = more.removeprefix("More: --cursor ")
    rest = cli(["audit", "--org", org, "--limit", "2", "--cursor", cursor], state_file, tmp_path)
    every = cli(["audit", "--org", org, "--limit", "2", "--all", "--json"], state_file, tmp_path)
    # Then the first page holds the newest two, the next the oldest, and --all every entry
    assert ["job-2" in first.stdout, "job-1" in first.stdout, "job-0" in first.stdout] == [
        True,
        True,
        False,
    ]
    assert "job-0" in rest.stdout and "job-1" not in rest.stdout
    assert [e["job_id"] for e in json.loads(every.stdout)] == ["job-2", "job-1", "job-0"]
