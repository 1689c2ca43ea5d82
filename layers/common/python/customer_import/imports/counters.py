"""A job's counters, and what a batch outcome adds to them: the one place of these rules;
the job stores only persist the deltas (design §5.4)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from .run import is_sweep_batch

if TYPE_CHECKING:
    from ..ports import BatchOutcome

# What happened to each customer of a batch, one counter each.
OUTCOME_COUNTERS = (
    "created",
    "updated",
    "unchanged",
    "merged",
    "deleted",
    "restored",
    "copied",
    "moved",
    "skipped_duplicates",
    "skipped_user",
    "failed",
)
# What a rollback undid, by what the import had done; the changes it left (conflicts); its
# batches.
REVERTED_COUNTERS = tuple(
    f"reverted_{name}"
    for name in ("created", "updated", "merged", "deleted", "restored", "copied", "moved")
)
ROLLBACK_COUNTERS = (
    *REVERTED_COUNTERS,
    "conflicts",
    "rollback_batches_total",
    "rollback_batches_done",
)
ROLLBACK_BATCH_PREFIX = "rollback-"
# The customers whose stored record now reflects the file.
IMPORTED_FROM = ("created", "updated", "merged", "restored", "copied", "moved")


def imported(counts: Mapping[str, int]) -> int:
    return sum(int(counts.get(name, 0)) for name in IMPORTED_FROM)


def batch_deltas(outcome: BatchOutcome) -> dict[str, int]:
    """What recording `outcome` adds to its job's counters, the zeros left out. A retry
    re-runs customers already counted as failed and processed: the ones it settles move from
    failed to what they became."""
    counts = {name: int(getattr(outcome, name)) for name in OUTCOME_COUNTERS}
    if outcome.batch_id.startswith(ROLLBACK_BATCH_PREFIX):
        # A rollback's batch: what it undid (counted by what the import had done), and the
        # changes it left as they were.
        deltas = {f"reverted_{name}": counts[name] for name in (*IMPORTED_FROM, "deleted")}
        deltas |= {"conflicts": outcome.failed, "rollback_batches_done": 1}
        return {name: delta for name, delta in deltas.items() if delta}
    deltas = {**counts, "imported": imported(counts)}
    if outcome.retry:
        deltas["failed"] = -(outcome.customers - outcome.failed)
    elif not is_sweep_batch(outcome.batch_id):
        deltas["batches_done"] = 1
        deltas["processed"] = outcome.customers
    return {name: delta for name, delta in deltas.items() if delta}


def add(counters: Mapping[str, int], deltas: Mapping[str, int]) -> dict[str, int]:
    return {
        **counters,
        **{name: int(counters.get(name, 0)) + delta for name, delta in deltas.items()},
    }
