"""Live progress: WebSocket subscriptions and pushes to the subscribers of a job."""

from __future__ import annotations

import logging
from typing import Any

from .errors import JobNotFound
from .jobs import Job
from .ports import ConnectionGone, ConnectionStore, JobStore, MessageSender

log = logging.getLogger(__name__)


class ProgressBroadcaster:
    def __init__(self, connections: ConnectionStore, sender: MessageSender) -> None:
        self.connections = connections
        self.sender = sender

    def publish(self, job: Job, event_type: str = "progress") -> int:
        """Push the job's state to every subscriber; forget gone ones. Returns messages sent."""
        message = job.progress_event(event_type)
        sent = 0
        for connection_id in self.connections.subscribers(job.job_id):
            if self.send(connection_id, message):
                sent += 1
        return sent

    def send(self, connection_id: str, message: dict[str, Any]) -> bool:
        try:
            self.sender.send(connection_id, message)
        except ConnectionGone:
            self.connections.remove(connection_id)
            return False
        except Exception:
            # Progress is a courtesy: a push that fails must never fail the import.
            log.warning("Progress push to %s failed", connection_id, exc_info=True)
            return False
        return True


def subscribe(
    jobs: JobStore,
    broadcaster: ProgressBroadcaster,
    connection_id: str,
    org_id: str,
    job_id: str,
) -> dict[str, Any]:
    """Follow one job of the caller's organisation; the current state is sent at once, so a
    person who comes back late sees where the job is."""
    try:
        job = jobs.get(org_id, job_id)
    except JobNotFound:
        return {"ok": False, "error": "job not found"}
    if not broadcaster.connections.subscribe(connection_id, org_id, job_id):
        return {"ok": False, "error": "connection not found"}
    broadcaster.send(connection_id, job.progress_event("state"))
    return {"ok": True}
