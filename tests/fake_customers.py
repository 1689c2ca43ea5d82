"""An in-memory `CustomerRepository`: the executable statement of the port's semantics, which
the DynamoDB repository is tested against too (tests/integration/test_customer_repository.py)."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import replace
from typing import Any

from customer_import.customers.customer import Customer
from customer_import.customers.repository import (
    IDENTITY_TAKEN,
    INVALID,
    MISSING,
    VERSION_MOVED,
    Bin,
    Create,
    CustomerKey,
    CustomerWrite,
    Purge,
    Refused,
    Remove,
    Update,
)
from customer_import.duplicates import match_keys


class FakeCustomerRepository:
    def __init__(self) -> None:
        self.customers: dict[tuple[str, str], Customer] = {}
        # (org, account, external number) -> (customer id, whether that customer is live)
        self.identities: dict[tuple[str, str, str], tuple[str, bool]] = {}
        self.writes = 0  # writes applied, for tests that count them
        self.failing_numbers: set[str] = set()  # external numbers whose writes are refused
        self.failure_reason = "Write failed: boom"
        self.key_lookups = 0
        # The process dies (as a Lambda timing out) once this many writes were applied.
        self.crash_after_writes: int | None = (
            None  # find_by_match_keys calls, for tests that count look-ups
        )

    # ---- reads ---------------------------------------------------------------------------

    def get(self, org_id: str, customer_id: str) -> Customer | None:
        return self.customers.get((org_id, customer_id))

    def get_many(self, org_id: str, customer_ids: Collection[str]) -> dict[str, Customer]:
        return {i: c for i in customer_ids if (c := self.get(org_id, i)) is not None}

    def find_by_external(
        self, org_id: str, account_id: str, numbers: Collection[str]
    ) -> dict[str, Customer]:
        found = {}
        for number in numbers:
            holder = self.identities.get((org_id, account_id, number))
            if holder is not None:
                found[number] = self.customers[(org_id, holder[0])]
        return found

    def find_in_other_accounts(
        self, org_id: str, account_id: str, numbers: Collection[str]
    ) -> dict[str, Customer]:
        found = {}
        for number in numbers:
            held = [
                c
                for (org, _), c in self.customers.items()
                if org == org_id and c.account_id != account_id
                if c.external_customer_number == number
            ]
            live = [c for c in held if not c.binned]
            if live:
                found[number] = max(live, key=lambda c: (c.updated_at or "", c.customer_id))
            elif held:
                found[number] = max(held, key=lambda c: (c.deleted_at or "", c.customer_id))
        return found

    def _account(self, org_id: str, account_id: str | None, *, binned: bool) -> list[Customer]:
        return [
            c
            for (org, _), c in self.customers.items()
            if org == org_id and (account_id is None or c.account_id == account_id)
            if c.binned is binned
        ]

    def live_keys(self, org_id: str, account_id: str) -> Iterator[CustomerKey]:
        for c in sorted(self._account(org_id, account_id, binned=False), key=_by_id):
            yield CustomerKey(c.customer_id, c.external_customer_number, c.version, c.source_digest)

    def live_page(
        self, org_id: str, account_id: str, limit: int, start: str | None
    ) -> tuple[list[Customer], str | None]:
        ordered = sorted(self._account(org_id, account_id, binned=False), key=_by_id)
        return _page(ordered, limit, start)

    def binned_page(
        self, org_id: str, account_id: str | None, limit: int, start: str | None
    ) -> tuple[list[Customer], str | None]:
        ordered = sorted(
            self._account(org_id, account_id, binned=True),
            key=lambda c: (c.deleted_at or "", c.customer_id),
            reverse=True,
        )
        return _page(ordered, limit, start)

    def due_for_purge(self, as_of: str) -> Iterator[tuple[str, str, int]]:
        for (org, customer_id), c in sorted(self.customers.items()):
            if c.binned and (c.purge_after or "") <= as_of:
                yield org, customer_id, c.version

    def has_any(self, org_id: str) -> bool:
        return any(org == org_id and not c.binned for (org, _), c in self.customers.items())

    def find_by_match_keys(self, org_id: str, keys: Collection[str]) -> dict[str, Customer]:
        self.key_lookups += 1
        wanted = set(keys)
        return {
            c.customer_id: c
            for (org, _), c in self.customers.items()
            if org == org_id and not c.binned and match_keys(c.flat()) & wanted
        }

    def by_number(self, org_id: str, number: str) -> list[dict[str, Any]]:
        """The organisation's live customers with this external number, as the API shows
        them (for assertions)."""
        return [
            c.view()
            for (org, _), c in self.customers.items()
            if org == org_id and not c.binned and c.external_customer_number == number
        ]

    # ---- writes --------------------------------------------------------------------------

    def save(self, writes: Sequence[CustomerWrite]) -> list[Refused]:
        refused = []
        for write in writes:
            if self.crash_after_writes is not None and self.writes >= self.crash_after_writes:
                raise TimeoutError("The function timed out in the middle of its writes")
            refusal = self._apply(write)
            if refusal is None:
                self.writes += 1
            else:
                refused.append(refusal)
        return refused

    def _apply(self, write: CustomerWrite) -> Refused | None:
        match write:
            case Create(customer=customer, job_id=job_id, at=at):
                return self._create(write, customer, job_id, at)
            case Update(after=after, expected_version=expected, job_id=job_id, at=at):
                return self._update(write, after, expected, job_id, at, exact=write.exact)
            case Bin():
                return self._bin(write)
            case Purge():
                return self._purge(write)
            case Remove():
                return self._remove(write)
        raise TypeError(f"Not a customer write: {write!r}")

    def _create(self, write: Create, customer: Customer, job_id: str, at: str) -> Refused | None:
        if customer.external_customer_number in self.failing_numbers:
            return Refused(write, INVALID, self.failure_reason)
        current = self.get(customer.org_id, customer.customer_id)
        if current is not None and current.created_by_job == job_id:
            return None  # this job's create written again (a retried batch): already applied
        if current is not None:
            return Refused(write, VERSION_MOVED, "The customer exists already", current)
        if (taken := self._identity_taken(write, customer)) is not None:
            return taken
        stored = replace(
            customer,
            version=1,
            created_by_job=job_id,
            updated_by_job=job_id,
            created_at=at,
            updated_at=at,
            deleted_at=None,
            purge_after=None,
        )
        self._store(stored)
        return None

    def _update(
        self, write: Update, after: Customer, expected: int, job_id: str, at: str, *, exact: bool
    ) -> Refused | None:
        if after.external_customer_number in self.failing_numbers:
            return Refused(write, INVALID, self.failure_reason)
        current = self.get(after.org_id, after.customer_id)
        if current is None:
            return Refused(write, MISSING, f"Customer {after.customer_id} does not exist")
        if current.version != expected:
            return Refused(
                write,
                VERSION_MOVED,
                f"Customer {after.customer_id} is at version {current.version}, "
                f"not {expected}: it changed since it was read",
                current,
            )
        if not after.binned and (taken := self._identity_taken(write, after)) is not None:
            return taken
        if after.binned and self._identity_taken(write, after) is not None:
            # A binned customer that stays binned never displaces the live holder's identity.
            self.customers[(after.org_id, after.customer_id)] = self._updated(
                current, after, expected, job_id, at, exact
            )
            return None
        self._release(current, entirely=current.account_id != after.account_id)
        self._store(self._updated(current, after, expected, job_id, at, exact))
        return None

    @staticmethod
    def _updated(
        current: Customer, after: Customer, expected: int, job_id: str, at: str, exact: bool
    ) -> Customer:
        return replace(
            after,
            addresses=dict(after.addresses) if exact else {**current.addresses, **after.addresses},
            vehicles=dict(after.vehicles) if exact else {**current.vehicles, **after.vehicles},
            version=expected + 1,
            created_by_job=current.created_by_job,
            created_at=current.created_at,
            updated_by_job=job_id,
            updated_at=at,
            purge_after=after.purge_after if after.binned else None,
        )

    def _bin(self, write: Bin) -> Refused | None:
        current = self.get(write.org_id, write.customer_id)
        if current is None:
            return Refused(write, MISSING, f"Customer {write.customer_id} does not exist")
        if current.version != write.expected_version or current.binned:
            return Refused(write, VERSION_MOVED, "The customer changed since it was read", current)
        self._store(
            replace(
                current,
                version=current.version + 1,
                updated_by_job=write.job_id,
                updated_at=write.at,
                deleted_at=write.at,
                purge_after=write.purge_after,
            )
        )
        return None

    def _purge(self, write: Purge) -> Refused | None:
        current = self.get(write.org_id, write.customer_id)
        if current is None:
            return Refused(write, MISSING, f"Customer {write.customer_id} does not exist")
        if current.version != write.expected_version or not current.binned:
            return Refused(write, VERSION_MOVED, "The customer changed since it was read", current)
        self._release(current, entirely=True)
        del self.customers[(write.org_id, write.customer_id)]
        return None

    def _remove(self, write: Remove) -> Refused | None:
        current = self.get(write.org_id, write.customer_id)
        if current is None:
            return Refused(write, MISSING, f"Customer {write.customer_id} does not exist")
        if current.version != write.expected_version:
            return Refused(write, VERSION_MOVED, "The customer changed since it was read", current)
        self._release(current, entirely=True)
        del self.customers[(write.org_id, write.customer_id)]
        return None

    # ---- identity ------------------------------------------------------------------------

    def _identity_taken(self, write: CustomerWrite, customer: Customer) -> Refused | None:
        """Refused when another live customer of the account has the external number."""
        number = customer.external_customer_number
        if not number:
            return None
        holder = self.identities.get((customer.org_id, customer.account_id, number))
        if holder is None or not holder[1] or holder[0] == customer.customer_id:
            return None
        return Refused(
            write,
            IDENTITY_TAKEN,
            f"Customer {holder[0]} of account {customer.account_id} has the external number "
            f"{number} already",
            self.customers[(customer.org_id, holder[0])],
            holder=holder[0],
        )

    def _release(self, customer: Customer, *, entirely: bool = False) -> None:
        """Free the identity the customer holds (an update may move it, a purge or a move to
        another account ends it)."""
        key = (customer.org_id, customer.account_id, customer.external_customer_number or "")
        if self.identities.get(key, ("",))[0] == customer.customer_id:
            if entirely:
                del self.identities[key]
            else:
                self.identities[key] = (customer.customer_id, False)

    def _store(self, customer: Customer) -> None:
        self.customers[(customer.org_id, customer.customer_id)] = customer
        if customer.external_customer_number:
            key = (customer.org_id, customer.account_id, customer.external_customer_number)
            self.identities[key] = (customer.customer_id, not customer.binned)


def _by_id(customer: Customer) -> str:
    return customer.customer_id


def _page(
    ordered: list[Customer], limit: int, start: str | None
) -> tuple[list[Customer], str | None]:
    offset = int(start or 0)
    page = ordered[offset : offset + limit]
    more = offset + limit < len(ordered)
    return page, (str(offset + limit) if more else None)
