"""Import profiles (issue #19 item 2, design §5.8): a document checked whole, every problem
named at once; the options an import with the profile runs with."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from customer_import.changes.rules import Mode, Transfer
from customer_import.profiles import (
    PROFILE_SAVED,
    InvalidProfile,
    checked_profile,
    save_profile,
)

from tests.fakes import FakeAuditLog, FakeProfiles


def test_a_profile_gives_its_imports_their_account_and_options() -> None:
    # Given an ERP's nightly profile: a sync into jones, moving customers, unattended
    document = {
        "account": "jones",
        "mode": "sync",
        "transfer": "move",
        "transfer_related": True,
        "review": "auto",
        "on_duplicate": "merge",
        "max_delete_percent": 5,
    }
    # When it is saved
    store, audit = FakeProfiles(), FakeAuditLog()
    profile = save_profile(store, audit, "org-1", "nightly", document, "alice", datetime.now(UTC))
    # Then an import with it runs as it says, and names it
    options = profile.job_options()
    assert (options.mode, options.transfer, options.transfer_related) == (
        Mode.SYNC,
        Transfer.MOVE,
        True,
    )
    assert (options.auto_run, options.max_delete_percent, options.profile) == (True, 5.0, "nightly")
    assert profile.account == "jones" and store.get("org-1", "nightly") == profile
    # And its document reads back as written, the rest at the defaults
    assert profile.to_document() == {
        "source": "techman",
        "key": "external",
        "field_policy": "overwrite",
        "decision_timeout_seconds": None,
        **document,
    }
    [entry] = audit.entries("org-1")
    assert (entry.action, entry.details["profile"]) == (PROFILE_SAVED, "nightly")


def test_every_problem_of_a_profile_is_named_at_once() -> None:
    # Given a profile wrong in many ways
    document = {
        "source": "sap",
        "account": "north pole",
        "mode": "merge",
        "review": "sometimes",
        "max_delete_percent": 150,
        "decision_timeout_seconds": 5,
        "transfer_related": True,
        "columns": {"Kundennummer": "CustomerNumber"},
    }
    # When it is checked
    with pytest.raises(InvalidProfile) as refused:
        checked_profile("org-1", "Nightly!", document)
    # Then each problem is named by its field
    assert [p.split(":")[0] for p in refused.value.problems] == [
        "name",
        "columns",
        "source",
        "account",
        "mode",
        "review",
        "max_delete_percent",
        "decision_timeout_seconds",
        "transfer",
    ]


def test_a_transfer_needs_an_update_mode() -> None:
    # Given an insert profile that moves customers
    # When it is checked
    # Then the transfer rule is named
    with pytest.raises(InvalidProfile, match="transfer: transfer move needs mode update or sync"):
        checked_profile("org-1", "bad", {"transfer": "move"})
