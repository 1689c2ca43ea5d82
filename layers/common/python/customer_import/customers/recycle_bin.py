"""The recycle bin (design §5.4): a binned customer keeps its records until the organisation's
retention has passed; a person may restore it meanwhile, and a scheduled purge deletes it for
good afterwards.

Every write goes through the repository's conditions: a restore is an `Update` on the version
read, a purge a `Purge` on the version the index gave. Whatever changed in between (a sync
restored the customer, another person purged or restored it) refuses the write, so nothing is
restored or deleted over a change it did not see.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import islice

from ..audit import AuditEntry
from ..errors import CustomerImportError
from ..organisations import check_recycle_bin_days
from ..ports import AuditLog
from ..queries import CustomerNotFound
from .activities import ActivityRepository
from .customer import Customer
from .repository import IDENTITY_TAKEN, MISSING, CustomerRepository, Purge, Update

RESTORED = "customer.restored"
# Purges sent to the repository at once: each is its own conditional write, this only bounds
# how many keys of the index are held in memory.
PURGE_CHUNK = 100


class NotInRecycleBin(CustomerImportError):
    """A restore of a customer that is live."""

    def __init__(self, customer_id: str) -> None:
        super().__init__(f"Customer {customer_id} is not in the recycle bin: it is live")
        self.customer_id = customer_id


class NumberTaken(CustomerImportError):
    """A restore whose external number a live customer of the account took meanwhile."""

    def __init__(self, customer: Customer, holder: str) -> None:
        super().__init__(
            f"Customer {customer.customer_id} cannot be restored: customer {holder} of account "
            f"{customer.account_id} has its external number "
            f"{customer.external_customer_number} now"
        )
        self.customer_id = customer.customer_id
        self.holder = holder


class RestoreConflict(CustomerImportError):
    """The binned customer changed between the read and the restore."""


def restore(
    repository: CustomerRepository,
    audit: AuditLog,
    org_id: str,
    customer_id: str,
    actor: str,
    now: datetime,
) -> Customer:
    """Take the organisation's binned customer out of the bin, as it was binned (same id,
    fields, addresses and vehicles); the customer as stored now."""
    current = repository.get(org_id, customer_id)
    if current is None:
        # Another organisation's customer is read under the caller's organisation: not found,
        # in the same words as one that does not exist.
        raise CustomerNotFound(org_id, customer_id)
    if not current.binned:
        raise NotInRecycleBin(customer_id)
    at = now.isoformat(timespec="milliseconds")
    write = Update(
        after=current.with_changes(deleted_at=None, purge_after=None),
        expected_version=current.version,
        # No job wrote it: `updated_by_job` names the person.
        job_id=f"restore:{actor}",
        at=at,
    )
    for refused in repository.save([write]):
        if refused.reason == IDENTITY_TAKEN and refused.holder:
            raise NumberTaken(current, refused.holder)
        if refused.reason == MISSING:
            raise CustomerNotFound(org_id, customer_id)
        raise RestoreConflict(f"Customer {customer_id} was not restored: {refused.message}")
    restored = repository.get(org_id, customer_id)
    assert restored is not None
    # After the write: a refused restore leaves no entry saying it happened.
    audit.record(
        AuditEntry(
            org_id=org_id,
            # No job did it: the entry is kept under the customer it concerns.
            job_id=customer_id,
            action=RESTORED,
            actor=actor,
            at=at,
            job_created_at=at,
            details={
                "customer_id": customer_id,
                "account": restored.account_id,
                "external_customer_number": restored.external_customer_number,
                "binned_at": current.deleted_at,
                "version": restored.version,
            },
        )
    )
    return restored


@dataclass(frozen=True)
class PurgeResult:
    as_of: str
    purged: int
    # Due by the index, but changed since (restored, binned again, purged by another run).
    refused: int

    def to_dict(self) -> dict[str, object]:
        return {"as_of": self.as_of, "purged": self.purged, "refused": self.refused}


def purge_due(
    repository: CustomerRepository, activities: ActivityRepository, as_of: str
) -> PurgeResult:
    """Delete for good every binned customer, of any organisation, whose `purge_after` is on
    or before the ISO date `as_of`, and its activities with it.

    The activities go once the customer's purge was applied (as its addresses and vehicles
    do inside the repository): a refused purge (the customer was restored meanwhile) keeps
    them all."""
    day = _iso_date(as_of)
    purged = refused = 0
    due = (
        Purge(org, customer, version) for org, customer, version in repository.due_for_purge(day)
    )
    for chunk in _chunks(due, PURGE_CHUNK):
        refusals = repository.save(chunk)
        refused += len(refusals)
        purged += len(chunk) - len(refusals)
        kept = {id(r.write) for r in refusals}
        for write in chunk:
            if id(write) not in kept:
                activities.delete_for_customer(write.org_id, write.customer_id)
    return PurgeResult(day, purged, refused)


# ---- retention -------------------------------------------------------------------------------


def purge_after_for(binned_at: str, days: int) -> str:
    """The first day (ISO date, UTC) a customer binned at `binned_at` may be purged: the day
    after `days` whole days in the bin, whatever the hour it was binned at."""
    check_recycle_bin_days(days)
    binned = datetime.fromisoformat(binned_at)
    if binned.tzinfo is not None:
        binned = binned.astimezone(UTC)
    return (binned.date() + timedelta(days=days + 1)).isoformat()


def _iso_date(value: str) -> str:
    try:
        return date.fromisoformat(value).isoformat()
    except (TypeError, ValueError):
        raise ValueError(f"A purge date must be an ISO date (YYYY-MM-DD), not {value!r}") from None


def _chunks(items: Iterator[Purge], size: int) -> Iterator[list[Purge]]:
    while chunk := list(islice(items, size)):
        yield chunk
