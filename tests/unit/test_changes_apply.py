"""Carrying out a batch's changes (issue #16): counts, the change log, a batch run twice,
and concurrent imports that never double a customer; on the in-memory repository."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from customer_import.changes.apply import BatchContext, apply_batch
from customer_import.changes.log import Action
from customer_import.changes.matching import FileCustomer, match
from customer_import.changes.plan import Rules
from customer_import.changes.rules import Mode
from customer_import.changes.store import ObjectChangeLog
from customer_import.customers.customer import new_customer_id
from customer_import.customers.repository import Create, CustomerWrite, Refused, Update

from tests.fake_customers import FakeCustomerRepository
from tests.fakes import FakeObjectStore

ORG, ACCOUNT = "org-1", "north"
UPDATE, INSERT = Rules(Mode.UPDATE), Rules(Mode.INSERT)


def staged(number: str, email: str | None = None) -> dict[str, Any]:
    return {
        "customer_id": new_customer_id(),
        "external_customer_number": number,
        "name": f"Customer {number}",
        "email": email or f"c{number}@example.com",
        "addresses": [{"type": "billing", "line1": "1 High St", "postcode": "AB1 2CD"}],
        "vehicles": [{"registration": f"AB{number}CDE", "row": int(number)}],
        "rows": [int(number)],
    }


def file_customers(numbers: Sequence[str], changed: Sequence[str] = ()) -> list[FileCustomer]:
    return [
        FileCustomer.from_staged(
            ORG, ACCOUNT, staged(n, f"new{n}@example.com" if n in changed else None)
        )
        for n in numbers
    ]


def context(job: str, batch: str = "00001") -> BatchContext:
    return BatchContext(ORG, ACCOUNT, job, batch, "2026-12-02T03:00:00.000+00:00")


def applied_to(
    repository: FakeCustomerRepository,
    log: ObjectChangeLog,
    batch: BatchContext,
    rules: Rules,
    pairs: Sequence[tuple[FileCustomer, Any]],
) -> Any:
    """The batch applied as ImportBatch applies it: with its change log as read first."""
    logged = log.read(batch.org_id, batch.job_id, batch.batch_id) or []
    return apply_batch(repository, log, batch, rules, pairs, logged)


def run(
    repository: FakeCustomerRepository,
    log: ObjectChangeLog,
    job: str,
    chunk: list[FileCustomer],
    rules: Rules = UPDATE,
) -> Any:
    pairs = list(zip(chunk, match(repository, ORG, ACCOUNT, chunk, rules.key), strict=True))
    return applied_to(repository, log, context(job), rules, pairs)


def numbers(first: int, count: int) -> list[str]:
    return [str(n) for n in range(first, first + count)]


def test_an_update_creates_the_new_updates_the_changed_and_writes_nothing_else() -> None:
    # Given 95 customers imported into account north
    repository, log = FakeCustomerRepository(), ObjectChangeLog(FakeObjectStore())
    run(repository, log, "job-1", file_customers(numbers(100, 95)))
    writes_before = repository.writes
    # When an update of 100 holds them, 10 with changed emails, and 5 new customers
    chunk = file_customers(numbers(100, 95) + numbers(200, 5), changed=numbers(100, 10))
    applied = run(repository, log, "job-2", chunk)
    # Then 5 are created, 10 updated, 85 unchanged, and only those 15 were written
    assert {k: applied.counts[k] for k in ("created", "updated", "unchanged")} == {
        "created": 5,
        "updated": 10,
        "unchanged": 85,
    }
    assert repository.writes - writes_before == 15
    # And the changed emails read back, on the same customers, one version on
    found = repository.find_by_external(ORG, ACCOUNT, ["100"])["100"]
    assert (found.value("email"), found.version) == ("new100@example.com", 2)
    # And the change log holds each change with the email's before-image
    entries = {e.external_customer_number: e for e in log.read(ORG, "job-2", "00001") or []}
    assert len(entries) == 15
    assert entries["100"].action is Action.UPDATED
    assert entries["100"].before == {"email": "c100@example.com"}
    assert (entries["100"].version_before, entries["100"].version_after) == (1, 2)
    assert entries["200"].action is Action.CREATED


def test_a_batch_run_twice_writes_once_and_counts_the_same() -> None:
    # Given an update batch that ran once
    repository, log = FakeCustomerRepository(), ObjectChangeLog(FakeObjectStore())
    run(repository, log, "job-1", file_customers(numbers(100, 20)))
    chunk = file_customers(numbers(100, 20) + numbers(200, 3), changed=numbers(100, 4))
    first = run(repository, log, "job-2", chunk)
    writes = repository.writes
    # When the same batch (the same staged customers) runs again
    again = run(repository, log, "job-2", chunk)
    # Then it writes nothing and counts what the first run did
    assert repository.writes == writes
    assert again.counts == first.counts
    assert len(repository.customers) == 23


class RacingRepository(FakeCustomerRepository):
    """Another import writes just before this one's first save: the world changes between
    the batch's reads and its writes."""

    def __init__(self) -> None:
        super().__init__()
        self.before_first_save: list[CustomerWrite] = []

    def save(self, writes: Sequence[CustomerWrite]) -> list[Refused]:
        interfering, self.before_first_save = self.before_first_save, []
        super().save(interfering)
        return super().save(writes)


def test_two_concurrent_imports_of_one_file_store_each_customer_once() -> None:
    # Given a file of 50 new customers, planned by one import while another import of the
    # same file creates them all first (under ids of its own)
    repository, log = RacingRepository(), ObjectChangeLog(FakeObjectStore())
    chunk = file_customers(numbers(100, 50))
    pairs = list(zip(chunk, match(repository, ORG, ACCOUNT, chunk, UPDATE.key), strict=True))
    other = file_customers(numbers(100, 50))
    repository.before_first_save = [Create(c.customer, "job-other", "t") for c in other]
    # When the first import writes its batch
    applied = applied_to(repository, log, context("job-1"), UPDATE, pairs)
    # Then every customer is stored once, as the other import created it: nothing to change
    assert len(repository.customers) == 50
    assert applied.counts["unchanged"] == 50
    assert applied.counts["created"] == 0 and not applied.failures


def test_in_insert_mode_the_customer_a_concurrent_import_created_is_a_skipped_duplicate() -> None:
    # Given an insert whose creates race another import's creates of the same numbers
    repository, log = RacingRepository(), ObjectChangeLog(FakeObjectStore())
    chunk = file_customers(numbers(100, 10))
    repository.before_first_save = [
        Create(c.customer, "job-other", "t") for c in file_customers(numbers(100, 10))
    ]
    # When it writes
    applied = applied_to(repository, log, context("job-1"), INSERT, [(c, None) for c in chunk])
    # Then none is doubled: each is a duplicate skipped
    assert len(repository.customers) == 10
    assert applied.counts["skipped_duplicates"] == 10


def test_a_customer_changed_meanwhile_is_read_and_planned_again_never_overwritten() -> None:
    # Given a stored customer, read by an update, then changed by a person (its phone)
    repository, log = RacingRepository(), ObjectChangeLog(FakeObjectStore())
    run(repository, log, "job-1", file_customers(["100"]))
    chunk = file_customers(["100"], changed=["100"])
    pairs = list(zip(chunk, match(repository, ORG, ACCOUNT, chunk, UPDATE.key), strict=True))
    stored = repository.get_many(ORG, [c.customer_id for _, c in pairs if c])
    [person_edit] = [
        Update(
            c.with_changes(fields={**c.fields, "phone": "+447700900123"}),
            c.version,
            "person",
            "t",
        )
        for c in stored.values()
    ]
    repository.before_first_save = [person_edit]
    # When the update writes
    applied = applied_to(repository, log, context("job-2"), UPDATE, pairs)
    # Then the email is updated on top of the person's change, which stays
    [customer] = repository.customers.values()
    assert (customer.value("email"), customer.value("phone")) == (
        "new100@example.com",
        "+447700900123",
    )
    assert customer.version == 3 and applied.counts["updated"] == 1


def test_a_refused_write_fails_its_row_with_the_reason_and_the_rest_is_written() -> None:
    # Given a batch where the database refuses one customer
    repository, log = FakeCustomerRepository(), ObjectChangeLog(FakeObjectStore())
    repository.failing_numbers = {"102"}
    # When it is written
    applied = run(repository, log, "job-1", file_customers(numbers(100, 5)))
    # Then that row fails with why, the others are created, and the log holds only those
    assert [(f.row, f.reason) for f in applied.failures] == [(102, "Write failed: boom")]
    assert applied.counts["created"] == 4
    logged = log.read(ORG, "job-1", "00001") or []
    assert sorted(e.external_customer_number or "" for e in logged) == [
        "100",
        "101",
        "103",
        "104",
    ]
