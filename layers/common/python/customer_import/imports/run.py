"""A run of an import job: the first run, or its n-th retry. The run owns how it is told
apart everywhere it shows: its execution's name, its batches' ids, its audit actions, and
where its batch outcomes come in the job's order.

Step Functions allows 80 characters in an execution name; CloudWatch Logs and X-Ray want
only letters, digits, `-` and `_`. The organisation is cut down to fit and never holds `_`,
so `_` parts it from the job id (a UUID, unique on its own). The same run always gets the
same name: an event delivered again starts nothing new.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..changes.log import SWEEP_PREFIX

MAX_NAME = 80
RETRY_ROOM = len("-retry-99999")
_NOT_IN_AN_ORG_LABEL = re.compile(r"[^A-Za-z0-9-]+")
_RETRY_BATCH = re.compile(r"r(\d+)-")


@dataclass(frozen=True, order=True)
class JobRun:
    """`attempt` 0 is the first run (an upload or an ERP drop), n the n-th retry."""

    attempt: int = 0

    @classmethod
    def first(cls) -> JobRun:
        return cls(0)

    @classmethod
    def retry(cls, attempt: int) -> JobRun:
        if attempt < 1:
            raise ValueError(f"A retry is attempt 1 or later, not {attempt}")
        return cls(attempt)

    @classmethod
    def of_batch(cls, batch_id: str) -> JobRun:
        """The run that staged a batch, from the prefix its id carries."""
        match = _RETRY_BATCH.match(batch_id)
        return cls(int(match.group(1))) if match else cls.first()

    @property
    def is_retry(self) -> bool:
        return self.attempt > 0

    def execution_name(self, org_id: str, job_id: str) -> str:
        """`<org>_<job>` for the first run, `<org>_<job>-retry-<n>` for the n-th retry."""
        room = MAX_NAME - RETRY_ROOM - len(job_id) - 1
        org = _NOT_IN_AN_ORG_LABEL.sub("-", org_id).strip("-")[:room].rstrip("-")
        name = f"{org or 'org'}_{job_id}"
        return f"{name}-retry-{self.attempt}" if self.is_retry else name

    @property
    def batch_prefix(self) -> str:
        """What the ids of the batches this run stages start with."""
        return f"r{self.attempt}-" if self.is_retry else ""

    @property
    def late_batch_prefix(self) -> str:
        """The same, for the batches of repeats inside the file, which run after the rest."""
        return f"{self.batch_prefix}late-"

    def started_action(self) -> str:
        """The audit action of starting a retry (a first run starts from an upload)."""
        return f"import.retry-{self.attempt}"

    def ended_action(self, status: str) -> str:
        """The audit action of the run's end: each run's end is an entry of its own."""
        return f"import.retry-{self.attempt}.{status}" if self.is_retry else f"import.{status}"


def run_order(batch_id: str) -> tuple[JobRun, str]:
    """Where a batch outcome comes in its job: by run (numerically: `r10-…` after `r2-…`),
    then by id within the run (its batches, then its late ones)."""
    return JobRun.of_batch(batch_id), batch_id


def is_sweep_batch(batch_id: str) -> bool:
    """A batch of a sync's customers to bin: it holds no customer of the file."""
    return batch_id.startswith(f"{SWEEP_PREFIX}-")
