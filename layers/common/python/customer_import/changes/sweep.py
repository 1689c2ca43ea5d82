"""What a sync bins (design §5.4): the account's live customers the file no longer holds,
and whether so many that a person must confirm it first."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from ..customers.repository import CustomerKey
from .rules import DEFAULT_MAX_DELETE_PERCENT


@dataclass
class FileKeys:
    """Every key the file gave: the external numbers and internal ids of its customers,
    failed ones included when their key was readable (a row that failed cleanup never gets
    its customer binned). Strings in sets: bounded by the file's customers."""

    external: set[str] = field(default_factory=set)
    internal: set[str] = field(default_factory=set)

    def add(self, external: str | None, internal: str | None = None) -> None:
        if external:
            self.external.add(external)
        if internal:
            self.internal.add(internal)

    def holds(self, customer: CustomerKey) -> bool:
        return (
            customer.customer_id in self.internal
            or (customer.external_customer_number or None) in self.external
        )


def to_bin(live: Iterable[CustomerKey], keys: FileKeys) -> Iterator[CustomerKey]:
    """The live customers of the account (`live_keys`) the file does not hold, each with the
    version read (the `Bin` write's condition)."""
    return (customer for customer in live if not keys.holds(customer))


@dataclass(frozen=True)
class SweepCount:
    account_id: str
    live: int
    to_bin: int

    @property
    def percent(self) -> float:
        return 100.0 * self.to_bin / self.live if self.live else 0.0


def count_sweep(account_id: str, live: Iterable[CustomerKey], keys: FileKeys) -> SweepCount:
    total = binned = 0
    for customer in live:
        total += 1
        binned += not keys.holds(customer)
    return SweepCount(account_id, total, binned)


def confirmation_needed(
    count: SweepCount, max_delete_percent: float = DEFAULT_MAX_DELETE_PERCENT
) -> str | None:
    """Why the sweep waits for a person (over `max_delete_percent` of the account's live
    customers: exactly at it goes on), or None."""
    if count.percent <= max_delete_percent:
        return None
    return (
        f"This sync would bin {count.to_bin:,} of the {count.live:,} customers of account "
        f"{count.account_id} ({_percent(count.percent)}), over the "
        f"{_percent(max_delete_percent)} threshold; confirm the deletions to go on"
    )


def _percent(value: float) -> str:
    return f"{round(value, 1):g} %"
