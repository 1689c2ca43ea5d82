"""Which stored customer each file customer of a chunk is (design §5.4), by the import's key."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..customers.customer import Customer
from ..customers.repository import CustomerKey, CustomerRepository
from .rules import MatchKey, Transfer

if TYPE_CHECKING:
    from .plan import Rules


@dataclass(frozen=True)
class FileCustomer:
    """A staged customer of the file: the customer it would create, the internal id its
    `CustomerId` column named (if any) and its first row."""

    customer: Customer
    internal_customer_id: str | None = None
    row: int | None = None

    @classmethod
    def from_staged(cls, org_id: str, account_id: str, staged: Mapping[str, Any]) -> FileCustomer:
        rows = staged.get("rows") or []
        return cls(
            customer=Customer.from_staged(org_id, account_id, staged),
            internal_customer_id=staged.get("internal_customer_id") or None,
            row=rows[0] if rows else None,
        )


def match(
    repository: CustomerRepository,
    org_id: str,
    account_id: str,
    chunk: Sequence[FileCustomer],
    key: MatchKey,
) -> list[Customer | None]:
    """The stored match of each file customer, in the chunk's order (None: unmatched). `both`
    tries the internal id first, then the external number. An internal id naming a customer of
    another account, or no customer, matches nothing. One batched read per kind of key."""
    by_internal: dict[str, Customer] = {}
    if key is not MatchKey.EXTERNAL:
        ids = {c.internal_customer_id for c in chunk if c.internal_customer_id}
        found = repository.get_many(org_id, ids) if ids else {}
        by_internal = {i: c for i, c in found.items() if c.account_id == account_id}
    matched: list[Customer | None] = [by_internal.get(c.internal_customer_id or "") for c in chunk]
    if key is not MatchKey.INTERNAL:
        numbers = {
            number
            for c, stored in zip(chunk, matched, strict=True)
            if stored is None and (number := c.customer.external_customer_number)
        }
        by_number = repository.find_by_external(org_id, account_id, numbers) if numbers else {}
        matched = [
            stored or by_number.get(c.customer.external_customer_number or "")
            for c, stored in zip(chunk, matched, strict=True)
        ]
    return matched


def find_elsewhere(
    repository: CustomerRepository,
    org_id: str,
    account_id: str,
    chunk: Sequence[FileCustomer],
    key: MatchKey,
) -> list[Customer | None]:
    """For file customers the target account lacks: the customer of another account of the
    organisation each names by the import's key (recycle bins included; `both`: the internal
    id first), in the chunk's order (None: no account has it). By index, never a scan."""
    by_internal: dict[str, Customer] = {}
    if key is not MatchKey.EXTERNAL:
        ids = {c.internal_customer_id for c in chunk if c.internal_customer_id}
        found = repository.get_many(org_id, ids) if ids else {}
        by_internal = {i: c for i, c in found.items() if c.account_id != account_id}
    sources: list[Customer | None] = [by_internal.get(c.internal_customer_id or "") for c in chunk]
    if key is not MatchKey.INTERNAL:
        numbers = {
            number
            for c, source in zip(chunk, sources, strict=True)
            if source is None and (number := c.customer.external_customer_number)
        }
        by_number = (
            repository.find_in_other_accounts(org_id, account_id, numbers) if numbers else {}
        )
        sources = [
            source or by_number.get(c.customer.external_customer_number or "")
            for c, source in zip(chunk, sources, strict=True)
        ]
    return sources


def match_or_transfer(
    repository: CustomerRepository,
    org_id: str,
    account_id: str,
    chunk: Sequence[FileCustomer],
    rules: Rules,
) -> list[Customer | None]:
    """`match`; and when the rules transfer customers, the other account's customer for each
    file customer the target account lacks (`plan` then copies or moves it)."""
    matched = match(repository, org_id, account_id, chunk, rules.key)
    if rules.transfer is Transfer.NONE:
        return matched
    lacking = [c for c, stored in zip(chunk, matched, strict=True) if stored is None]
    sources = iter(find_elsewhere(repository, org_id, account_id, lacking, rules.key))
    return [stored if stored is not None else next(sources) for stored in matched]


@dataclass
class AccountKeys:
    """The live customers of the target account (`live_keys`: a sync reads them once, for
    its sweep), by internal id and external number."""

    keys: list[CustomerKey]
    _by_id: dict[str, CustomerKey] = field(init=False, repr=False)
    _by_number: dict[str, CustomerKey] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._by_id = {k.customer_id: k for k in self.keys}
        self._by_number = {n: k for k in self.keys if (n := k.external_customer_number)}

    def written_from(self, file_customer: FileCustomer, key: MatchKey) -> CustomerKey | None:
        """The live customer the file customer matches, if an import last wrote it from the
        file customer's very values and nothing wrote it since: it is unchanged then, told
        without reading its records. None: `match` and `plan` must tell."""
        internal = file_customer.internal_customer_id
        if key is not MatchKey.EXTERNAL and internal:
            stored = self._by_id.get(internal)
        elif key is not MatchKey.INTERNAL:
            stored = self._by_number.get(file_customer.customer.external_customer_number or "")
        else:
            stored = None
        return (
            stored if stored is not None and stored.written_from(file_customer.customer) else None
        )
