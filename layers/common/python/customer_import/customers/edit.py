"""A person's edit of a live customer (`PATCH /customers/{id}`): the same cleanup rules as an
import's, one conditional write on the version read, and an audit entry.

The edit raises the version like any write, so a later rollback of the import that wrote the
customer leaves the edit in place and reports it as a conflict (design §5.7).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from ..audit import AuditEntry
from ..cleaning import CleanupError, clean_email, normalise_phone, strip_invisible
from ..errors import CustomerImportError
from ..ports import AuditLog
from ..queries import CustomerNotFound
from .customer import Customer
from .repository import INVALID, MISSING, CustomerRepository, Update

EDITED = "customer.edited"


class InvalidEdit(CustomerImportError):
    """A value the cleanup rules refuse; `field` names it."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class EditConflict(CustomerImportError):
    """The customer's version is not the one the editor read: it changed since."""

    def __init__(self, customer_id: str, expected: int, current: int) -> None:
        super().__init__(
            f"Customer {customer_id} is at version {current}, not {expected}: it changed since "
            "it was read; read it again and edit that"
        )
        self.customer_id = customer_id
        self.current = current


def _text(value: str) -> str | None:
    return strip_invisible(value, keys=False).strip() or None


def _name(value: str) -> str:
    cleaned = _text(value)
    if cleaned is None:
        raise CleanupError("A customer needs a name")
    return cleaned


# The fields a person may edit, each with the rule that cleans its text; the flags are
# booleans already (the API's model checks them).
TEXT_RULES: dict[str, Callable[[str], Any]] = {
    "title": _text,
    "name": _name,
    "email": clean_email,
    "phone": normalise_phone,
    "landline": normalise_phone,
    "customer_group": _text,
    "vat_number": _text,
}
FLAGS = ("credit_hold", "account_customer", "vat_registered")
EDITABLE = (*TEXT_RULES, *FLAGS)


def cleaned_edit(changes: Mapping[str, Any]) -> dict[str, Any]:
    """The edit's values as the customer would store them; InvalidEdit names the first field
    a rule refuses. None clears a field (a name cannot be cleared)."""
    cleaned: dict[str, Any] = {}
    for name, value in changes.items():
        if name not in EDITABLE:
            raise InvalidEdit(
                name, f"not a field that can be edited (those are {', '.join(EDITABLE)})"
            )
        if name in FLAGS:
            if value is not None and not isinstance(value, bool):
                raise InvalidEdit(name, "must be true, false or null")
            cleaned[name] = value
            continue
        try:
            # null clears a field, as an empty text does (the name's rule refuses both)
            cleaned[name] = TEXT_RULES[name]("" if value is None else str(value))
        except CleanupError as exc:
            raise InvalidEdit(name, exc.reason) from None
    return cleaned


def edit(
    repository: CustomerRepository,
    audit: AuditLog,
    org_id: str,
    customer_id: str,
    changes: Mapping[str, Any],
    expected_version: int | None,
    actor: str,
    now: datetime,
) -> Customer:
    """Apply the person's changes to the organisation's live customer, if its version is
    still `expected_version` (when given); the customer as stored now. Values equal to the
    stored ones are no change: an edit that changes nothing writes nothing."""
    current = repository.get(org_id, customer_id)
    if current is None or current.binned:
        raise CustomerNotFound(org_id, customer_id)
    if expected_version is not None and expected_version != current.version:
        raise EditConflict(customer_id, expected_version, current.version)
    changed = {
        name: value for name, value in cleaned_edit(changes).items() if current.value(name) != value
    }
    if not changed:
        return current
    at = now.isoformat(timespec="milliseconds")
    write = Update(
        after=current.with_changes(fields={**current.fields, **changed}),
        expected_version=current.version,
        # No job wrote it: `updated_by_job` names the person.
        job_id=f"edit:{actor}",
        at=at,
        read=current,
    )
    for refused in repository.save([write]):
        if refused.reason == MISSING:
            raise CustomerNotFound(org_id, customer_id)
        if refused.reason == INVALID:
            raise InvalidEdit(refused.column or "customer", refused.message)
        now_at = refused.current.version if refused.current else current.version + 1
        raise EditConflict(customer_id, current.version, now_at)
    edited = repository.get(org_id, customer_id)
    assert edited is not None
    audit.record(
        AuditEntry(
            org_id=org_id,
            # No job did it: the entry is kept under the customer it concerns.
            job_id=customer_id,
            action=EDITED,
            actor=actor,
            at=at,
            job_created_at=at,
            details={
                "customer_id": customer_id,
                "account": edited.account_id,
                # Which fields, not their values: the audit log holds no personal data it
                # does not need.
                "fields": sorted(changed),
                "version_before": current.version,
                "version": edited.version,
            },
        )
    )
    return edited
