"""Resending unprocessed items with exponential backoff and full jitter."""

from __future__ import annotations

import pytest
from customer_import.backoff import send_until_processed
from customer_import.errors import TransientImportError


def test_unprocessed_items_are_resent_after_growing_random_waits() -> None:
    # Given a table that leaves items unprocessed twice, then takes the rest
    answers = [["c", "d"], ["d"], []]
    sent: list[list[str]] = []

    def send(pending):
        sent.append(list(pending))
        return answers[len(sent) - 1]

    waits: list[float] = []
    # When four items are sent, with the jitter at its maximum
    resends = send_until_processed(
        send, ["a", "b", "c", "d"], sleep=waits.append, jitter=lambda: 1.0, base_s=0.05
    )
    # Then only what was left is resent, each time after a wait that doubles
    assert sent == [["a", "b", "c", "d"], ["c", "d"], ["d"]]
    assert resends == 2
    assert waits == [0.1, 0.2]


def test_waits_are_capped_and_random() -> None:
    waits: list[float] = []
    send_until_processed(
        lambda p: p if len(waits) < 5 else [],
        ["x"],
        sleep=waits.append,
        jitter=lambda: 0.5,
        cap_s=0.3,
    )
    assert waits == [0.05, 0.1, 0.15, 0.15, 0.15]


def test_a_table_that_never_takes_the_items_fails_the_batch_as_transient() -> None:
    # Given a table that keeps throttling
    with pytest.raises(TransientImportError, match="1 items still unprocessed after 3 attempts"):
        send_until_processed(lambda pending: pending, ["x"], attempts=3, sleep=lambda s: None)


def test_a_transient_failure_is_retried_and_others_are_not() -> None:
    # Given an action that conflicts twice, then succeeds
    calls: list[int] = []

    def conflicted() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise RuntimeError("TransactionConflict")
        return "done"

    waits: list[float] = []
    from customer_import.backoff import retry_transient

    # When it is run with conflicts counted as transient
    result = retry_transient(
        conflicted, lambda e: "Conflict" in str(e), sleep=waits.append, jitter=lambda: 1.0
    )
    # Then it is retried after growing waits and its result comes back
    assert (result, len(calls), waits) == ("done", 3, [0.1, 0.2])
    # And an error that is not transient passes through at once
    with pytest.raises(KeyError):
        retry_transient(lambda: {}["x"], lambda e: False, sleep=waits.append)


def test_a_transient_failure_that_persists_becomes_a_transient_import_error() -> None:
    from customer_import.backoff import retry_transient

    def always() -> None:
        raise RuntimeError("TransactionConflict")

    with pytest.raises(TransientImportError, match="Still failing after 2 attempts"):
        retry_transient(always, lambda e: True, attempts=2, sleep=lambda s: None)
