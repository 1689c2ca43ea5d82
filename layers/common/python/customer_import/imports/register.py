"""The start of an import: an `Object Created` event starts an execution, whose first state
registers the job, exactly once per object."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import techman
from ..jobs import Job, JobOptions, JobStatus
from ..ports import JobStore, Workflow
from ..progress import ProgressBroadcaster
from .run import JobRun
from .shared import Clock, timestamp
from .staging import ObjectLocation, job_id_of_object


@dataclass(eq=False)
class StartImport:
    workflow: Workflow

    def __call__(
        self, bucket: str, key: str, sequencer: str, event: dict[str, Any]
    ) -> dict[str, Any]:
        """Start the ImportJob execution for an `Object Created` event, named after the
        organisation and the job (`event` is its input). S3 and EventBridge deliver at least
        once: the same event again finds the name taken and starts nothing; RegisterJob still
        stops any second execution that finds its job claimed."""
        job_id = job_id_of_object(bucket, key, sequencer)
        name = JobRun.first().execution_name(ObjectLocation.parse(key).org_id, job_id)
        self.workflow.start(name, event)
        return {"job_id": job_id, "execution_name": name}


@dataclass(eq=False)
class RegisterJob:
    jobs: JobStore
    broadcaster: ProgressBroadcaster
    clock: Clock

    def __call__(self, bucket: str, key: str, sequencer: str, execution_id: str) -> dict[str, Any]:
        """Turn an `Object Created` event into a job, exactly once per object."""
        location = ObjectLocation.parse(key)
        job_id = job_id_of_object(bucket, key, sequencer)
        if location.kind == "drops":
            # An ERP drop has no job yet: the first execution for the object creates it.
            now = timestamp(self.clock)
            self.jobs.create(
                Job(
                    org_id=location.org_id,
                    job_id=job_id,
                    status=JobStatus.PENDING,
                    source=techman.SOURCE,
                    account_id="main",
                    file_name=location.file_name,
                    object_key=key,
                    created_at=now,
                    updated_at=now,
                    options=JobOptions(auto_run=True),
                    actor=f"profile:{location.scope}",
                )
            )
        claimed = self.jobs.claim_execution(location.org_id, job_id, execution_id)
        if claimed:
            self.broadcaster.publish(self.jobs.get(location.org_id, job_id), "status")
        return {"org_id": location.org_id, "job_id": job_id, "duplicate": not claimed}
