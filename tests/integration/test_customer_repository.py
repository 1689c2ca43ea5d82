"""One contract, two implementations: `FakeCustomerRepository` (the port's executable
statement) and `DynamoCustomerRepository` on the local stack's moto, faithful seams on."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from customer_import.customers.customer import Customer, new_customer_id
from customer_import.customers.repository import (
    IDENTITY_TAKEN,
    VERSION_MOVED,
    Bin,
    Create,
    CustomerRepository,
    Purge,
    Remove,
    Update,
)
from customer_import.duplicates import match_keys

from tests.fake_customers import FakeCustomerRepository

AT = "2026-12-01T10:00:00.000+00:00"


@pytest.fixture(params=["fake", "dynamo"])
def repository(request: pytest.FixtureRequest) -> Iterator[CustomerRepository]:
    if request.param == "fake":
        yield FakeCustomerRepository()
        return
    request.getfixturevalue("stack")
    from customer_import.adapters.customers_dynamo import DynamoCustomerRepository
    from customer_import.settings import Settings

    yield DynamoCustomerRepository(Settings.from_env().region)


def customer(org: str, number: str | None, account: str = "acc-1", **fields: object) -> Customer:
    return Customer(
        org_id=org,
        account_id=account,
        customer_id=new_customer_id(),
        external_customer_number=number,
        fields={"name": f"Customer {number}", "email": f"{uuid.uuid4().hex}@example.com", **fields},
        addresses={"billing": {"line1": "1 High Street", "postcode": "AB1 2CD"}},
        vehicles={"registration:AB12CDE": {"registration": "AB12CDE", "make": "Ford"}},
    )


def create(repository: CustomerRepository, c: Customer, job: str = "job-1") -> Customer:
    assert repository.save([Create(c, job, AT)]) == []
    stored = repository.get(c.org_id, c.customer_id)
    assert stored is not None
    return stored


def bin_(repository: CustomerRepository, c: Customer, at: str = AT) -> Customer:
    write = Bin(c.org_id, c.customer_id, c.version, "job-2", at, purge_after=at[:10])
    assert repository.save([write]) == []
    binned = repository.get(c.org_id, c.customer_id)
    assert binned is not None
    return binned


def test_a_create_stores_the_customer_and_takes_its_identity(
    repository: CustomerRepository, org: str
) -> None:
    # Given a new customer
    new = customer(org, "C1")
    # When it is created
    stored = create(repository, new)
    # Then it is stored at version 1 with its records, found by number, key and match key
    assert stored.version == 1 and stored.created_by_job == "job-1"
    assert stored.addresses["billing"]["postcode"] == "AB1 2CD"
    assert stored.vehicles["registration:AB12CDE"]["make"] == "Ford"
    assert repository.find_by_external(org, "acc-1", ["C1"])["C1"].customer_id == new.customer_id
    assert [k.customer_id for k in repository.live_keys(org, "acc-1")] == [new.customer_id]
    email_key = next(k for k in match_keys(new.flat()) if k.startswith("email:"))
    assert list(repository.find_by_match_keys(org, [email_key])) == [new.customer_id]
    assert repository.has_any(org)
    assert repository.get_many(org, [new.customer_id, "nobody"]).keys() == {new.customer_id}


def test_the_same_create_written_again_by_its_job_changes_nothing(
    repository: CustomerRepository, org: str
) -> None:
    # Given a customer created by a job
    new = customer(org, "C1")
    create(repository, new)
    # When the job writes the same create again (a retried batch)
    refused = repository.save([Create(new, "job-1", AT)])
    # Then nothing is refused and the customer is still at version 1
    assert refused == []
    assert repository.get(org, new.customer_id).version == 1  # type: ignore[union-attr]


def test_an_external_number_is_unique_per_account_among_live_customers(
    repository: CustomerRepository, org: str
) -> None:
    # Given a live customer C1 of acc-1
    holder = create(repository, customer(org, "C1"))
    # When another customer C1 is created in acc-1 and one in acc-2
    rival = customer(org, "C1")
    elsewhere = customer(org, "C1", account="acc-2", name="Someone Else")
    refused = repository.save([Create(rival, "job-2", AT), Create(elsewhere, "job-2", AT)])
    # Then the one of acc-1 is refused naming the holder, the other is stored
    assert [(r.write.customer.customer_id, r.reason, r.holder) for r in refused] == [  # type: ignore[union-attr]
        (rival.customer_id, IDENTITY_TAKEN, holder.customer_id)
    ]
    assert repository.get(org, rival.customer_id) is None
    assert repository.get(org, elsewhere.customer_id) is not None
    # And the holder keeps the match key the refused rival shared with it (its name)
    assert list(repository.find_by_match_keys(org, ["name:customer c1"])) == [holder.customer_id]


def test_two_creates_of_one_number_in_one_save_store_the_first_and_refuse_the_second(
    repository: CustomerRepository, org: str
) -> None:
    # Given two new customers with the same external number (a race between two imports)
    first, second = customer(org, "C7"), customer(org, "C7")
    # When both are saved at once
    refused = repository.save([Create(first, "job-1", AT), Create(second, "job-2", AT)])
    # Then the second is refused naming the first
    assert [(r.reason, r.holder) for r in refused] == [(IDENTITY_TAKEN, first.customer_id)]
    assert repository.find_by_external(org, "acc-1", ["C7"])["C7"].customer_id == first.customer_id


def test_an_update_on_a_moved_version_is_refused_with_the_current_customer(
    repository: CustomerRepository, org: str
) -> None:
    # Given a customer updated once since it was read at version 1
    stored = create(repository, customer(org, "C1"))
    changed = stored.with_changes(fields={**stored.fields, "name": "Renamed"})
    assert repository.save([Update(changed, 1, "job-2", AT)]) == []
    # When an update read at version 1 is saved
    refused = repository.save([Update(changed, 1, "job-3", AT)])
    # Then it is refused with the customer at version 2
    assert [(r.reason, r.current.version) for r in refused] == [(VERSION_MOVED, 2)]  # type: ignore[union-attr]
    assert repository.get(org, stored.customer_id).value("name") == "Renamed"  # type: ignore[union-attr]


def test_an_update_carrying_its_stale_read_is_refused_all_the_same(
    repository: CustomerRepository, org: str
) -> None:
    # Given a customer read at version 1, then updated by another writer
    stored = create(repository, customer(org, "C1"))
    renamed = stored.with_changes(fields={**stored.fields, "name": "Renamed"})
    assert repository.save([Update(renamed, 1, "job-2", AT)]) == []
    # When an update made from the version 1 read is saved with that read
    emailed = stored.with_changes(fields={**stored.fields, "email": "new@example.com"})
    refused = repository.save([Update(emailed, 1, "job-3", AT, read=stored)])
    # Then it is refused, and the other writer's change stays
    assert [r.reason for r in refused] == [VERSION_MOVED]
    current = repository.get(org, stored.customer_id)
    assert current is not None
    assert (current.value("name"), current.value("email")) == ("Renamed", stored.value("email"))


def test_an_update_writes_only_the_items_that_changed(stack: object, org: str) -> None:
    from customer_import.adapters.customers_dynamo import DynamoCustomerRepository
    from customer_import.settings import Settings
    from customer_import_local.write_count import count_writes

    # Given a stored customer
    repository = DynamoCustomerRepository(Settings.from_env().region)
    stored = create(repository, customer(org, "C1"))
    # When only its make of vehicle changes
    vehicles = {"registration:AB12CDE": {"registration": "AB12CDE", "make": "Vauxhall"}}
    with count_writes() as count:
        assert repository.save([Update(stored.with_changes(vehicles=vehicles), 1, "j2", AT)]) == []
    # Then the customer item and the vehicle are written, nothing else
    settings = Settings.from_env()
    assert dict(count.by_table) == {settings.customers_table: 1, settings.vehicles_table: 1}


def test_binning_frees_the_identity_and_hides_the_customer_from_live_reads(
    repository: CustomerRepository, org: str
) -> None:
    # Given a live customer
    stored = create(repository, customer(org, "C1"))
    email_key = next(k for k in match_keys(stored.flat()) if k.startswith("email:"))
    # When it is binned
    binned = bin_(repository, stored)
    # Then it is out of every live read, still found by its number, and the number is free
    assert binned.binned and binned.version == 2
    assert list(repository.live_keys(org, "acc-1")) == []
    assert repository.live_page(org, "acc-1", 10, None) == ([], None)
    assert repository.find_by_match_keys(org, [email_key]) == {}
    assert not repository.has_any(org)
    assert repository.find_by_external(org, "acc-1", ["C1"])["C1"].customer_id == stored.customer_id
    assert create(repository, customer(org, "C1")).version == 1


def test_an_update_without_deleted_at_restores_a_binned_customer(
    repository: CustomerRepository, org: str
) -> None:
    # Given a binned customer
    binned = bin_(repository, create(repository, customer(org, "C1")))
    # When it is updated without deleted_at
    restored = binned.with_changes(deleted_at=None, purge_after=None)
    assert repository.save([Update(restored, 2, "job-3", AT)]) == []
    # Then it is live again and holds its number
    assert [k.customer_id for k in repository.live_keys(org, "acc-1")] == [binned.customer_id]
    refused = repository.save([Create(customer(org, "C1"), "job-4", AT)])
    assert [(r.reason, r.holder) for r in refused] == [(IDENTITY_TAKEN, binned.customer_id)]


def test_a_restore_is_refused_when_a_live_customer_took_the_number(
    repository: CustomerRepository, org: str
) -> None:
    # Given a binned customer whose number a new customer took
    binned = bin_(repository, create(repository, customer(org, "C1")))
    taker = create(repository, customer(org, "C1"))
    # When the binned one is restored
    refused = repository.save(
        [Update(binned.with_changes(deleted_at=None, purge_after=None), 2, "job-3", AT)]
    )
    # Then the restore is refused naming the taker
    assert [(r.reason, r.holder) for r in refused] == [(IDENTITY_TAKEN, taker.customer_id)]
    assert repository.get(org, binned.customer_id).binned  # type: ignore[union-attr]


def test_the_bin_pages_newest_first_per_account_and_for_the_organisation(
    repository: CustomerRepository, org: str
) -> None:
    # Given three customers binned at different times, two in acc-1, one in acc-2
    times = ["2026-11-01T10:00:00Z", "2026-11-03T10:00:00Z", "2026-11-02T10:00:00Z"]
    accounts = ["acc-1", "acc-1", "acc-2"]
    ids = []
    for n, (at, account) in enumerate(zip(times, accounts, strict=True)):
        stored = create(repository, customer(org, f"B{n}", account=account))
        ids.append(bin_(repository, stored, at).customer_id)
    # When the bin is paged two at a time
    first, token = repository.binned_page(org, None, 2, None)
    rest, _ = repository.binned_page(org, None, 2, token)
    account, _ = repository.binned_page(org, "acc-1", 10, None)
    # Then newest binned come first
    assert [c.customer_id for c in first + rest] == [ids[1], ids[2], ids[0]]
    assert [c.customer_id for c in account] == [ids[1], ids[0]]


def test_live_pages_go_on_from_their_token(repository: CustomerRepository, org: str) -> None:
    # Given three live customers
    ids = {create(repository, customer(org, f"L{n}")).customer_id for n in range(3)}
    # When they are paged two at a time
    first, token = repository.live_page(org, "acc-1", 2, None)
    rest, _ = repository.live_page(org, "acc-1", 2, token)
    # Then every one comes once
    assert len(first) == 2 and {c.customer_id for c in first + rest} == ids


def test_due_for_purge_spans_organisations(repository: CustomerRepository, org: str) -> None:
    # Given binned customers of two organisations, due on and after the day
    other = f"{org}-other"
    due = bin_(repository, create(repository, customer(org, "P1")), "2026-10-01T00:00:00Z")
    due_elsewhere = bin_(
        repository, create(repository, customer(other, "P1")), "2026-10-02T00:00:00Z"
    )
    bin_(repository, create(repository, customer(org, "P2")), "2026-10-05T00:00:00Z")
    # When the customers due on 2026-10-03 are listed
    listed = {(o, c) for o, c, _ in repository.due_for_purge("2026-10-03")}
    # Then both organisations' due customers are there, and the later one is not
    assert {(org, due.customer_id), (other, due_elsewhere.customer_id)} <= listed
    assert len([o for o, _ in listed if o in (org, other)]) == 2


def test_a_purge_removes_everything_and_frees_the_number(
    repository: CustomerRepository, org: str
) -> None:
    # Given a binned customer
    binned = bin_(repository, create(repository, customer(org, "C1")))
    email_key = next(k for k in match_keys(binned.flat()) if k.startswith("email:"))
    # When it is purged
    assert repository.save([Purge(org, binned.customer_id, binned.version)]) == []
    # Then it is gone, by id and by number, and the number can be created again
    assert repository.get(org, binned.customer_id) is None
    assert repository.find_by_external(org, "acc-1", ["C1"]) == {}
    assert repository.find_by_match_keys(org, [email_key]) == {}
    assert create(repository, customer(org, "C1")).version == 1


def test_updating_a_binned_customer_that_stays_binned_keeps_the_live_holder(
    repository: CustomerRepository, org: str
) -> None:
    # Given a binned customer whose number a live customer took
    binned = bin_(repository, create(repository, customer(org, "C1")))
    taker = create(repository, customer(org, "C1"))
    # When the binned one is updated and stays binned
    renamed = binned.with_changes(fields={**binned.fields, "name": "Renamed"})
    assert repository.save([Update(renamed, 2, "job-3", AT)]) == []
    # Then it is changed, and the number still belongs to the live taker
    assert repository.get(org, binned.customer_id).value("name") == "Renamed"  # type: ignore[union-attr]
    assert repository.find_by_external(org, "acc-1", ["C1"])["C1"].customer_id == taker.customer_id


def test_an_update_to_another_account_moves_the_customer_and_its_identity_at_once(
    repository: CustomerRepository, org: str
) -> None:
    # Given customer C7 of account smith, and account jones without it
    stored = create(repository, customer(org, "C7", account="smith"))

    # When an update re-owns it to jones
    moved = stored.with_changes(account_id="jones")
    refused = repository.save([Update(moved, stored.version, "job-2", AT, stored)])

    # Then it is jones's (same id, records kept), smith no longer finds it, jones does
    assert refused == []
    now = repository.get(org, stored.customer_id)
    assert now is not None and now.account_id == "jones" and now.version == stored.version + 1
    assert now.addresses == stored.addresses and now.vehicles == stored.vehicles
    assert repository.find_by_external(org, "smith", ["C7"]) == {}
    assert repository.find_by_external(org, "jones", ["C7"])["C7"].customer_id == stored.customer_id
    assert [k.customer_id for k in repository.live_keys(org, "smith")] == []
    assert [k.customer_id for k in repository.live_keys(org, "jones")] == [stored.customer_id]
    # And smith may take the number again for a customer of its own
    assert repository.save([Create(customer(org, "C7", account="smith"), "job-3", AT)]) == []


def test_a_move_into_an_account_holding_the_number_live_is_refused_and_changes_nothing(
    repository: CustomerRepository, org: str
) -> None:
    # Given C8 in smith and another C8 live in jones
    stored = create(repository, customer(org, "C8", account="smith"))
    holder = create(repository, customer(org, "C8", account="jones"))

    # When smith's C8 is moved to jones
    moved = stored.with_changes(account_id="jones")
    refused = repository.save([Update(moved, stored.version, "job-2", AT, stored)])

    # Then the move is refused naming jones's holder, and C8 stays smith's
    assert [r.reason for r in refused] == [IDENTITY_TAKEN]
    assert refused[0].holder == holder.customer_id
    assert repository.find_by_external(org, "smith", ["C8"])["C8"].customer_id == stored.customer_id
    assert (repository.get(org, stored.customer_id) or stored).account_id == "smith"


def test_other_accounts_are_searched_by_number_live_first_then_the_recycle_bin(
    repository: CustomerRepository, org: str
) -> None:
    # Given C1 live in smith and binned in brown, C2 only binned in brown, C3 in jones itself
    live = create(repository, customer(org, "C1", account="smith"))
    bin_(repository, create(repository, customer(org, "C1", account="brown")))
    binned = bin_(repository, create(repository, customer(org, "C2", account="brown")))
    create(repository, customer(org, "C3", account="jones"))

    # When jones looks for them elsewhere
    found = repository.find_in_other_accounts(org, "jones", ["C1", "C2", "C3", "C4"])

    # Then the live C1 of smith, the binned C2 of brown, and nothing for C3 (jones's own) or C4
    assert {n: (c.customer_id, c.binned) for n, c in found.items()} == {
        "C1": (live.customer_id, False),
        "C2": (binned.customer_id, True),
    }
    assert found["C1"].addresses == live.addresses


def test_a_remove_deletes_the_customer_with_its_records_and_frees_its_number(
    repository: CustomerRepository, org: str
) -> None:
    # Given two live customers and a binned one
    first = create(repository, customer(org, "R1"))
    second = create(repository, customer(org, "R2"))
    binned = bin_(repository, create(repository, customer(org, "R3")))

    # When they are removed on the versions read, the second on an old one
    refused = repository.save(
        [
            Remove(org, first.customer_id, first.version, first),
            Remove(org, second.customer_id, second.version - 1),
            Remove(org, binned.customer_id, binned.version, binned),
        ]
    )

    # Then the first and the binned one are gone, records, keys and identity; the second stays
    assert [(r.reason, r.write.customer_id) for r in refused] == [  # type: ignore[union-attr]
        (VERSION_MOVED, second.customer_id)
    ]
    assert repository.get_many(org, [first.customer_id, binned.customer_id]) == {}
    assert repository.find_by_match_keys(org, match_keys(first.flat())) == {}
    assert repository.find_by_external(org, "acc-1", ["R1", "R3"]) == {}
    assert repository.save([Create(customer(org, "R1"), "job-9", AT)]) == []
    assert repository.get(org, second.customer_id) == second


def test_customers_removed_together_take_the_match_keys_they_share_with_them(
    stack: object, org: str
) -> None:
    # Given two customers of one name (their name key points at the one written last)
    from customer_import.adapters.customers_dynamo import DynamoCustomerRepository
    from customer_import.adapters.dynamo import MatchKeyModel
    from customer_import.duplicates import stored_match_key
    from customer_import.settings import Settings

    repository = DynamoCustomerRepository(Settings.from_env().region)
    first = create(repository, customer(org, "S1", name="Sanjay Wright"))
    second = create(repository, customer(org, "S2", name="Sanjay Wright"))
    keys = [stored_match_key(org, k) for k in match_keys(first.flat()) | match_keys(second.flat())]

    # When both are removed in one save, in either order
    refused = repository.save(
        [
            Remove(org, second.customer_id, second.version, second),
            Remove(org, first.customer_id, first.version, first),
        ]
    )

    # Then no match key of theirs is left, the shared one included
    assert refused == []
    assert [item.match_key for item in MatchKeyModel.batch_get(keys)] == []


def test_an_exact_update_keeps_only_the_records_it_holds(
    repository: CustomerRepository, org: str
) -> None:
    # Given a customer with a billing address and a vehicle, then a second vehicle
    stored = create(repository, customer(org, "X1"))
    more = stored.with_changes(
        vehicles={**stored.vehicles, "registration:ZZ99ZZZ": {"registration": "ZZ99ZZZ"}}
    )
    assert repository.save([Update(more, stored.version, "job-2", AT, stored)]) == []
    grown = repository.get(org, stored.customer_id)
    assert grown is not None and len(grown.vehicles) == 2

    # When an exact update puts the first state back
    back = stored.with_changes(version=grown.version)
    refused = repository.save([Update(back, grown.version, "job-3", AT, grown, exact=True)])

    # Then the added vehicle is gone and the rest is as it was
    assert refused == []
    now = repository.get(org, stored.customer_id)
    assert now is not None
    assert now.vehicles == stored.vehicles and now.addresses == stored.addresses
