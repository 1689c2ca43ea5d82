"""What an import does to one file customer (design §5.4): create it, update, merge into or
restore the stored customer it matched, or leave it unchanged."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from ..customers.customer import ADDRESS_FIELDS, CUSTOMER_FIELDS, VEHICLE_FIELDS, Customer
from ..customers.customer import vehicle_identity as _vehicle_identity
from ..customers.repository import Create, CustomerKey, Update
from .log import Action, ChangeEntry

if TYPE_CHECKING:
    from ..jobs import JobOptions
from .rules import DEFAULT_MAX_DELETE_PERCENT, FieldPolicy, MatchKey, Mode, Transfer


@dataclass(frozen=True)
class Rules:
    mode: Mode
    key: MatchKey = MatchKey.EXTERNAL
    policy: FieldPolicy = FieldPolicy.OVERWRITE
    max_delete_percent: float = DEFAULT_MAX_DELETE_PERCENT
    transfer: Transfer = Transfer.NONE
    transfer_related: bool = False


def rules_of(options: JobOptions) -> Rules:
    return Rules(
        options.mode,
        options.key,
        options.field_policy,
        options.max_delete_percent,
        options.transfer,
        options.transfer_related,
    )


class Kind(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    MERGE = "merge"
    RESTORE = "restore"
    UNCHANGED = "unchanged"
    COPY = "copy"  # a new customer, copied from another account's (design §5.5)
    MOVE = "move"  # another account's customer, re-owned by the target account


_ACTIONS = {
    Kind.CREATE: Action.CREATED,
    Kind.UPDATE: Action.UPDATED,
    Kind.MERGE: Action.MERGED,
    Kind.RESTORE: Action.RESTORED,
    Kind.COPY: Action.COPIED,
    Kind.MOVE: Action.MOVED,
}


@dataclass(frozen=True)
class Planned:
    """`after` is the customer as it will be stored (for an update, with the stored
    customer_id, account and version: the version the write expects). `changes` has
    `(old, new)` by field name, and by `address:{type}` / `vehicle:{key}` the whole records.
    `entry` is what the change log records (None when nothing is written); `before` the
    stored customer it changes, as read (for a transfer: the other account's customer it
    comes from)."""

    kind: Kind
    after: Customer
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    entry: ChangeEntry | None = None
    before: Customer | None = None

    def write(self, job_id: str, at: str) -> Create | Update | None:
        """The conditional write that carries the change out (None for an unchanged one)."""
        if self.kind is Kind.UNCHANGED:
            return None
        if self.kind in (Kind.CREATE, Kind.COPY):
            return Create(self.after, job_id, at)
        return Update(self.after, self.after.version, job_id, at, self.before)


def plan(
    incoming: Customer, stored: Customer | None, rules: Rules, row: int | None = None
) -> Planned:
    """The change the file customer `incoming` makes to `stored`, the customer it matched
    (None: it creates one; of another account: the rules transfer it, see `_transfer`). An
    empty file value never clears a stored one."""
    if stored is None:
        return _create(incoming, row)
    if rules.transfer is not Transfer.NONE and stored.account_id != incoming.account_id:
        return _transfer(incoming, stored, rules, row)
    if stored.binned:
        kind = Kind.RESTORE
    else:
        kind = Kind.MERGE if rules.mode is Mode.INSERT else Kind.UPDATE
    return _change(incoming, stored, rules, row, kind)


def _transfer(incoming: Customer, source: Customer, rules: Rules, row: int | None) -> Planned:
    """A move re-owns `source`, another account's customer (out of its recycle bin), and
    updates it from the file; a copy creates a new customer of the target account from it,
    with the file's values. Both are written even when the file changes no value."""
    target = incoming.account_id
    origin = {
        "account_id": source.account_id,
        "customer_id": source.customer_id,
        "from_recycle_bin": source.binned,
        "with_related": rules.transfer_related,
    }
    if rules.transfer is Transfer.MOVE:
        return _change(
            incoming,
            source,
            rules,
            row,
            Kind.MOVE,
            account_id=target,
            transferred_from=origin,
        )
    copy = source.with_changes(
        customer_id=incoming.customer_id,
        account_id=target,
        version=0,
        created_by_job=None,
        updated_by_job=None,
        created_at=None,
        updated_at=None,
        deleted_at=None,
        purge_after=None,
    )
    changed = _change(incoming, copy, rules, row, Kind.COPY)
    return _create(changed.after, row, Kind.COPY, origin, changed.after.source_digest, source)


def _change(
    incoming: Customer,
    stored: Customer,
    rules: Rules,
    row: int | None,
    kind: Kind,
    *,
    account_id: str | None = None,
    transferred_from: dict[str, Any] | None = None,
) -> Planned:
    """`stored` with the file customer's values, per the rules' policy, as `kind` (the
    customer moves to `account_id` if given); unchanged when an update or merge changes no
    value."""
    if rules.mode is Mode.INSERT:
        policy, fill_only = FieldPolicy.FILL_EMPTY, True
    else:
        policy, fill_only = rules.policy, False
    changes: dict[str, tuple[Any, Any]] = {}
    fields = dict(stored.fields)
    number = stored.external_customer_number
    if policy is not FieldPolicy.KEEP:
        number = _field(
            changes, "external_customer_number", number, incoming.external_customer_number, policy
        )
        for name in CUSTOMER_FIELDS:
            fields[name] = _field(changes, name, stored.value(name), incoming.value(name), policy)
    addresses = {type_: dict(a) for type_, a in stored.addresses.items()}
    vehicles = {key: dict(v) for key, v in stored.vehicles.items()}
    if policy is not FieldPolicy.KEEP:
        _records(
            changes, "address", addresses, incoming.addresses, ADDRESS_FIELDS, policy, fill_only
        )
        _records(
            changes,
            "vehicle",
            vehicles,
            _identified(incoming.vehicles),
            VEHICLE_FIELDS,
            policy,
            fill_only,
        )
    if kind in (Kind.UPDATE, Kind.MERGE) and not changes:
        return Planned(Kind.UNCHANGED, stored)
    # Overwritten, it holds every value the file customer gives: the same file customer
    # leaves it unchanged then, which a later import can tell from its digest alone.
    holds_incoming = rules.mode is not Mode.INSERT and policy is FieldPolicy.OVERWRITE
    after = stored.with_changes(
        account_id=account_id or stored.account_id,
        external_customer_number=number,
        fields=fields,
        addresses=addresses,
        vehicles=vehicles,
        deleted_at=None,
        purge_after=None,
        source_digest=incoming.written_from(stored.version + 1) if holds_incoming else None,
    )
    before = {name: old for name, (old, _) in changes.items()}
    after_image = {name: new for name, (_, new) in changes.items()}
    if account_id is not None and account_id != stored.account_id:
        before["account_id"], after_image["account_id"] = stored.account_id, account_id
    if stored.binned:
        before |= {"deleted_at": stored.deleted_at, "purge_after": stored.purge_after}
        after_image |= {"deleted_at": None, "purge_after": None}
    entry = ChangeEntry(
        customer_id=stored.customer_id,
        account_id=after.account_id,
        external_customer_number=number,
        action=_ACTIONS[kind],
        version_before=stored.version,
        version_after=stored.version + 1,
        before=before,
        after=after_image,
        row=row,
        transferred_from=transferred_from,
    )
    return Planned(kind, after, changes, entry, stored)


def unchanged(incoming: Customer, stored: CustomerKey) -> Planned:
    """What `plan` says of a file customer the stored customer was last written from
    (`CustomerKey.written_from`), without its records."""
    return Planned(
        Kind.UNCHANGED,
        incoming.with_changes(
            customer_id=stored.customer_id,
            version=stored.version,
            source_digest=stored.source_digest,
        ),
    )


def _create(
    incoming: Customer,
    row: int | None,
    kind: Kind = Kind.CREATE,
    transferred_from: dict[str, Any] | None = None,
    source_digest: str | None = None,
    source: Customer | None = None,
) -> Planned:
    """A new customer: the file customer (its digest holds), or a copy (`source`: the other
    account's customer it copies, with the file's values)."""
    changes: dict[str, tuple[Any, Any]] = {}
    if not _empty(incoming.external_customer_number):
        changes["external_customer_number"] = (None, incoming.external_customer_number)
    changes |= {n: (None, v) for n in CUSTOMER_FIELDS if not _empty(v := incoming.value(n))}
    changes |= {f"address:{k}": (None, dict(a)) for k, a in sorted(incoming.addresses.items())}
    changes |= {f"vehicle:{k}": (None, dict(v)) for k, v in sorted(incoming.vehicles.items())}
    entry = ChangeEntry(
        customer_id=incoming.customer_id,
        account_id=incoming.account_id,
        external_customer_number=incoming.external_customer_number,
        action=_ACTIONS[kind],
        version_before=0,
        version_after=1,
        after={name: new for name, (_, new) in changes.items()},
        row=row,
        transferred_from=transferred_from,
    )
    digest = incoming.written_from(1) if kind is Kind.CREATE else source_digest
    return Planned(kind, incoming.with_changes(source_digest=digest), changes, entry, source)


def _field(
    changes: dict[str, tuple[Any, Any]], name: str, old: Any, new: Any, policy: FieldPolicy
) -> Any:
    """The value the field will hold, noting a change."""
    if _empty(new) or _same(name, old, new):
        return old
    if policy is FieldPolicy.FILL_EMPTY and not _empty(old):
        return old
    changes[name] = (old, new)
    return new


def _records(
    changes: dict[str, tuple[Any, Any]],
    label: str,
    stored: dict[str, dict[str, Any]],
    incoming: Mapping[str, Mapping[str, Any]],
    names: tuple[str, ...],
    policy: FieldPolicy,
    fill_only: bool,
) -> None:
    """Adds the incoming records the stored ones lack and (unless `fill_only`: an insert-mode
    merge leaves the records it has alone) updates those both hold, field by field; none is
    removed."""
    for key, record in sorted(incoming.items()):
        old = stored.get(key)
        if old is None:
            new = {name: record.get(name) for name in names}
        elif fill_only:
            continue
        else:
            ignored: dict[str, tuple[Any, Any]] = {}
            new = {n: _field(ignored, n, old.get(n), record.get(n), policy) for n in names}
            if not ignored:
                continue
        changes[f"{label}:{key}"] = (None if old is None else dict(old), new)
        stored[key] = new


def _identified(vehicles: Mapping[str, Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """The vehicles a later file can recognise: one without registration or VIN is only ever
    stored with the customer it came with, or each update would add it again."""
    return {key: v for key, v in vehicles.items() if _vehicle_identity(v) is not None}


def _same(name: str, old: Any, new: Any) -> bool:
    """Equal as cleaning leaves them: emails regardless of case, postcodes of spacing and
    case; every other value (phones are E.164 strings by then) exactly."""
    if isinstance(old, str) and isinstance(new, str):
        if name == "email":
            return old.strip().casefold() == new.strip().casefold()
        if name == "postcode":
            return old.replace(" ", "").upper() == new.replace(" ", "").upper()
        return old.strip() == new.strip()
    return bool(old == new)


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str | list | dict) and not value)
