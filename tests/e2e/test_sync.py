"""Recurring syncs on the embedded stack (issue #16, design §5.4): update and sync modes through
the real ImportJob state machine and handlers, the change log, the recycle bin's sweep and its
threshold, and concurrent imports of one file."""

from __future__ import annotations

import json
import threading

from customer_import.adapters.customers_dynamo import DynamoCustomerRepository
from customer_import.changes.rules import Mode
from customer_import.changes.store import ObjectChangeLog
from customer_import.errors import InvalidDecision
from customer_import.jobs import JobOptions

from tests.unit.techman_files import customers, techman_csv

FINAL = {"completed", "completed_with_errors", "failed", "rejected", "cancelled", "expired"}


def _repository() -> DynamoCustomerRepository:
    return DynamoCustomerRepository("eu-west-2")


def _live(org: str, account: str) -> dict[str, str | None]:
    """The account's live customers: external number -> email."""
    repository = _repository()
    keys = list(repository.live_keys(org, account))
    found = repository.get_many(org, [k.customer_id for k in keys])
    return {c.external_customer_number or "": c.value("email") for c in found.values()}


def _synced(driver, org, rows, mode: Mode = Mode.SYNC, **options):  # type: ignore[no-untyped-def]
    return driver.run(
        org,
        techman_csv(rows),
        decision=None,
        options=JobOptions(auto_run=True, mode=mode, **options),
        account="north",
    )


def test_an_update_writes_only_what_changed_and_logs_it(driver, org) -> None:
    # Given ten customers imported into account north
    first = customers(10)
    assert _synced(driver, org, first, Mode.INSERT).counter("created") == 10
    # When the ERP sends them again with two new emails and one new customer
    again = [dict(r) for r in first] + customers(1, start=5000)
    again[2]["Email"] = "changed2@example.com"
    again[7]["Email"] = "changed7@example.com"
    job = _synced(driver, org, again, Mode.UPDATE)
    # Then two are updated, one created, eight left unwritten
    counts = {n: job.counter(n) for n in ("created", "updated", "unchanged", "imported", "failed")}
    assert job.status == "completed"
    assert counts == {"created": 1, "updated": 2, "unchanged": 8, "imported": 3, "failed": 0}
    assert job.counter("processed") == job.counter("customers") == 11
    stored = _live(org, "north")
    assert (stored["1002"], stored["1007"], len(stored)) == (
        "changed2@example.com",
        "changed7@example.com",
        11,
    )
    # And the change log holds each change with what it replaced
    log = ObjectChangeLog(driver.components.pipeline.objects)
    entries = [e for b in log.batches(org, job.job_id) for e in log.read(org, job.job_id, b) or []]
    updated = {e.external_customer_number: e for e in entries if e.action == "updated"}
    assert updated["1002"].before == {"email": "customer2@example.com"}
    assert updated["1002"].after == {"email": "changed2@example.com"}
    assert {e.action for e in entries} == {"updated", "created"}


def test_a_sync_bins_what_the_file_no_longer_holds_and_a_later_one_restores_it(driver, org) -> None:
    # Given ten customers of account north, synced
    first = customers(10)
    assert _synced(driver, org, first).counter("created") == 10
    # When the next sync leaves two of them out (20 %: at the threshold, not over it)
    job = _synced(driver, org, first[2:])
    # Then they are binned, the rest unchanged, and nothing else is written
    assert job.status == "completed"
    assert (job.counter("deleted"), job.counter("unchanged"), job.counter("imported")) == (2, 8, 0)
    assert sorted(_live(org, "north")) == [str(n) for n in range(1002, 1010)]
    binned, _ = _repository().binned_page(org, "north", 10, None)
    assert sorted(c.external_customer_number or "" for c in binned) == ["1000", "1001"]
    assert all(c.purge_after for c in binned)
    # And a later sync that holds one of them again restores it
    job = _synced(driver, org, first[1:])
    assert (job.counter("restored"), job.counter("deleted"), job.counter("unchanged")) == (1, 0, 8)
    assert "1001" in _live(org, "north")


def test_a_sync_over_its_threshold_waits_for_a_confirmation(driver, org) -> None:
    # Given ten customers of account north, and a sync file that leaves three out (30 %)
    first = customers(10)
    _synced(driver, org, first)
    job = driver.upload(
        org,
        techman_csv(first[3:]),
        JobOptions(auto_run=True, mode=Mode.SYNC),
        account="north",
    )
    # When it is prepared, it waits at ready, saying why, having written nothing
    job = driver.wait_for(org, job.job_id, {"ready"} | FINAL)
    assert job.status == "ready"
    assert "would bin 3 of the 10 customers of account north (30 %)" in (job.reason or "")
    assert len(_live(org, "north")) == 10
    # And its preview names the three it would bin
    preview = driver.components.pipeline.objects.get_json(job.preview_key or "")
    binned = preview["sweep"]["customers"]
    assert [(c["external_customer_number"], c["name"]) for c in binned] == [
        (c["CustomerNumber"], c["CustomerName"]) for c in first[:3]
    ]
    ids = {k.external_customer_number: k.customer_id for k in _repository().live_keys(org, "north")}
    assert [c["customer_id"] for c in binned] == [ids["1000"], ids["1001"], ids["1002"]]
    # And a decision that does not confirm the deletions is refused
    pipeline = driver.components.pipeline
    try:
        pipeline.submit_decision(org, job.job_id, None, None, "tester")
        raise AssertionError("a decision without the confirmation was accepted")
    except InvalidDecision as refused:
        assert "confirm_deletions" in str(refused)
    # And one that confirms them bins them
    pipeline.submit_decision(org, job.job_id, None, None, "tester", confirm_deletions=True)
    job = driver.wait_for(org, job.job_id, FINAL)
    assert (job.status, job.counter("deleted"), job.reason) == ("completed", 3, None)
    assert len(_live(org, "north")) == 7


def test_a_sync_whose_batches_failed_bins_nothing(driver, org, unavailable_batch) -> None:
    # Given 250 customers of account north, and a sync of 200 of them whose second batch
    # fails every time it is written
    first = customers(250)
    assert _synced(driver, org, first).counter("created") == 250
    changed = [dict(r, Email=f"new{i}@example.com") for i, r in enumerate(first[:200])]
    unavailable_batch.start()
    # When it runs
    job = _synced(driver, org, changed)
    unavailable_batch.end()
    # Then its failed rows are reported, and none of the 50 it left out is binned
    assert job.status == "completed_with_errors"
    assert (job.counter("failed"), job.counter("deleted")) == (100, 0)
    assert len(_live(org, "north")) == 250


def test_two_concurrent_imports_of_one_file_store_each_customer_once(driver, org) -> None:
    # Given one 200-customer file
    content = techman_csv(customers(200))
    jobs = []

    def run() -> None:
        jobs.append(
            driver.run(
                org,
                content,
                decision=None,
                options=JobOptions(auto_run=True, mode=Mode.UPDATE),
                account="north",
            )
        )

    # When two imports of it into one account run at the same time
    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then each customer is stored once, and each import counts every customer once
    assert len(_live(org, "north")) == 200
    for job in jobs:
        assert job.status == "completed"
        assert job.counter("processed") == 200
        assert job.counter("created") + job.counter("updated") + job.counter("unchanged") == 200
    assert sum(job.counter("created") for job in jobs) == 200


def test_the_cli_runs_a_sync_that_waits_for_its_deletions_and_confirms_them(
    stack, org, tmp_path
) -> None:
    # Given ten customers synced into account north, and a file that leaves three out
    from tests.e2e.test_cli import cli, running

    state_file = running(stack, tmp_path)
    first, nightly = tmp_path / "first.csv", tmp_path / "nightly.csv"
    first.write_bytes(techman_csv(customers(10)))
    nightly.write_bytes(techman_csv(customers(10)[3:]))
    sync = ["--org", org, "--account", "north", "--mode", "sync"]
    assert cli(["run", str(first), *sync], state_file, tmp_path).returncode == 0
    # When the sync is previewed, it names the three it would bin
    previewed = cli(["preview", str(nightly), *sync], state_file, tmp_path)
    assert previewed.returncode == 0, previewed.stderr
    assert (
        "to bin: 1000 Customer0 Person, 1001 Customer1 Person, 1002 Customer2 Person\n"
        in previewed.stdout
    ), previewed.stdout
    # When the sync runs, it stops before binning, says why and how to go on, and exits 3
    waiting = cli(["run", str(nightly), *sync, "--json"], state_file, tmp_path)
    assert waiting.returncode == 3, waiting.stderr
    job = json.loads(waiting.stdout)
    assert job["status"] == "ready"
    assert "would bin 3 of the 10 customers of account north" in job["reason"]
    # And a decision without the confirmation is refused, naming it
    refused = cli(["decide", job["job_id"], "--org", org], state_file, tmp_path)
    assert refused.returncode == 1 and "confirm_deletions" in refused.stderr
    # And one with it bins the three, which the recycle bin then lists
    decided = cli(
        ["decide", job["job_id"], "--org", org, "--confirm-deletions", "--json"],
        state_file,
        tmp_path,
    )
    assert decided.returncode == 0, decided.stderr
    assert json.loads(decided.stdout)["deleted"] == 3
    listed = cli(
        ["bin", "list", "--org", org, "--account", "north", "--json"], state_file, tmp_path
    )
    assert sorted(c["external_customer_number"] for c in json.loads(listed.stdout)) == [
        "1000",
        "1001",
        "1002",
    ]


def test_the_cli_cancels_a_job_waiting_for_its_decision(stack, org, tmp_path) -> None:
    # Given a job left waiting for its decision
    from tests.e2e.test_cli import cli, running

    state_file = running(stack, tmp_path)
    path = tmp_path / "held.csv"
    path.write_bytes(techman_csv(customers(3)))
    held = cli(["run", str(path), "--org", org, "--hold", "--json"], state_file, tmp_path)
    job_id = json.loads(held.stdout)["job_id"]
    # When it is cancelled
    cancelled = cli(["cancel", job_id, "--org", org], state_file, tmp_path)
    # Then it says so, and the job ends cancelled with nothing written
    assert cancelled.returncode == 0, cancelled.stderr
    assert "cancelled; nothing of it was written" in cancelled.stderr
    assert _repository().has_any(org) is False


def test_the_same_update_run_twice_writes_no_customer_item_the_second_time(driver, org) -> None:
    # Given twenty customers of account north, and an update that changes five emails
    from customer_import_local.stack import table_name
    from customer_import_local.write_count import count_writes

    rows = customers(20)
    _synced(driver, org, rows, Mode.INSERT)
    changed = [
        dict(r, Email=f"new{i}@example.com") if i < 5 else dict(r) for i, r in enumerate(rows)
    ]
    assert _synced(driver, org, changed, Mode.UPDATE).counter("updated") == 5
    # When the same update runs again
    tables = [table_name(t) for t in ("customers", "customer_identities", "customer_addresses")]
    tables += [table_name(t) for t in ("vehicles", "customer_match_keys")]
    with count_writes() as writes:
        job = _synced(driver, org, changed, Mode.UPDATE)
    # Then every customer is unchanged, and no customer item (nor record of one) is written
    assert (job.counter("unchanged"), job.counter("imported")) == (20, 0)
    assert writes.total(*tables) == 0
