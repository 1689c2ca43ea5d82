"""A job's options and counters as the stores keep them."""

from __future__ import annotations

import json

from customer_import.changes.rules import DEFAULT_MAX_DELETE_PERCENT, FieldPolicy, MatchKey, Mode
from customer_import.jobs import DuplicatePolicy, JobOptions
from customer_import.sources.layout import DateOrder, FileLayout


def test_job_options_read_back_as_stored() -> None:
    # Given a sync's options, every one set away from its default
    options = JobOptions(
        auto_run=True,
        on_duplicate=DuplicatePolicy.MERGE,
        mode=Mode.SYNC,
        decision_timeout_seconds=60,
        key=MatchKey.BOTH,
        field_policy=FieldPolicy.FILL_EMPTY,
        max_delete_percent=7.5,
        confirm_deletions=True,
        profile="nightly",
        layout=FileLayout(
            source="mapped",
            columns={"Kundennummer": "CustomerNumber", "Name": "CustomerName"},
            date_order=DateOrder.DETECT,
            phone_region="DE",
            boolean_words={"ja": True},
            format="xlsx",
            sheet="Kunden",
        ),
    )
    # When they are stored (as JSON) and read back
    stored = options.to_dict()
    # Then they are the same options, each enum stored as its plain value
    assert JobOptions.from_dict(stored) == options
    assert (stored["mode"], stored["key"], stored["field_policy"]) == ("sync", "both", "fill_empty")
    assert all(type(value) in (bool, int, float, str, dict) for value in stored.values())
    assert json.loads(json.dumps(stored)) == stored


def test_a_job_stored_before_the_sync_options_reads_them_as_defaults() -> None:
    # Given the options of a job stored before modes, keys and deletion limits existed
    stored = {"auto_run": False, "on_duplicate": "skip", "mode": "insert"}
    # When they are read back
    options = JobOptions.from_dict(stored)
    # Then each new option has its default
    assert (options.key, options.field_policy) == (MatchKey.EXTERNAL, FieldPolicy.OVERWRITE)
    assert options.max_delete_percent == DEFAULT_MAX_DELETE_PERCENT
    assert options.confirm_deletions is False
    assert options.mode is Mode.INSERT
