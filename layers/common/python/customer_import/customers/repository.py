"""The port through which the domain stores customers (design §5.2, §5.4).

Every write is conditional: a create on the customer's identity (its external number is
unique per account among live customers), every other write on the version it read. A write
that finds the world other than it expected is refused, never applied over it, and the
refusal says why, so the caller can plan again (a concurrent import created the customer: the
create becomes an update) or report it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from .customer import Customer


@dataclass(frozen=True)
class CustomerKey:
    """What a sync needs to know of a live customer of the account to tell whether the file
    still holds it (read from the account index, without the customer's records)."""

    customer_id: str
    external_customer_number: str | None
    version: int
    source_digest: str | None = None

    def written_from(self, incoming: Customer) -> bool:
        """Whether an import last wrote this customer from `incoming`'s very values and
        nothing wrote it since: the file customer then leaves it unchanged (see `plan`)."""
        return self.source_digest is not None and self.source_digest == incoming.written_from(
            self.version
        )


@dataclass(frozen=True)
class Create:
    """Store a new customer (its version becomes 1) with its addresses, vehicles and match
    keys, taking its identity (org, account, external number). Writing the same create again
    (the same `customer_id`, already stored by this job) changes nothing and is not refused."""

    customer: Customer
    job_id: str
    at: str


@dataclass(frozen=True)
class Update:
    """Replace the stored customer by `after` (fields, and the addresses and vehicles that
    `after` holds; none are removed), if its version is still `expected_version`; the stored
    version becomes `expected_version + 1`. An `after` without `deleted_at` of a binned
    customer restores it (taking its identity again). An `after` of another account moves
    the customer there, in the same write: its identity leaves the old account and is taken
    in the new one, or the write is refused (never in both accounts, never in neither)."""

    after: Customer
    expected_version: int
    job_id: str
    at: str
    # The stored customer as the writer read it, at `expected_version`: the repository need
    # not read it again (the write is conditional on that version all the same).
    read: Customer | None = None
    # `after`'s addresses and vehicles are all the customer keeps: the others are deleted
    # (a rollback puts a before-image back, records the import added included).
    exact: bool = False


@dataclass(frozen=True)
class Bin:
    """Move the customer to the recycle bin (it keeps its records), if its version is still
    `expected_version`; its identity is freed for live customers."""

    org_id: str
    customer_id: str
    expected_version: int
    job_id: str
    at: str
    purge_after: str


@dataclass(frozen=True)
class Purge:
    """Delete a binned customer for good, with its addresses, vehicles, match keys and
    identity, if its version is still `expected_version`."""

    org_id: str
    customer_id: str
    expected_version: int


@dataclass(frozen=True)
class Remove:
    """Delete a customer, live or binned, with its addresses, vehicles, match keys and
    identity, if its version is still `expected_version` (a rollback removing what an import
    created). `read`: the stored customer as the writer read it."""

    org_id: str
    customer_id: str
    expected_version: int
    read: Customer | None = None


CustomerWrite = Create | Update | Bin | Purge | Remove


@dataclass(frozen=True)
class Refused:
    """A write that was not applied. `reason` is one of the constants below; `current` is the
    stored customer as it is now (None when there is none); for IDENTITY_TAKEN, `holder` is
    the live customer of the account that has the external number."""

    write: CustomerWrite
    reason: str
    message: str
    current: Customer | None = None
    holder: str | None = None
    column: str | None = None  # the file's column at fault, when one is (INVALID)


IDENTITY_TAKEN = "identity_taken"
VERSION_MOVED = "version_moved"
MISSING = "missing"
INVALID = "invalid"  # the database refused the item itself (e.g. a key too long)


class CustomerRepository(Protocol):
    def get(self, org_id: str, customer_id: str) -> Customer | None:
        """One customer, live or binned (strongly consistent)."""

    def get_many(self, org_id: str, customer_ids: Collection[str]) -> dict[str, Customer]:
        """By customer id, live or binned, with addresses and vehicles."""

    def find_by_external(
        self, org_id: str, account_id: str, numbers: Collection[str]
    ) -> dict[str, Customer]:
        """The account's customers holding these external numbers, by number: the live one,
        else the latest binned one. Strongly consistent (the identity items, then the
        customers), in batched reads."""

    def find_in_other_accounts(
        self, org_id: str, account_id: str, numbers: Collection[str]
    ) -> dict[str, Customer]:
        """The customers of the organisation's other accounts (not `account_id`) holding
        these external numbers, by number: of several, the live one updated last, else the
        one binned last. Through the external-number index (one query a number)."""

    def live_keys(self, org_id: str, account_id: str) -> Iterator[CustomerKey]:
        """Every live customer of the account, from the account index (paged queries)."""

    def live_page(
        self, org_id: str, account_id: str, limit: int, start: str | None
    ) -> tuple[list[Customer], str | None]:
        """A page of the account's live customers, and the token to go on from."""

    def binned_page(
        self, org_id: str, account_id: str | None, limit: int, start: str | None
    ) -> tuple[list[Customer], str | None]:
        """A page of the recycle bin (of one account, or of every account of the
        organisation), newest binned first, and the token to go on from."""

    def due_for_purge(self, as_of: str) -> Iterator[tuple[str, str, int]]:
        """(org_id, customer_id, version) of every binned customer of any organisation whose
        `purge_after` is on or before the ISO date `as_of` (an index query, never a scan)."""

    def has_any(self, org_id: str) -> bool:
        """Whether the organisation has a live customer at all (one key read)."""

    def find_by_match_keys(self, org_id: str, keys: Collection[str]) -> dict[str, Customer]:
        """The organisation's live customers (any account) holding any of these match keys
        (`duplicates.match_keys`), by customer id, through the match-key index in batches.
        A key two customers share points at the one written last: that one is found."""

    def save(self, writes: Sequence[CustomerWrite]) -> list[Refused]:
        """Apply the writes, each on its own condition; return the refused ones. A write
        refused never stops the others; throttling raises `TransientImportError`."""
