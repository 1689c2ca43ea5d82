"""Rollback (design §5.7): undo what an import did to each customer, from its change log, newest
change first, and never over a change made since.

Each change-log entry says what the import did and the version it left. If the stored customer
is still at that version, its change is undone: a created or copied customer is removed (with
its addresses, vehicles, match keys and identity); an updated, merged, restored, binned or
moved one gets its before-image back, exactly (records the import added are removed), and a
moved one goes back to its account (its activities with it when they went along). If the
version moved on (a later import, a person's edit), or a created customer has activities
recorded since, the customer is left as it is and reported as a conflict.

Plain Python over the ports: `CustomerRepository` and `ActivityRepository`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..customers.activities import ActivityRepository
from ..customers.customer import CUSTOMER_FIELDS, Customer
from ..customers.repository import CustomerRepository, CustomerWrite, Remove, Update
from .log import Action, ChangeEntry

# What each undone change counts as (`reverted` in the rollback's summary).
REVERTED = {
    Action.CREATED: "created",
    Action.UPDATED: "updated",
    Action.MERGED: "merged",
    Action.BINNED: "deleted",
    Action.RESTORED: "restored",
    Action.COPIED: "copied",
    Action.MOVED: "moved",
}
_WOULD = {
    Action.CREATED: "remove the customer the import created",
    Action.COPIED: "remove the copy the import made",
    Action.UPDATED: "put back the values the import updated",
    Action.MERGED: "put back the values the merge filled",
    Action.RESTORED: "put the customer back in the recycle bin",
    Action.BINNED: "take the customer out of the recycle bin",
    Action.MOVED: "move the customer back to account {account}",
}


def rollback_job_id(job_id: str) -> str:
    """Who a rollback's writes name as the customer's last writer (`updated_by_job`)."""
    return f"{job_id}/rollback"


@dataclass(frozen=True)
class Conflict:
    """A change not undone: what the rollback would have done, and what changed since."""

    entry: ChangeEntry
    would: str
    since: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "customer_id": self.entry.customer_id,
            "account": self.entry.account_id,
            "external_customer_number": self.entry.external_customer_number,
            "action": str(self.entry.action),
            "would": self.would,
            "since": self.since,
        }


@dataclass
class Reverted:
    """What a batch of the rollback did (or, dry, would do): counts by `REVERTED` name, and
    the conflicts."""

    counts: Counter[str] = field(default_factory=Counter)
    conflicts: list[Conflict] = field(default_factory=list)


def would(entry: ChangeEntry) -> str:
    origin = entry.before.get("account_id", "")
    return _WOULD[entry.action].format(account=origin)


def before_image(entry: ChangeEntry, current: Customer) -> Customer:
    """`current` with every value the entry changed put back as it was before the import:
    fields, the external number, the account, the bin, and the addresses and vehicles (None:
    the import added it, so it goes)."""
    fields = dict(current.fields)
    addresses = {kind: dict(a) for kind, a in current.addresses.items()}
    vehicles = {key: dict(v) for key, v in current.vehicles.items()}
    changes: dict[str, Any] = {}
    for name, old in entry.before.items():
        if name in CUSTOMER_FIELDS:
            fields[name] = old
        elif name in ("external_customer_number", "account_id", "deleted_at", "purge_after"):
            changes[name] = old
        elif name.startswith("address:"):
            _put_back(addresses, name.removeprefix("address:"), old)
        elif name.startswith("vehicle:"):
            _put_back(vehicles, name.removeprefix("vehicle:"), old)
    return current.with_changes(
        fields=fields, addresses=addresses, vehicles=vehicles, source_digest=None, **changes
    )


def _put_back(records: dict[str, dict[str, Any]], key: str, old: Any) -> None:
    if old is None:
        records.pop(key, None)
    else:
        records[key] = dict(old)


def plan_revert(
    entry: ChangeEntry,
    current: Customer | None,
    activities_since: int,
    job_id: str,
    at: str,
) -> CustomerWrite | Conflict:
    """The write that undoes `entry` on `current` (the stored customer now), or why it may
    not. `activities_since`: the activities a created or copied customer holds that the import
    did not bring (a person recorded them since)."""
    if current is None:
        return Conflict(entry, would(entry), "the customer no longer exists")
    if current.version != entry.version_after:
        return Conflict(entry, would(entry), _changed_since(entry, current))
    if entry.action in (Action.CREATED, Action.COPIED):
        if activities_since:
            return Conflict(
                entry, would(entry), f"{activities_since} activities were recorded on it since"
            )
        return Remove(current.org_id, current.customer_id, current.version, current)
    return Update(
        before_image(entry, current),
        current.version,
        rollback_job_id(job_id),
        at,
        current,
        exact=True,
    )


def _changed_since(entry: ChangeEntry, current: Customer) -> str:
    """What changed since the import: the version, who wrote it, and the fields whose values
    differ from what the import left."""
    moved = [
        name
        for name, value in entry.after.items()
        if name in CUSTOMER_FIELDS and current.value(name) != value
    ]
    if entry.after.get("account_id") and current.account_id != entry.after["account_id"]:
        moved.append("account_id")
    said = (
        f"version {entry.version_after} -> {current.version}"
        f" (last written by {current.updated_by_job or 'someone'} at {current.updated_at or '?'})"
    )
    return f"{said}; changed: {', '.join(moved)}" if moved else said


def revert(
    repository: CustomerRepository,
    activities: ActivityRepository,
    org_id: str,
    job_id: str,
    entries: Sequence[ChangeEntry],
    at: str,
    *,
    undone_before: Iterable[str] = (),
    before_writing: Callable[[list[str]], None] | None = None,
    dry_run: bool = False,
) -> Reverted:
    """Undo the entries (one customer each; the newest first), or, dry, say what undoing
    them would do. `undone_before`: the customers an earlier run of the batch planned to undo
    (a batch run again counts what that run wrote, and writes nothing twice);
    `before_writing` is told the customers this run will write, before it writes them."""
    result = Reverted()
    current = repository.get_many(org_id, [e.customer_id for e in entries])
    earlier = set(undone_before)
    marker = rollback_job_id(job_id)
    pending: list[tuple[ChangeEntry, CustomerWrite]] = []
    new = [e for e in entries if e.action in (Action.CREATED, Action.COPIED)]
    since = _activities_since(activities, org_id, new, current)
    for entry in entries:
        stored = current.get(entry.customer_id)
        if entry.customer_id in earlier and _undone(entry, stored, marker):
            result.counts[REVERTED[entry.action]] += 1
            continue
        planned = plan_revert(entry, stored, since.get(entry.customer_id, 0), job_id, at)
        if isinstance(planned, Conflict):
            result.conflicts.append(planned)
        else:
            pending.append((entry, planned))
    if dry_run:
        result.counts.update(REVERTED[e.action] for e, _ in pending)
        return result
    if before_writing is not None and pending:
        before_writing([e.customer_id for e, _ in pending])
    refused = {id(r.write): r for r in repository.save([w for _, w in pending])}
    for entry, write in pending:
        refusal = refused.get(id(write))
        if refusal is not None:
            result.conflicts.append(Conflict(entry, would(entry), refusal.message))
            continue
        result.counts[REVERTED[entry.action]] += 1
    settled_before = [
        e
        for e in entries
        if e.customer_id in earlier and _undone(e, current.get(e.customer_id), marker)
    ]
    undone = [e for e, w in pending if id(w) not in refused]
    _related_back(activities, org_id, settled_before + undone)
    return result


def _undone(entry: ChangeEntry, stored: Customer | None, marker: str) -> bool:
    """Whether an earlier run of the rollback undid the entry already."""
    if entry.action in (Action.CREATED, Action.COPIED):
        return stored is None
    return stored is not None and stored.updated_by_job == marker


def _activities_since(
    activities: ActivityRepository,
    org_id: str,
    new: Sequence[ChangeEntry],
    current: Mapping[str, Customer],
) -> dict[str, int]:
    """For each created or copied customer still stored: how many activities people recorded
    on it since it was created (a copy's copied activities keep their source's older
    `created_at`: they are not counted)."""
    created = {
        e.customer_id: current[e.customer_id].created_at or ""
        for e in new
        if e.customer_id in current
    }
    return activities.counts_recorded_since(org_id, created) if created else {}


def _related_back(
    activities: ActivityRepository, org_id: str, entries: Iterable[ChangeEntry]
) -> None:
    """After the customers: a moved customer's activities that went along go back to its
    account; a copy's copied activities go with the copy. Doing it again changes nothing."""
    for entry in entries:
        origin = entry.transferred_from
        if origin is None or not origin["with_related"]:
            continue
        if entry.action is Action.MOVED:
            activities.reassign(entry.customer_id, str(origin["account_id"]))
        elif entry.action is Action.COPIED:
            activities.delete_for_customer(org_id, entry.customer_id)
