"""The API's read side on in-memory fakes: jobs newest first, one job with its preview,
customers, and the executions behind a job; always within the caller's organisation."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from customer_import.customers.customer import Customer
from customer_import.errors import JobNotFound
from customer_import.jobs import JobOptions
from customer_import.queries import (
    CUSTOMER_KEY,
    JOB_INDEX_KEY,
    CustomerNotFound,
    ExecutionSummary,
    HistoryEvent,
    InvalidCursor,
    decode_cursor,
    encode_cursor,
    failed_states,
)

from tests.api_fakes import ReadWorld
from tests.unit.techman_files import customers, techman_csv

ORG = "garage-1"
OTHER = "garage-2"


def ticking_world() -> ReadWorld:
    """A world whose clock moves on a second each time it is read."""
    world = ReadWorld()
    start = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    ticks = itertools.count()
    world.pipeline.clock = lambda: start + timedelta(seconds=next(ticks))
    return world


def create_jobs(world: ReadWorld, org: str, count: int) -> list[str]:
    return [
        world.pipeline.create_upload(
            org, "main", "techman", f"f{i}.csv", JobOptions(), "a"
        ).job.job_id
        for i in range(count)
    ]


def ready_job(world: ReadWorld, org: str = ORG) -> str:
    upload = world.pipeline.create_upload(org, "main", "techman", "f.csv", JobOptions(), "a")
    world.objects.objects[upload.job.object_key] = techman_csv(customers(3))
    job_id = upload.job.job_id
    world.pipeline.register("bucket", upload.job.object_key, "seq", f"arn:exec:{job_id}")
    world.pipeline.validate(org, job_id)
    world.pipeline.prepare(org, job_id)
    world.pipeline.await_decision(org, job_id, "token")
    return job_id


def test_jobs_are_listed_newest_first_a_page_at_a_time() -> None:
    # Given five jobs of the organisation and two of another
    world = ticking_world()
    mine = create_jobs(world, ORG, 5)
    create_jobs(world, OTHER, 2)
    # When the organisation reads its jobs two at a time, following the cursors
    pages = [world.queries.jobs_newest_first(ORG, 2, None)]
    while pages[-1].next_cursor:
        pages.append(world.queries.jobs_newest_first(ORG, 2, pages[-1].next_cursor))
    # Then it sees its own five, newest first, in three pages, and the last has no cursor
    assert [[job.job_id for job in page.items] for page in pages] == [
        mine[4:2:-1],
        mine[2:0:-1],
        mine[:1],
    ]


def test_a_cursor_of_another_organisation_is_refused() -> None:
    # Given a cursor handed to another organisation
    world = ticking_world()
    create_jobs(world, OTHER, 3)
    cursor = world.queries.jobs_newest_first(OTHER, 1, None).next_cursor
    assert cursor is not None
    # When this organisation pages with it
    # Then it is refused, not followed into the other organisation's jobs
    with pytest.raises(InvalidCursor):
        world.queries.jobs_newest_first(ORG, 1, cursor)


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64!",
        encode_cursor({"org_id": ORG}),
        encode_cursor({"org_id": ORG, "job_id": "j", "created_at": "", "x": "y"}),
        "bnVsbA",  # null
        "W10",  # []
        "x" * 5000,
    ],
)
def test_a_cursor_this_api_did_not_make_is_refused(cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor, ORG, JOB_INDEX_KEY)


def test_a_cursor_round_trips_its_key() -> None:
    key = {"org_id": ORG, "job_id": "j-1", "created_at": "2026-01-05T09:00:00.000+00:00"}
    assert decode_cursor(encode_cursor(key), ORG, JOB_INDEX_KEY) == key


def test_a_cursor_of_one_listing_is_refused_by_another() -> None:
    # Given a cursor of the customers listing
    cursor = encode_cursor({"org_id": ORG, "customer_id": "c-1"})
    # When it is handed to the jobs listing
    # Then it is refused
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor, ORG, JOB_INDEX_KEY)
    assert decode_cursor(cursor, ORG, CUSTOMER_KEY) == {"org_id": ORG, "customer_id": "c-1"}


def test_a_ready_job_comes_with_its_preview() -> None:
    # Given a job prepared and waiting for its decision
    world = ticking_world()
    job_id = ready_job(world)
    # When it is read
    detail = world.queries.job(ORG, job_id)
    # Then its state, counts and preview are there
    assert detail.job.status == "ready"
    assert detail.job.counter("customers") == 3
    assert detail.preview is not None
    assert [c["external_customer_number"] for c in detail.preview["customers"]] == [
        "1000",
        "1001",
        "1002",
    ]


def test_a_job_whose_preview_expired_is_read_without_it() -> None:
    # Given a ready job whose staged preview the lifecycle rule removed
    world = ticking_world()
    job_id = ready_job(world)
    del world.objects.objects[world.pipeline.job(ORG, job_id).preview_key or ""]
    # When it is read
    # Then it is there, with no preview
    assert world.queries.job(ORG, job_id).preview is None


def test_another_organisations_job_is_not_found() -> None:
    # Given a job of another organisation
    world = ticking_world()
    job_id = ready_job(world, OTHER)
    # When this organisation reads it or its executions
    # Then it does not exist for them
    with pytest.raises(JobNotFound):
        world.queries.job(ORG, job_id)
    with pytest.raises(JobNotFound):
        world.queries.job_executions(ORG, job_id)


def test_customers_are_found_by_id_and_external_number_within_the_organisation() -> None:
    # Given a customer of each organisation with the same external number
    world = ticking_world()
    world.customers.customers[(ORG, "c-1")] = Customer(ORG, "main", "c-1", "7", version=1)
    world.customers.customers[(OTHER, "c-2")] = Customer(OTHER, "main", "c-2", "7", version=1)
    # When the organisation looks them up
    # Then it finds its own only
    assert world.queries.customer(ORG, "c-1")["customer_id"] == "c-1"
    assert [c["customer_id"] for c in world.queries.customers_by_external_number(ORG, "7")] == [
        "c-1"
    ]
    with pytest.raises(CustomerNotFound):
        world.queries.customer(ORG, "c-2")


def test_the_organisations_customers_are_listed_page_by_page() -> None:
    # Given five customers of the organisation and one of another
    world = ticking_world()
    for n in range(5):
        world.customers.customers[(ORG, f"c-{n}")] = Customer(ORG, "main", f"c-{n}", str(n))
    world.customers.customers[(OTHER, "c-9")] = Customer(OTHER, "main", "c-9", "9")
    # When they are read two at a time, following the cursors
    seen, cursor, pages = [], None, 0
    while True:
        page = world.queries.customers_page(ORG, 2, cursor)
        seen += [c["customer_id"] for c in page.items]
        pages += 1
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    # Then every customer of the organisation comes once, and none of the other's
    assert (seen, pages) == (["c-0", "c-1", "c-2", "c-3", "c-4"], 3)
    # And another organisation cannot use the cursor
    with pytest.raises(InvalidCursor):
        world.queries.customers_page(
            OTHER, 2, world.queries.customers_page(ORG, 2, None).next_cursor
        )


def event(id: int, type: str, previous: int | None = None, **details: str) -> HistoryEvent:
    return HistoryEvent(id=id, type=type, timestamp=f"t{id}", previous_event_id=previous, **details)


def test_the_audit_log_is_newest_first_by_when_each_entry_happened() -> None:
    # Given a job decided, then a later job decided, then the first one cancelled: entries
    # kept by job, whose actions sort "cancelled" before "decided"
    world = ticking_world()
    first, second = ready_job(world), ready_job(world)
    world.pipeline.submit_decision(ORG, first, "skip", {}, "alice")
    world.pipeline.submit_decision(ORG, second, "skip", {}, "bob")
    world.audit.record(
        replace(world.audit.entries(ORG)[-1], action="import.late-note", at="2026-01-05T10:00:00")
    )
    # When the log is read
    entries = world.queries.audit_entries(ORG, 50, None).items
    # Then the latest entry comes first and every one is older than the one above it
    assert entries[0].action == "import.late-note" and entries[0].job_id == first
    assert [e.at for e in entries] == sorted((e.at for e in entries), reverse=True)
    assert [(e.job_id, e.action) for e in entries[1:]] == [
        (second, "import.decided"),
        (first, "import.decided"),
    ]


def test_the_audit_log_is_read_a_page_at_a_time_and_only_by_its_organisation() -> None:
    # Given three decided jobs (an entry each) and an entry of another organisation
    world = ticking_world()
    for user in ("alice", "bob", "carol"):
        world.pipeline.submit_decision(ORG, ready_job(world), "skip", {}, user)
    world.audit.record(replace(world.audit.entries(ORG)[0], org_id=OTHER))
    everything = world.queries.audit_entries(ORG, 100, None).items
    # When the organisation reads its log two entries at a time, following the cursor
    first = world.queries.audit_entries(ORG, 2, None)
    second = world.queries.audit_entries(ORG, 2, first.next_cursor)
    # Then the two pages hold its three entries once each, newest first, and the last has no
    # cursor
    assert first.items + second.items == everything
    assert ([e.actor for e in everything], second.next_cursor) == (["carol", "bob", "alice"], None)
    # And its cursor means nothing to another organisation
    with pytest.raises(InvalidCursor):
        world.queries.audit_entries(OTHER, 2, first.next_cursor)


def test_a_failure_is_reported_with_the_state_it_happened_in() -> None:
    # Given a history where Prepare's Lambda failed, was caught, and CloseJob ran
    history = [
        event(1, "ExecutionStarted"),
        event(2, "TaskStateEntered", 1, state="Prepare"),
        event(3, "LambdaFunctionScheduled", 2),
        event(4, "LambdaFunctionFailed", 3, error="UnreadableFile", cause="binary"),
        event(5, "TaskStateExited", 4, state="Prepare"),
        event(6, "TaskStateEntered", 5, state="CloseJob"),
        event(7, "ExecutionFailed", 6, error="States.TaskFailed"),
    ]
    # When the failed states are found
    found = failed_states(history)
    # Then Prepare failed with its error, and so did the execution itself
    assert [(f.state, f.event, f.error) for f in found] == [
        ("Prepare", "LambdaFunctionFailed", "UnreadableFile"),
        (None, "ExecutionFailed", "States.TaskFailed"),
    ]


def test_a_jobs_executions_show_the_import_and_its_retries_with_what_matters() -> None:
    # Given a job with an execution and one retry execution
    world = ticking_world()
    job_id = ready_job(world)
    job = world.pipeline.job(ORG, job_id)
    world.jobs.update(ORG, job_id, counters={**job.counters, "retries": 1})
    main = ExecutionSummary(f"arn:exec:{job_id}", "evt-1", "SUCCEEDED", "t0")
    retry_name = f"{ORG}_{job_id}-retry-1"
    retry = ExecutionSummary(f"arn:exec:{retry_name}", retry_name, "RUNNING", "t9")
    world.executions.add(
        main,
        [
            event(1, "ExecutionStarted"),
            event(2, "TaskStateEntered", 1, state="RegisterJob"),
            event(3, "LambdaFunctionScheduled", 2),
            event(4, "LambdaFunctionSucceeded", 3),
            event(5, "TaskStateExited", 4, state="RegisterJob"),
            event(6, "ExecutionSucceeded", 5),
        ],
    )
    world.executions.add(retry, [event(1, "ExecutionStarted")])
    # When ops read the job's executions
    found = world.queries.job_executions(ORG, job_id)
    # Then the import's execution comes first, then the retry, and only events that matter
    assert [d.summary.name for d in found.executions] == ["evt-1", retry_name]
    assert [e.type for e in found.executions[0].events] == [
        "ExecutionStarted",
        "TaskStateEntered",
        "ExecutionSucceeded",
    ]
    assert found.executions[0].failed_states == []


def test_the_ops_list_pairs_each_job_with_its_execution() -> None:
    # Given a job that ran and one never uploaded
    world = ticking_world()
    ran = ready_job(world)
    [never] = create_jobs(world, ORG, 1)
    world.executions.add(ExecutionSummary(f"arn:exec:{ran}", "evt-1", "RUNNING", "t0"), [])
    # When ops list the executions
    page = world.queries.executions_newest_first(ORG, 10, None)
    # Then the newest job has none yet, the other its running execution
    assert [(i.job.job_id, i.execution.status if i.execution else None) for i in page.items] == [
        (never, None),
        (ran, "RUNNING"),
    ]


def test_an_execution_not_yet_registered_is_found_by_the_jobs_name() -> None:
    # Given a job whose execution has started (named after its organisation and the job) but
    # not yet registered it
    world = ticking_world()
    [started] = create_jobs(world, ORG, 1)
    name = f"{ORG}_{started}"
    world.executions.add(ExecutionSummary(f"arn:exec:{name}", name, "RUNNING", "t0"), [])
    # When ops list the executions and read the job's
    page = world.queries.executions_newest_first(ORG, 10, None)
    found = world.queries.job_executions(ORG, started)
    # Then both find the execution by the job's name
    [item] = page.items
    assert item.execution is not None and item.execution.name == name
    assert [d.summary.name for d in found.executions] == [name]
