"""Carrying out one batch's changes (design §5.4, §5.7): log what it will do, write it on
conditions, plan again what the world refused, log what it did.

Idempotent as the batch itself: a batch run again finds, in its own change log, the changes
its first run made (the stored customer carries the job's write and the logged version) and
counts them without writing them again. Concurrent imports into one account never double a
customer: a create is conditional on the customer's identity, so the loser of a race finds
the winner's customer and updates it instead (insert mode: it is a duplicate, skipped); an
update is conditional on the version it read, so a customer changed meanwhile is read and
planned again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..customers.activities import ActivityRepository
from ..customers.customer import Customer
from ..customers.repository import (
    IDENTITY_TAKEN,
    VERSION_MOVED,
    Create,
    CustomerRepository,
    Refused,
)
from .log import Action, ChangeEntry, ChangeLog
from .matching import FileCustomer
from .plan import Kind, Planned, Rules, plan
from .preview import COUNTERS
from .rules import Mode

_KIND_OF_ACTION = {
    Action.CREATED: Kind.CREATE,
    Action.UPDATED: Kind.UPDATE,
    Action.MERGED: Kind.MERGE,
    Action.RESTORED: Kind.RESTORE,
    Action.COPIED: Kind.COPY,
    Action.MOVED: Kind.MOVE,
}
# What a new customer's entry says: its `customer_id` is the file customer's.
_CREATING = (Action.CREATED, Action.COPIED)
# How often a customer refused for a concurrent change is read and planned again.
REPLANS = 2


@dataclass(frozen=True)
class BatchContext:
    org_id: str
    account_id: str
    job_id: str
    batch_id: str
    at: str  # when the batch writes (the staging time: writing it again writes the same)


@dataclass(frozen=True)
class Failure:
    row: int | None
    reason: str
    column: str = "(customer)"


@dataclass
class Applied:
    """What the batch did: counts by the job's counter names (`created, updated, merged,
    restored, unchanged, skipped_duplicates`), the rows that failed and why, and the change
    log's entries of what was written."""

    counts: Counter[str] = field(default_factory=Counter)
    failures: list[Failure] = field(default_factory=list)
    entries: list[ChangeEntry] = field(default_factory=list)


def apply_batch(
    repository: CustomerRepository,
    change_log: ChangeLog,
    context: BatchContext,
    rules: Rules,
    pairs: Sequence[tuple[FileCustomer, Customer | None]],
    logged: Sequence[ChangeEntry],
    activities: ActivityRepository | None = None,
) -> Applied:
    """`pairs`: each file customer of the batch with the stored customer it matched (None:
    it creates one; of another account: the one it transfers), as the caller matched them
    (by key, or by a person's merge decision). `logged`: the batch's change log as an
    earlier run left it (empty: none ran). `activities`: where a transfer with related
    records takes them from (needed then)."""
    applied, rest = settled_before(logged, context, pairs)
    pending: list[tuple[FileCustomer, Planned]] = []
    for file_customer, stored in rest:
        planned = plan(file_customer.customer, stored, rules, file_customer.row)
        if planned.kind is Kind.UNCHANGED:
            applied.counts[_unchanged(rules)] += 1
        else:
            pending.append((file_customer, planned))
    # The intent first: a crash after some writes leaves what rollback needs to find them.
    intent = applied.entries + [p.entry for _, p in pending if p.entry]
    change_log.record(*_log_key(context), intent)
    for attempt in range(REPLANS + 1):
        if not pending:
            break
        pending = _write(repository, context, rules, pending, applied, last=attempt == REPLANS)
    if applied.entries != intent:  # something was refused, or planned again
        change_log.record(*_log_key(context), applied.entries)
    transfer_related(activities, applied.entries)
    return applied


def transfer_related(activities: ActivityRepository | None, entries: list[ChangeEntry]) -> None:
    """The activities of the customers the batch moved or copied with their related records,
    after the customers themselves: moved with them, or copied. Every run of the batch does
    it again for every such entry (an earlier run's too: it may have stopped in between), and
    doing it again changes nothing."""
    for entry in entries:
        origin = entry.transferred_from
        if origin is None or not origin["with_related"]:
            continue
        if activities is None:
            raise ValueError("A transfer with related records needs the activities")
        if entry.action is Action.MOVED:
            activities.reassign(entry.customer_id, entry.account_id)
        else:
            activities.copy_to(origin["customer_id"], entry.customer_id, entry.account_id)


def settled_before(
    entries: Sequence[ChangeEntry],
    context: BatchContext,
    pairs: Sequence[tuple[FileCustomer, Customer | None]],
) -> tuple[Applied, list[tuple[FileCustomer, Customer | None]]]:
    """What an earlier run of the batch wrote (counted, with its entries: the batch's change
    log), and the pairs it did not: a batch run again, or one that failed after its retries,
    starts from here."""
    logged = {e.customer_id: e for e in entries}
    applied = Applied()
    rest: list[tuple[FileCustomer, Customer | None]] = []
    for file_customer, stored in pairs:
        done = _done_before(logged, file_customer, stored, context)
        if done is None:
            rest.append((file_customer, stored))
            continue
        applied.counts[COUNTERS[_KIND_OF_ACTION[done.action]]] += 1
        applied.entries.append(done)
    return applied, rest


def _write(
    repository: CustomerRepository,
    context: BatchContext,
    rules: Rules,
    pending: list[tuple[FileCustomer, Planned]],
    applied: Applied,
    *,
    last: bool,
) -> list[tuple[FileCustomer, Planned]]:
    """Write the planned changes; count what was written; return what must be planned again."""
    writes = {id(w): (fc, p, w) for fc, p in pending if (w := p.write(context.job_id, context.at))}
    refused = {id(r.write): r for r in repository.save([w for _, _, w in writes.values()])}
    again: list[tuple[FileCustomer, Planned]] = []
    for key, (file_customer, planned, _) in writes.items():
        refusal = refused.get(key)
        if refusal is None:
            applied.counts[COUNTERS[planned.kind]] += 1
            if planned.entry is not None:
                applied.entries.append(planned.entry)
            continue
        replanned = _replan(file_customer, refusal, rules, context, applied)
        if replanned is None:
            continue
        if replanned.kind is Kind.UNCHANGED:
            applied.counts[_unchanged(rules)] += 1
        elif last:
            applied.failures.append(Failure(file_customer.row, refusal.message))
        else:
            again.append((file_customer, replanned))
    return again


def _replan(
    file_customer: FileCustomer,
    refusal: Refused,
    rules: Rules,
    context: BatchContext,
    applied: Applied,
) -> Planned | None:
    """The change to try again after a refusal, or None when the refusal settles the
    customer (counted here)."""
    current = refusal.current
    if refusal.reason == IDENTITY_TAKEN and current is not None:
        if rules.mode is Mode.INSERT:
            # Another import of the account created the customer meanwhile: a duplicate.
            applied.counts["skipped_duplicates"] += 1
            return None
        return plan(file_customer.customer, current, rules, file_customer.row)
    if refusal.reason == VERSION_MOVED and current is not None:
        if isinstance(refusal.write, Create):  # another job's customer under this id
            applied.failures.append(Failure(file_customer.row, refusal.message))
            return None
        return plan(file_customer.customer, current, rules, file_customer.row)
    applied.failures.append(
        Failure(file_customer.row, refusal.message, refusal.column or "(customer)")
    )
    return None


def _done_before(
    logged: dict[str, ChangeEntry],
    file_customer: FileCustomer,
    stored: Customer | None,
    context: BatchContext,
) -> ChangeEntry | None:
    """The change an earlier run of this batch made to this customer, if the stored customer
    still shows it (this job wrote it last, at the version logged or later)."""
    if stored is None:
        return None
    entry = logged.get(stored.customer_id)
    if entry is None or stored.updated_by_job != context.job_id:
        return None
    if entry.action in _CREATING and stored.customer_id != file_customer.customer.customer_id:
        return None
    return entry if stored.version >= entry.version_after else None


def _unchanged(rules: Rules) -> str:
    """What a customer the file leaves as stored counts as: in insert mode it is a merge a
    person chose that found nothing to fill, still the merge they asked for."""
    return "merged" if rules.mode is Mode.INSERT else "unchanged"


def _log_key(context: BatchContext) -> tuple[str, str, str]:
    return context.org_id, context.job_id, context.batch_id
