"""An organisation's settings changed by a person (`PUT /settings`, issue #19 item 1):
checked whole, every problem named at once, stored, audited by field."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from customer_import.organisation_settings import SETTINGS_CHANGED, change_settings
from customer_import.organisations import (
    InvalidSettings,
    OrganisationProfile,
    ProductLimits,
    checked_settings,
)

from tests.fakes import FakeAuditLog, FakeOrganisations

LIMITS = ProductLimits(max_file_bytes=30 * 1_048_576, max_rows=100_000)
NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def test_a_whole_document_is_stored_and_the_change_audited_by_field() -> None:
    # Given an organisation with the default settings
    store, audit = FakeOrganisations(), FakeAuditLog()

    # When a person puts a group map, a zone and a lower row limit
    stored = change_settings(
        store,
        audit,
        "org-1",
        {
            "time_zone": "Europe/Dublin",
            "group_map": {"Trade": "Fleet", "Retail ": "Walk-in"},
            "max_rows": 20_000,
        },
        LIMITS,
        "alice",
        NOW,
    )

    # Then they are stored, the fields left out at their defaults
    assert store.get("org-1") == stored
    assert (stored.time_zone, stored.phone_region, stored.recycle_bin_days) == (
        "Europe/Dublin",
        "GB",
        14,
    )
    assert stored.map_group("retail") == ("Walk-in", True)
    # And the audit entry names the fields that changed, before and after
    [entry] = audit.entries("org-1")
    assert (entry.action, entry.actor) == (SETTINGS_CHANGED, "alice")
    assert entry.details["fields"] == ["group_map", "max_rows", "time_zone"]
    assert entry.details["before"]["time_zone"] == "Europe/London"
    assert entry.details["after"]["max_rows"] == 20_000


def test_the_same_settings_again_write_and_audit_nothing() -> None:
    # Given stored settings
    store, audit = FakeOrganisations(), FakeAuditLog()
    store.put(OrganisationProfile("org-1", recycle_bin_days=7))

    # When the same document is put again
    change_settings(store, audit, "org-1", {"recycle_bin_days": 7}, LIMITS, "alice", NOW)

    # Then nothing is audited
    assert audit.entries("org-1") == []


def test_every_problem_of_a_document_is_named_at_once_and_nothing_is_stored() -> None:
    # Given a document wrong in every field it holds
    document = {
        "time_zone": "Mars/Olympus",
        "phone_region": "XX",
        "group_map": {"Trade": "Fleet", " trade": "Other", "": "Nobody"},
        "max_file_bytes": 31 * 1_048_576,
        "max_rows": 0,
        "recycle_bin_days": 30,
        "colour": "blue",
    }
    store = FakeOrganisations()

    # When it is put
    with pytest.raises(InvalidSettings) as refused:
        change_settings(store, FakeAuditLog(), "org-1", document, LIMITS, "alice", NOW)

    # Then each problem is named, with the field
    problems = refused.value.problems
    assert [p.split(":")[0] for p in problems] == [
        "colour",
        "time_zone",
        "phone_region",
        "group_map",
        "group_map",
        "max_file_bytes",
        "max_rows",
        "recycle_bin_days must be between 1 and 14 days, not 30",
    ]
    assert "'Trade' and ' trade' are the same name" in str(refused.value)
    assert "from 1 to 31,457,280 (the product's limit)" in str(refused.value)
    # And nothing was stored
    assert store.profiles == {}


def test_a_document_of_no_fields_is_the_defaults() -> None:
    # Given no field at all
    # When it is checked
    settings = checked_settings("org-1", {}, LIMITS)
    # Then it is the defaults
    assert settings == OrganisationProfile("org-1")
