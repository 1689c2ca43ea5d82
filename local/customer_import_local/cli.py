"""`customer-import`: run imports against the local stack, start it, make sample files."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click
import requests
from click.core import ParameterSource
from customer_import.access import CAPABILITIES
from customer_import.changes.log import Action
from customer_import.changes.rules import DEFAULT_MAX_DELETE_PERCENT
from customer_import.imports.counters import OUTCOME_COUNTERS
from customer_import.jobs import JobStatus
from customer_import.sources.csv_files import UnreadableFile
from customer_import.sources.files import header_of
from customer_import.sources.suggest import missing_required, suggest_columns, suggested_profile
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .api_client import ApiError
from .session import (
    HowToImport,
    JobView,
    NoStack,
    Remote,
    RunResult,
    act_and_follow,
    import_file,
    preview_file,
    remote_session,
    running_stack,
)
from .terminal import plain_console, shown

CHOICES = ["skip", "merge", "create"]
STATUS_WORDS = {
    "pending": "uploading",
    "validating": "checking columns",
    "preparing": "cleaning rows",
    "ready": "waiting for a decision",
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
    click.echo(
        "  It keeps everything in memory: stopping it loses every job, customer and file it holds."
    )
    click.echo(f"  S3 endpoint        {endpoints.endpoint_url}")
    click.echo(f"  upload bucket      {endpoints.bucket}")
    click.echo(f"  state machine      {endpoints.state_machine_arn}")
    click.echo(f"  rollback machine   {endpoints.rollback_state_machine_arn}")
    click.echo(f"  WebSocket          {endpoints.websocket_url}")
    click.echo(f"  HTTP API           {endpoints.api_url}")
    click.echo(f"  web page           {endpoints.web_url}")
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


@local.command("token")
@click.option("--org", "org_id", required=True, help="The organisation the token acts for.")
@click.option("--user", "user_id", default="local", show_default=True)
@click.option(
    "--capability",
    "capabilities",
    multiple=True,
    type=click.Choice(CAPABILITIES),
    help="A capability to grant (repeat).",
)
@click.option("--ttl", "ttl_s", default=12 * 3600, show_default=True, help="Seconds it is valid.")
def local_token_command(
    org_id: str, user_id: str, capabilities: tuple[str, ...], ttl_s: int
) -> None:
    """Print a bearer token for the local stack's HTTP API and WebSocket, signed with the key
    the stack made on its first start (`.local/jwt-key.pem`)."""
    from .tokens import TokenAuthority

    click.echo(TokenAuthority().issue(org_id, user_id, capabilities, ttl_s))


@local.command("purge")
@click.option(
    "--as-of",
    "as_of",
    required=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The day to purge as of (YYYY-MM-DD): what is due by then goes.",
)
@click.option("--api-url", envvar="CUSTOMER_IMPORT_API_URL", default=None, hidden=True)
def local_purge(as_of: Any, api_url: str | None) -> None:
    """Run the recycle bin's scheduled purge on the local stack of `local up`, as of AS_OF:
    every binned customer whose retention has passed by then is deleted for good."""
    console = _stderr_console()
    endpoints = running_stack()
    if api_url and (endpoints is None or api_url.rstrip("/") != endpoints.api_url.rstrip("/")):
        # A deployed stack purges on its own schedule, by its own clock; nobody moves it.
        console.print(
            f"[red]`local purge` runs on the local stack only[/], not on the API at "
            f"{shown(api_url)}: a deployed stack purges its recycle bins daily on its schedule."
        )
        sys.exit(1)
    if endpoints is None:
        console.print("No local stack is running: start one with `customer-import local up`.")
        sys.exit(1)
    import boto3

    from infra.description import DESCRIPTION

    from .stack import function_name, local_credentials

    os.environ.update(local_credentials(endpoints.endpoint_url, endpoints.region))
    day = as_of.date().isoformat()
    response = boto3.client("lambda").invoke(
        FunctionName=function_name(DESCRIPTION.function("purge_recycle_bin")),
        Payload=json.dumps({"as_of": day}),
    )
    result = json.loads(response["Payload"].read())
    if "FunctionError" in response:
        console.print(f"[red]The purge failed:[/] {shown(result.get('errorMessage', result))}")
        sys.exit(1)
    click.echo(
        f"Purged {result['purged']:,} customers due by {day}"
        + (
            f"; kept {result['refused']:,} that changed since they were found due"
            if result["refused"]
            else ""
        )
        + "."
    )


def _api_options(command: Any) -> Any:
    """--org, --api-url, --websocket-url and --token: whom to ask, as whom."""
    for option in reversed(
        [
            click.option(
                "--org",
                "org_id",
                default="demo",
                show_default=True,
                help="The organisation (of the default token).",
            ),
            click.option(
                "--api-url",
                envvar="CUSTOMER_IMPORT_API_URL",
                default=None,
                help="The HTTP API (default: the stack of `local up`, or an embedded one).",
            ),
            click.option(
                "--websocket-url",
                envvar="CUSTOMER_IMPORT_WEBSOCKET_URL",
                default=None,
                help="Its progress WebSocket, with --api-url (without: the job is polled).",
            ),
            click.option(
                "--token",
                envvar="CUSTOMER_IMPORT_TOKEN",
                default=None,
                help="A bearer token (default: one for --org from the local stack's key).",
            ),
        ]
    ):
        command = option(command)
    return command


def _how_options(command: Any) -> Any:
    """--mode, --key, --field-policy, --max-delete-percent, --confirm-deletions, --transfer,
    --with-related: how the import writes (design §5.4, §5.5)."""
    for option in reversed(
        [
            click.option(
                "--mode",
                default="insert",
                show_default=True,
                type=click.Choice(["insert", "update", "sync"]),
                help="insert: new customers, with the duplicate decision; update: match by "
                "--key and update, create the unmatched; sync: update, then bin the account's "
                "customers the file no longer holds.",
            ),
            click.option(
                "--key",
                default="external",
                show_default=True,
                type=click.Choice(["external", "internal", "both"]),
                help="update/sync: match by the external number, by a CustomerId column, or both.",
            ),
            click.option(
                "--field-policy",
                default="overwrite",
                show_default=True,
                type=click.Choice(["overwrite", "keep", "fill_empty"]),
                help="update/sync: what a file value does to a stored one (an empty cell never "
                "clears one).",
            ),
            click.option(
                "--max-delete-percent",
                default=DEFAULT_MAX_DELETE_PERCENT,
                show_default=True,
                type=click.FloatRange(0, 100),
                help="sync: binning more of the account than this waits for a confirmation.",
            ),
            click.option(
                "--confirm-deletions",
                is_flag=True,
                help="sync: bin what the file no longer holds, whatever the share.",
            ),
            click.option(
                "--transfer",
                default="none",
                show_default=True,
                type=click.Choice(["none", "copy", "move"]),
                help="update/sync: a file customer the account lacks and another account holds "
                "(its recycle bin too) is copied (a new customer) or moved (the same one) into "
                "--account (needs the customers.transfer capability).",
            ),
            click.option(
                "--with-related",
                "transfer_related",
                is_flag=True,
                help="With --transfer: the customer's activities go along.",
            ),
        ]
    ):
        command = option(command)
    return command


def _how(
    mode: str,
    key: str,
    field_policy: str,
    max_delete_percent: float,
    confirm_deletions: bool,
    transfer: str,
    transfer_related: bool,
) -> HowToImport:
    if mode == "insert" and transfer == "none" and not transfer_related:
        return HowToImport()
    return HowToImport(
        mode,
        key,
        field_policy,
        {"max_delete_percent": max_delete_percent, "confirm_deletions": confirm_deletions},
        transfer,
        transfer_related,
    )


@contextlib.contextmanager
def _remote(
    ctx: click.Context,
    org_id: str,
    api_url: str | None,
    websocket_url: str | None,
    token: str | None,
    *,
    embedded: bool,
) -> Iterator[Remote]:
    """The stack through its API; a refusal of the API, or no stack, ends the command with
    exit code 1 and the reason."""
    console = _stderr_console()
    where = api_url
    try:
        with remote_session(
            org_id,
            api_url=api_url,
            websocket_url=websocket_url,
            token=token,
            embedded=embedded,
            log_level=ctx.obj["log_level"],
        ) as remote:
            where = remote.api.base_url
            yield remote
    except NoStack as exc:
        console.print(f"{shown(exc)}, or name an API with --api-url.")
        sys.exit(1)
    except (requests.ConnectionError, ConnectionError):
        console.print(
            f"[red]The stack's API at {shown(where)} no longer answers[/]: was its "
            "`customer-import local up` stopped? Start it again; a local stack keeps "
            "everything in memory, so the jobs and customers it held are gone with it."
            if api_url is None
            else f"[red]The API at {shown(where)} does not answer.[/]"
        )
        sys.exit(1)
    except ApiError as exc:
        console.print(f"[red]{shown(exc.message)}[/] (HTTP {exc.status})")
        sys.exit(1)


@main.command()
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--source", default="techman", show_default=True, type=click.Choice(["techman"]))
@_api_options
@click.option("--account", "account_id", default="main", show_default=True)
@_how_options
@click.option(
    "--profile",
    default=None,
    help="An import profile of the organisation (`profiles list`): its account, mode, key, "
    "policies and transfers, in place of those options.",
)
@click.option(
    "--on-duplicate",
    default="skip",
    show_default=True,
    type=click.Choice(CHOICES),
    help="What to do with every possible duplicate (the default under --review).",
)
@click.option(
    "--review",
    is_flag=True,
    help="Stop at the decision: show each possible duplicate beside what it matches and ask.",
)
@click.option(
    "--hold",
    is_flag=True,
    help="Leave the job waiting for its decision (answer it with `decide`); needs `local up`.",
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
    api_url: str | None,
    websocket_url: str | None,
    token: str | None,
    account_id: str,
    mode: str,
    key: str,
    field_policy: str,
    max_delete_percent: float,
    confirm_deletions: bool,
    transfer: str,
    transfer_related: bool,
    profile: str | None,
    on_duplicate: str,
    review: bool,
    hold: bool,
    as_json: bool,
    error_log_dir: Path,
    timeout_s: int,
) -> None:
    """Import FILES one after another through the HTTP API, as the web app would: job,
    presigned upload, decision (--on-duplicate for all, --review to choose per customer,
    --hold to leave it to `decide`), live progress, summary, error log.

    Exit code: 0 when every import completed (row errors included) or waits (--hold), 2 when
    a file was rejected, 3 when a sync waits for its deletions to be confirmed (over
    --max-delete-percent: answer with `decide --confirm-deletions`), 1 otherwise."""
    console = _stderr_console()
    how = _how(
        mode,
        key,
        field_policy,
        max_delete_percent,
        confirm_deletions,
        transfer,
        transfer_related,
    )
    if profile is not None:
        given = [
            f"--{name.removesuffix('_id').replace('_', '-')}"
            for name in PROFILE_SETTINGS
            if ctx.get_parameter_source(name) is ParameterSource.COMMANDLINE
        ]
        if given:
            raise click.UsageError(
                f"--profile {profile} gives the import's settings: leave out {', '.join(given)}"
            )
        how = HowToImport(profile=profile)
    if hold and api_url is None and running_stack() is None:
        console.print(
            "--hold leaves the job waiting in a running stack: start one with "
            "`customer-import local up` first."
        )
        sys.exit(1)
    results: list[RunResult] = []
    with _remote(ctx, org_id, api_url, websocket_url, token, embedded=True) as remote:
        # A token that may not import is refused before any bar is shown or file uploaded.
        remote.api.imports(limit=1)
        for path in files:
            with _progress_bar(console, shown(path.name)) as progress:
                task = progress.add_task("uploading", total=None, counts="")

                def on_update(
                    job: JobView,
                    _message: dict[str, Any] | None,
                    task: Any = task,
                    progress: Progress = progress,
                ) -> None:
                    _advance(progress, task, job)

                def decide(job: JobView, progress: Progress = progress) -> tuple[Any, ...] | None:
                    if hold or _waits_for_confirmation(job) or _waits_for_date_order(job):
                        return None
                    if not review or not job.counter("duplicates"):
                        return on_duplicate, None
                    progress.stop()
                    answer = _review(console, remote, job, on_duplicate)
                    progress.start()
                    return answer

                try:
                    result = import_file(
                        remote,
                        path,
                        source=source,
                        account_id=account_id,
                        decide=decide,
                        on_update=on_update,
                        error_log_dir=error_log_dir,
                        timeout_s=timeout_s,
                        how=how,
                    )
                except (RuntimeError, TimeoutError) as exc:
                    console.print(f"[red]{shown(path.name)}: {shown(exc)}[/]")
                    sys.exit(1)
            results.append(result)
            if as_json:
                click.echo(json.dumps(result.as_json()))
            else:
                _print_summary(console, result)
    statuses = {r.job.status for r in results}
    if JobStatus.REJECTED in statuses:
        sys.exit(2)
    if any(_waits_for_confirmation(r.job) or _waits_for_date_order(r.job) for r in results):
        sys.exit(3)
    if statuses <= {JobStatus.COMPLETED, JobStatus.COMPLETED_WITH_ERRORS, JobStatus.READY}:
        sys.exit(0)
    sys.exit(1)


# The options a profile stands for (`run --profile` refuses them beside it).
PROFILE_SETTINGS = (
    "account_id",
    "mode",
    "key",
    "field_policy",
    "max_delete_percent",
    "confirm_deletions",
    "transfer",
    "transfer_related",
)


def _waits_for_confirmation(job: JobView) -> bool:
    """A sync over its deletion threshold, at `ready` until a person confirms: its reason
    names how many it would bin."""
    return job.status is JobStatus.READY and job.fields.get("mode") == "sync" and bool(job.reason)


def _waits_for_date_order(job: JobView) -> bool:
    """A file none of whose dates tells day-first from month-first, at `ready` until a person
    says which (its reason asks)."""
    return job.status is JobStatus.READY and job.fields.get("date_order") == "detect"


def _progress_bar(console: Console, title: str) -> Progress:
    """A bar of the customers processed, beside what became of them: "5,488 of 5,500
    processed · 5,475 imported · 12 failed". `title` is markup (data in it through `shown`)."""
    return Progress(
        TextColumn(f"[bold]{title.replace('{', '{{').replace('}', '}}')}[/] {{task.description}}"),
        BarColumn(),
        TextColumn("{task.fields[counts]}"),
        TimeElapsedColumn(),
        console=console,
    )


def _advance(progress: Progress, task: Any, job: JobView) -> None:
    # Until Prepare has counted the file's customers, there is nothing to count.
    progress.update(
        task,
        description=STATUS_WORDS.get(str(job.status), str(job.status)),
        total=job.counter("customers") or None,
        completed=job.counter("processed"),
        counts=job.progress if job.counter("customers") else "",
    )


def _review(
    console: Console, remote: Remote, job: JobView, default: str
) -> tuple[str | None, dict[str, str]]:
    """Ask about each flagged customer, beside what it matches; an "all" answer settles the
    rest. Returns the decision: a default and per-customer choices."""
    total = job.counter("duplicates")
    console.print(
        f"[bold]{total:,} possible duplicate(s)[/] in {shown(job.file_name)}. For each: "
        "[bold]s[/]kip, [bold]m[/]erge, [bold]c[/]reate new; "
        "[bold]S[/], [bold]M[/] or [bold]C[/] for this and all remaining."
    )
    answers = {"s": "skip", "m": "merge", "c": "create"}
    overrides: dict[str, str] = {}
    for index, entry in enumerate(remote.api.all_duplicates(job.job_id), start=1):
        _print_duplicate(console, entry, index, total)
        answer = click.prompt(
            "  decision",
            type=click.Choice(["s", "m", "c", "S", "M", "C"]),
            default=default[0],
            show_choices=True,
            err=True,
        )
        if answer.isupper():
            return answers[answer.lower()], overrides
        overrides[entry["external_customer_number"]] = answers[answer]
    return default, overrides


def _print_duplicate(console: Console, entry: dict[str, Any], index: int, total: int) -> None:
    def who(c: dict[str, Any]) -> str:
        parts = (c.get("external_customer_number"), c.get("name"), c.get("email"), c.get("phone"))
        return " · ".join(shown(p) for p in parts if p)

    match = entry["match"]
    where = (
        "a stored customer" if match["kind"] == "existing" else f"row {match['row']} of this file"
    )
    console.print(f"[{index}/{total}] row {entry['row']}: [bold]{who(entry)}[/]")
    console.print(f"      matches {where}: [bold]{who(match['customer'])}[/]")
    console.print(
        f"      on {shown(', '.join(match['keys']))} ({shown(match['confidence'])} confidence)"
    )


def _stdout_console() -> Console:
    # Piped into a file or a pager, 80 columns would fold every table cell.
    return plain_console(stderr=False, width=None if sys.stdout.isatty() else 160)


def _stderr_console() -> Console:
    # Messages and summaries, captured by a script: whole lines, never folded.
    return plain_console(stderr=True, width=None if sys.stderr.isatty() else 240)


def _print_summary(console: Console, result: RunResult) -> None:
    job = result.job
    c = job.counter
    colour = {"completed": "green", "completed_with_errors": "yellow"}.get(str(job.status), "red")
    which = f" (job {job.job_id})" if job.fields.get("job_id") else ""
    console.print(
        f"[bold]{shown(result.file.name)}[/] → [{colour}]{job.status}[/]{result.took}{which}"
    )
    if job.status is JobStatus.REJECTED:
        console.print(f"  {shown(job.reason)}")
        return
    if _waits_for_date_order(job):
        console.print(f"  {shown(job.reason)}")
        console.print(
            f"  `customer-import jobs show {job.job_id}` shows values read both ways; "
            f"`customer-import decide {job.job_id} --date-order day_first|month_first` answers, "
            "and the file is read again with the answer"
        )
        return
    if _waits_for_confirmation(job):
        console.print(f"  {shown(job.reason)}")
        console.print(
            f"  `customer-import decide {job.job_id} --confirm-deletions` bins them and goes on;"
            f" `customer-import cancel {job.job_id}` leaves everything as it is"
        )
        return
    if job.status is JobStatus.READY:
        console.print(
            f"  waiting for a decision on {c('duplicates'):,} possible duplicate(s): "
            f"`customer-import duplicates {job.job_id}` lists them, "
            f"`customer-import decide {job.job_id} --default skip|merge|create` answers"
        )
        return
    if job.reason:
        console.print(f"  {shown(job.reason)}")
    console.print(
        f"  rows {c('rows'):,} · customers {c('customers'):,} · vehicles {c('vehicles'):,}"
        f" · possible duplicates {c('duplicates'):,}"
    )
    console.print(
        f"  customers: imported {c('imported'):,} (created {c('created'):,}"
        f" · updated {c('updated'):,} · merged {c('merged'):,} · restored {c('restored'):,}"
        + (f" · copied {c('copied'):,} · moved {c('moved'):,}" if c("copied") or c("moved") else "")
        + ")"
        f" · unchanged {c('unchanged'):,} · binned {c('deleted'):,}"
        f" · skipped (duplicates) {c('skipped_duplicates'):,}"
        f" · skipped (your choice) {c('skipped_user'):,} · failed {c('failed'):,}"
    )
    for warning in job.warnings:
        console.print(f"  warning: {shown(warning)}")
    if result.error_log:
        console.print(f"  error log: {shown(result.error_log)}")


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--source", default="techman", show_default=True, type=click.Choice(["techman"]))
@_api_options
@click.option("--account", "account_id", default="main", show_default=True)
@_how_options
@click.option("--json", "as_json", is_flag=True, help="The whole preview as JSON on stdout.")
@click.option("--limit", default=20, show_default=True, help="Customers shown in the table.")
@click.option(
    "--changes", "show_changes", is_flag=True, help="List every original → cleaned change."
)
@click.pass_context
def preview(
    ctx: click.Context,
    file: Path,
    source: str,
    org_id: str,
    api_url: str | None,
    websocket_url: str | None,
    token: str | None,
    account_id: str,
    mode: str,
    key: str,
    field_policy: str,
    max_delete_percent: float,
    confirm_deletions: bool,
    transfer: str,
    transfer_related: bool,
    as_json: bool,
    limit: int,
    show_changes: bool,
) -> None:
    """Show what importing FILE would do, without writing any customer (a dry run through the
    real Validate and Prepare steps). Exit code 2 when the file would be rejected."""
    console = _stderr_console()
    with (
        _remote(ctx, org_id, api_url, websocket_url, token, embedded=True) as remote,
        console.status(f"Reading {shown(file.name)}"),
    ):
        how = _how(
            mode,
            key,
            field_policy,
            max_delete_percent,
            confirm_deletions,
            transfer,
            transfer_related,
        )
        job, document = preview_file(remote, file, source=source, account_id=account_id, how=how)
    if document is None:
        if as_json:
            click.echo(
                json.dumps(
                    {
                        "status": str(job.status),
                        "reason": job.reason,
                        "missing_columns": job.missing_columns,
                    }
                )
            )
        console.print(f"[red]{shown(file.name)} would be rejected:[/] {shown(job.reason)}")
        sys.exit(2)
    if as_json:
        click.echo(
            json.dumps({"file": file.name, "warnings": job.warnings, **document}, default=str)
        )
        return
    _print_preview(_stdout_console(), file, job, document, limit, show_changes)


def _will(planned: dict[str, Any] | None) -> str:
    """What an update mode will do to a previewed customer: "update", "move from smith (bin)"."""
    if not planned:
        return ""
    will = str(planned["action"])
    if "from_account" in planned:
        will += f" from {shown(planned['from_account'])}"
        will += " (bin)" if planned["from_recycle_bin"] else ""
    return will


def _counted(count: int, unit: str) -> str:
    return f"{count:,} {unit}" + ("" if count == 1 else "s")


def _print_preview(
    console: Console,
    file: Path,
    job: JobView,
    document: dict[str, Any],
    limit: int,
    show_changes: bool,
) -> None:
    from rich.table import Table

    counts = document["counts"]
    console.print(
        f"[bold]{shown(file.name)}[/]: {counts['rows']:,} rows · {counts['customers']:,} customers · "
        f"{counts['vehicles']:,} vehicles · {counts['rows_with_warnings']:,} rows with warnings · "
        f"[red]{_counted(counts['customers_failing'], 'customer')} "
        f"({_counted(counts['rows_failing'], 'row')}) will fail[/]"
    )
    if document.get("mode", "insert") != "insert":
        line = (
            f"{document['mode']} into account {shown(job.fields.get('account'))}: "
            f"create {counts.get('created', 0):,} · update {counts.get('updated', 0):,} · "
            f"unchanged {counts.get('unchanged', 0):,} · restore {counts.get('restored', 0):,}"
        )
        if "transfers" in document:
            line += f" · copy {counts.get('copied', 0):,} · move {counts.get('moved', 0):,}"
        if "sweep" in document:
            line += f" · bin {counts.get('deleted', 0):,}"
        console.print(line)
        for source in document.get("transfers") or []:
            console.print(
                f"  {_counted(source['customers'], 'customer')} from account "
                f"{shown(source['from_account'])}"
                + (" (its recycle bin)" if source["from_recycle_bin"] else "")
                + f": {source['copied']:,} copied · {source['moved']:,} moved"
            )
        sweep = document.get("sweep") or {}
        binned = sweep.get("customers") or []
        if binned:
            listed = binned[:10]
            rest = sweep.get("to_bin", len(binned)) - len(listed)
            console.print(
                "  to bin: "
                + ", ".join(
                    f"{shown(c.get('external_customer_number') or '')} {shown(c.get('name') or '')}"
                    for c in listed
                )
                + (f" and {rest:,} more" if rest > 0 else "")
            )
        if sweep.get("confirmation"):
            console.print(f"[yellow]{shown(sweep['confirmation'])}[/]")
    for warning in job.warnings:
        console.print(f"[yellow]warning:[/] {shown(warning)}")
    table = Table(show_lines=False)
    planned = document.get("mode", "insert") != "insert"
    for column in (
        "Row",
        "Number",
        "Name",
        "Phone",
        "Landline",
        "Email",
        "Group",
        "Vehicles",
        *(("Will",) if planned else ()),
        "Issues",
    ):
        table.add_column(column, overflow="fold")
    first = document["customers"][:limit]
    for customer in first:
        issues = [f"[red]{shown(e['column'])}: {shown(e['reason'])}[/]" for e in customer["errors"]]
        issues += [
            f"[yellow]{shown(w['column'])}: {shown(w['reason'])}[/]" for w in customer["warnings"]
        ]
        table.add_row(
            ",".join(map(str, customer["rows"])),
            *(
                shown(customer.get(name) or "")
                for name in (
                    "external_customer_number",
                    "name",
                    "phone",
                    "landline",
                    "email",
                    "customer_group",
                )
            ),
            shown(" ".join(v["registration"] or "?" for v in customer["vehicles"])),
            *((_will(customer.get("planned")),) if planned else ()),
            "\n".join(issues),
        )
    console.print(table)
    console.print(f"First {len(first)} of {counts['customers']:,} customers; nothing was written.")
    errors = document["errors"]
    if errors:
        console.print(
            f"[red]{_counted(len(errors), 'error')} in the whole file[/] "
            "(as the error log will list them):"
        )
    for error in errors:
        console.print(f"  row {error['row']} {shown(error['column'])}: {shown(error['reason'])}")
    if show_changes:
        for customer in first:
            for change in customer["changes"]:
                console.print(
                    f"  row {change['row']} {shown(change['column'])}: "
                    f"{shown(repr(change['original']))} → {shown(repr(change['cleaned']))}"
                )


@main.command()
@_api_options
@click.option(
    "--account",
    "account_id",
    default=None,
    help="Only this account's live customers (binned ones are in `bin list`).",
)
@click.option("--external-number", default=None, help="Only the customer with this CustomerNumber.")
@click.option("--json", "as_json", is_flag=True, help="A JSON list on stdout.")
@click.pass_context
def customers(
    ctx: click.Context,
    org_id: str,
    api_url: str | None,
    websocket_url: str | None,
    token: str | None,
    account_id: str | None,
    external_number: str | None,
    as_json: bool,
) -> None:
    """List the customers of an organisation, or of one of its accounts, with their addresses
    and vehicles, through the HTTP API (of the stack that `customer-import local up` runs)."""
    with _remote(ctx, org_id, api_url, websocket_url, token, embedded=False) as remote:
        found = (
            remote.api.customers(external_number, account_id)
            if external_number is not None
            else list(remote.api.all_customers(account=account_id))
        )
    if as_json:
        click.echo(json.dumps(found, default=str, indent=2))
        return
    console = _stdout_console()
    for customer in found:
        vehicles = ", ".join(v["registration"] or "?" for v in customer["vehicles"]) or "no vehicle"
        console.print(
            f"[bold]{shown(customer['external_customer_number'])}[/] {shown(customer['name'])}"
            f" · {shown(customer['phone'] or '-')} · {shown(customer['email'] or '-')}"
            f" · {shown(vehicles)}"
            + (
                f" · {shown(customer['customer_id'])}"
                f" · {customer.get('activities') or 0:,} activities"
                if account_id is not None
                else ""
            )
        )
    where = f"account {shown(account_id)} of " if account_id is not None else ""
    console.print(f"{len(found):,} customers in {where}{shown(org_id)}")


# The flags `edit --set` takes as true, false or empty (cleared).
EDIT_FLAGS = ("credit_hold", "account_customer", "vat_registered")


def _edit_value(name: str, text: str) -> Any:
    if text == "":
        return None
    if name not in EDIT_FLAGS:
        return text
    if text.lower() in ("true", "yes", "1"):
        return True
    if text.lower() in ("false", "no", "0"):
        return False
    raise click.BadParameter(f"{name} takes true or false, not {text!r}", param_hint="--set")


@main.command()
@click.argument("customer_id")
@click.option(
    "--set",
    "assignments",
    multiple=True,
    required=True,
    metavar="FIELD=VALUE",
    help="A field to change (name, email, phone, landline, title, customer_group, vat_number, "
    "credit_hold, account_customer, vat_registered); an empty VALUE clears it. Repeatable.",
)
@click.option(
    "--version",
    "expected_version",
    type=int,
    default=None,
    help="Refuse the edit if the customer's version is no longer this one.",
)
@_api_options
@click.option("--json", "as_json", is_flag=True, help="The customer as one JSON object on stdout.")
@click.pass_context
def edit(
    ctx: click.Context,
    customer_id: str,
    assignments: tuple[str, ...],
    expected_version: int | None,
    org_id: str,
    api_url: str | None,
    websocket_url: str | None,
    token: str | None,
    as_json: bool,
) -> None:
    """Change fields of the live customer CUSTOMER_ID through `PATCH /customers/{id}`: phones
    and emails are cleaned as an import cleans them. Refused (exit 1) with the API's reason:
    a value the rules refuse, a version that moved on."""
    changes: dict[str, Any] = {}
    for assignment in assignments:
        name, equals, text = assignment.partition("=")
        if not equals or not name.strip():
            raise click.BadParameter(f"{assignment!r} is not FIELD=VALUE", param_hint="--set")
        changes[name.strip()] = _edit_value(name.strip(), text)
    with _remote(ctx, org_id, api_url, websocket_url, token, embedded=False) as remote:
        edited = remote.api.edit_customer(customer_id, changes, expected_version)
    if as_json:
        click.echo(json.dumps(edited, default=str, indent=2))
        return
    _stdout_console().print(
        f"Customer {shown(edited['customer_id'])} "
        f"({shown(edited['external_customer_number'] or '-')} {shown(edited['name'] or '')}) "
        f"is at version {edited['version']}: "
        + ", ".join(f"{shown(name)}={shown(repr(edited.get(name)))}" for name in changes)
    )


PROFILE_COLUMNS = ("name", "account", "mode", "key", "transfer", "on_duplicate", "review")


@main.group("profiles")
def profiles() -> None:
    """The organisation's import profiles: what an ERP's files import with, decided in advance
    (account, mode, key, field policy, transfers, duplicate decision, review, thresholds)."""


@profiles.command("list")
@_api_options
@click.option("--json", "as_json", is_flag=True, help="A JSON list on stdout.")
@click.pass_context
def profiles_list(
    ctx: click.Context,
    org_id: str,
    api_url: str | None,
    websocket_url: str | None,
    token: str | None,
    as_json: bool,
) -> None:
    """The organisation's profiles, by name."""
    with _remote(ctx, org_id, api_url, websocket_url, token, embedded=False) as remote:
        found = remote.api.profiles()
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return
    console = _stdout_console()
    if not found:
        console.print(f"{shown(org_id)} has no import profile.")
        return
    table = Table(box=None, pad_edge=False, show_edge=False)
    for column in PROFILE_COLUMNS:
        table.add_column(column, no_wrap=True)
    for profile in found:
        table.add_row(*(shown(str(profile.get(column))) for column in PROFILE_COLUMNS))
    console.print(table)


@profiles.command("show")
@click.argument("name")
@_api_options
@click.pass_context
def profiles_show(
    ctx: click.Context,
    name: str,
    org_id: str,
    api_url: str | None,
    websocket_url: str | None,
    token: str | None,
) -> None:
    """The profile NAME as JSON: what `profiles put NAME --file` takes back."""
    with _remote(ctx, org_id, api_url, websocket_url, token, embedded=False) as remote:
        found = remote.api.profile(name)
    click.echo(json.dumps({k: v for k, v in found.items() if k != "name"}, indent=2))


@profiles.command("put")
@click.argument("name")
@click.option(
    "--file",
    "path",
    default=None,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The profile, one JSON object; a field left out takes its default.",
)
@click.option(
    "--from-job",
    "job_id",
    default=None,
    help="Instead of a file: the settings an import ran with (its layout and date order too).",
)
@_api_options
@click.pass_context
def profiles_put(
    ctx: click.Context,
    name: str,
    path: Path | None,
    job_id: str | None,
    org_id: str,
    api_url: str | None,
    websocket_url: str | None,
    token: str | None,
) -> None:
    """Save the profile NAME from FILE, or from a job's settings (replacing one of that name).
    Refused (exit 1) naming every problem: an unknown field, a value out of its range, a
    transfer without an update mode."""
    if (path is None) == (job_id is None):
        raise click.UsageError("Give the profile's --file, or --from-job JOB_ID (one of them)")
    document = _json_object(path) if path is not None else None
    with _remote(ctx, org_id, api_url, websocket_url, token, embedded=False) as remote:
        saved = (
            remote.api.put_profile(name, document)
            if document is not None
            else remote.api.put_profile_from_job(name, job_id or "")
        )
    console = _stdout_console()
    console.print(
        f"Saved profile {shown(saved['name'])}: account {shown(saved['account'])}, "
        f"{shown(saved['mode'])} by {shown(saved['key'])}, review {shown(saved['review'])}"
    )


@profiles.command("suggest")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--sheet", default=None, help="An XLSX file's sheet (default: the first).")
def profiles_suggest(file: Path, sheet: str | None) -> None:
    """A `mapped` profile for FILE (CSV or XLSX): its headers matched to the canonical columns
    (Techman's names, with German and English synonyms and typos), as JSON on stdout, ready to
    edit and `profiles put NAME --file`; each header's column and confidence on stderr. Dates
    are left to `detect`. Exit 1 when no header looks like CustomerNumber or CustomerName."""
    is_workbook = file.suffix.lower() in (".xlsx", ".xlsm")
    try:
        with file.open("rb") as stream:
            header = header_of(stream, is_workbook, sheet)
    except UnreadableFile as exc:
        raise click.ClickException(f"{file.name}: {exc}") from None
    suggestions = suggest_columns(header)
    document = {
        **suggested_profile(header),
        "date_order": "detect",
        "format": "xlsx" if is_workbook else "csv",
        **({"sheet": sheet} if is_workbook and sheet else {}),
    }
    console = _stderr_console()
    table = Table(box=None, pad_edge=False, show_edge=False)
    for column in ("header", "column", "confidence", "matched"):
        table.add_column(column, no_wrap=True)
    for suggestion in suggestions:
        table.add_row(
            shown(suggestion.header),
            shown(suggestion.column or "(ignored)"),
            f"{suggestion.confidence:.2f}",
            shown(suggestion.matched or ""),
        )
    console.print(table)
    click.echo(json.dumps(document, indent=2, ensure_ascii=False))
    if missing := missing_required(suggestions):
        console.print(
            f"[red]No header looks like {', '.join(missing)}:[/] map it by hand before "
            "`profiles put`"
        )
        sys.exit(1)


@profiles.command("delete")
@click.argument("name")
@_api_options
@click.pass_context
def profiles_delete(
    ctx: click.Context,
    name: str,
    org_id: str,
    api_url: str | None,
    websocket_url: str | None,
    token: str | None,
) -> None:
    """Delete the profile NAME (the jobs that ran with it keep its name)."""
    with _remote(ctx, org_id, api_url, websocket_url, token, embedded=False) as remote:
        remote.api.delete_profile(name)
    _stdout_console().print(f"Deleted profile {shown(name)}.")


def _json_object(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise click.BadParameter(f"{path} is not a JSON file: {exc}", param_hint="--file") from None
    if not isinstance(document, dict):
        raise click.BadParameter(f"{path} does not hold a JSON object", param_hint="--file")
    return document


@main.group("settings")
def organisation_settings() -> None:
    """The organisation's settings: time zone, phone region, customer-group map, file limits
    (within the product's), recycle-bin retention. Every import reads them when it runs."""


def _print_settings(console: Console, settings: dict[str, Any]) -> None:
    limits = settings["limits"]
    console.print(f"time zone          {shown(settings['time_zone'])}")
    console.print(f"phone region       {shown(settings['phone_region'])}")
    console.print(
        "file limit         "
        + (
            f"{settings['max_file_bytes']:,} bytes"
            if settings["max_file_bytes"]
            else f"the product's, {limits['max_file_bytes']:,} bytes"
        )
    )
    console.print(
        "row limit          "
        + (
            f"{settings['max_rows']:,} rows"
            if settings["max_rows"]
            else f"the product's, {limits['max_rows']:,} rows"
        )
    )
    console.print(f"recycle bin        {settings['recycle_bin_days']} days")
    group_map = settings["group_map"]
    console.print(f"group map          {len(group_map):,} names" + (":" if group_map else ""))
    for source, target in sorted(group_map.items()):
        console.print(f"  {shown(source)} → {shown(target)}")


@organisation_settings.command("show")
@_api_options
@click.option("--json", "as_json", is_flag=True, help="The settings as JSON on stdout.")
@click.pass_context
def settings_show(
    ctx: click.Context,
    org_id: str,
    api_url: str | None,
    websocket_url: str | None,
    token: str | None,
    as_json: bool,
) -> None:
    """The organisation's settings (`GET /settings`); `--json` prints a document `settings
    put --file` takes back (the product's limits under `limits`, which it ignores)."""
    with _remote(ctx, org_id, api_url, websocket_url, token, embedded=False) as remote:
        found = remote.api.settings()
    if as_json:
        click.echo(json.dumps(found, indent=2, ensure_ascii=False))
        return
    _print_settings(_stdout_console(), found)


@organisation_settings.command("put")
@click.option(
    "--file",
    "path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A JSON object of the settings; a field left out takes its default.",
)
@_api_options
@click.pass_context
def settings_put(
    ctx: click.Context,
    path: Path,
    org_id: str,
    api_url: str | None,
    websocket_url: str | None,
    token: str | None,
) -> None:
    """Replace the organisation's settings by the JSON object in FILE (`PUT /settings`).
    Refused (exit 1) naming every problem: an unknown zone or region, a limit above the
    product's, a retention outside 1-14 days, two group names that differ only by case."""
    document = _json_object(path)
    document.pop("limits", None)  # what `settings show --json` adds: the product's, not ours
    with _remote(ctx, org_id, api_url, websocket_url, token, embedded=False) as remote:
        stored = remote.api.put_settings(document)
    console = _stdout_console()
    console.print(f"Settings of {shown(org_id)} stored:")
    _print_settings(console, stored)


@main.group("activities")
def activities() -> None:
    """A customer's activities (appointments, reports, call blocks, service bookings)."""


@activities.command("add")
@click.argument("customer_id")
@click.option("--kind", required=True, help="appointment, report, call_block or service_booking.")
@click.option("--date", "day", required=True, help="The day it happens or happened (YYYY-MM-DD).")
@click.option("--text", required=True, help="What was done or said.")
@_api_options
@click.option("--json", "as_json", is_flag=True, help="The activity as one JSON object on stdout.")
@click.pass_context
def activities_add(
    ctx: click.Context,
    customer_id: str,
    kind: str,
    day: str,
    text: str,
    org_id: str,
    api_url: str | None,
    websocket_url: str | None,
    token: str | None,
    as_json: bool,
) -> None:
    """Record an activity of the live customer CUSTOMER_ID, in its account, by the token's
    user. Refused (exit 1) with the API's reason: an unknown kind, a date that is not one."""
    with _remote(ctx, org_id, api_url, websocket_url, token, embedded=False) as remote:
        added = remote.api.add_activity(customer_id, kind, day, text)
    if as_json:
        click.echo(json.dumps(added, indent=2))
        return
    _stdout_console().print(
        f"Recorded {shown(added['kind'])} of {shown(added['date'])} for customer "
        f"{shown(added['customer_id'])} (account {shown(added['account'])}): "
        f"{shown(added['activity_id'])}"
    )


ACTIVITY_COLUMNS = ("date", "kind", "author", "text")


@activities.command("list")
@click.argument("customer_id")
@_api_options
@click.option("--json", "as_json", is_flag=True, help="A JSON list on stdout.")
@click.pass_context
def activities_list(
    ctx: click.Context,
    customer_id: str,
    org_id: str,
    api_url: str | None,
    websocket_url: str | None,
    token: str | None,
    as_json: bool,
) -> None:
    """The activities of the live customer CUSTOMER_ID, by date."""
    with _remote(ctx, org_id, api_url, websocket_url, token, embedded=False) as remote:
        found = list(remote.api.all_activities(customer_id))
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return
    console = _stdout_console()
    table = Table(box=None, pad_edge=False, show_edge=False)
    for column in ACTIVITY_COLUMNS:
        table.add_column(column, no_wrap=column != "text")
    for activity in found:
        table.add_row(*(shown(activity.get(column) or "-") for column in ACTIVITY_COLUMNS))
    if found:
        console.print(table)
    console.print(f"{len(found):,} activities of customer {shown(customer_id)}")


# What `bin list` shows of each binned customer, in this order (its --json has them all).
BIN_COLUMNS = ("customer_id", "external_customer_number", "account", "deleted_at", "purge_after")


@main.group("bin")
def recycle_bin() -> None:
    """The recycle bin: customers a sync removed, kept until their retention has passed."""


@recycle_bin.command("list")
@_api_options
@click.option("--account", "account_id", default=None, help="Only this account's bin.")
@click.option("--json", "as_json", is_flag=True, help="A JSON list on stdout.")
@click.pass_context
def bin_list(
    ctx: click.Context,
    org_id: str,
    api_url: str | None,
    websocket_url: str | None,
    token: str | None,
    account_id: str | None,
    as_json: bool,
) -> None:
    """The binned customers of the organisation, or of one account, newest binned first,
    each with the first day it may be purged (until then, `bin restore` brings it back)."""
    with _remote(ctx, org_id, api_url, websocket_url, token, embedded=False) as remote:
        binned = list(remote.api.all_binned(account_id))
    if as_json:
        click.echo(json.dumps(binned, indent=2))
        return
    console = _stdout_console()
    where = f"account {shown(account_id)} of {shown(org_id)}" if account_id else shown(org_id)
    if not binned:
        console.print(f"The recycle bin of {where} is empty.")
        return
    table = Table(box=None, pad_edge=False, show_edge=False)
    for column in BIN_COLUMNS:
        table.add_column(column, no_wrap=True)
    for customer in binned:
        table.add_row(*(shown(customer.get(column) or "-") for column in BIN_COLUMNS))
    console.print(table)
    console.print(f"{len(binned):,} customers in the recycle bin of {where}")


@recycle_bin.command("restore")
@click.argument("customer_id")
@_api_options
@click.pass_context
def bin_restore(
    ctx: click.Context,
    customer_id: str,
    org_id: str,
    api_url: str | None,
    websocket_url: str | None,
    token: str | None,
) -> None:
    """Take CUSTOMER_ID out of the recycle bin: it is live again in its account, with the
    same id, fields, addresses and vehicles. Refused (exit 1) when it is not in the bin, or a
    live customer of its account has its number now."""
    with _remote(ctx, org_id, api_url, websocket_url, token, embedded=False) as remote:
        restored = remote.api.restore(customer_id)
    _stdout_console().print(
        f"Restored customer {shown(restored['customer_id'])} "
        f"({shown(restored['external_customer_number'] or '-')} {shown(restored['name'] or '')})"
        f" to account {shown(restored['account'])}, version {restored['version']}."
    )


@main.command()
@click.argument("job_id")
@_api_options
@click.option("--json", "as_json", is_flag=True, help="The job as one JSON object on stdout.")
@click.pass_context
def cancel(
    ctx: click.Context,
    job_id: str,
    org_id: str,
    api_url: str | None,
    websocket_url: str | None,
    token: str | None,
    as_json: bool,
) -> None:
    """Cancel JOB_ID while it waits for its decision: nothing of it is written. Needs the
    stack of `customer-import local up` that holds the job."""
    with _remote(ctx, org_id, api_url, websocket_url, token, embedded=False) as remote:
        job = JobView(remote.api.cancel(job_id))
    if as_json:
        click.echo(json.dumps({"job_id": job_id, "status": str(job.status)}))
        return
    _stderr_console().print(f"Job {shown(job_id)} → {job.status}; nothing of it was written.")


ERROR_LOG_DIR_OPTION = click.option(
    "--error-log-dir",
    default=Path(".local/error-logs"),
    type=click.Path(file_okay=False, path_type=Path),
    show_default=True,
)


@main.command()
@click.argument("job_id")
@_api_options
@click.option("--json", "as_json", is_flag=True, help="The summary as one JSON object on stdout.")
@ERROR_LOG_DIR_OPTION
@click.pass_context
def retry(
    ctx: click.Context,
    job_id: str,
    org_id: str,
    api_url: str | None,
    websocket_url: str | None,
    token: str | None,
    as_json: bool,
    error_log_dir: Path,
) -> None:
    """Import again the rows of JOB_ID that failed to be written (a failed batch, a refused
    customer), and only those; rows that failed their cleanup stay in the error log. Needs
    the stack of `customer-import local up` that ran the import."""
    with _remote(ctx, org_id, api_url, websocket_url, token, embedded=False) as remote:
        _act_and_follow(
            remote, job_id, "retry", lambda: remote.api.retry(job_id), as_json, error_log_dir
        )


@main.command()
@click.argument("job_id")
@_api_options
@click.option(
    "--default",
    "default",
    type=click.Choice(CHOICES),
    default=None,
    help="The choice for every flagged customer without one of its own.",
)
@click.option(
    "--set",
    "choices",
    multiple=True,
    metavar="CUSTOMER_NUMBER=CHOICE",
    help="A choice for one customer, e.g. --set 100042=merge (repeatable).",
)
@click.option(
    "--confirm-deletions",
    is_flag=True,
    help="A sync waiting over its deletion threshold: bin what the file no longer holds.",
)
@click.option(
    "--date-order",
    type=click.Choice(["day_first", "month_first"]),
    default=None,
    help="A file waiting to be told how it writes its dates: read it again this way.",
)
@click.option("--json", "as_json", is_flag=True, help="The summary as one JSON object on stdout.")
@ERROR_LOG_DIR_OPTION
@click.pass_context
def decide(
    ctx: click.Context,
    job_id: str,
    org_id: str,
    api_url: str | None,
    websocket_url: str | None,
    token: str | None,
    default: Any,
    choices: tuple[str, ...],
    confirm_deletions: bool,
    date_order: str | None,
    as_json: bool,
    error_log_dir: Path,
) -> None:
    """Answer JOB_ID, waiting for its decision on possible duplicates (`run --hold`, or a job
    an ERP profile left for review), on a sync's deletions (--confirm-deletions) or on how its
    file writes its dates (--date-order), then follow it to the end (or to its next
    question)."""
    overrides: dict[str, Any] = {}
    for choice in choices:
        number, _, value = choice.partition("=")
        if not number.strip() or value.strip() not in CHOICES:
            raise click.BadParameter(
                f"{choice!r} is not CUSTOMER_NUMBER={'|'.join(CHOICES)}", param_hint="--set"
            )
        overrides[number.strip()] = value.strip()

    with _remote(ctx, org_id, api_url, websocket_url, token, embedded=False) as remote:
        _act_and_follow(
            remote,
            job_id,
            "decide",
            lambda: remote.api.decide(job_id, default, overrides, confirm_deletions, date_order),
            as_json,
            error_log_dir,
        )


@main.command()
@click.argument("job_id")
@_api_options
@click.option("--json", "as_json", is_flag=True, help="The whole list as JSON on stdout.")
@click.pass_context
def duplicates(
    ctx: click.Context,
    job_id: str,
    org_id: str,
    api_url: str | None,
    websocket_url: str | None,
    token: str | None,
    as_json: bool,
) -> None:
    """List the possible duplicates of JOB_ID, each beside what it matches."""
    with _remote(ctx, org_id, api_url, websocket_url, token, embedded=False) as remote:
        entries = list(remote.api.all_duplicates(job_id))
    if as_json:
        click.echo(json.dumps({"total": len(entries), "duplicates": entries}, indent=2))
        return
    console = _stdout_console()
    for index, entry in enumerate(entries, start=1):
        _print_duplicate(console, entry, index, len(entries))


def _act_and_follow(
    remote: Remote,
    job_id: str,
    label: str,
    act: Callable[[], dict[str, Any]],
    as_json: bool,
    error_log_dir: Path,
) -> None:
    """Act on a job through the API, follow it to the end with a progress bar, and print its
    summary; exit 0 if it completed. A refusal (409, 422) ends with its reason, exit 1."""
    console = _stderr_console()
    with _progress_bar(console, label) as progress:
        task = progress.add_task("starting", total=None, counts="")

        def on_update(job: JobView, _message: dict[str, Any] | None) -> None:
            _advance(progress, task, job)

        try:
            result = act_and_follow(
                remote, job_id, act, label=label, on_update=on_update, error_log_dir=error_log_dir
            )
        except ApiError as exc:
            progress.stop()
            console.print(f"[red]Cannot {label}:[/] {shown(exc.message)}")
            sys.exit(1)
    if as_json:
        click.echo(json.dumps(result.as_json()))
    else:
        _print_summary(console, result)
    ended_well = {JobStatus.COMPLETED, JobStatus.COMPLETED_WITH_ERRORS}
    if label == "follow":
        ended_well.add(JobStatus.READY)  # it waits, as `run --hold` leaves it
    elif result.job.status is JobStatus.READY:
        sys.exit(3)  # read again after an answer, it waits for another (the summary says which)
    sys.exit(0 if result.job.status in ended_well else 1)


REVERTED_NAMES = ("created", "updated", "merged", "deleted", "restored", "copied", "moved")


@main.command()
@click.argument("job_id")
@_api_options
@click.option(
    "--action",
    default=None,
    type=click.Choice([str(action) for action in Action]),
    help="Only the changes of this kind.",
)
@click.option("--json", "as_json", is_flag=True, help="A JSON list on stdout.")
@click.pass_context
def changes(
    ctx: click.Context,
    job_id: str,
    org_id: str,
    api_url: str | None,
    websocket_url: str | None,
    token: str | None,
    action: str | None,
    as_json: bool,
) -> None:
    """What the import JOB_ID did to each customer, from its change log: created, updated or
    merged (each field before → after), binned, restored, copied or moved."""
    with _remote(ctx, org_id, api_url, websocket_url, token, embedded=False) as remote:
        found = list(remote.api.all_changes(job_id, action))
    if as_json:
        click.echo(json.dumps(found, default=str, indent=2))
        return
    console = _stdout_console()
    for change in found:
        source = change.get("transferred_from") or {}
        console.print(
            f"[bold]{shown(change['action'])}[/] {shown(change['external_customer_number'] or '-')}"
            f" ({shown(change['customer_id'])}, account {shown(change['account'])})"
            + (f" from account {shown(source['account_id'])}" if source else "")
            + f" · version {change['version_before']} → {change['version_after']}"
        )
        if change["action"] in ("updated", "merged", "restored"):
            for field in change["fields"]:
                console.print(
                    f"  {shown(field['field'])}: {shown(repr(field['before']))} → "
                    f"{shown(repr(field['after']))}"
                )
    counts = Counter(change["action"] for change in found)
    # A customer two rows of the file changed (a merge into it, then another) has a change
    # of each: a rollback undoes it once.
    customers = len({change["customer_id"] for change in found})
    console.print(
        f"{len(found):,} changes to {customers:,} customers by import {shown(job_id)}"
        + (
            ": " + " · ".join(f"{name} {n:,}" for name, n in sorted(counts.items()))
            if counts
            else ""
        )
    )


@main.command()
@click.argument("job_id")
@_api_options
@click.option("--dry-run", is_flag=True, help="Say what the rollback would do; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="The summary as one JSON object on stdout.")
@click.option(
    "--conflict-log-dir",
    default=Path(".local/conflict-logs"),
    type=click.Path(file_okay=False, path_type=Path),
    show_default=True,
)
@click.option("--timeout", "timeout_s", default=3600, show_default=True)
@click.pass_context
def rollback(
    ctx: click.Context,
    job_id: str,
    org_id: str,
    api_url: str | None,
    websocket_url: str | None,
    token: str | None,
    dry_run: bool,
    as_json: bool,
    conflict_log_dir: Path,
    timeout_s: int,
) -> None:
    """Roll the completed import JOB_ID back (once): remove what it created, put back what it
    updated or merged, restore what it binned, move moved customers back, remove copies. A
    customer changed since is left as it is and reported (the conflict CSV). Exit code 0 when
    it rolled back (conflicts included), 1 otherwise."""
    console = _stderr_console()
    with _remote(ctx, org_id, api_url, websocket_url, token, embedded=False) as remote:
        try:
            if dry_run:
                plan = remote.api.rollback(job_id, dry_run=True)
                _print_rollback(console, plan, as_json, None, dry_run=True)
                return
            with remote.follow(job_id) as follower, _progress_bar(console, "rollback") as bar:
                task = bar.add_task("starting", total=None, counts="")
                remote.api.rollback(job_id)
                job = started = follower.read()
                for job, _ in follower.events(timeout_s, started):
                    done, total = (
                        job.counter("rollback_batches_done"),
                        job.counter("rollback_batches_total"),
                    )
                    bar.update(
                        task,
                        description=str(job.status),
                        completed=done,
                        total=total or None,
                        counts=f"{done:,} of {total:,} batches",
                    )
        except ApiError as exc:
            console.print(f"[red]Cannot roll back:[/] {shown(exc.message)}")
            sys.exit(1)
        except TimeoutError as exc:
            console.print(f"[red]{shown(exc)}[/]")
            sys.exit(1)
        conflict_log = remote.api.download_conflict_log(
            job_id, conflict_log_dir / f"{job_id[:8]}-rollback-conflicts.csv"
        )
    summary = {
        "job_id": job_id,
        "status": str(job.status),
        "dry_run": False,
        "reverted": {name: job.counter(f"reverted_{name}") for name in REVERTED_NAMES},
        "conflicts": job.counter("conflicts"),
    }
    _print_rollback(console, summary, as_json, conflict_log, dry_run=False)
    rolled_back = {JobStatus.ROLLED_BACK, JobStatus.ROLLED_BACK_WITH_CONFLICTS}
    sys.exit(0 if job.status in rolled_back else 1)


def _print_rollback(
    console: Console,
    summary: dict[str, Any],
    as_json: bool,
    conflict_log: Path | None,
    *,
    dry_run: bool,
) -> None:
    if as_json:
        shown_summary = {k: v for k, v in summary.items() if k != "conflict_list" or dry_run}
        click.echo(
            json.dumps(
                {**shown_summary, "conflict_log": str(conflict_log) if conflict_log else None}
            )
        )
        return
    reverted = summary["reverted"]
    what = " · ".join(f"{name} {reverted.get(name, 0):,}" for name in REVERTED_NAMES)
    if dry_run:
        console.print(f"A rollback of {shown(summary['job_id'])} would undo: {what}")
        console.print(f"  and leave {summary['conflicts']:,} customer(s) changed since as they are")
        for conflict in summary.get("conflict_list") or []:
            console.print(
                f"  {shown(conflict['external_customer_number'] or '-')} "
                f"({shown(conflict['customer_id'])}): would {shown(conflict['would'])}, but "
                f"{shown(conflict['since'])}"
            )
        return
    console.print(f"[bold]{shown(summary['job_id'])}[/] → {shown(summary['status'])}")
    console.print(f"  undone: {what} · left as changed since: {summary['conflicts']:,}")
    if conflict_log:
        console.print(f"  conflicts: {shown(conflict_log)}")


def _print_next_cursor(console: Console, cursor: str) -> None:
    # On one line whatever the terminal's width: a wrapped cursor cannot be pasted back.
    console.print(f"More: --cursor {shown(cursor)}", soft_wrap=True)


@main.command()
@_api_options
@click.option("--limit", default=50, show_default=True, help="Entries per page (1-100).")
@click.option("--cursor", default=None, help="The next_cursor of a previous page.")
@click.option("--all", "every_page", is_flag=True, help="Every entry, page after page.")
@click.option("--json", "as_json", is_flag=True, help="A JSON list on stdout.")
@click.pass_context
def audit(
    ctx: click.Context,
    org_id: str,
    api_url: str | None,
    websocket_url: str | None,
    token: str | None,
    limit: int,
    cursor: str | None,
    every_page: bool,
    as_json: bool,
) -> None:
    """The organisation's audit log, newest first, through the HTTP API (of the stack of
    `local up`)."""
    with _remote(ctx, org_id, api_url, websocket_url, token, embedded=False) as remote:
        if every_page:
            entries, next_cursor = list(remote.api.all_audit()), None
        else:
            page = remote.api.audit(limit, cursor)
            entries, next_cursor = page["items"], page.get("next_cursor")
    if as_json:
        click.echo(json.dumps(entries, indent=2))
        return
    console = _stdout_console()
    for entry in entries:
        details = entry["details"]
        counts = details.get("counts") or {}
        what = " · ".join(
            f"{name.replace('_', ' ')} {value:,}"
            for name, value in counts.items()
            if isinstance(value, int) and (value or name in ("imported", "failed"))
        )
        for name in ("decision", "default", "overrides", "rows", "reason"):
            if name in details:
                what = f"{what} · {name} {details[name]}" if what else f"{name} {details[name]}"
        for source in details.get("transfers") or []:
            bin_ = " (bin)" if source.get("from_recycle_bin") else ""
            what += (
                f" · from {source.get('from_account')}{bin_}: {source.get('copied', 0):,} copied,"
                f" {source.get('moved', 0):,} moved"
            )
        console.print(
            f"{shown(entry['at'])}  {shown(entry['action']):<34} {shown(entry['actor']):<10} "
            f"{shown(details.get('file', ''))}  job {shown(entry['job_id'])}"
            + (f"  {shown(what)}" if what else "")
        )
    if not entries:
        console.print(f"No audit entries in {shown(org_id)}.")
    if next_cursor:
        _print_next_cursor(console, next_cursor)


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


@main.command("sample-erp")
@click.option("--customers", default=50, show_default=True)
@click.option("--seed", default=1, show_default=True)
@click.option(
    "--ambiguous-dates", is_flag=True, help="No day over 12: the dates cannot tell their order."
)
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="A .csv (semicolons, Windows-1252, TT.MM.JJJJ) or an .xlsx (sheet Kunden).",
)
def sample_erp(customers: int, seed: int, ambiguous_dates: bool, out: Path) -> None:
    """Write a German ERP's customer export (its own headers; not Techman's) for demos and
    tests of `mapped` profiles."""
    from .erp_sample import german_csv, german_rows, german_xlsx

    out.parent.mkdir(parents=True, exist_ok=True)
    rows = german_rows(customers, seed, ambiguous_dates)
    if out.suffix.lower() == ".xlsx":
        german_xlsx(rows, out)
    else:
        out.write_bytes(german_csv(rows))
    click.echo(f"Wrote {out}: {customers:,} customers of a German ERP")


@main.group()
def jobs() -> None:
    """Import jobs, through the HTTP API as a web app or an ERP script sees them."""


@jobs.command("list")
@_api_options
@click.option("--limit", default=20, show_default=True, help="Jobs per page (1-100).")
@click.option("--cursor", default=None, help="The next_cursor of a previous page.")
@click.option("--json", "as_json", is_flag=True, help="The page as JSON on stdout.")
@click.pass_context
def jobs_list(
    ctx: click.Context,
    org_id: str,
    api_url: str | None,
    websocket_url: str | None,
    token: str | None,
    limit: int,
    cursor: str | None,
    as_json: bool,
) -> None:
    """The organisation's import jobs, newest first."""
    with _remote(ctx, org_id, api_url, websocket_url, token, embedded=False) as remote:
        page = remote.api.imports(limit, cursor)
    if as_json:
        click.echo(json.dumps(page, indent=2))
        return
    console = _stdout_console()
    for job in page["items"]:
        counts = job["counts"]
        console.print(
            f"{shown(job['created_at'][:19])}  {shown(job['job_id'])}  {shown(job['status']):<22} "
            f"{counts.get('imported', 0):>7,} imported {counts.get('failed', 0):>6,} failed  "
            f"{shown(job['file_name'])}"
            + (f"  (profile {shown(job['profile'])})" if job.get("profile") else "")
        )
    if not page["items"]:
        console.print(
            f"No import jobs in {shown(org_id)}."
            + (
                " A local stack keeps them in memory only: a stack that was stopped forgot its jobs."
                if api_url is None
                else ""
            )
        )
    if page.get("next_cursor"):
        _print_next_cursor(console, page["next_cursor"])


@jobs.command("follow")
@click.argument("job_id")
@_api_options
@click.option("--json", "as_json", is_flag=True, help="The summary as one JSON object on stdout.")
@ERROR_LOG_DIR_OPTION
@click.pass_context
def jobs_follow(
    ctx: click.Context,
    job_id: str,
    org_id: str,
    api_url: str | None,
    websocket_url: str | None,
    token: str | None,
    as_json: bool,
    error_log_dir: Path,
) -> None:
    """Follow JOB_ID to its end (after an interrupted `run`, or a job someone else started),
    then print its summary and save its error log, as `run` does."""
    with _remote(ctx, org_id, api_url, websocket_url, token, embedded=False) as remote:
        _act_and_follow(
            remote, job_id, "follow", lambda: remote.api.job(job_id), as_json, error_log_dir
        )


# `jobs wait`'s exit codes, by how the job ended: what a script branches on.
WAIT_EXIT_CODES = {
    JobStatus.COMPLETED: 0,
    JobStatus.COMPLETED_WITH_ERRORS: 4,
    JobStatus.REJECTED: 2,
    JobStatus.READY: 3,
}
WAIT_TIMED_OUT = 124  # as timeout(1) exits


@jobs.command("wait")
@click.argument("job_id")
@_api_options
@click.option("--timeout", "timeout_s", default=3600, show_default=True, help="Seconds.")
@click.option("--json", "as_json", is_flag=True, help="The job as one JSON object on stdout.")
@click.pass_context
def jobs_wait(
    ctx: click.Context,
    job_id: str,
    org_id: str,
    api_url: str | None,
    websocket_url: str | None,
    token: str | None,
    timeout_s: int,
    as_json: bool,
) -> None:
    """Wait for JOB_ID to end, quietly, for scripts; print how it ended. Exit code: 0
    completed, 4 completed with row errors, 2 rejected, 3 waiting for a decision (answer it
    with `decide`), 1 failed, cancelled, expired or rolled back, 124 still running after
    --timeout."""
    with (
        _remote(ctx, org_id, api_url, websocket_url, token, embedded=False) as remote,
        remote.follow(job_id) as follower,
    ):
        job = started = follower.read()
        try:
            for job, _ in follower.events(timeout_s, started):
                if job.status is JobStatus.READY:
                    break
        except TimeoutError as exc:
            _stderr_console().print(f"[red]{shown(exc)}[/]")
            sys.exit(WAIT_TIMED_OUT)
    if as_json:
        click.echo(json.dumps(job.fields, default=str))
    else:
        console = _stdout_console()
        console.print(
            f"{shown(job_id)} {shown(job.status)}"
            + (f": {shown(job.reason)}" if job.reason else "")
        )
        if job.status is JobStatus.READY:
            console.print(f"  it waits for a decision: customer-import decide {shown(job_id)} ...")
    sys.exit(WAIT_EXIT_CODES.get(job.status, 1))


@jobs.command("error-log")
@click.argument("job_id")
@_api_options
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to save it (default: .local/error-logs/<file>-<job>-errors.csv).",
)
@click.pass_context
def jobs_error_log(
    ctx: click.Context,
    job_id: str,
    org_id: str,
    api_url: str | None,
    websocket_url: str | None,
    token: str | None,
    out: Path | None,
) -> None:
    """Download the error log of JOB_ID (row, column, reason, original values) and print
    where it was saved; say so when no row failed."""
    console = _stderr_console()
    with _remote(ctx, org_id, api_url, websocket_url, token, embedded=False) as remote:
        job = JobView(remote.api.job(job_id))
        if not job.status.is_final:
            console.print(
                f"Job {shown(job_id)} is {job.status}: its error log is written when it ends "
                f"(`customer-import jobs follow {shown(job_id)}` follows it there)."
            )
            sys.exit(1)
        default = Path(".local/error-logs") / f"{Path(job.file_name).stem}-{job_id[:8]}-errors.csv"
        saved = remote.api.download_error_log(job_id, out or default)
    if saved is None:
        console.print(f"No row of job {shown(job_id)} failed ({job.status}): it has no error log.")
        return
    click.echo(str(saved))


@jobs.command("show")
@click.argument("job_id")
@_api_options
@click.option("--json", "as_json", is_flag=True, help="The job (and its preview) as JSON.")
@click.pass_context
def jobs_show(
    ctx: click.Context,
    job_id: str,
    org_id: str,
    api_url: str | None,
    websocket_url: str | None,
    token: str | None,
    as_json: bool,
) -> None:
    """One import job: its state, counts, decision and preview counts."""
    with _remote(ctx, org_id, api_url, websocket_url, token, embedded=False) as remote:
        job = remote.api.job(job_id)
    if as_json:
        click.echo(json.dumps(job, indent=2))
        return
    console = _stdout_console()
    console.print(
        f"[bold]{shown(job['file_name'])}[/] ({shown(job['source'])}, {shown(job['mode'])})"
        f" job {shown(job['job_id'])}"
    )
    reason = f": {shown(job['reason'])}" if job["reason"] else ""
    console.print(f"  status     {shown(job['status'])}{reason}")
    console.print(f"  created    {shown(job['created_at'])} by {shown(job['created_by'])}")
    counts = job["counts"]
    console.print(
        "  counts     "
        + ", ".join(
            f"{name.replace('_', ' ')} {counts.get(name, 0):,}"
            for name in ("rows", "customers", "imported", *OUTCOME_COUNTERS)
        )
    )
    if job["missing_columns"]:
        console.print(f"  missing    {shown(', '.join(job['missing_columns']))}")
    for warning in job["warnings"]:
        console.print(f"  warning    {shown(warning)}")
    if job["decision"]:
        decision = job["decision"]
        console.print(
            f"  decision   {shown(decision.get('default'))} by {shown(decision.get('by'))} "
            f"({len(decision.get('overrides') or {})} overrides)"
        )
    if job.get("preview"):
        console.print(f"  preview    {len(job['preview'].get('customers', []))} customers shown")
        _print_question(console, job["preview"].get("question"))
    console.print(f"  error log  {'yes' if job['has_error_log'] else 'no'}")


def _print_question(console: Console, question: dict[str, Any] | None) -> None:
    """What the file asks before it can be read, and its values read each way."""
    if not question:
        return
    console.print(f"  question   {shown(question['text'])}")
    table = Table(box=None, pad_edge=False, show_edge=False)
    for column in ("row", "column", "value", *question["choices"]):
        table.add_column(column, no_wrap=True)
    for example in question["examples"]:
        table.add_row(
            *(shown(str(example.get(c))) for c in ("row", "column", "value", *question["choices"]))
        )
    console.print(table)


if __name__ == "__main__":
    main()
