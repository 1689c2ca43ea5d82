"""Rolling an import back (issue #18, design §5.7): every change undone from the change log,
newest first, exactly (what the import added goes), never over a change made since; a batch
run again writes nothing twice. On the in-memory repositories, then through the pipeline's
steps."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from customer_import.changes.log import Action, ChangeEntry
from customer_import.changes.plan import Rules
from customer_import.changes.rollback import revert, rollback_job_id
from customer_import.changes.rules import Mode, Transfer
from customer_import.customers.edit import edit
from customer_import.customers.repository import Bin, Update
from customer_import.imports.rollback import newest_first, render_conflicts
from customer_import.jobs import DuplicatePolicy, JobOptions, JobStatus

from tests.fakes import World as PipelineWorld
from tests.unit.techman_files import customers, row, techman_csv
from tests.unit.test_pipeline import ORG as PIPELINE_ORG
from tests.unit.test_pipeline import import_all, uploaded
from tests.unit.test_transfer import AT, MOVE, ORG, World, smith_with_activities

UPDATE = Rules(Mode.UPDATE)


def logged(world: World, job: str) -> list[ChangeEntry]:
    return list(newest_first(world.log, ORG, job, ["00001"]))


def rolled_back(world: World, job: str, **options: Any) -> Any:
    return revert(world.customers, world.activities, ORG, job, logged(world, job), AT, **options)


def test_a_rollback_removes_what_the_import_created_and_puts_back_what_it_updated() -> None:
    # Given smith's customers 1 and 2, then an update of 2 (new email, a second vehicle) and 3
    world = smith_with_activities(["1", "2"])
    world.activities.items.clear()
    before = world.customers.get(ORG, world.account("smith")["2"])
    assert before is not None
    world.import_(
        "smith",
        ["2", "3"],
        UPDATE,
        "job-2",
        email="new@example.com",
        vehicles=[{"registration": "AB2CDE"}, {"registration": "ZZ99ZZZ"}],
    )
    grown = world.customers.get(ORG, before.customer_id)
    assert grown is not None and len(grown.vehicles) == 2

    # When the update is rolled back
    done = rolled_back(world, "job-2")

    # Then 3 is gone, and 2 is as it was before, the added vehicle gone
    assert dict(done.counts) == {"created": 1, "updated": 1} and not done.conflicts
    assert set(world.account("smith")) == {"1", "2"}
    back = world.customers.get(ORG, before.customer_id)
    assert back is not None
    assert back.fields == before.fields and back.vehicles == before.vehicles
    assert back.version == grown.version + 1 and back.updated_by_job == rollback_job_id("job-2")


def test_a_customer_changed_since_the_import_is_left_as_it_is_and_reported() -> None:
    # Given an update of customers 1 and 2, then a person's edit of 2
    world = smith_with_activities(["1", "2"])
    world.activities.items.clear()
    world.import_("smith", ["1", "2"], UPDATE, "job-2", email="new@example.com")
    edited = world.customers.get(ORG, world.account("smith")["2"])
    assert edited is not None
    person = edited.with_changes(fields={**edited.fields, "name": "=HYPERLINK(evil)"})
    assert world.customers.save([Update(person, edited.version, "person", AT, edited)]) == []

    # When the update is rolled back
    done = rolled_back(world, "job-2")

    # Then 1 is back, 2 keeps the person's edit and the import's email, and is reported
    assert dict(done.counts) == {"updated": 1}
    [conflict] = done.conflicts
    assert conflict.entry.customer_id == edited.customer_id
    assert "version 2 -> 3" in conflict.since and "put back" in conflict.would
    now = world.customers.get(ORG, edited.customer_id)
    assert now is not None and now.value("name") == "=HYPERLINK(evil)"
    # And the conflict CSV is safe to open in a spreadsheet
    csv = render_conflicts([conflict.to_dict() | {"since": "=cmd"}])
    assert "'=cmd" in csv and "=cmd" not in csv.replace("'=cmd", "")


def test_a_move_rolled_back_goes_back_to_its_account_with_its_activities() -> None:
    # Given jones's move of smith's 1 and 2 with their activities, 2 out of smith's bin
    world = smith_with_activities(["1", "2", "3"])
    ids = world.account("smith")
    binned = world.customers.get(ORG, ids["2"])
    assert binned is not None
    world.customers.save([Bin(ORG, binned.customer_id, binned.version, "sync", AT, "2026-12-16")])
    world.import_("jones", ["1", "2"], MOVE, "job-jones")
    assert set(world.account("jones")) == {"1", "2"}

    # When jones's import is rolled back
    done = rolled_back(world, "job-jones")

    # Then 1 is smith's again with its activities, 2 back in smith's recycle bin
    assert dict(done.counts) == {"moved": 2} and not done.conflicts
    assert world.account("jones") == {}
    assert world.account("smith") == {"1": ids["1"], "3": ids["3"]}
    assert world.activity_accounts(ids["1"]) == ["smith", "smith"]
    back = world.customers.get(ORG, ids["2"])
    assert back is not None and back.binned and back.account_id == "smith"
    assert back.purge_after == "2026-12-16"


def test_a_copy_rolled_back_is_removed_with_its_copied_activities_and_the_source_stays() -> None:
    # Given brown's copy of smith's 1 with its activities, a day after they were recorded
    world = smith_with_activities(["1"])
    source = world.account("smith")["1"]
    world.at = "2026-12-03T03:00:00.000+00:00"
    copy_rules = Rules(Mode.UPDATE, transfer=Transfer.COPY, transfer_related=True)
    world.import_("brown", ["1"], copy_rules, "job-brown")
    copy = world.account("brown")["1"]

    # When brown's import is rolled back
    done = rolled_back(world, "job-brown")

    # Then the copy and its activities are gone, and smith's is as it was
    assert dict(done.counts) == {"copied": 1}
    assert world.account("brown") == {} and world.activity_accounts(copy) == []
    assert world.account("smith") == {"1": source}
    assert world.activity_accounts(source) == ["smith", "smith"]


def test_a_created_customer_with_activities_recorded_since_is_kept_and_reported() -> None:
    # Given smith's import of 1 and 2, and two activities recorded on 1 since
    world = World()
    world.import_("smith", ["1", "2"], UPDATE, "job-smith")
    world.add_activities("smith", "1", 2)

    # When it is rolled back
    done = rolled_back(world, "job-smith")

    # Then 2 is gone; 1 stays, reported with why
    assert dict(done.counts) == {"created": 1}
    assert set(world.account("smith")) == {"1"}
    [conflict] = done.conflicts
    assert conflict.entry.external_customer_number == "1"
    assert conflict.since == "2 activities were recorded on it since"


def test_a_dry_run_writes_nothing_and_a_batch_run_again_writes_nothing_twice() -> None:
    # Given an update of customers 1 and 2
    world = smith_with_activities(["1", "2"])
    world.activities.items.clear()
    world.import_("smith", ["1", "2", "3"], UPDATE, "job-2", email="new@example.com")
    writes = world.customers.writes

    # When it is rolled back dry, then for real, then its batch again
    dry = rolled_back(world, "job-2", dry_run=True)
    assert world.customers.writes == writes
    intent: list[str] = []
    first = rolled_back(world, "job-2", before_writing=intent.extend)
    after_first = world.customers.writes
    again = rolled_back(world, "job-2", undone_before=intent)

    # Then the dry run said what the rollback did, and the second run wrote nothing
    assert dict(dry.counts) == dict(first.counts) == dict(again.counts)
    assert dict(first.counts) == {"created": 1, "updated": 2}
    assert world.customers.writes == after_first and not again.conflicts


def test_the_pipeline_rolls_a_merge_back_with_its_conflict_and_ends_saying_so() -> None:
    # Given 3 stored customers, then a file merging into 2 of them (and creating 2)
    world = PipelineWorld()
    first = uploaded(world, techman_csv(customers(3)), JobOptions(auto_run=True))
    world.pipeline.validate(PIPELINE_ORG, first)
    world.pipeline.prepare(PIPELINE_ORG, first)
    import_all(world, first)
    rows = [
        row(
            "1000", "Customer0 Person", Email="customer0@example.com", PhoneLandline="0113 496 0000"
        ),
        row(
            "1001", "Customer1 Person", Email="customer1@example.com", PhoneLandline="0113 496 0001"
        ),
        row("3000", "New One", Email="new1@example.com"),
        row("3001", "New Two", Email="new2@example.com"),
    ]
    options = JobOptions(auto_run=True, on_duplicate=DuplicatePolicy.MERGE)
    job_id = uploaded(world, techman_csv(rows), options)
    world.pipeline.validate(PIPELINE_ORG, job_id)
    world.pipeline.prepare(PIPELINE_ORG, job_id)
    import_all(world, job_id)
    job = world.pipeline.job(PIPELINE_ORG, job_id)
    assert (job.counter("created"), job.counter("merged")) == (2, 2), job.counters
    # And what it did, read back page by page: 2 merges (each field before and after), 2 created
    first_page = world.pipeline.changes(PIPELINE_ORG, job_id, limit=3)
    assert first_page.next_cursor is not None
    rest = world.pipeline.changes(PIPELINE_ORG, job_id, limit=3, cursor=first_page.next_cursor)
    assert rest.next_cursor is None
    changes = first_page.items + rest.items
    assert sorted((c["external_customer_number"], c["action"]) for c in changes) == [
        ("1000", "merged"),
        ("1001", "merged"),
        ("3000", "created"),
        ("3001", "created"),
    ]
    [landline] = [
        f
        for c in changes
        if c["external_customer_number"] == "1001"
        for f in c["fields"]
        if f["field"] == "landline"
    ]
    assert (landline["before"], landline["after"]) == (None, "+441134960001")
    merges = world.pipeline.changes(PIPELINE_ORG, job_id, limit=10, action=Action.MERGED)
    assert [c["action"] for c in merges.items] == ["merged", "merged"]
    # And one merged customer edited by a person since
    [edited] = [
        c for c in world.customers.customers.values() if c.external_customer_number == "1001"
    ]
    edit(world.customers, world.audit, PIPELINE_ORG, edited.customer_id, {"name": "Edited"},
         edited.version, "bob", datetime(2026, 12, 3, tzinfo=UTC))  # fmt: skip

    # When the import is dry run, then rolled back through its steps
    dry = world.pipeline.rollback_dry_run(PIPELINE_ORG, job_id)
    job = world.pipeline.rollback(PIPELINE_ORG, job_id, "alice")
    assert job.status is JobStatus.ROLLING_BACK
    assert list(world.workflow.rollbacks) == [f"{job_id}-rollback"]
    staged = world.pipeline.stage_rollback(PIPELINE_ORG, job_id)
    for batch in world.objects.get_json(staged["manifest_key"]):
        world.pipeline.revert_batch(PIPELINE_ORG, job_id, batch)
        world.pipeline.revert_batch(PIPELINE_ORG, job_id, batch)  # run again: nothing twice
    result = world.pipeline.finalize_rollback(PIPELINE_ORG, job_id)

    # Then the dry run foretold it: 2 created removed, 1 merge undone, 1 conflict
    assert dry["reverted"] | {"conflicts": dry["conflicts"]} == {
        "created": 2,
        "updated": 0,
        "merged": 1,
        "deleted": 0,
        "restored": 0,
        "copied": 0,
        "moved": 0,
        "conflicts": 1,
    }
    assert result["status"] == "rolled_back_with_conflicts"
    assert result["counts"] == {
        "reverted_created": 2,
        "reverted_updated": 0,
        "reverted_merged": 1,
        "reverted_deleted": 0,
        "reverted_restored": 0,
        "reverted_copied": 0,
        "reverted_moved": 0,
        "conflicts": 1,
    }
    numbers = sorted(c.external_customer_number or "" for c in world.customers.customers.values())
    assert numbers == ["1000", "1001", "1002"]
    job = world.pipeline.job(PIPELINE_ORG, job_id)
    assert job.conflict_log_key is not None
    assert "1001" in world.objects.objects[job.conflict_log_key].decode()
    actions = [e.action for e in world.audit.entries(PIPELINE_ORG)]
    assert {"import.rolled_back", "import.rollback-requested"} <= set(actions)
