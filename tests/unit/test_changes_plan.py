"""Planning what an import does to each file customer (issue #16), on plain objects and the
in-memory repository."""

from __future__ import annotations

from typing import Any

from customer_import.changes.log import Action
from customer_import.changes.matching import AccountKeys, FileCustomer, match
from customer_import.changes.plan import Kind, Planned, Rules, plan
from customer_import.changes.preview import Tally, describe
from customer_import.changes.rules import FieldPolicy, MatchKey, Mode
from customer_import.customers.customer import Customer, new_customer_id
from customer_import.customers.repository import Bin, Update

from tests.fake_customers import FakeCustomerRepository

ORG = "org-1"
ACCOUNT = "north"
UPDATE = Rules(Mode.UPDATE)


def staged(number: str, **values: Any) -> dict[str, Any]:
    return {
        "customer_id": new_customer_id(),
        "external_customer_number": number,
        "name": f"Customer {number}",
        "email": f"c{number}@example.com",
        "phone": "+447700900000",
        "addresses": [{"type": "billing", "line1": "1 High St", "postcode": "AB1 2CD"}],
        "vehicles": [{"registration": f"AB{number}CDE", "make": "Ford", "row": 2}],
        "rows": [2],
        **values,
    }


def incoming(number: str, **values: Any) -> Customer:
    return Customer.from_staged(ORG, ACCOUNT, staged(number, **values))


def stored(repository: FakeCustomerRepository, customer: Customer) -> Customer:
    assert repository.save([plan(customer, None, UPDATE).write("job-0", "t0")]) == []
    found = repository.get(ORG, customer.customer_id)
    assert found is not None
    return found


def apply(
    repository: FakeCustomerRepository, chunk: list[FileCustomer], rules: Rules
) -> list[Planned]:
    matches = match(repository, ORG, ACCOUNT, chunk, rules.key)
    planned = [plan(f.customer, m, rules, f.row) for f, m in zip(chunk, matches, strict=True)]
    writes = [w for p in planned if (w := p.write("job-1", "t1")) is not None]
    assert repository.save(writes) == []
    return planned


def file_of(customers: list[Customer]) -> list[FileCustomer]:
    return [FileCustomer(c, row=2) for c in customers]


def test_changed_new_and_identical_customers_are_counted_and_planning_again_finds_nothing():
    # Given 95 stored customers, and a file of 10 of them with a new email, 85 as stored and
    # 5 new ones
    repository = FakeCustomerRepository()
    for n in range(95):
        stored(repository, incoming(str(n)))
    file = file_of(
        [incoming(str(n), email=f"new{n}@example.com") for n in range(10)]
        + [incoming(str(n)) for n in range(10, 95)]
        + [incoming(str(n)) for n in range(95, 100)]
    )

    # When the file is planned and applied
    planned = apply(repository, file, UPDATE)

    # Then 5 are created, 10 updated and 85 unchanged (with no write)
    counts = Tally().add(planned).to_dict()
    assert counts["created"] == 5
    assert counts["updated"] == 10
    assert counts["unchanged"] == 85
    assert counts["imported"] == 15
    assert repository.writes == 95 + 15
    # And the updates change the email only, from one version to the next
    update = next(p for p in planned if p.kind is Kind.UPDATE)
    assert update.changes == {"email": ("c0@example.com", "new0@example.com")}
    assert update.entry is not None
    assert update.entry.action is Action.UPDATED
    assert update.entry.before == {"email": "c0@example.com"}
    assert (update.entry.version_before, update.entry.version_after) == (1, 2)

    # When the same file is planned again
    again = apply(repository, file, UPDATE)

    # Then every customer is unchanged
    assert Tally().add(again).to_dict()["unchanged"] == 100


def test_a_create_logs_its_values_from_version_0_to_1():
    # Given a customer nobody stored
    customer = incoming("7")

    # When it is planned
    planned = plan(customer, None, UPDATE, row=2)

    # Then it is created as it is, with nothing before, marked as written from it
    assert planned.kind is Kind.CREATE
    assert planned.after == customer.with_changes(source_digest=customer.written_from(1))
    assert planned.entry is not None
    assert (planned.entry.version_before, planned.entry.version_after) == (0, 1)
    assert planned.entry.before == {}
    assert planned.entry.after["email"] == "c7@example.com"
    assert "vehicle:registration:AB7CDE" in planned.changes


def account_keys(repository: FakeCustomerRepository) -> AccountKeys:
    return AccountKeys(list(repository.live_keys(ORG, ACCOUNT)))


def test_a_customer_written_from_a_file_customer_is_known_unchanged_by_its_key_alone():
    # Given customers created from a file, one of them updated (overwrite) from a second file
    repository = FakeCustomerRepository()
    first = file_of([incoming(str(n)) for n in range(3)])
    apply(repository, first, UPDATE)
    second = file_of([incoming("0", email="new0@example.com"), *(f.customer for f in first[1:])])
    apply(repository, second, UPDATE)

    # When the account's keys are asked about the second file
    keys = account_keys(repository)
    known = [keys.written_from(f, MatchKey.EXTERNAL) for f in second]

    # Then every customer is known as written from it, at the version it has now
    assert [k.version if k else None for k in known] == [2, 1, 1]
    # And the first file's customer 0 is not: its stored email is the second file's
    assert keys.written_from(first[0], MatchKey.EXTERNAL) is None


def test_any_later_write_or_a_partial_policy_makes_the_customer_compared_again():
    # Given two customers written from a file
    repository = FakeCustomerRepository()
    file = file_of([incoming(str(n)) for n in range(2)])
    apply(repository, file, UPDATE)
    # When a person renames customer 0 and customer 1 is binned
    c0, c1 = (repository.get(ORG, f.customer.customer_id) for f in file)
    assert c0 and c1
    renamed = c0.with_changes(fields={**c0.fields, "name": "Renamed"})
    assert repository.save([Update(renamed, c0.version, "person", "t2")]) == []
    assert repository.save([Bin(ORG, c1.customer_id, c1.version, "job-2", "t2", "t3")]) == []

    # Then neither is known unchanged from the file: each is planned from its records, the
    # name put back and the binned customer restored
    keys = account_keys(repository)
    assert [keys.written_from(f, MatchKey.EXTERNAL) for f in file] == [None, None]
    assert [p.kind for p in apply(repository, file, UPDATE)] == [Kind.UPDATE, Kind.RESTORE]


def test_a_fill_empty_update_leaves_the_customer_to_be_compared_with_that_file_again():
    # Given a stored customer, updated under fill_empty from a file with another email and
    # a landline (only the landline is taken)
    repository = FakeCustomerRepository()
    apply(repository, file_of([incoming("1")]), UPDATE)
    other = file_of([incoming("1", email="other@example.com", landline="+441632960000")])
    apply(repository, other, Rules(Mode.UPDATE, policy=FieldPolicy.FILL_EMPTY))

    # When the same file comes under overwrite
    known = account_keys(repository).written_from(other[0], MatchKey.EXTERNAL)
    planned = apply(repository, other, UPDATE)

    # Then it is not taken for unchanged: the email is updated
    assert known is None
    assert planned[0].changes == {"email": ("c1@example.com", "other@example.com")}


def test_the_field_policies_on_one_customer():
    # Given a stored customer without a phone, and a file giving a new email and a phone
    repository = FakeCustomerRepository()
    current = stored(repository, incoming("1", phone=None))
    file_customer = incoming("1", email="other@example.com", phone="+447700900111")

    # When it is planned under each field policy
    def planned(policy: FieldPolicy) -> Planned:
        return plan(file_customer, current, Rules(Mode.UPDATE, policy=policy))

    # Then overwrite takes both, fill_empty only the phone, keep nothing
    assert planned(FieldPolicy.OVERWRITE).changes == {
        "email": ("c1@example.com", "other@example.com"),
        "phone": (None, "+447700900111"),
    }
    assert planned(FieldPolicy.FILL_EMPTY).changes == {"phone": (None, "+447700900111")}
    assert planned(FieldPolicy.KEEP).kind is Kind.UNCHANGED
    # And the stored customer's id, account and version are kept
    after = planned(FieldPolicy.OVERWRITE).after
    assert (after.customer_id, after.account_id, after.version) == (
        current.customer_id,
        ACCOUNT,
        1,
    )


def test_an_empty_cell_keeps_the_stored_value():
    # Given a stored customer, and a file row whose email and name cells are empty
    repository = FakeCustomerRepository()
    current = stored(repository, incoming("1"))

    # When it is planned with overwrite
    planned = plan(incoming("1", email=None, name=""), current, UPDATE)

    # Then nothing changes
    assert planned.kind is Kind.UNCHANGED
    assert planned.write("job-1", "t1") is None


def test_values_that_only_differ_as_cleaning_would_not_change_them_are_unchanged():
    # Given a stored customer, and the file giving its email in capitals
    repository = FakeCustomerRepository()
    current = stored(repository, incoming("1"))

    # When it is planned
    planned = plan(incoming("1", email="C1@EXAMPLE.COM"), current, UPDATE)

    # Then it is unchanged
    assert planned.kind is Kind.UNCHANGED


def test_addresses_and_vehicles_are_updated_or_added_never_removed():
    # Given a stored customer with a billing address and one vehicle
    repository = FakeCustomerRepository()
    current = stored(repository, incoming("1"))

    # When the file moves the billing town, adds a shipping address and a second vehicle,
    # gives a vehicle nobody can recognise, and no longer lists the first vehicle
    file_customer = incoming(
        "1",
        addresses=[
            {"type": "billing", "line1": "1 High St", "town": "Leeds"},
            {"type": "shipping", "line1": "2 Low St"},
        ],
        vehicles=[{"registration": "ZZ99ZZZ", "row": 3}, {"make": "Kia", "row": 4}],
    )
    planned = plan(file_customer, current, UPDATE)

    # Then the address changes and additions are planned with their before-images
    assert set(planned.changes) == {
        "address:billing",
        "address:shipping",
        "vehicle:registration:ZZ99ZZZ",
    }
    assert planned.changes["address:billing"][1]["town"] == "Leeds"
    assert planned.changes["address:billing"][1]["postcode"] == "AB1 2CD"
    assert planned.entry is not None
    assert planned.entry.before["address:shipping"] is None
    assert planned.entry.before["address:billing"]["town"] is None
    # And the stored vehicle stays, the unrecognisable one is not added
    assert set(planned.after.vehicles) == {"registration:AB1CDE", "registration:ZZ99ZZZ"}


def test_an_insert_mode_merge_fills_empty_fields_and_adds_what_it_lacks():
    # Given a stored customer without a phone
    repository = FakeCustomerRepository()
    current = stored(repository, incoming("1", phone=None))

    # When an insert-mode file gives another email, a phone, a new town for its billing
    # address and a shipping address
    file_customer = incoming(
        "1",
        email="other@example.com",
        phone="+447700900111",
        addresses=[
            {"type": "billing", "town": "Leeds"},
            {"type": "shipping", "line1": "2 Low St"},
        ],
    )
    planned = plan(file_customer, current, Rules(Mode.INSERT))

    # Then it merges: the phone filled and the shipping address added, the rest as stored
    assert planned.kind is Kind.MERGE
    assert set(planned.changes) == {"phone", "address:shipping"}
    assert planned.entry is not None
    assert planned.entry.action is Action.MERGED


def test_a_binned_match_is_restored_and_updated_even_when_kept():
    # Given a customer in the recycle bin
    repository = FakeCustomerRepository()
    current = stored(repository, incoming("1"))
    repository.save([Bin(ORG, current.customer_id, 1, "job-0", "t0", "2027-01-01")])
    binned = repository.get(ORG, current.customer_id)
    assert binned is not None and binned.binned

    # When a file matches it, with a new email
    restore = plan(incoming("1", email="new@example.com"), binned, UPDATE)
    kept = plan(
        incoming("1", email="new@example.com"), binned, Rules(Mode.UPDATE, policy=FieldPolicy.KEEP)
    )

    # Then it is restored and updated, and its bin fields are logged for a rollback
    assert restore.kind is Kind.RESTORE
    assert restore.after.deleted_at is None
    assert restore.changes == {"email": ("c1@example.com", "new@example.com")}
    assert restore.entry is not None
    assert restore.entry.before["deleted_at"] == "t0"
    assert (restore.entry.version_before, restore.entry.version_after) == (2, 3)
    # And with keep it is still restored, as it was
    assert kept.kind is Kind.RESTORE
    assert kept.changes == {}
    # And the restore is stored live again
    assert repository.save([restore.write("job-1", "t1")]) == []
    live = repository.get(ORG, current.customer_id)
    assert live is not None and not live.binned and live.value("email") == "new@example.com"


def test_matching_by_internal_external_and_both_keys():
    # Given stored customers 1 and 2 of the account and 3 of another account
    repository = FakeCustomerRepository()
    one = stored(repository, incoming("1"))
    two = stored(repository, incoming("2"))
    other = Customer.from_staged(ORG, "south", staged("3"))
    assert repository.save([plan(other, None, UPDATE).write("job-0", "t0")]) == []
    chunk = [
        FileCustomer(incoming("1"), internal_customer_id=two.customer_id),
        FileCustomer(incoming("2")),
        FileCustomer(incoming("9"), internal_customer_id=other.customer_id),
        FileCustomer(incoming("9"), internal_customer_id=new_customer_id()),
    ]

    # When the chunk is matched by each key
    def ids(key: MatchKey) -> list[str | None]:
        return [m and m.customer_id for m in match(repository, ORG, ACCOUNT, chunk, key)]

    # Then internal ids match their own account's customers only, external numbers match
    # within the account, and both tries the internal id first
    assert ids(MatchKey.INTERNAL) == [two.customer_id, None, None, None]
    assert ids(MatchKey.EXTERNAL) == [one.customer_id, two.customer_id, None, None]
    assert ids(MatchKey.BOTH) == [two.customer_id, two.customer_id, None, None]


def test_a_preview_line_shows_each_fields_old_and_new_value():
    # Given a stored customer and a file changing its email
    repository = FakeCustomerRepository()
    current = stored(repository, incoming("1"))

    # When the change is described
    line = describe(plan(incoming("1", email="new@example.com"), current, UPDATE, row=5))

    # Then it names the action, the customer and the change
    assert line == {
        "action": "update",
        "customer_id": current.customer_id,
        "account": ACCOUNT,
        "external_customer_number": "1",
        "row": 5,
        "changes": [{"field": "email", "old": "c1@example.com", "new": "new@example.com"}],
    }
