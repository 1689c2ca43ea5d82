"""`customer-import`: run imports against the local stack, start it, make sample files."""

from __future__ import annotations

import json
import logging
import signal
import sys
import time
from pathlib import Path
from typing import Any

import click
from customer_import.jobs import Job, JobStatus
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from .session import RunResult, import_file, stack_session

STATUS_WORDS = {
    "pending": "uploading",
    "validating": "checking columns",
    "preparing": "cleaning rows",
    "ready": "deciding duplicates",
    "importing": "importing",
}


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Show the handlers' logs.")
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    """Customer import: Techman migrations and ERP syncs, on the embedded local stack."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("werkzeug", "botocore", "websockets"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    ctx.obj = {"log_level": "INFO" if verbose else "WARNING"}


@main.group()
def local() -> None:
    """The embedded local stack."""


@local.command("up")
@click.option(
    "--port", default=0, show_default=True, help="Port of the AWS endpoint (0: any free)."
)
@click.pass_context
def local_up(ctx: click.Context, port: int) -> None:
    """Start the stack and keep it running until interrupted (Ctrl-C)."""
    from .stack import STATE_FILE, LocalStack

    stack = LocalStack(log_level=ctx.obj["log_level"])
    endpoints = stack.start(port=port)
    STATE_FILE.parent.mkdir(parents=True, exist_ok=True)
    STATE_FILE.write_text(endpoints.to_json())
    click.echo("Local stack is up (Ctrl-C to stop).")
    click.echo(f"  S3 endpoint        {endpoints.endpoint_url}")
    click.echo(f"  upload bucket      {endpoints.bucket}")
    click.echo(f"  state machine      {endpoints.state_machine_arn}")
    click.echo(f"  WebSocket          {endpoints.websocket_url}")
    click.echo(f"  endpoints written  {STATE_FILE}")
    stopping = False

    def stop(*_: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    try:
        while not stopping:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        click.echo("Stopping the local stack...")
        STATE_FILE.unlink(missing_ok=True)
        stack.stop()
        click.echo("Stopped.")


@main.command()
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--source", default="techman", show_default=True, type=click.Choice(["techman"]))
@click.option("--org", "org_id", default="demo", show_default=True)
@click.option("--account", "account_id", default="main", show_default=True)
@click.option(
    "--on-duplicate",
    default="skip",
    show_default=True,
    type=click.Choice(["skip", "merge", "create"]),
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per file on stdout.")
@click.option(
    "--error-log-dir",
    default=Path(".local/error-logs"),
    type=click.Path(file_okay=False, path_type=Path),
    show_default=True,
)
@click.option(
    "--timeout",
    "timeout_s",
    default=3600,
    show_default=True,
    help="Seconds to wait for each import.",
)
@click.pass_context
def run(
    ctx: click.Context,
    files: tuple[Path, ...],
    source: str,
    org_id: str,
    account_id: str,
    on_duplicate: str,
    as_json: bool,
    error_log_dir: Path,
    timeout_s: int,
) -> None:
    """Import FILES one after another, as the web app would: presigned upload, decision
    (--on-duplicate for all), live progress, summary.

    Exit code: 0 when every import completed (row errors included), 2 when a file was
    rejected, 1 otherwise."""
    console = Console(stderr=True)
    results: list[RunResult] = []
    with stack_session(ctx.obj["log_level"]) as endpoints:
        for path in files:
            with Progress(
                TextColumn("[bold]{task.fields[file]}[/] {task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("imported"),
                TimeElapsedColumn(),
                console=console,
                transient=False,
            ) as progress:
                task = progress.add_task("uploading", total=None, file=path.name)

                def on_update(
                    job: Job,
                    _message: dict[str, Any] | None,
                    task: Any = task,
                    progress: Progress = progress,
                ) -> None:
                    total = job.counter("customers") or None
                    progress.update(
                        task,
                        description=STATUS_WORDS.get(str(job.status), str(job.status)),
                        total=total,
                        completed=job.counter("processed"),
                    )

                try:
                    result = import_file(
                        endpoints,
                        path,
                        source=source,
                        org_id=org_id,
                        account_id=account_id,
                        on_duplicate=on_duplicate,
                        actor="cli",
                        on_update=on_update,
                        error_log_dir=error_log_dir,
                        timeout_s=timeout_s,
                    )
                except (RuntimeError, TimeoutError) as exc:
                    console.print(f"[red]{path.name}: {exc}[/]")
                    sys.exit(1)
            results.append(result)
            if as_json:
                click.echo(json.dumps(result.as_json()))
            else:
                _print_summary(console, result)
    statuses = {r.job.status for r in results}
    if JobStatus.REJECTED in statuses:
        sys.exit(2)
    if statuses <= {JobStatus.COMPLETED, JobStatus.COMPLETED_WITH_ERRORS}:
        sys.exit(0)
    sys.exit(1)


def _print_summary(console: Console, result: RunResult) -> None:
    job = result.job
    c = job.counter
    colour = {"completed": "green", "completed_with_errors": "yellow"}.get(str(job.status), "red")
    console.print(
        f"[bold]{result.file.name}[/] → [{colour}]{job.status}[/] in {result.seconds:.1f}s (job {job.job_id})"
    )
    if job.status is JobStatus.REJECTED:
        console.print(f"  {job.reason}")
        return
    if job.reason:
        console.print(f"  {job.reason}")
    console.print(
        f"  rows {c('rows'):,} · customers {c('customers'):,} · vehicles {c('vehicles'):,}"
    )
    console.print(
        f"  imported {c('imported'):,} · merged {c('merged'):,} · skipped (duplicates) {c('skipped_duplicates'):,}"
        f" · skipped (your choice) {c('skipped_user'):,} · failed {c('failed'):,}"
    )
    for warning in job.warnings:
        console.print(f"  warning: {warning}")
    if result.error_log:
        console.print(f"  error log: {result.error_log}")


@main.command()
@click.option("--customers", default=5500, show_default=True)
@click.option("--seed", default=20261122, show_default=True)
@click.option(
    "--omit-column", "omit_columns", multiple=True, help="Leave a column out (e.g. Email)."
)
@click.option("--first-number", default=100001, show_default=True, help="First CustomerNumber.")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
def sample(
    customers: int, seed: int, omit_columns: tuple[str, ...], first_number: int, out: Path
) -> None:
    """Write a realistic Techman export (fixed seed) for demos and tests."""
    from .sample import write_techman_sample

    out.parent.mkdir(parents=True, exist_ok=True)
    summary = write_techman_sample(
        out, customers, seed=seed, omit_columns=omit_columns, first_customer_number=first_number
    )
    click.echo(
        f"Wrote {out}: {summary.customers:,} customers, {summary.rows:,} rows, "
        f"{summary.vehicles:,} vehicles, {len(summary.bad_customers)} deliberately bad customers"
    )


if __name__ == "__main__":
    main()
