"""The start of an import: an `Object Created` event starts an execution, whose first state
registers the job, exactly once per object."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..jobs import Job, JobOptions, JobStatus
from ..ports import JobStore, Workflow
from ..profiles import ProfileStore
from ..progress import ProgressBroadcaster
from ..sources import techman
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


def drop_refusal(location: ObjectLocation) -> str:
    """Why a drop cannot be imported: it names no profile, or one the organisation lacks."""
    layout = f"drops/{location.org_id}/{{profile}}/{{file}}"
    if not location.scope:
        return (
            f"The file was dropped straight under drops/{location.org_id}/, naming no import "
            f"profile: drop it under {layout}, in the folder of the profile it imports with"
        )
    return (
        f"Organisation {location.org_id} has no import profile {location.scope!r}: a file "
        f"dropped under {layout} imports with that profile (see `profiles list`)"
    )


@dataclass(eq=False)
class RegisterJob:
    jobs: JobStore
    profiles: ProfileStore
    broadcaster: ProgressBroadcaster
    clock: Clock

    def __call__(self, bucket: str, key: str, sequencer: str, execution_id: str) -> dict[str, Any]:
        """Turn an `Object Created` event into a job, exactly once per object."""
        location = ObjectLocation.parse(key)
        job_id = job_id_of_object(bucket, key, sequencer)
        if location.kind == "drops":
            # An ERP drop has no job yet: the first execution for the object creates it, with
            # its profile's account and settings. A drop naming no profile, or one the
            # organisation does not have, becomes a job that Validate rejects saying why.
            now = timestamp(self.clock)
            profile = self.profiles.get(location.org_id, location.scope) if location.scope else None
            self.jobs.create(
                Job(
                    org_id=location.org_id,
                    job_id=job_id,
                    status=JobStatus.PENDING,
                    source=profile.source if profile else techman.SOURCE,
                    account_id=profile.account if profile else "main",
                    file_name=location.file_name,
                    object_key=key,
                    created_at=now,
                    updated_at=now,
                    options=(
                        profile.job_options()
                        if profile
                        else JobOptions(profile=location.scope or None)
                    ),
                    actor=f"profile:{location.scope or '-'}",
                    reason=None if profile else drop_refusal(location),
                )
            )
        claimed = self.jobs.claim_execution(location.org_id, job_id, execution_id)
        if claimed:
            self.broadcaster.publish(self.jobs.get(location.org_id, job_id), "status")
        return {"org_id": location.org_id, "job_id": job_id, "duplicate": not claimed}
