"""Activities (related records) of a customer: their validation, named by field, the in-memory
repository's contract, and the recycle bin's purge taking them with the customer."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from customer_import.customers.activities import (
    ACTIVITY_ID,
    MAX_TEXT_CHARS,
    Activity,
    InvalidActivity,
    count_for_customer,
)
from customer_import.customers.customer import Customer, new_customer_id
from customer_import.customers.recycle_bin import purge_due
from customer_import.customers.repository import Bin, Create

from tests.fake_activities import FakeActivityRepository
from tests.fake_customers import FakeCustomerRepository

NOW = datetime(2026, 12, 2, 9, 30, 1, 250_000, tzinfo=UTC)
ORG = "garage-1"


def activity(customer_id: str = "c-1", day: str = "2026-12-02", **changes: str) -> Activity:
    values = {
        "org_id": ORG,
        "customer_id": customer_id,
        "account_id": "smith",
        "kind": "appointment",
        "day": day,
        "text": "MOT booked",
        "author": "alice",
        **changes,
    }
    return Activity.new(**values, now=NOW)  # type: ignore[arg-type]


def test_a_new_activity_records_its_account_author_and_a_sortable_id() -> None:
    # Given a valid kind, date and text, When an activity is made
    made = activity()
    # Then it carries them, with an id that starts with its date and reads as one
    assert (made.kind, made.date, made.author, made.account_id) == (
        "appointment",
        "2026-12-02",
        "alice",
        "smith",
    )
    assert made.activity_id.startswith("2026-12-02_20261202T093001250Z_")
    assert ACTIVITY_ID.match(made.activity_id)
    assert made.created_at == "2026-12-02T09:30:01.250+00:00"


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        (
            {"kind": "visit"},
            "kind",
            "must be one of appointment, report, call_block, service_booking",
        ),
        ({"day": "2026-02-30"}, "date", "must be a real calendar date, not '2026-02-30'"),
        ({"day": "20261202"}, "date", "must be a date written YYYY-MM-DD"),
        ({"day": "02/12/2026"}, "date", "must be a date written YYYY-MM-DD"),
        ({"day": "2026-W49-3"}, "date", "must be a date written YYYY-MM-DD"),
        ({"text": "   "}, "text", "must not be empty"),
        ({"text": "x" * (MAX_TEXT_CHARS + 1)}, "text", "must be at most 4,000 characters"),
    ],
)
def test_an_invalid_activity_is_refused_naming_its_field(
    changes: dict[str, str], field: str, words: str
) -> None:
    # Given a value that is not one an activity takes, When the activity is made
    with pytest.raises(InvalidActivity) as refused:
        activity(**changes)
    # Then the refusal names the field and says what it must be
    assert refused.value.field == field
    assert str(refused.value).startswith(f"{field}: {words}")


def test_a_text_of_exactly_the_limit_is_taken() -> None:
    assert len(activity(text="x" * MAX_TEXT_CHARS).text) == MAX_TEXT_CHARS


def test_activities_list_by_date_page_by_page_and_count_per_customer() -> None:
    # Given three activities of one customer, added out of date order, and one of another
    repository = FakeActivityRepository()
    for day in ("2026-12-05", "2026-11-01", "2026-12-01"):
        repository.add(activity(day=day))
    repository.add(activity(customer_id="c-2"))
    # When they are listed two at a time
    first, start = repository.list_for_customer("c-1", 2, None)
    second, end = repository.list_for_customer("c-1", 2, start)
    # Then they come by date, and the second page is the last
    assert [a.date for a in first + second] == ["2026-11-01", "2026-12-01", "2026-12-05"]
    assert start is not None and end is None
    # And each customer's count is its own, 0 for one with none
    assert repository.count_for_customers(["c-1", "c-2", "c-3"]) == {"c-1": 3, "c-2": 1, "c-3": 0}
    assert count_for_customer(repository, "c-2") == 1


def test_a_move_reassigns_and_a_copy_duplicates_under_the_target_once() -> None:
    # Given a customer's two activities
    repository = FakeActivityRepository()
    repository.add(activity(day="2026-12-01"))
    repository.add(activity(day="2026-12-02"))
    # When they are copied to another customer twice (a retried copy)
    assert repository.copy_to("c-1", "c-9", "jones") == 2
    assert repository.copy_to("c-1", "c-9", "jones") == 2
    # Then the target has them once each, in its account; the source keeps its own
    copies, _ = repository.list_for_customer("c-9", 10, None)
    assert [(a.customer_id, a.account_id) for a in copies] == [("c-9", "jones")] * 2
    assert {a.account_id for a in repository.list_for_customer("c-1", 10, None)[0]} == {"smith"}
    # When the source's are reassigned (a move)
    assert repository.reassign("c-1", "jones") == 2
    # Then they belong to the new account
    assert {a.account_id for a in repository.list_for_customer("c-1", 10, None)[0]} == {"jones"}


def test_deleting_a_customers_activities_leaves_other_customers_and_organisations() -> None:
    repository = FakeActivityRepository()
    repository.add(activity())
    repository.add(activity(customer_id="c-2"))
    # When another organisation asks to delete c-1's, nothing goes
    assert repository.delete_for_customer("garage-2", "c-1") == 0
    # When its own organisation does, only c-1's go
    assert repository.delete_for_customer(ORG, "c-1") == 1
    assert repository.count_for_customers(["c-1", "c-2"]) == {"c-1": 0, "c-2": 1}


def _customer(number: str) -> Customer:
    return Customer(
        org_id=ORG,
        account_id="smith",
        customer_id=new_customer_id(),
        external_customer_number=number,
        fields={"name": f"Customer {number}"},
    )


def test_the_purge_takes_a_purged_customers_activities_and_keeps_a_refused_ones() -> None:
    # Given two binned customers due on the 16th, each with an activity, and a live one with one
    customers, activities = FakeCustomerRepository(), FakeActivityRepository()
    due, kept, live = _customer("1"), _customer("2"), _customer("3")
    for c in (due, kept, live):
        assert customers.save([Create(c, "job-1", "2026-11-30T10:00:00.000+00:00")]) == []
        activities.add(activity(customer_id=c.customer_id))
    for c in (due, kept):
        bin_ = Bin(ORG, c.customer_id, 1, "job-2", "2026-12-01T08:00:00+00:00", "2026-12-16")
        assert customers.save([bin_]) == []
    # And one of them changes after the index named it (its purge will be refused)
    original_due = customers.due_for_purge

    def due_then_changed(as_of: str):  # type: ignore[no-untyped-def]
        for org, customer_id, version in original_due(as_of):
            if customer_id == kept.customer_id:
                version -= 1
            yield org, customer_id, version

    customers.due_for_purge = due_then_changed  # type: ignore[method-assign]
    # When the purge runs on the day they are due
    result = purge_due(customers, activities, "2026-12-16")
    # Then the purged customer's activities are gone; the refused one's and the live one's stay
    assert (result.purged, result.refused) == (1, 1)
    assert activities.count_for_customers(
        [due.customer_id, kept.customer_id, live.customer_id]
    ) == {
        due.customer_id: 0,
        kept.customer_id: 1,
        live.customer_id: 1,
    }
