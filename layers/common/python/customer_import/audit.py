"""The audit log (design §5.5): who did what to which import, when, with what result."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class AuditEntry:
    org_id: str
    job_id: str
    action: str  # "import.completed", "import.decided", "import.retry-1.completed", ...
    actor: str
    at: str  # ISO 8601, when it happened
    job_created_at: str  # with job_id, makes the entry's key: one entry per job and action
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def sort_key(self) -> str:
        """Lists an organisation's entries by time; a retried step writes the same key."""
        return f"{self.job_created_at}#{self.job_id}#{self.action}"
