"""The recycle bin on the in-memory repository: restore (refused when it must be), the purge
of what is due, and the retention that says when."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from customer_import.customers.customer import Customer, new_customer_id
from customer_import.customers.recycle_bin import (
    RESTORED,
    NotInRecycleBin,
    NumberTaken,
    purge_after_for,
    purge_due,
    restore,
)
from customer_import.customers.repository import Bin, Create, Update
from customer_import.organisations import OrganisationProfile
from customer_import.queries import CustomerNotFound

from tests.fake_activities import FakeActivityRepository
from tests.fake_customers import FakeCustomerRepository
from tests.fakes import FakeAuditLog

ORG, OTHER = "garage-1", "garage-2"
NOW = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
BINNED_AT = "2026-12-01T08:00:00.000+00:00"


def customer(number: str, org: str = ORG, account: str = "north") -> Customer:
    return Customer(
        org_id=org,
        account_id=account,
        customer_id=new_customer_id(),
        external_customer_number=number,
        fields={"name": f"Customer {number}"},
        addresses={"billing": {"line1": "1 High St", "postcode": "AB1 2CD"}},
        vehicles={"registration:AB12CDE": {"registration": "AB12 CDE"}},
    )


def stored(repository: FakeCustomerRepository, new: Customer, *, binned: bool) -> Customer:
    assert repository.save([Create(new, "job-1", "2026-11-30T10:00:00.000+00:00")]) == []
    if binned:
        write = Bin(new.org_id, new.customer_id, 1, "job-2", BINNED_AT, "2026-12-16")
        assert repository.save([write]) == []
    found = repository.get(new.org_id, new.customer_id)
    assert found is not None
    return found


def test_a_binned_customer_is_restored_whole_on_its_version_with_an_audit_entry() -> None:
    # Given a binned customer with an address and a vehicle
    repository, audit = FakeCustomerRepository(), FakeAuditLog()
    binned = stored(repository, customer("100"), binned=True)
    # When a person restores it
    restored = restore(repository, audit, ORG, binned.customer_id, "alice", NOW)
    # Then it is live again, the same customer with its records, one version on
    assert not restored.binned and restored.purge_after is None
    assert restored.customer_id == binned.customer_id
    assert restored.version == binned.version + 1
    assert (restored.addresses, restored.vehicles) == (binned.addresses, binned.vehicles)
    assert restored.updated_by_job == "restore:alice"
    # And it holds its number again, and the account lists it
    assert (
        repository.find_by_external(ORG, "north", ["100"])["100"].customer_id == binned.customer_id
    )
    assert [c.customer_id for c in repository.live_page(ORG, "north", 10, None)[0]] == [
        binned.customer_id
    ]
    # And the audit log says who restored which customer
    [entry] = audit.entries(ORG)
    assert (entry.action, entry.actor, entry.job_id) == (RESTORED, "alice", binned.customer_id)
    assert entry.details["external_customer_number"] == "100"
    assert entry.details["account"] == "north"


def test_a_live_customer_is_not_restored() -> None:
    # Given a live customer
    repository, audit = FakeCustomerRepository(), FakeAuditLog()
    live = stored(repository, customer("100"), binned=False)
    # When it is restored
    with pytest.raises(NotInRecycleBin, match="is not in the recycle bin"):
        restore(repository, audit, ORG, live.customer_id, "alice", NOW)
    # Then nothing changed and nothing was audited
    assert repository.get(ORG, live.customer_id) == live
    assert audit.entries(ORG) == []


def test_a_customer_of_another_organisation_or_of_none_is_not_found() -> None:
    # Given another organisation's binned customer
    repository, audit = FakeCustomerRepository(), FakeAuditLog()
    theirs = stored(repository, customer("100", org=OTHER), binned=True)
    # When this organisation restores it, or an id nobody has
    for customer_id in (theirs.customer_id, new_customer_id()):
        with pytest.raises(CustomerNotFound):
            restore(repository, audit, ORG, customer_id, "alice", NOW)
    # Then theirs stays in their bin
    still = repository.get(OTHER, theirs.customer_id)
    assert still is not None and still.binned


def test_a_restore_is_refused_when_a_live_customer_took_the_number_meanwhile() -> None:
    # Given a binned customer, and a new live one of its account with its number
    repository, audit = FakeCustomerRepository(), FakeAuditLog()
    binned = stored(repository, customer("100"), binned=True)
    taker = stored(repository, customer("100"), binned=False)
    # When the binned one is restored
    with pytest.raises(NumberTaken) as refused:
        restore(repository, audit, ORG, binned.customer_id, "alice", NOW)
    # Then the refusal names the number and the customer who has it, and nothing moved
    assert "100" in str(refused.value) and taker.customer_id in str(refused.value)
    assert refused.value.holder == taker.customer_id
    assert repository.get(ORG, binned.customer_id) == binned
    assert (
        repository.find_by_external(ORG, "north", ["100"])["100"].customer_id == taker.customer_id
    )
    assert audit.entries(ORG) == []


def test_the_number_of_another_account_does_not_stop_a_restore() -> None:
    # Given a binned customer of north, and a live one of south with the same number
    repository, audit = FakeCustomerRepository(), FakeAuditLog()
    binned = stored(repository, customer("100"), binned=True)
    stored(repository, customer("100", account="south"), binned=False)
    # When the binned one is restored
    restored = restore(repository, audit, ORG, binned.customer_id, "alice", NOW)
    # Then it is: numbers are unique per account
    assert not restored.binned


def test_the_purge_deletes_what_is_due_with_its_records_and_keeps_the_rest() -> None:
    # Given binned customers due on the 16th and the 20th, of two organisations, and a live one
    repository = FakeCustomerRepository()
    due = [
        stored(repository, customer(n, org=o), binned=True) for n, o in (("1", ORG), ("2", OTHER))
    ]
    later = stored(repository, customer("3"), binned=False)
    write = Bin(ORG, later.customer_id, later.version, "job-3", BINNED_AT, "2026-12-20")
    assert repository.save([write]) == []
    live = stored(repository, customer("4"), binned=False)
    # When the purge runs the day before the first is due
    before = purge_due(repository, FakeActivityRepository(), "2026-12-15")
    # Then nothing goes
    assert (before.purged, before.refused) == (0, 0)
    # When it runs on the day they are due
    result = purge_due(repository, FakeActivityRepository(), "2026-12-16")
    # Then those two are gone for good, numbers freed; the later one and the live one stay
    assert result.to_dict() == {"as_of": "2026-12-16", "purged": 2, "refused": 0}
    for gone in due:
        assert repository.get(gone.org_id, gone.customer_id) is None
        assert repository.find_by_external(gone.org_id, "north", ["1", "2"]) == {}
    assert repository.get(ORG, later.customer_id) is not None
    assert repository.get(ORG, live.customer_id) == live


def test_a_customer_that_changed_after_the_index_named_it_is_refused_not_purged() -> None:
    # Given a binned customer due, that a sync updates (still binned) once the index named it
    repository = FakeCustomerRepository()
    binned = stored(repository, customer("1"), binned=True)
    original_due = repository.due_for_purge

    def due_then_changed(as_of: str):  # type: ignore[no-untyped-def]
        for org, customer_id, version in original_due(as_of):
            changed = binned.with_changes(fields={"name": "Changed"})
            assert repository.save([Update(changed, version, "job-9", "2026-12-16T00:00")]) == []
            yield org, customer_id, version

    repository.due_for_purge = due_then_changed  # type: ignore[method-assign]
    # When the purge runs
    result = purge_due(repository, FakeActivityRepository(), "2026-12-16")
    # Then it is counted refused and kept
    assert (result.purged, result.refused) == (0, 1)
    assert repository.get(ORG, binned.customer_id) is not None


def test_a_purge_date_that_is_not_an_iso_date_is_refused() -> None:
    # Given the repository, When the purge is asked for a date that is not one
    # Then the error says what a date must look like
    with pytest.raises(ValueError, match=r"ISO date \(YYYY-MM-DD\), not '16/12/2026'"):
        purge_due(FakeCustomerRepository(), FakeActivityRepository(), "16/12/2026")


@pytest.mark.parametrize(
    ("binned_at", "days", "first_day"),
    [
        ("2026-12-01T08:00:00.000+00:00", 14, "2026-12-16"),
        ("2026-12-01T23:59:59.999+00:00", 14, "2026-12-16"),
        ("2026-12-31T12:00:00+00:00", 1, "2027-01-02"),
        # Binned just after midnight on the 2nd in London summer time: still the 1st in UTC
        ("2026-07-02T00:30:00+01:00", 7, "2026-07-09"),
    ],
)
def test_a_binned_customer_is_kept_whole_days_before_it_may_be_purged(
    binned_at: str, days: int, first_day: str
) -> None:
    # Given when a customer was binned and the organisation's retention
    # When its first purge day is computed
    # Then it is the day after that many whole days
    assert purge_after_for(binned_at, days) == first_day


@pytest.mark.parametrize("days", [0, 15, -1, True, "14"])
def test_a_retention_outside_one_to_fourteen_days_is_refused(days: object) -> None:
    # Given a retention outside what the product keeps
    # When an organisation is configured with it, or a purge day computed with it
    # Then both refuse it, naming the bounds
    with pytest.raises(ValueError, match="recycle_bin_days must be"):
        OrganisationProfile(ORG, recycle_bin_days=days)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="recycle_bin_days must be"):
        purge_after_for(BINNED_AT, days)  # type: ignore[arg-type]


def test_an_organisation_keeps_its_bin_fourteen_days_unless_it_says_otherwise() -> None:
    # Given a profile as stored before retention existed, and one that sets it
    # When they are read
    # Then the default is fourteen days, and a stored retention is kept
    assert OrganisationProfile.from_dict({"org_id": ORG}).recycle_bin_days == 14
    profile = OrganisationProfile(ORG, recycle_bin_days=3)
    assert OrganisationProfile.from_dict(profile.to_dict()).recycle_bin_days == 3
