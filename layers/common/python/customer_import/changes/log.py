"""The change log (design §5.7): before a batch writes, what it will do to each customer."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

# The ids of a sync's batches of customers to bin start with it: they come after the others.
SWEEP_PREFIX = "sweep"


class Action(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    MERGED = "merged"
    BINNED = "binned"
    RESTORED = "restored"
    COPIED = "copied"  # a new customer, copied from another account's (`transferred_from`)
    MOVED = "moved"  # another account's customer, re-owned (`before` holds its account)


@dataclass(frozen=True)
class ChangeEntry:
    """One customer's change by one import. `before` holds, for every field the change sets,
    the value it had (None for a created customer, whose `before` is empty); addresses and
    vehicles by `address:{type}` / `vehicle:{key}` with their whole previous record (None
    when the change added it). `version_before` is 0 for a created customer.

    A transfer (copied, moved) names in `transferred_from` the customer it came from:
    `account_id`, `customer_id`, `from_recycle_bin` and `with_related` (whether its
    activities went along): what undoing it needs besides the before-image."""

    customer_id: str
    account_id: str
    external_customer_number: str | None
    action: Action
    version_before: int
    version_after: int
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)
    row: int | None = None
    transferred_from: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "customer_id": self.customer_id,
            "account_id": self.account_id,
            "external_customer_number": self.external_customer_number,
            "action": str(self.action),
            "version_before": self.version_before,
            "version_after": self.version_after,
            "before": self.before,
            "after": self.after,
            "row": self.row,
            **({"transferred_from": self.transferred_from} if self.transferred_from else {}),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChangeEntry:
        return cls(
            customer_id=data["customer_id"],
            account_id=data["account_id"],
            external_customer_number=data.get("external_customer_number"),
            action=Action(data["action"]),
            version_before=int(data["version_before"]),
            version_after=int(data["version_after"]),
            before=dict(data.get("before") or {}),
            after=dict(data.get("after") or {}),
            row=data.get("row"),
            transferred_from=data.get("transferred_from"),
        )


class ChangeLog(Protocol):
    """Per job, per batch (an import batch, a retry batch, a sweep batch): the entries. One
    document a batch, written before the batch writes its customers; writing a batch's
    entries again replaces them with the same entries."""

    def record(
        self, org_id: str, job_id: str, batch_id: str, entries: list[ChangeEntry]
    ) -> None: ...

    def read(self, org_id: str, job_id: str, batch_id: str) -> list[ChangeEntry] | None:
        """None when the batch recorded nothing (not yet)."""

    def batches(self, org_id: str, job_id: str) -> list[str]:
        """The batch ids with entries, in the order they were recorded."""
