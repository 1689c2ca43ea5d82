"""Text from a file or a request is printed as text: rich markup (`[/]`, `[link=...]`) and
terminal escape sequences (ANSI colours, OSC 8 links, BEL) in names, columns and file names
are shown as the characters they are, never obeyed, by every command that prints them."""

from __future__ import annotations

from customer_import.jobs import JobOptions

from tests.e2e.test_cli import cli, running
from tests.unit.techman_files import HEADER, row, techman_csv

NAMES = [
    "[/]",
    "[link=http://x]click[/link]",
    "\x1b[31mred",
    "\x1b]8;;http://x\x07hidden\x1b]8;;\x07",
    ":warning: [bold]bold",
]
COLUMNS = ["[/]", "[link=http://x]click[/link]", "\x1b[31mcol"]


def hostile_file() -> bytes:
    """Five customers named in markup and escapes, unknown columns named so too, and one
    customer whose phone (markup and a clear-screen sequence) fails."""
    rows = [
        row(str(n), name, Email=f"c{n}@example.com", VehicleRegistration=f"AB{n}[/]")
        for n, name in enumerate(NAMES, start=1)
    ]
    rows.append(row("6", "Bad [/] Phone", Email="c6@example.com", Phone="nope[/]\x1b[2J"))
    return techman_csv(rows, [*HEADER, *COLUMNS])


def shows_as_text(output: str) -> None:
    """Nothing crashed, and no escape sequence reached the terminal (ESC, where a value still
    holds it, is shown as `\\x1b`)."""
    assert "Traceback" not in output, output
    assert "\x1b" not in output and "\x07" not in output, output


def test_run_customers_and_jobs_print_markup_and_escapes_as_text(stack, org, tmp_path) -> None:
    # Given a file full of markup and escape sequences, with a file name of markup
    path = tmp_path / "[bold]x.csv"
    path.write_bytes(hostile_file())
    state_file = running(stack, tmp_path)
    # When it is imported, and its customers, jobs and audit log are listed
    run = cli(["run", str(path), "--org", org], state_file, tmp_path)
    listed = cli(["customers", "--org", org], state_file, tmp_path)
    jobs = cli(["jobs", "list", "--org", org], state_file, tmp_path)
    audit = cli(["audit", "--org", org], state_file, tmp_path)
    # Then each command ends as it should and prints the names, columns and file name as text
    assert run.returncode == 0, run.stderr
    shows_as_text(run.stderr)
    assert "[bold]x.csv → completed_with_errors" in run.stderr
    assert "Unknown columns ignored: [/], [link=http://x]click[/link], \\x1b[31mcol" in run.stderr
    assert listed.returncode == 0, listed.stderr
    shows_as_text(listed.stdout)
    for name in ("[/]", "[link=http://x]click[/link]", ":warning: [bold]bold", "AB1[/]"):
        assert name in listed.stdout
    assert "[31mred" in listed.stdout  # the colour's text, never the colour
    assert "hidden" in listed.stdout and "]8;;http://x" in listed.stdout
    for result in (jobs, audit):
        assert result.returncode == 0, result.stderr
        assert "[bold]x.csv" in result.stdout and "\x1b" not in result.stdout


def test_a_job_whose_file_name_is_markup_does_not_break_the_organisations_jobs(
    driver, stack, org, tmp_path
) -> None:
    # Given a job whose file name is a closing tag
    job = driver.upload(
        org, techman_csv([row("1", "Ann Lee")]), JobOptions(auto_run=True), name="[/]x.csv"
    )
    driver.wait_for(org, job.job_id, {"completed"})
    state_file = running(stack, tmp_path)
    # When the organisation's jobs are listed and the job is shown
    listed = cli(["jobs", "list", "--org", org], state_file, tmp_path)
    shown = cli(["jobs", "show", job.job_id, "--org", org], state_file, tmp_path)
    # Then both print it as it is named
    for result in (listed, shown):
        assert result.returncode == 0, result.stderr
        assert "[/]x.csv" in result.stdout


def test_preview_and_duplicates_print_markup_and_escapes_as_text(
    driver, stack, org, tmp_path
) -> None:
    # Given the hostile file, and a job whose two customers share a name of markup
    path = tmp_path / "hostile.csv"
    path.write_bytes(hostile_file())
    twins = [row(str(n), "[/][link=http://x]Twin", Email="", Phone="") for n in (1, 2)]
    job = driver.upload(org, techman_csv(twins))
    driver.wait_for(org, job.job_id, {"ready"})
    state_file = running(stack, tmp_path)
    # When the file is previewed with its changes, and the job's duplicates are listed
    preview = cli(["preview", str(path), "--org", org, "--changes"], state_file, tmp_path)
    duplicates = cli(["duplicates", job.job_id, "--org", org], state_file, tmp_path)
    # Then both print the names as they are
    assert preview.returncode == 0, preview.stderr
    shows_as_text(preview.stdout)
    assert "[link=http://x]click[/link]" in preview.stdout and "[31mred" in preview.stdout
    assert "Bad [/] Phone" in preview.stdout
    assert duplicates.returncode == 0, duplicates.stderr
    assert duplicates.stdout.count("[/][link=http://x]Twin") == 2
    assert "\x1b" not in duplicates.stdout
