"""The reconciliation view (`GET /imports/{id}/changes`): what an import did to each
customer, read from its change log in the order its batches ran, a page at a time."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..changes.log import Action, ChangeEntry, ChangeLog
from ..ports import JobStore
from ..queries import InvalidCursor
from .rollback import import_batches


@dataclass(frozen=True)
class ChangesPage:
    items: list[dict[str, Any]]
    next_cursor: str | None


def change_view(entry: ChangeEntry, batch_id: str) -> dict[str, Any]:
    """One change as a person reads it: each field, address or vehicle it touched with the
    value before and after (None where there was none)."""
    names = sorted(set(entry.before) | set(entry.after))
    return {
        "customer_id": entry.customer_id,
        "account": entry.account_id,
        "external_customer_number": entry.external_customer_number,
        "action": str(entry.action),
        "row": entry.row,
        "batch_id": batch_id,
        "version_before": entry.version_before,
        "version_after": entry.version_after,
        "fields": [
            {"field": name, "before": entry.before.get(name), "after": entry.after.get(name)}
            for name in names
        ],
        "transferred_from": entry.transferred_from,
    }


def import_changes(
    jobs: JobStore,
    change_log: ChangeLog,
    org_id: str,
    job_id: str,
    limit: int,
    cursor: str | None = None,
    action: Action | None = None,
) -> ChangesPage:
    """A page of the organisation's import's changes (JobNotFound for another's job), oldest
    batch first, of one kind when `action` is given; the cursor goes on from a page's end."""
    job = jobs.get(org_id, job_id)
    batch_ids = import_batches(jobs, job.job_id)
    position, offset = _position(cursor, batch_ids) if cursor else (0, 0)
    items: list[dict[str, Any]] = []
    for index in range(position, len(batch_ids)):
        batch_id = batch_ids[index]
        entries = change_log.read(org_id, job.job_id, batch_id) or []
        start = offset if index == position else 0
        for at in range(start, len(entries)):
            if len(items) == limit:
                return ChangesPage(items, _cursor(batch_id, at))
            if action is None or entries[at].action == action:
                items.append(change_view(entries[at], batch_id))
    return ChangesPage(items, None)


def _cursor(batch_id: str, offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps([batch_id, offset]).encode()).decode()


def _position(cursor: str, batch_ids: Sequence[str]) -> tuple[int, int]:
    """The batch index and offset a cursor this view handed out points at."""
    try:
        batch_id, offset = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if isinstance(offset, int) and offset >= 0 and batch_id in batch_ids:
            return batch_ids.index(batch_id), offset
    except (ValueError, TypeError):
        pass
    raise InvalidCursor("The cursor is not one this API handed out")
