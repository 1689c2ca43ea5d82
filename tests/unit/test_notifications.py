"""`Import Finished` (design §5.6): every way a job ends announces it once, after the ending is
stored; nothing else does. Through the pipeline's steps on fakes."""

from __future__ import annotations

from typing import Any

from customer_import.jobs import JobOptions
from customer_import.notifications import IMPORT_FINISHED, AnnouncingJobStore

from tests.fakes import World
from tests.unit.techman_files import customers, techman_csv
from tests.unit.test_pipeline import ORG, import_all, run_to_ready, uploaded


class RecordingBus:
    def __init__(self, world: World) -> None:
        self.world = world
        self.events: list[tuple[str, dict[str, Any]]] = []

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        # What a consumer reading the job on receiving the event would find
        stored = self.world.jobs.get(detail["org_id"], detail["job_id"])
        assert str(stored.status) == detail["status"]
        self.events.append((detail_type, detail))


def announcing(world: World) -> RecordingBus:
    bus = RecordingBus(world)
    world.pipeline.jobs = AnnouncingJobStore(world.jobs, bus)
    return bus


def test_an_import_announces_its_end_once_and_nothing_before() -> None:
    # Given a pipeline whose job store announces endings
    world = World()
    bus = announcing(world)

    # When a file is imported through every step, Finalize run twice
    job_id = uploaded(world, techman_csv(customers(3)), JobOptions(auto_run=True))
    world.pipeline.validate(ORG, job_id)
    world.pipeline.prepare(ORG, job_id)
    import_all(world, job_id)
    world.pipeline.finalize(ORG, job_id)

    # Then one event said it completed, with its counts, after it was stored so
    [(detail_type, detail)] = bus.events
    assert detail_type == IMPORT_FINISHED
    assert (detail["job_id"], detail["status"], detail["counts"]["imported"]) == (
        job_id,
        "completed",
        3,
    )


def test_a_cancel_and_a_rejection_announce_theirs() -> None:
    # Given a job waiting for its decision, and a file that is no Techman export
    world = World()
    bus = announcing(world)
    waiting = run_to_ready(world, techman_csv(customers(2)))
    refused = uploaded(world, b"Name,Colour\nAnn,blue\n")

    # When the first is cancelled and the second validated
    world.pipeline.cancel(ORG, waiting, "alice")
    world.pipeline.validate(ORG, refused)

    # Then each ending was announced
    assert [(d["job_id"], d["status"]) for _, d in bus.events] == [
        (waiting, "cancelled"),
        (refused, "rejected"),
    ]
