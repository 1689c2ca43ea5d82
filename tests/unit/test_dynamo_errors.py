"""Which DynamoDB transaction failures the job store retries."""

from __future__ import annotations

from types import SimpleNamespace

from customer_import.adapters.dynamo import _cancellation_codes, _transaction_contended


def cancelled(*codes: str | None) -> Exception:
    error = Exception("transaction cancelled")
    error.cancellation_reasons = [None if c is None else SimpleNamespace(code=c) for c in codes]  # type: ignore[attr-defined]
    error.cause_response_code = "TransactionCanceledException"  # type: ignore[attr-defined]
    return error


def test_conflicts_and_throttling_on_the_job_item_are_retried() -> None:
    assert _transaction_contended(cancelled(None, "TransactionConflict"))
    assert _transaction_contended(cancelled("ThrottlingError", None))


def test_a_batch_recorded_before_is_not_retried_but_recognised() -> None:
    error = cancelled("ConditionalCheckFailed", None)
    assert not _transaction_contended(error)
    assert _cancellation_codes(error)[:1] == ["ConditionalCheckFailed"]
