"""An organisation's settings through the CLI and the API on the local stack (issue #19 item 1):
put from a file, shown, refused naming every problem, audited, and read by the next import."""

from __future__ import annotations

import json

from tests.e2e.test_cli import cli, running
from tests.unit.techman_files import row, techman_csv


def test_settings_put_from_a_file_are_shown_audited_and_used_by_the_next_import(
    stack, org, tmp_path
) -> None:
    # Given a settings file with a customer-group map and a shorter retention
    state_file = running(stack, tmp_path)
    settings = tmp_path / "settings.json"
    settings.write_text(
        json.dumps({"group_map": {"Trade": "Fleet accounts"}, "recycle_bin_days": 7}),
        encoding="utf-8",
    )

    # When it is put, then shown
    put = cli(["settings", "put", "--file", str(settings), "--org", org], state_file, tmp_path)
    shown = cli(["settings", "show", "--org", org, "--json"], state_file, tmp_path)

    # Then they are stored, the rest at their defaults, with the product's limits beside them
    assert put.returncode == 0, put.stderr
    assert "Trade → Fleet accounts" in put.stdout and "7 days" in put.stdout
    stored = json.loads(shown.stdout)
    assert stored["group_map"] == {"Trade": "Fleet accounts"}
    assert (stored["time_zone"], stored["recycle_bin_days"]) == ("Europe/London", 7)
    assert stored["limits"]["max_rows"] >= 100_000
    # And what `show --json` printed goes back in as it is
    settings.write_text(shown.stdout, encoding="utf-8")
    again = cli(["settings", "put", "--file", str(settings), "--org", org], state_file, tmp_path)
    assert again.returncode == 0, again.stderr

    # When a file of a Trade customer is imported
    path = tmp_path / "trade.csv"
    path.write_bytes(techman_csv([row("1", "Ann Lee", CustomerGroupName="trade")]))
    ran = cli(["run", str(path), "--org", org, "--json"], state_file, tmp_path)
    assert ran.returncode == 0, ran.stderr
    # Then its group is the organisation's
    found = cli(["customers", "--org", org, "--json"], state_file, tmp_path)
    [customer] = json.loads(found.stdout)
    assert customer["customer_group"] == "Fleet accounts"
    # And the audit log says who changed which settings, once
    audit = json.loads(cli(["audit", "--org", org, "--json"], state_file, tmp_path).stdout)
    changes = [e for e in audit if e["action"] == "settings.changed"]
    assert [c["details"]["fields"] for c in changes] == [["group_map", "recycle_bin_days"]]


def test_settings_with_problems_are_refused_naming_each_and_change_nothing(
    stack, org, tmp_path
) -> None:
    # Given a settings file with an unknown zone, a region that is none, a limit above the
    # product's and two group names that differ only by case
    state_file = running(stack, tmp_path)
    settings = tmp_path / "settings.json"
    settings.write_text(
        json.dumps(
            {
                "time_zone": "Europe/Atlantis",
                "phone_region": "ZZ",
                "max_rows": 10_000_000,
                "group_map": {"Trade": "Fleet", "trade ": "Retail"},
            }
        ),
        encoding="utf-8",
    )

    # When it is put
    put = cli(["settings", "put", "--file", str(settings), "--org", org], state_file, tmp_path)

    # Then it exits 1 naming each problem, and the settings are the defaults still
    assert put.returncode == 1
    for problem in ("time_zone:", "phone_region:", "max_rows:", "are the same name"):
        assert problem in put.stderr, put.stderr
    assert "(HTTP 400)" in put.stderr
    shown = json.loads(
        cli(["settings", "show", "--org", org, "--json"], state_file, tmp_path).stdout
    )
    assert (shown["time_zone"], shown["recycle_bin_days"]) == ("Europe/London", 14)
    # And a field that is no setting is refused by name, as is a file that is no JSON
    settings.write_text(json.dumps({"colour": "blue"}), encoding="utf-8")
    unknown = cli(["settings", "put", "--file", str(settings), "--org", org], state_file, tmp_path)
    assert unknown.returncode == 1 and "colour" in unknown.stderr, unknown.stderr
    settings.write_text("{not json", encoding="utf-8")
    broken = cli(["settings", "put", "--file", str(settings), "--org", org], state_file, tmp_path)
    assert broken.returncode == 2 and "is not a JSON file" in broken.stderr, broken.stderr
