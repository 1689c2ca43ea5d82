"""What the preview shows of a chunk's planned changes (design §5.4): per customer what will
happen, each field's `old → new`, and the counts a file's preview adds up."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from .log import Action, ChangeEntry
from .plan import Kind, Planned

# The counter each kind of change adds to (the job's counters, design §5.4).
COUNTERS = {
    Kind.CREATE: "created",
    Kind.UPDATE: "updated",
    Kind.MERGE: "merged",
    Kind.RESTORE: "restored",
    Kind.UNCHANGED: "unchanged",
    Kind.COPY: "copied",
    Kind.MOVE: "moved",
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
        if (origin := planned.entry.transferred_from) is not None:
            line["from_account"] = origin["account_id"]
            line["from_recycle_bin"] = origin["from_recycle_bin"]
    if planned.kind is not Kind.CREATE:
        line["changes"] = [
            {"field": name, "old": old, "new": new} for name, (old, new) in planned.changes.items()
        ]
    return line


class Tally:
    """Running counts of planned changes: `created, updated, unchanged, restored, merged,
    copied, moved`, and `imported` (every customer whose stored record will reflect the
    file); and the transfers by the account (and whether its recycle bin) they come from."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter({name: 0 for name in COUNTERS.values()})
        self.transfers = Transfers()

    def add(self, planned: Iterable[Planned]) -> Tally:
        for p in planned:
            self.counts[COUNTERS[p.kind]] += 1
            if p.entry is not None:
                self.transfers.add(p.entry)
        return self

    def to_dict(self) -> dict[str, int]:
        counts = dict(self.counts)
        counts["imported"] = sum(counts[n] for n in IMPORTED)
        return counts


IMPORTED = ("created", "updated", "merged", "restored", "copied", "moved")


class Transfers:
    """How many customers were (or will be) copied and moved from which account, and how
    many of those from its recycle bin."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, bool, str]] = Counter()

    def add(self, entry: ChangeEntry) -> None:
        origin = entry.transferred_from
        if origin is not None:
            self.counts[(origin["account_id"], bool(origin["from_recycle_bin"]), entry.action)] += 1

    def extend(self, listed: Iterable[dict[str, Any]]) -> Transfers:
        """Adds a listing `to_list` made."""
        for line in listed:
            for action in (Action.COPIED, Action.MOVED):
                if count := int(line.get(str(action), 0)):
                    self.counts[(line["from_account"], bool(line["from_recycle_bin"]), action)] += (
                        count
                    )
        return self

    def to_list(self) -> list[dict[str, Any]]:
        """`{from_account, from_recycle_bin, customers, copied, moved}` by account, the
        account's live customers first."""
        lines: dict[tuple[str, bool], dict[str, Any]] = {}
        for (account, binned, action), count in sorted(self.counts.items()):
            line = lines.setdefault(
                (account, binned),
                {
                    "from_account": account,
                    "from_recycle_bin": binned,
                    "customers": 0,
                    "copied": 0,
                    "moved": 0,
                },
            )
            line["customers"] += count
            line[str(action)] += count
        return list(lines.values())
