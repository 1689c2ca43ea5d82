"""The `CustomerRepository` on DynamoDB (issue #16), through PynamoDB.

Layout: the customer item (org_id, customer_id) carries sparse index keys: `live_org` and
`live_key` (`{account}#{customer_id}`) on live customers only (account listing, `has_any`),
`binned_org`, `binned_account` (`{org}#{account}`), `binned_key` (`{deleted_at}#{id}`) and
`purge_day` on binned ones only. `customer_identities` keeps an external number unique per
account among live customers: every write that takes or frees one changes it in the same
transaction as the customer.

Write path of a `Create`: its addresses and vehicles in BatchWriteItem (keyed by the new
customer id, so a retry overwrites them), then the identity and the customer item in one
TransactWriteItems per 50 creates (100 items), then its match keys, once the customer is
stored (a refused create never repoints the holder's keys). Updates, bins and purges go one
transaction each, conditional on the version read.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import PutError, TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from ..customers.customer import ADDRESS_FIELDS, CUSTOMER_FIELDS, VEHICLE_FIELDS, Customer
from ..customers.repository import (
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
from ..duplicates import match_keys, stored_match_key
from ..imports.staging import ID_NAMESPACE
from .dynamo import (
    AddressModel,
    CustomerModel,
    DynamoCustomerStore,
    IdentityModel,
    MatchKeyModel,
    VehicleModel,
    _build_client,
    _match_key_items,
    _plain,
    _Put,
    _serialize,
    _throttled,
    _throttling_is_transient,
)

CREATES_PER_TRANSACTION = 50  # two items each: TransactWriteItems takes 100
IDENTITY_KEY_BYTES = 1024
# `due_for_purge` queries each purge day from `as_of` back this far: a sweeper that was down
# longer than this leaves older customers binned until someone purges them by hand.
PURGE_LOOKBACK_DAYS = 60


def identity_key(org_id: str, account_id: str, number: str) -> str:
    key = f"{org_id}#{account_id}#{number}"
    if len(key.encode("utf-8")) <= IDENTITY_KEY_BYTES:
        return key
    return f"{org_id}#{account_id}#sha256:{hashlib.sha256(number.encode()).hexdigest()}"


def vehicle_id(customer_id: str, key: str) -> str:
    return str(uuid.uuid5(ID_NAMESPACE, f"{customer_id}/{key}"))


@_throttling_is_transient
class DynamoCustomerRepository:
    def __init__(self, region: str) -> None:
        # One connection for every transaction: building a botocore client costs more than
        # the write itself.
        self._transactions = Connection(region=region)
        _build_client(self._transactions)

    # ---- reads ---------------------------------------------------------------------------

    def get(self, org_id: str, customer_id: str) -> Customer | None:
        return self.get_many(org_id, [customer_id]).get(customer_id)

    def get_many(self, org_id: str, customer_ids: Collection[str]) -> dict[str, Customer]:
        keys = [(org_id, i) for i in dict.fromkeys(customer_ids)]
        items = list(CustomerModel.batch_get(keys, consistent_read=True)) if keys else []
        addresses: dict[str, list[AddressModel]] = {}
        address_keys = [(i.customer_id, t) for i in items for t in i.address_types or []]
        for address in AddressModel.batch_get(address_keys, consistent_read=True):
            addresses.setdefault(address.customer_id, []).append(address)
        vehicles: dict[str, list[VehicleModel]] = {}
        vehicle_keys = [
            (i.customer_id, vehicle_id(i.customer_id, k))
            for i in items
            for k in i.vehicle_keys or []
        ]
        for vehicle in VehicleModel.batch_get(vehicle_keys, consistent_read=True):
            vehicles.setdefault(vehicle.customer_id, []).append(vehicle)
        return {
            item.customer_id: _customer(
                item, addresses.get(item.customer_id, []), vehicles.get(item.customer_id, [])
            )
            for item in items
        }

    def find_by_external(
        self, org_id: str, account_id: str, numbers: Collection[str]
    ) -> dict[str, Customer]:
        by_key = {identity_key(org_id, account_id, n): n for n in numbers if n}
        holders = {
            by_key[i.identity_key]: i.customer_id
            for i in IdentityModel.batch_get(list(by_key), consistent_read=True)
        }
        customers = self.get_many(org_id, holders.values())
        return {
            n: customers[c]
            for n, c in holders.items()
            if c in customers and customers[c].account_id == account_id
        }

    def find_in_other_accounts(
        self, org_id: str, account_id: str, numbers: Collection[str]
    ) -> dict[str, Customer]:
        chosen: dict[str, str] = {}
        for number in numbers:
            if not number or len(number.encode()) > INDEX_SORT_KEY_BYTES:
                continue  # no customer holds it: the index refuses such a number
            held = [
                item
                for item in CustomerModel.by_external_number.query(
                    org_id, CustomerModel.external_customer_number == number
                )
                if item.account_id != account_id
            ]
            live = [i for i in held if not i.deleted_at]
            if live:
                chosen[number] = max(live, key=lambda i: (i.updated_at, i.customer_id)).customer_id
            elif held:
                chosen[number] = max(
                    held, key=lambda i: (i.deleted_at or "", i.customer_id)
                ).customer_id
        # The index is eventually consistent: the customers themselves are read strongly.
        customers = self.get_many(org_id, chosen.values())
        return {
            n: customers[c]
            for n, c in chosen.items()
            if c in customers and customers[c].account_id != account_id
        }

    def live_keys(self, org_id: str, account_id: str) -> Iterator[CustomerKey]:
        for item in CustomerModel.live_by_org.query(
            org_id, CustomerModel.live_key.startswith(f"{account_id}#")
        ):
            yield CustomerKey(
                item.customer_id,
                item.external_customer_number,
                int(item.version or 0),
                item.source_digest,
            )

    def live_page(
        self, org_id: str, account_id: str, limit: int, start: str | None
    ) -> tuple[list[Customer], str | None]:
        result = CustomerModel.live_by_org.query(
            org_id,
            CustomerModel.live_key.startswith(f"{account_id}#"),
            limit=limit,
            last_evaluated_key=_decode(start),
        )
        return self._page(org_id, result)

    def binned_page(
        self, org_id: str, account_id: str | None, limit: int, start: str | None
    ) -> tuple[list[Customer], str | None]:
        index = (
            CustomerModel.binned_by_org if account_id is None else CustomerModel.binned_by_account
        )
        result = index.query(
            org_id if account_id is None else f"{org_id}#{account_id}",
            scan_index_forward=False,
            limit=limit,
            last_evaluated_key=_decode(start),
        )
        return self._page(org_id, result)

    def _page(self, org_id: str, result: Any) -> tuple[list[Customer], str | None]:
        ids = [item.customer_id for item in result]
        customers = self.get_many(org_id, ids)
        return [customers[i] for i in ids if i in customers], _encode(result.last_evaluated_key)

    def due_for_purge(self, as_of: str) -> Iterator[tuple[str, str, int]]:
        last = date.fromisoformat(as_of[:10])
        for back in range(PURGE_LOOKBACK_DAYS + 1):
            day = (last - timedelta(days=back)).isoformat()
            for item in CustomerModel.by_purge_day.query(day):
                yield item.org_id, item.customer_id, int(item.version or 0)

    def has_any(self, org_id: str) -> bool:
        return any(True for _ in CustomerModel.live_by_org.query(org_id, limit=1))

    def find_by_match_keys(self, org_id: str, keys: Collection[str]) -> dict[str, Customer]:
        stored = [stored_match_key(org_id, k) for k in dict.fromkeys(keys)]
        ids = {m.customer_id for m in MatchKeyModel.batch_get(stored)} if stored else set()
        return {i: c for i, c in self.get_many(org_id, ids).items() if not c.binned}

    # ---- writes --------------------------------------------------------------------------

    def save(self, writes: Sequence[CustomerWrite]) -> list[Refused]:
        creates = [w for w in writes if isinstance(w, Create)]
        unindexable = {id(w): r for w in creates if (r := _unindexable(w)) is not None}
        refused = list(unindexable.values())
        refused += self._create_isolating([w for w in creates if id(w) not in unindexable])
        refused += self._remove_all([w for w in writes if isinstance(w, Remove)])
        for write in writes:
            refusal = None
            if isinstance(write, Update):
                refusal = self._update(write)
            elif isinstance(write, Bin):
                refusal = self._bin(write)
            elif isinstance(write, Purge):
                refusal = self._purge(write)
            if refusal is not None:
                refused.append(refusal)
        return refused

    def _create_isolating(self, creates: Sequence[Create]) -> list[Refused]:
        """`_create_all`; when the database refuses one of the items (over its size limit,
        say), each create again on its own, so only that customer is refused, with why. A
        create written before is written again as nothing (the same job's create)."""
        try:
            return self._create_all(creates)
        except (PutError, TransactWriteError) as exc:
            if _throttled(exc):
                raise
            if len(creates) == 1:
                _delete_sub_records(creates[0].customer)
                return [Refused(creates[0], INVALID, f"Write failed: {_cause(exc)}")]
        refused: list[Refused] = []
        for create in creates:
            refused += self._create_isolating([create])
        return refused

    def _create_all(self, creates: Sequence[Create]) -> list[Refused]:
        if not creates:
            return []
        DynamoCustomerStore._write_all(
            [
                item
                for c in creates
                for item in _sub_records(c.customer, c.customer.addresses, c.customer.vehicles)
            ]
        )
        refused: list[Refused] = []
        stored: list[Create] = []
        for group in _transaction_groups(creates):
            pending = group
            while pending:
                failed = self._transact_creates(pending)
                if not failed:
                    stored += pending
                    break
                for create in failed:
                    refusal = self._create_refusal(create)
                    if refusal is None:
                        stored.append(create)  # this job's create written again
                    else:
                        refused.append(refusal)
                # The others were cancelled only with them: they go again.
                pending = [c for c in pending if all(c is not f for f in failed)]
        for r in refused:
            assert isinstance(r.write, Create)
            if r.reason != VERSION_MOVED:
                _delete_sub_records(r.write.customer)
        DynamoCustomerStore._write_all(
            [
                item
                for c in stored
                for item in _match_key_items(
                    c.customer.org_id, c.customer.customer_id, match_keys(c.customer.flat())
                )
            ]
        )
        return refused

    def _transact_creates(self, creates: Sequence[Create]) -> list[Create]:
        """The creates of a cancelled transaction whose own items failed their condition."""
        puts = []
        for create in creates:
            stored = _stored_create(create)
            if stored.external_customer_number:
                puts.append(
                    _IDENTITY_FREE_OR_OWN.put(_identity_put(stored, live=True), stored.customer_id)
                )
            puts.append(_CUSTOMER_ABSENT.put(_customer_put(stored)))
        try:
            # Built without PynamoDB models, as the bulk writes are (`_serialize`): a model
            # instance costs more to build than its item costs to send.
            self._transactions.transact_write_items(
                condition_check_items=[], delete_items=[], put_items=puts, update_items=[]
            )
        except TransactWriteError as exc:
            reasons = exc.cancellation_reasons or []
            failed_items = [
                i
                for i, r in enumerate(reasons)
                if r is not None and r.code == "ConditionalCheckFailed"
            ]
            if not failed_items:
                raise
            positions: list[Create] = []
            for create in creates:
                if create.customer.external_customer_number:
                    positions.append(create)
                positions.append(create)
            failed = {id(positions[i]): positions[i] for i in failed_items}
            return list(failed.values())
        return []

    def _create_refusal(self, create: Create) -> Refused | None:
        customer = create.customer
        current = self.get(customer.org_id, customer.customer_id)
        if current is not None:
            if current.created_by_job == create.job_id:
                return None
            return Refused(create, VERSION_MOVED, "The customer exists already", current)
        return self._identity_taken(create, customer)

    def _update(self, write: Update) -> Refused | None:
        after = write.after
        current = write.read
        if current is None or current.version != write.expected_version:
            current = self.get(after.org_id, after.customer_id)
        if (moved := _moved(write, current, write.expected_version)) is not None:
            return moved
        assert current is not None
        stored = _stored_update(current, write)
        try:
            with TransactWrite(connection=self._transactions) as transaction:
                transaction.save(
                    _customer_item(stored),
                    condition=CustomerModel.version == write.expected_version,
                )
                self._move_identity(transaction, current, stored)
        except TransactWriteError:
            return self._refusal_after_conflict(write, stored, write.expected_version)
        DynamoCustomerStore._write_all(
            _sub_records(
                stored,
                {k: a for k, a in after.addresses.items() if current.addresses.get(k) != a},
                {k: v for k, v in after.vehicles.items() if current.vehicles.get(k) != v},
            )
            + _match_key_items(
                stored.org_id,
                stored.customer_id,
                match_keys(stored.flat()) - match_keys(current.flat()),
            )
        )
        if write.exact:
            _delete_records(
                [
                    (current.customer_id, kind)
                    for kind in current.addresses
                    if kind not in stored.addresses
                ],
                [
                    (current.customer_id, vehicle_id(current.customer_id, key))
                    for key in current.vehicles
                    if key not in stored.vehicles
                ],
            )
            _delete_own_match_keys(
                current.org_id,
                {current.customer_id: match_keys(current.flat()) - match_keys(stored.flat())},
            )
        return None

    def _remove_all(self, removes: Sequence[Remove]) -> list[Refused]:
        """Each customer deleted on its version with its identity (one transaction per 50),
        then its addresses, vehicles and the match keys that still point at it."""
        if not removes:
            return []
        refused: list[Refused] = []
        ready: list[tuple[Remove, Customer]] = []
        unread = [r for r in removes if r.read is None or r.read.version != r.expected_version]
        by_org: dict[str, list[str]] = {}
        for r in unread:
            by_org.setdefault(r.org_id, []).append(r.customer_id)
        read = {
            (org, c.customer_id): c
            for org, ids in by_org.items()
            for c in self.get_many(org, ids).values()
        }
        for r in removes:
            current = r.read if r not in unread else read.get((r.org_id, r.customer_id))
            if (moved := _moved(r, current, r.expected_version)) is not None:
                refused.append(moved)
            else:
                assert current is not None
                ready.append((r, current))
        numbered = [c for _, c in ready if c.external_customer_number]
        held = {
            item.identity_key: item.customer_id
            for item in IdentityModel.batch_get(
                list({_identity_of(c) for c in numbered}), consistent_read=True
            )
        }
        removed: list[Customer] = []
        for start in range(0, len(ready), CREATES_PER_TRANSACTION):
            group = ready[start : start + CREATES_PER_TRANSACTION]
            try:
                self._transact_removes(group, held)
                removed += [c for _, c in group]
            except TransactWriteError as exc:
                if _throttled(exc):
                    raise
                for write, current in group:  # each on its own: only the moved one is refused
                    try:
                        self._transact_removes([(write, current)], held)
                        removed.append(current)
                    except TransactWriteError:
                        refused.append(
                            self._refusal_after_conflict(write, current, write.expected_version)
                        )
        _delete_records(
            [(c.customer_id, kind) for c in removed for kind in c.addresses],
            [
                (c.customer_id, vehicle_id(c.customer_id, key))
                for c in removed
                for key in c.vehicles
            ],
        )
        for org in {c.org_id for c in removed}:
            _delete_own_match_keys(
                org, {c.customer_id: match_keys(c.flat()) for c in removed if c.org_id == org}
            )
        return refused

    def _transact_removes(
        self, group: Sequence[tuple[Remove, Customer]], held: Mapping[str, str]
    ) -> None:
        with TransactWrite(connection=self._transactions) as transaction:
            for write, current in group:
                transaction.delete(
                    _customer_item(current),
                    condition=CustomerModel.version == write.expected_version,
                )
                if held.get(_identity_of(current)) == current.customer_id:
                    transaction.delete(
                        _identity_item(current, live=False),
                        condition=IdentityModel.customer_id == current.customer_id,
                    )

    def _move_identity(
        self, transaction: TransactWrite, current: Customer, stored: Customer
    ) -> None:
        new = stored.external_customer_number
        own = IdentityModel.customer_id == stored.customer_id
        other_account = current.account_id != stored.account_id
        moved = other_account or current.external_customer_number != new
        if moved and _holder(current) == current.customer_id:
            if other_account:  # the old account keeps no trace of it
                transaction.delete(_identity_item(current, live=False), condition=own)
            else:
                transaction.save(_identity_item(current, live=False), condition=own)
        if not new or not (moved or current.binned):
            return
        if stored.binned:
            # A binned customer that stays binned never displaces a live holder.
            if _holder(stored) in (None, stored.customer_id):
                transaction.save(_identity_item(stored, live=False))
            return
        transaction.save(
            _identity_item(stored, live=True),
            condition=IdentityModel.identity_key.does_not_exist()
            | (IdentityModel.live == False)  # noqa: E712
            | own,
        )

    def _refusal_after_conflict(
        self, write: CustomerWrite, stored: Customer, expected: int
    ) -> Refused:
        current = self.get(stored.org_id, stored.customer_id)
        if (moved := _moved(write, current, expected)) is not None:
            return moved
        return self._identity_taken(write, stored)

    def _identity_taken(self, write: CustomerWrite, customer: Customer) -> Refused:
        number = customer.external_customer_number or ""
        holder = IdentityModel.get(
            identity_key(customer.org_id, customer.account_id, number), consistent_read=True
        )
        return Refused(
            write,
            IDENTITY_TAKEN,
            f"Customer {holder.customer_id} of account {customer.account_id} has the external "
            f"number {number} already",
            self.get(customer.org_id, holder.customer_id),
            holder=holder.customer_id,
        )

    def _bin(self, write: Bin) -> Refused | None:
        current = self.get(write.org_id, write.customer_id)
        if (moved := _moved(write, current, write.expected_version)) is not None:
            return moved
        assert current is not None
        if current.binned:
            return Refused(write, VERSION_MOVED, "The customer changed since it was read", current)
        stored = current.with_changes(
            version=current.version + 1,
            updated_by_job=write.job_id,
            updated_at=write.at,
            deleted_at=write.at,
            purge_after=write.purge_after,
        )
        try:
            with TransactWrite(connection=self._transactions) as transaction:
                transaction.save(
                    _customer_item(stored),
                    condition=CustomerModel.version == write.expected_version,
                )
                if _holds(current):
                    transaction.save(
                        _identity_item(current, live=False),
                        condition=IdentityModel.customer_id == current.customer_id,
                    )
        except TransactWriteError:
            return self._refusal_after_conflict(write, stored, write.expected_version)
        return None

    def _purge(self, write: Purge) -> Refused | None:
        current = self.get(write.org_id, write.customer_id)
        if (moved := _moved(write, current, write.expected_version)) is not None:
            return moved
        assert current is not None
        if not current.binned:
            return Refused(write, VERSION_MOVED, "The customer changed since it was read", current)
        try:
            with TransactWrite(connection=self._transactions) as transaction:
                transaction.delete(
                    _customer_item(current),
                    condition=CustomerModel.version == write.expected_version,
                )
                if _holds(current):
                    transaction.delete(
                        _identity_item(current, live=False),
                        condition=IdentityModel.customer_id == current.customer_id,
                    )
        except TransactWriteError:
            return self._refusal_after_conflict(write, current, write.expected_version)
        _delete_sub_records(current)
        keys = [stored_match_key(current.org_id, k) for k in match_keys(current.flat())]
        with MatchKeyModel.batch_write() as batch:
            for item in MatchKeyModel.batch_get(keys) if keys else []:
                if item.customer_id == current.customer_id:
                    batch.delete(item)
        return None


def _moved(write: CustomerWrite, current: Customer | None, expected: int) -> Refused | None:
    if current is None:
        return Refused(write, MISSING, "The customer does not exist")
    if current.version != expected:
        return Refused(
            write,
            VERSION_MOVED,
            f"Customer {current.customer_id} is at version {current.version}, not {expected}: "
            "it changed since it was read",
            current,
        )
    return None


# DynamoDB refuses an item whose index sort key (the external number, in `by_external_number`)
# is over 1,024 bytes.
INDEX_SORT_KEY_BYTES = 1024


def _unindexable(create: Create) -> Refused | None:
    """A customer whose number the external-number index cannot hold: refused before any
    of its items is written."""
    if len((create.customer.external_customer_number or "").encode()) <= INDEX_SORT_KEY_BYTES:
        return None
    return Refused(
        create,
        INVALID,
        f"The customer number is longer than {INDEX_SORT_KEY_BYTES:,} bytes, the most the "
        "customer index can hold",
        column="CustomerNumber",
    )


def _cause(exc: Exception) -> str:
    return str(getattr(exc, "cause", None) or exc)


def _holder(customer: Customer) -> str | None:
    """Who holds the customer's identity live (or itself, binned); None when free."""
    number = customer.external_customer_number
    if not number:
        return None
    key = identity_key(customer.org_id, customer.account_id, number)
    for item in IdentityModel.batch_get([key], consistent_read=True):
        if item.live or item.customer_id == customer.customer_id:
            return str(item.customer_id)
    return None


def _holds(customer: Customer) -> bool:
    return _holder(customer) == customer.customer_id


def _transaction_groups(creates: Sequence[Create]) -> Iterator[list[Create]]:
    """At most 50 creates a transaction, no identity twice in one (AWS refuses a transaction
    that touches an item twice)."""
    group: list[Create] = []
    seen: set[str] = set()
    for create in creates:
        c = create.customer
        key = identity_key(c.org_id, c.account_id, c.external_customer_number or c.customer_id)
        if key in seen or len(group) == CREATES_PER_TRANSACTION:
            yield group
            group, seen = [], set()
        group.append(create)
        seen.add(key)
    if group:
        yield group


def _stored_create(create: Create) -> Customer:
    return create.customer.with_changes(
        version=1,
        created_by_job=create.job_id,
        updated_by_job=create.job_id,
        created_at=create.at,
        updated_at=create.at,
        deleted_at=None,
        purge_after=None,
    )


def _stored_update(current: Customer, write: Update) -> Customer:
    after = write.after
    return after.with_changes(
        addresses=dict(after.addresses)
        if write.exact
        else {**current.addresses, **after.addresses},
        vehicles=dict(after.vehicles) if write.exact else {**current.vehicles, **after.vehicles},
        version=write.expected_version + 1,
        created_by_job=current.created_by_job,
        created_at=current.created_at,
        updated_by_job=write.job_id,
        updated_at=write.at,
        purge_after=after.purge_after if after.binned else None,
    )


def _customer_item(customer: Customer) -> CustomerModel:
    return CustomerModel(customer.org_id, customer.customer_id, **_customer_values(customer))


def _customer_put(customer: Customer) -> _Put:
    return _serialize(
        CustomerModel, (customer.org_id, customer.customer_id), _customer_values(customer)
    )


def _customer_values(customer: Customer) -> dict[str, Any]:
    """The customer item's attributes but its key."""
    email = customer.value("email")
    binned = customer.deleted_at
    return dict(
        account_id=customer.account_id,
        external_customer_number=customer.external_customer_number,
        **{name: customer.value(name) for name in CUSTOMER_FIELDS},
        email_normalised=email.lower() if email else None,
        source_job_id=customer.created_by_job or "",
        created_at=customer.created_at or "",
        updated_at=customer.updated_at or "",
        version=customer.version,
        created_by_job=customer.created_by_job,
        updated_by_job=customer.updated_by_job,
        deleted_at=customer.deleted_at,
        purge_after=customer.purge_after,
        source_digest=customer.source_digest,
        address_types=sorted(customer.addresses),
        vehicle_keys=sorted(customer.vehicles),
        live_org=None if binned else customer.org_id,
        live_key=None if binned else f"{customer.account_id}#{customer.customer_id}",
        binned_org=customer.org_id if binned else None,
        binned_account=f"{customer.org_id}#{customer.account_id}" if binned else None,
        binned_key=f"{binned}#{customer.customer_id}" if binned else None,
        purge_day=(customer.purge_after or "")[:10] or None if binned else None,
    )


def _identity_item(customer: Customer, *, live: bool) -> IdentityModel:
    return IdentityModel(_identity_of(customer), **_identity_values(customer, live=live))


def _identity_put(customer: Customer, *, live: bool) -> _Put:
    return _serialize(
        IdentityModel, (_identity_of(customer),), _identity_values(customer, live=live)
    )


def _identity_of(customer: Customer) -> str:
    return identity_key(
        customer.org_id, customer.account_id, customer.external_customer_number or ""
    )


def _identity_values(customer: Customer, *, live: bool) -> dict[str, Any]:
    return {"org_id": customer.org_id, "customer_id": customer.customer_id, "live": live}


class _PutCondition:
    """A transaction's conditional Put, as PynamoDB's `TransactWrite.save` writes it, with
    the condition serialized once: a batch puts a hundred items under the same condition,
    and building and serializing it costs more than its item does to send. At most one
    string value differs from item to item: `slot` stands for it."""

    _SLOT = "\x00slot"

    def __init__(self, condition: Callable[[str], Condition]) -> None:
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        self._expression = condition(self._SLOT).serialize(names, values)
        self._names = {placeholder: name for name, placeholder in names.items()}
        self._values = values
        self._slot = next((p for p, v in values.items() if v == {"S": self._SLOT}), None)

    def put(self, put: _Put, value: str | None = None) -> dict[str, Any]:
        model, item = put
        operation = {
            "TableName": model.Meta.table_name,
            "Item": item,
            "ConditionExpression": self._expression,
            "ExpressionAttributeNames": self._names,
        }
        if self._values:
            values = dict(self._values)
            if self._slot is not None:
                values[self._slot] = {"S": value}
            operation["ExpressionAttributeValues"] = values
        return operation


# A claim of an external number: free, binned, or this customer's own already (a retry).
_IDENTITY_FREE_OR_OWN = _PutCondition(
    lambda customer_id: (
        IdentityModel.identity_key.does_not_exist()
        | (IdentityModel.live == False)  # noqa: E712
        | (IdentityModel.customer_id == customer_id)
    )
)
_CUSTOMER_ABSENT = _PutCondition(lambda _: CustomerModel.customer_id.does_not_exist())


def _sub_records(
    customer: Customer,
    addresses: Mapping[str, Mapping[str, Any]],
    vehicles: Mapping[str, Mapping[str, Any]],
) -> list[_Put]:
    items = [
        _serialize(AddressModel, (customer.customer_id, kind), {"org_id": customer.org_id, **a})
        for kind, a in addresses.items()
    ]
    items += [
        _serialize(
            VehicleModel,
            (customer.customer_id, vehicle_id(customer.customer_id, key)),
            {"org_id": customer.org_id, "vehicle_key": key, **v},
        )
        for key, v in vehicles.items()
    ]
    return items


def _delete_records(
    address_keys: Sequence[tuple[str, str]], vehicle_keys: Sequence[tuple[str, str]]
) -> None:
    """Delete addresses and vehicles by key, in batch writes."""
    with AddressModel.batch_write() as addresses:
        for customer_id, kind in address_keys:
            addresses.delete(AddressModel(customer_id, kind))
    with VehicleModel.batch_write() as vehicles:
        for customer_id, vehicle in vehicle_keys:
            vehicles.delete(VehicleModel(customer_id, vehicle))


def _delete_own_match_keys(org_id: str, keys_by_customer: Mapping[str, set[str]]) -> None:
    """Delete these match keys of the customers, where they still point at them (a key two
    customers share points at the one written last)."""
    # A key several of these customers share (two removed customers of the same name) is
    # deleted when it points at any of them.
    owners: dict[str, set[str]] = {}
    for customer_id, keys in keys_by_customer.items():
        for key in keys:
            owners.setdefault(stored_match_key(org_id, key), set()).add(customer_id)
    if not owners:
        return
    with MatchKeyModel.batch_write() as batch:
        for item in MatchKeyModel.batch_get(list(owners)):
            if item.customer_id in owners.get(item.match_key, ()):
                batch.delete(item)


def _delete_sub_records(customer: Customer) -> None:
    model: type[Model]
    for model in (AddressModel, VehicleModel):
        with model.batch_write() as batch:
            for item in model.query(customer.customer_id):
                batch.delete(item)


def _customer(
    item: CustomerModel, address_items: list[AddressModel], vehicle_items: list[VehicleModel]
) -> Customer:
    """The customer of its item and records (read by the keys the item lists; by Query for
    an item written before it listed them)."""
    values = item.attribute_values
    if item.address_types is None:
        address_items = list(AddressModel.query(item.customer_id, consistent_read=True))
    if item.vehicle_keys is None:
        vehicle_items = list(VehicleModel.query(item.customer_id, consistent_read=True))
    addresses = {
        a.address_type: {name: a.attribute_values.get(name) for name in ADDRESS_FIELDS}
        for a in address_items
    }
    vehicles = {
        str(v.vehicle_key or v.vehicle_id): {
            name: _plain(v.attribute_values.get(name)) for name in VEHICLE_FIELDS
        }
        for v in vehicle_items
    }
    return Customer(
        org_id=item.org_id,
        account_id=item.account_id,
        customer_id=item.customer_id,
        external_customer_number=item.external_customer_number,
        fields={name: values.get(name) for name in CUSTOMER_FIELDS},
        addresses=addresses,
        vehicles=vehicles,
        version=int(item.version or 0),
        created_by_job=item.created_by_job,
        updated_by_job=item.updated_by_job,
        created_at=item.created_at,
        updated_at=item.updated_at,
        deleted_at=item.deleted_at,
        purge_after=item.purge_after,
        source_digest=item.source_digest,
    )


def _encode(key: dict[str, Any] | None) -> str | None:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode() if key else None


def _decode(token: str | None) -> dict[str, Any] | None:
    return json.loads(base64.urlsafe_b64decode(token)) if token else None
