"""One contract, two implementations: `FakeActivityRepository` and `DynamoActivityRepository`
on the local stack's moto (faithful seams on): listing by date page by page, counts, a copy
and a move, and the delete of a purged customer's activities."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from customer_import.customers.activities import Activity, ActivityRepository

from tests.fake_activities import FakeActivityRepository

NOW = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)


@pytest.fixture(params=["fake", "dynamo"])
def repository(request: pytest.FixtureRequest) -> Iterator[ActivityRepository]:
    if request.param == "fake":
        yield FakeActivityRepository()
        return
    request.getfixturevalue("stack")
    from customer_import.adapters.activities_dynamo import DynamoActivityRepository
    from customer_import.adapters.dynamo import bind
    from customer_import.settings import Settings

    bind(Settings.from_env())
    yield DynamoActivityRepository()


def added(repository: ActivityRepository, org: str, customer_id: str, day: str) -> Activity:
    activity = Activity.new(
        org_id=org,
        customer_id=customer_id,
        account_id="smith",
        kind="report",
        day=day,
        text=f"Visit of {day}",
        author="alice",
        now=NOW,
    )
    repository.add(activity)
    return activity


def test_activities_list_by_date_in_pages_and_are_counted(
    repository: ActivityRepository, org: str
) -> None:
    # Given a customer's three activities added out of date order
    customer = str(uuid.uuid4())
    for day in ("2026-12-03", "2026-12-01", "2026-12-02"):
        added(repository, org, customer, day)
    # When they are listed two at a time
    first, start = repository.list_for_customer(customer, 2, None)
    second, end = repository.list_for_customer(customer, 2, start)
    # Then they come by date, read back whole, and the second page is the last
    assert [a.date for a in first + second] == ["2026-12-01", "2026-12-02", "2026-12-03"]
    assert first[0].text == "Visit of 2026-12-01" and first[0].author == "alice"
    assert end is None
    assert repository.count_for_customers([customer, str(uuid.uuid4())])[customer] == 3


def test_a_copy_is_idempotent_a_move_reassigns_and_a_delete_is_scoped(
    repository: ActivityRepository, org: str
) -> None:
    source, target = str(uuid.uuid4()), str(uuid.uuid4())
    originals = [added(repository, org, source, d) for d in ("2026-12-01", "2026-12-02")]
    # When the source's activities are copied twice (a retried copy)
    assert repository.copy_to(source, target, "jones") == 2
    assert repository.copy_to(source, target, "jones") == 2
    # Then the target has each once, in its account, with the same ids
    copies, _ = repository.list_for_customer(target, 10, None)
    assert [a.activity_id for a in copies] == [a.activity_id for a in originals]
    assert {(a.customer_id, a.account_id) for a in copies} == {(target, "jones")}
    # When the source's are moved (reassigned), twice
    assert repository.reassign(source, "jones") == 2
    assert repository.reassign(source, "jones") == 2
    assert {a.account_id for a in repository.list_for_customer(source, 10, None)[0]} == {"jones"}
    # When another organisation deletes the source's, nothing goes; its own takes them all
    assert repository.delete_for_customer("someone-else", source) == 0
    assert repository.delete_for_customer(org, source) == 2
    assert repository.count_for_customers([source, target]) == {source: 0, target: 2}


def test_activities_recorded_since_are_counted_per_customer_from_its_own_time(
    repository: ActivityRepository, org: str
) -> None:
    # Given two customers' activities recorded at 09:30, and another organisation's
    first, second, elsewhere = (str(uuid.uuid4()) for _ in range(3))
    added(repository, org, first, "2026-12-01")
    added(repository, org, first, "2026-12-02")
    added(repository, org, second, "2026-12-01")
    added(repository, f"other-{org}", elsewhere, "2026-12-01")
    # When the activities recorded since are asked, for the first from 09:00, the second
    # from 10:00, and for the other organisation's customer under this organisation
    counts = repository.counts_recorded_since(
        org,
        {
            first: "2026-12-02T09:00:00.000+00:00",
            second: "2026-12-02T10:00:00.000+00:00",
            elsewhere: "2026-12-02T09:00:00.000+00:00",
        },
    )
    # Then the first has its two, the second none since 10:00, the other organisation's none
    assert counts == {first: 2}
