"""Import profiles through the CLI and the API on the local stack (issue #19 item 2): saved
from a file, listed, shown, used by `run --profile` (the import runs unattended into the
profile's account, in its mode, and says so), refused naming each problem, deleted."""

from __future__ import annotations

import json

from tests.e2e.test_cli import cli, running
from tests.unit.techman_files import customers, techman_csv


def test_a_profile_saved_from_a_file_runs_an_import_unattended_into_its_account(
    stack, org, tmp_path
) -> None:
    # Given an ERP's profile: update into account erp, unattended, merging duplicates
    state_file = running(stack, tmp_path)
    document = tmp_path / "nightly.json"
    document.write_text(
        json.dumps({"account": "erp", "mode": "update", "review": "auto", "on_duplicate": "merge"}),
        encoding="utf-8",
    )
    put = cli(
        ["profiles", "put", "nightly", "--file", str(document), "--org", org], state_file, tmp_path
    )
    assert put.returncode == 0, put.stderr
    assert "account erp, update by external, review auto" in put.stdout

    # When it is listed and shown, and a file is run with it
    listed = cli(["profiles", "list", "--org", org], state_file, tmp_path)
    shown = json.loads(
        cli(["profiles", "show", "nightly", "--org", org], state_file, tmp_path).stdout
    )
    path = tmp_path / "erp.csv"
    path.write_bytes(techman_csv(customers(3)))
    ran = cli(
        ["run", str(path), "--org", org, "--profile", "nightly", "--json"], state_file, tmp_path
    )

    # Then it is there as written, and the import ran in its account and mode, naming it
    assert "nightly" in listed.stdout and "erp" in listed.stdout
    assert (shown["account"], shown["mode"], shown["key"]) == ("erp", "update", "external")
    assert ran.returncode == 0, ran.stderr
    summary = json.loads(ran.stdout.splitlines()[-1])
    assert (summary["status"], summary["created"]) == ("completed", 3)
    erp = json.loads(
        cli(["customers", "--org", org, "--account", "erp", "--json"], state_file, tmp_path).stdout
    )
    assert len(erp) == 3
    jobs = json.loads(cli(["jobs", "list", "--org", org, "--json"], state_file, tmp_path).stdout)
    [job] = [j for j in jobs["items"] if j["job_id"] == summary["job_id"]]
    assert (job["profile"], job["account"], job["mode"], job["auto_run"]) == (
        "nightly",
        "erp",
        "update",
        True,
    )

    # When it is deleted, then used
    deleted = cli(["profiles", "delete", "nightly", "--org", org], state_file, tmp_path)
    gone = cli(["run", str(path), "--org", org, "--profile", "nightly"], state_file, tmp_path)
    # Then the run is refused naming it
    assert deleted.returncode == 0, deleted.stderr
    assert gone.returncode == 1 and "Import profile 'nightly' not found" in gone.stderr


def test_a_profile_with_problems_is_refused_naming_each_and_run_refuses_mixed_options(
    stack, org, tmp_path
) -> None:
    # Given a profile document with an unknown field, a mode that is none and a transfer
    state_file = running(stack, tmp_path)
    document = tmp_path / "bad.json"
    document.write_text(
        json.dumps({"colums": {"Kundennummer": "CustomerNumber"}, "mode": "merge"}),
        encoding="utf-8",
    )
    # When it is saved
    put = cli(
        ["profiles", "put", "bad", "--file", str(document), "--org", org], state_file, tmp_path
    )
    # Then it is refused with every problem named (422)
    assert put.returncode == 1
    assert "colums" in put.stderr and "mode" in put.stderr and "(HTTP 422)" in put.stderr
    listed = cli(["profiles", "list", "--org", org, "--json"], state_file, tmp_path)
    assert json.loads(listed.stdout) == []
    # And `run` refuses a profile beside the options it stands for
    path = tmp_path / "f.csv"
    path.write_bytes(techman_csv(customers(1)))
    mixed = cli(
        ["run", str(path), "--org", org, "--profile", "x", "--mode", "sync", "--account", "a"],
        state_file,
        tmp_path,
    )
    assert mixed.returncode == 2
    assert "--profile x gives the import's settings: leave out --account, --mode" in mixed.stderr


def test_an_import_naming_a_profile_takes_its_source_from_it(stack, org) -> None:
    # Given a saved profile for an ERP's own columns
    import requests
    from customer_import.access import IMPORT_MANAGE
    from customer_import_local.tokens import local_token

    api = stack.endpoints.api_url
    headers = {"Authorization": f"Bearer {local_token(org, 'alice', (IMPORT_MANAGE,))}"}
    columns = {"Kundennummer": "CustomerNumber", "Name": "CustomerName"}
    saved = requests.put(
        f"{api}/profiles/erp",
        json={"source": "mapped", "columns": columns, "account": "north"},
        headers=headers,
        timeout=30,
    )
    assert saved.status_code == 200, saved.text

    def create(**body: object) -> requests.Response:
        file = {"file_name": "erp.csv", "size": 10}
        return requests.post(f"{api}/imports", json=file | body, headers=headers, timeout=30)

    # When an import names the profile alone, the profile and its source, or another source
    alone, same, other = (
        create(profile="erp"),
        create(profile="erp", source="mapped"),
        create(profile="erp", source="techman"),
    )
    # And one names neither a profile nor a source
    neither = create()
    # Then the first two are created as the profile's mapped imports into its account
    for created in (alone, same):
        assert created.status_code == 201, created.text
        job = requests.get(
            f"{api}/imports/{created.json()['job_id']}", headers=headers, timeout=30
        ).json()
        assert (job["source"], job["account"], job["profile"]) == ("mapped", "north", "erp")
    # And the other source is refused saying which the profile reads, the request without
    # either saying what it lacks
    assert other.status_code == 400, other.text
    assert "The profile erp reads mapped files" in other.json()["message"]
    assert neither.status_code == 422, neither.text
    assert "name the file's source, or a profile that names it" in neither.json()["message"]


def test_the_profile_list_names_the_columns_a_mapping_may_hold(stack, org) -> None:
    # Given the API, as an admin
    import requests
    from customer_import.access import IMPORT_MANAGE
    from customer_import.sources.techman import KNOWN_COLUMNS
    from customer_import_local.tokens import local_token

    headers = {"Authorization": f"Bearer {local_token(org, 'alice', (IMPORT_MANAGE,))}"}
    # When the profiles are listed
    listed = requests.get(f"{stack.endpoints.api_url}/profiles", headers=headers, timeout=30)
    # Then the list names every canonical column a mapped profile may map a header onto
    assert listed.status_code == 200, listed.text
    assert listed.json()["canonical_columns"] == list(KNOWN_COLUMNS)
    assert {"CustomerNumber", "CustomerName", "CustomerId", "Email"} <= set(KNOWN_COLUMNS)
