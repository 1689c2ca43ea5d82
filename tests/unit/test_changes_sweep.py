"""What a sync bins, and when it must be confirmed first (issue #16)."""

from __future__ import annotations

from customer_import.changes.sweep import FileKeys, confirmation_needed, count_sweep, to_bin
from customer_import.customers.repository import CustomerKey


def live(count: int) -> list[CustomerKey]:
    return [CustomerKey(f"id-{n}", str(n), 1) for n in range(count)]


def file_keys(numbers: range) -> FileKeys:
    keys = FileKeys()
    for n in numbers:
        keys.add(str(n))
    return keys


def test_binning_exactly_the_threshold_goes_on():
    # Given 100 live customers and a file holding 80 of them
    keys = file_keys(range(80))

    # When the sweep is counted
    count = count_sweep("north", live(100), keys)

    # Then it bins 20 %, which is not over the threshold
    assert (count.live, count.to_bin, count.percent) == (100, 20, 20.0)
    assert confirmation_needed(count) is None


def test_binning_over_the_threshold_needs_confirmation():
    # Given 100 live customers and a file holding 50 of them
    count = count_sweep("north", live(100), file_keys(range(50)))

    # When the threshold is checked
    message = confirmation_needed(count, 20)

    # Then a person must confirm, told how many, of how many, where and why
    assert message == (
        "This sync would bin 50 of the 100 customers of account north (50 %), over the 20 % "
        "threshold; confirm the deletions to go on"
    )


def test_the_customers_to_bin_are_those_the_file_no_longer_holds_with_their_versions():
    # Given 5 live customers; the file holds 0 and 1 by number and 2 by internal id
    keys = file_keys(range(2))
    keys.add(None, "id-2")

    # When the sweep is planned
    binned = to_bin(live(5), keys)

    # Then 3 and 4 are binned at the version read, one at a time
    assert next(binned) == CustomerKey("id-3", "3", 1)
    assert [k.customer_id for k in binned] == ["id-4"]


def test_a_failed_rows_key_protects_its_customer():
    # Given a file whose customer 1 failed cleanup, its number read all the same
    keys = file_keys(range(1))
    keys.add("1")  # what Prepare adds for a failed row whose key was readable

    # When the sweep is planned over customers 0, 1 and 2
    binned = [k.customer_id for k in to_bin(live(3), keys)]

    # Then only 2 is binned
    assert binned == ["id-2"]
