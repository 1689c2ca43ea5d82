"""PrepareImport: stream the file, clean and group its rows, flag possible duplicates, stage
batches and write the preview."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from typing import Any

from ..changes.log import SWEEP_PREFIX
from ..changes.matching import AccountKeys, FileCustomer, match_or_transfer
from ..changes.plan import Kind, plan, rules_of, unchanged
from ..changes.preview import Tally, describe
from ..changes.rules import Mode, Transfer
from ..changes.sweep import FileKeys, SweepCount, confirmation_needed, count_sweep, to_bin
from ..customers.customer import new_customer_id
from ..customers.repository import CustomerKey, CustomerRepository
from ..duplicates import DuplicateFinder, summary
from ..jobs import Job, JobStatus
from ..ports import JobStore, ObjectStore, OrganisationStore, RowFailure
from ..progress import ProgressBroadcaster
from ..settings import Settings
from ..sources import techman
from ..sources.csv_files import TextFormat, UnreadableFile
from ..sources.dates import DateOrderEvidence
from ..sources.files import SourceFile
from ..sources.layout import DateOrder
from ..sources.techman import ValueReading
from .run import JobRun
from .shared import Clock, JobAudit, timestamp
from .staging import (
    DuplicateListing,
    Stager,
    put_row_error_pages,
    staging_prefix,
)
from .validate import NO_DATA_ROWS, reject

PREVIEW_SIZE = 100


@dataclass(eq=False)
class PrepareImport:
    settings: Settings
    jobs: JobStore
    objects: ObjectStore
    customers: CustomerRepository
    organisations: OrganisationStore
    broadcaster: ProgressBroadcaster
    audit: JobAudit
    clock: Clock

    def __call__(self, org_id: str, job_id: str) -> dict[str, Any]:
        """Stream the file twice (each customer's last row, then everything else): clean,
        group, flag possible duplicates, stage batches, write the preview."""
        job = self.jobs.get(org_id, job_id)
        fmt = TextFormat(encoding=job.encoding or "utf-8", delimiter=job.delimiter or ",")
        profile = self.organisations.get(org_id)
        max_rows = profile.max_rows or self.settings.max_rows
        layout = job.options.layout
        source = SourceFile(
            lambda: self.objects.open(job.object_key),
            layout,
            fmt,
            profile.max_file_bytes or self.settings.max_file_bytes,
        )
        with source:
            try:
                records = source.records()
                _, header = next(records)
                columns = techman.check_header(header, layout.columns if layout.is_mapped else None)
                dates = DateOrderEvidence(columns.positions, columns.named)
                # A first pass learns each customer's last row: the second then stages
                # customers as their rows end, and Prepare's memory stays flat in the file's
                # size. It also learns how the file writes its dates, where that is asked
                # (detect) or warned about (Techman's day-first contract).
                judged = layout.date_order is DateOrder.DETECT or not layout.is_mapped
                index = techman.index_rows(
                    columns, source.records(), max_rows, dates.see if judged else None
                )
            except UnreadableFile as exc:
                return self._reject_prepared(job, str(exc))
            if index.rows == 0:  # rows of only delimiters, beyond Validate's head
                return self._reject_prepared(job, NO_DATA_ROWS)
            if index.rows > max_rows:
                return self._reject_prepared(
                    job,
                    f"The file has more than {max_rows:,} data rows, the limit; "
                    "split it into smaller files",
                )
            order = layout.date_order
            if order is DateOrder.DETECT:
                verdict = dates.verdict()
                if verdict.contradiction:
                    return self._reject_prepared(job, verdict.contradiction)
                if verdict.question:
                    return self._ask(job, verdict.question, index.rows)
                order = verdict.order or DateOrder.DAY_FIRST
                job = self.jobs.update(
                    org_id,
                    job_id,
                    options=replace(job.options, layout=layout.with_date_order(order)),
                )
            elif not layout.is_mapped and (warning := dates.month_first_only()):
                job = self.jobs.update(org_id, job_id, warnings=[*job.warnings, warning])
            reading = ValueReading(
                date_order=str(order),
                phone_region=layout.phone_region,
                boolean_words=frozenset(layout.boolean_words.items()),
            )
            rows = techman.TechmanRows(columns, profile, index.last_rows, reading)
            rows.read(records)
            return self._stage(job, rows)

    def _ask(self, job: Job, question: dict[str, Any], rows: int) -> dict[str, Any]:
        """Stop before cleaning anything: the file cannot be read until a person says how it
        writes its dates. The preview holds the question and a few values read both ways;
        the answer reads the file again (`ImportRequests.submit_decision`)."""
        preview_key = f"{staging_prefix(job)}/preview.json"
        self.objects.put_json(
            preview_key,
            {
                "counts": {"rows": rows},
                "customers": [],
                "question": question,
                "mode": str(job.options.mode),
            },
        )
        self.jobs.update(
            job.org_id,
            job.job_id,
            preview_key=preview_key,
            reason=question["text"],
            counters={**job.counters, "rows": rows},
        )
        return {
            **_NOTHING_STAGED,
            "needs_confirmation": True,
            "auto_run": False,
            "decision_timeout_seconds": job.options.decision_timeout_seconds
            or self.settings.decision_timeout_seconds,
        }

    def _stage(self, job: Job, rows: techman.TechmanRows) -> dict[str, Any]:
        org_id, job_id = job.org_id, job.job_id
        failures: list[RowFailure] = []
        prefix = staging_prefix(job)
        size = self.settings.batch_size
        first = Stager(self.objects, prefix, size)
        # Repeats of an earlier customer of the file run after everything else (see HasRepeats).
        late = Stager(self.objects, prefix, size, JobRun.first().late_batch_prefix)
        finder = DuplicateFinder(self._stored_customer_lookup(org_id))
        listing = DuplicateListing(self.objects, f"{prefix}/duplicates")
        options = job.options
        rules = rules_of(options)
        # A sync reads the account's keys for its sweep; read first, they also settle the
        # customers an import last wrote from the file's very values.
        account = (
            AccountKeys(list(self.customers.live_keys(org_id, job.account_id)))
            if options.mode is Mode.SYNC
            else None
        )
        tally = Tally()
        file_keys = FileKeys()
        pending: list[dict[str, Any]] = []
        preview: dict[str, dict[str, Any]] = {}  # by customer id
        customers = vehicles = failed_customers = rows_with_warnings = 0
        staged_at = timestamp(self.clock)
        rows_failing = 0

        def flag_duplicates() -> None:
            """Insert mode: flag a chunk of customers in one batched look-up, then stage them."""
            listing.add(finder.flag(pending))
            for customer in pending:
                match = customer.get("duplicate")
                if match and customer["customer_id"] in preview:
                    preview[customer["customer_id"]]["duplicate"] = match
                (late if match and match["kind"] == "file" else first).add(customer)

        def plan_changes() -> None:
            """Update modes: match a chunk by the import's key, say what will change, and
            stage only the customers that change."""
            chunk = [FileCustomer.from_staged(org_id, job.account_id, c) for c in pending]
            settled = [account.written_from(c, options.key) if account else None for c in chunk]
            unsettled = [c for c, known in zip(chunk, settled, strict=True) if known is None]
            matched = iter(
                match_or_transfer(self.customers, org_id, job.account_id, unsettled, rules)
            )
            for customer, file_customer, known in zip(pending, chunk, settled, strict=True):
                planned = (
                    unchanged(file_customer.customer, known)
                    if known is not None
                    else plan(file_customer.customer, next(matched), rules, file_customer.row)
                )
                tally.add([planned])
                if customer["customer_id"] in preview:
                    preview[customer["customer_id"]]["planned"] = describe(planned)
                if planned.kind is not Kind.UNCHANGED:
                    first.add(customer)

        def settle() -> None:
            if pending:
                (flag_duplicates if options.mode is Mode.INSERT else plan_changes)()
                pending.clear()

        for record in rows.customers():
            customers += 1
            customer_id = new_customer_id()
            file_keys.add(
                record.external_customer_number, record.fields.get("internal_customer_id")
            )
            if len(preview) < PREVIEW_SIZE:
                preview[customer_id] = {"customer_id": customer_id, **record.preview()}
            if record.errors:
                failed_customers += 1
                rows_failing += len(record.rows)
                originals = dict(zip(record.rows, record.originals, strict=True))
                failures.extend(
                    RowFailure(e.row, e.column, e.reason, originals[e.row]) for e in record.errors
                )
                continue
            rows_with_warnings += len({w.row for w in record.warnings})
            vehicles += len(record.vehicles)
            pending.append({"customer_id": customer_id, "staged_at": staged_at, **record.to_dict()})
            if len(pending) >= size:
                settle()
        settle()
        listing.finish()
        # Rows that could not be read at all come first in the error log, as they always did.
        failures[:0] = [
            RowFailure(issue.row, issue.column, issue.reason, original)
            for issue, original in rows.malformed
        ]
        rows_failing += rows.unreadable_rows

        manifest_key = first.finish("manifest")
        late_manifest_key = late.finish("late-manifest")
        sweep = self._stage_sweep(job, file_keys, account.keys) if account is not None else None
        row_errors_key = f"{prefix}/row-errors.json"
        preview_key = f"{prefix}/preview.json"
        self.objects.put_json(row_errors_key, [f.to_dict() for f in failures])
        put_row_error_pages(self.objects, job, failures)
        # A row that cannot be read counts as a customer of its own, failed: whose it was
        # cannot be told, and so imported + skipped + failed is every customer of the file.
        failed = failed_customers + rows.unreadable_rows
        counters = {
            **job.counters,
            "rows": rows.rows,
            "rows_with_warnings": rows_with_warnings,
            "rows_failing": rows_failing,
            "customers": customers + rows.unreadable_rows,
            "vehicles": vehicles,
            "duplicates": finder.flagged,
            "batches_total": len(first.manifest) + len(late.manifest),
            "failed": failed,
            # The customers the file leaves unchanged are settled here: no batch writes them.
            "unchanged": tally.counts["unchanged"],
            "processed": failed + tally.counts["unchanged"],
        }
        preview_counts = {
            name: counters[name]
            for name in (
                "rows",
                "customers",
                "vehicles",
                "rows_with_warnings",
                "rows_failing",
                "duplicates",
            )
        }
        # The summary counts failed customers; the preview says both, each named.
        preview_counts["customers_failing"] = failed
        if options.mode is not Mode.INSERT:
            preview_counts |= tally.to_dict()
        if sweep is not None:
            preview_counts["deleted"] = sweep.count.to_bin
        unreadable_rows = [
            {"row": issue.row, "column": issue.column, "reason": issue.reason}
            for issue, _ in rows.malformed[:PREVIEW_SIZE]
        ]
        self.objects.put_json(
            preview_key,
            {
                "counts": preview_counts,
                "customers": list(preview.values()),
                "unreadable_rows": unreadable_rows,
                "mode": str(options.mode),
                **(
                    {"transfers": tally.transfers.to_list()}
                    if options.transfer is not Transfer.NONE
                    else {}
                ),
                **({"sweep": sweep.preview()} if sweep is not None else {}),
            },
        )
        changes: dict[str, Any] = {
            "manifest_key": manifest_key,
            "late_manifest_key": late_manifest_key,
            "duplicates_key": listing.prefix,
            "row_errors_key": row_errors_key,
            "preview_key": preview_key,
            "counters": counters,
        }
        needs_confirmation = sweep is not None and sweep.needs_confirmation
        if needs_confirmation:
            assert sweep is not None
            changes["reason"] = sweep.confirmation
        if job.options.auto_run and not needs_confirmation:
            job = self.jobs.transition(org_id, job_id, JobStatus.IMPORTING, **changes)
            self.broadcaster.publish(job, "status")
        else:
            job = self.jobs.update(org_id, job_id, **changes)
        return {
            "rejected": False,
            "manifest_key": manifest_key,
            "batches": len(first.manifest),
            "late_manifest_key": late_manifest_key,
            "late_batches": len(late.manifest),
            "sweep_manifest_key": sweep.manifest_key if sweep is not None else None,
            "sweep_batches": sweep.batches if sweep is not None else 0,
            "needs_confirmation": needs_confirmation,
            "auto_run": job.options.auto_run,
            "decision_timeout_seconds": job.options.decision_timeout_seconds
            or self.settings.decision_timeout_seconds,
        }

    def _stored_customer_lookup(
        self, org_id: str
    ) -> Callable[[Collection[str]], dict[str, dict[str, Any]]]:
        """The stored customers holding any of a chunk's match keys, skipped while the
        organisation has no customer at all: a first import (a migration) has nothing stored
        to match, and its look-ups would be most of Prepare's requests. Asked again each
        chunk until customers appear (another import may be writing them meanwhile)."""
        has_customers = False

        def look_up(keys: Collection[str]) -> dict[str, dict[str, Any]]:
            nonlocal has_customers
            has_customers = has_customers or self.customers.has_any(org_id)
            if not has_customers:
                return {}
            found = self.customers.find_by_match_keys(org_id, keys)
            return {
                customer_id: {"customer_id": customer_id, "account": c.account_id, **c.flat()}
                for customer_id, c in found.items()
            }

        return look_up

    def _stage_sweep(self, job: Job, file_keys: FileKeys, live: list[CustomerKey]) -> _Sweep:
        """A sync's customers of the account the file no longer holds, staged in batches for
        SweepMissing (each with the version read: the bin is conditional on it), and whether
        a person must confirm so many first."""
        stager = Stager(
            self.objects, staging_prefix(job), self.settings.batch_size, f"{SWEEP_PREFIX}-"
        )
        binning: list[CustomerKey] = []
        for customer in to_bin(live, file_keys):
            stager.add(
                {
                    "customer_id": customer.customer_id,
                    "external_customer_number": customer.external_customer_number,
                    "version": customer.version,
                }
            )
            binning.append(customer)
        key = stager.finish("sweep-manifest")
        # The preview's: the first by external number, as a person looks them up.
        first = heapq.nsmallest(
            PREVIEW_SIZE, binning, key=lambda c: (c.external_customer_number or "", c.customer_id)
        )
        shown = [c.customer_id for c in first]
        found = self.customers.get_many(job.org_id, shown)
        binned = [
            {"customer_id": customer_id, **summary(found[customer_id].flat())}
            for customer_id in shown
            if customer_id in found  # (one deleted meanwhile is not binned either)
        ]
        count = count_sweep(job.account_id, live, file_keys)
        confirmation = (
            None
            if job.options.confirm_deletions
            else confirmation_needed(count, job.options.max_delete_percent)
        )
        return _Sweep(key, len(stager.manifest), count, confirmation, binned)

    def _reject_prepared(self, job: Job, reason: str) -> dict[str, Any]:
        reject(self.jobs, self.broadcaster, self.audit, job, reason)
        return {**_NOTHING_STAGED, "rejected": True}


_NOTHING_STAGED: dict[str, Any] = {
    "rejected": False,
    "manifest_key": None,
    "batches": 0,
    "late_manifest_key": None,
    "late_batches": 0,
    "sweep_manifest_key": None,
    "sweep_batches": 0,
    "needs_confirmation": False,
    "auto_run": False,
    "decision_timeout_seconds": 0,
}


@dataclass(frozen=True)
class _Sweep:
    manifest_key: str
    batches: int
    count: SweepCount
    confirmation: str | None  # why a person must confirm the deletions first (None: no need)
    shown: list[dict[str, Any]]  # the first customers it bins, each with its summary

    @property
    def needs_confirmation(self) -> bool:
        return self.confirmation is not None

    def preview(self) -> dict[str, Any]:
        return {
            "account": self.count.account_id,
            "live": self.count.live,
            "to_bin": self.count.to_bin,
            "percent": round(self.count.percent, 1),
            "needs_confirmation": self.needs_confirmation,
            "confirmation": self.confirmation,
            "customers": self.shown,
        }
