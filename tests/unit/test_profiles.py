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
        "columns": {},
        "date_order": "day_first",
        "phone_region": None,
        "boolean_words": {},
        "format": "csv",
        "sheet": None,
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
        "source",
        "columns",
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


def test_a_mapped_profile_reads_an_erp_file_its_own_way() -> None:
    # Given a German ERP's export: its own headers, dates as TT.MM.JJJJ, German yes/no words
    document = {
        "source": "mapped",
        "columns": {"Kundennummer": "CustomerNumber", "Name": "CustomerName", "Mobil": "Phone"},
        "date_order": "detect",
        "phone_region": "DE",
        "boolean_words": {"ja": True, "nein": False},
        "format": "xlsx",
        "sheet": "Kunden",
    }
    # When it is checked
    profile = checked_profile("org-1", "erp", document)
    # Then its imports read files with that layout, and it reads back as written
    layout = profile.job_options().layout
    assert (layout.is_mapped, layout.date_order, layout.phone_region) == (True, "detect", "DE")
    assert {k: profile.to_document()[k] for k in document} == document


def test_a_mapping_is_checked_column_by_column() -> None:
    # Given a mapping onto a misspelt column, two headers onto one column, no CustomerName,
    # a region that does not exist and yes/no words that are not words
    document = {
        "source": "mapped",
        "columns": {"Nr": "customernumber", "Mail": "Email", "E-Mail": "Email"},
        "phone_region": "XX",
        "boolean_words": {" Ja": True},
        "sheet": "Kunden",
    }
    # When it is checked
    with pytest.raises(InvalidProfile) as refused:
        checked_profile("org-1", "erp", document)
    # Then each is named, with a hint where one helps
    problems = refused.value.problems
    assert (
        "columns: 'Nr' maps to 'customernumber', not a canonical column (did you mean 'CustomerNumber'?)"
        in problems
    )
    assert (
        "columns: 'Mail' and 'E-Mail' both map to Email; map one header to each column" in problems
    )
    assert "columns: no header maps to CustomerName, which a mapped file needs" in problems
    assert "columns: no header maps to CustomerNumber, which a mapped file needs" in problems
    assert any(p.startswith("phone_region:") for p in problems)
    assert any(p.startswith("boolean_words: ' Ja'") for p in problems)
    assert "sheet: only an xlsx file has sheets" in problems


def test_techman_files_keep_their_contract() -> None:
    # Given a Techman profile that maps columns and reads dates month-first
    # When it is checked
    with pytest.raises(InvalidProfile) as refused:
        checked_profile(
            "org-1", "t", {"columns": {"Nr": "CustomerNumber"}, "date_order": "month_first"}
        )
    # Then both are refused: Techman's columns and date order are fixed
    assert [p.split(":")[0] for p in refused.value.problems] == ["columns", "date_order"]
