"""What the preview shows of a chunk's planned changes (design §5.4): per customer what will
happen, each field's `old → new`, and the counts a file's preview adds up."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from .plan import Kind, Planned

# The counter each kind of change adds to (the job's counters, design §5.4).
COUNTERS = {
    Kind.CREATE: "created",
    Kind.UPDATE: "updated",
    Kind.MERGE: "merged",
    Kind.RESTORE: "restored",
    Kind.UNCHANGED: "unchanged",
}


def describe(planned: Planned) -> dict[str, Any]:
    """One customer's line of the preview, JSON-ready."""
    after = planned.after
    line: dict[str, Any] = {
        "action": str(planned.kind),
        "customer_id": after.customer_id,
        "account": after.account_id,
        "external_customer_number": after.external_customer_number,
    }
    if planned.entry is not None:
        line["row"] = planned.entry.row
    if planned.kind is not Kind.CREATE:
        line["changes"] = [
            {"field": name, "old": old, "new": new} for name, (old, new) in planned.changes.items()
        ]
    return line


class Tally:
    """Running counts of planned changes: `created, updated, unchanged, restored, merged`,
    and `imported` (every customer whose stored record will reflect the file)."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter({name: 0 for name in COUNTERS.values()})

    def add(self, planned: Iterable[Planned]) -> Tally:
        self.counts.update(COUNTERS[p.kind] for p in planned)
        return self

    def merge(self, other: Tally) -> Tally:
        self.counts.update(other.counts)
        return self

    def to_dict(self) -> dict[str, int]:
        counts = dict(self.counts)
        counts["imported"] = sum(counts[n] for n in ("created", "updated", "merged", "restored"))
        return counts
