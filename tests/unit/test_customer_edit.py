"""A person's edit of a customer (`PATCH /customers/{id}`, issue #18): cleaned as an import
cleans, one write on the version read, refused over a change it did not see, audited."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from customer_import.customers.edit import EDITED, EditConflict, InvalidEdit, edit
from customer_import.customers.repository import Bin
from customer_import.queries import CustomerNotFound

from tests.fakes import FakeAuditLog
from tests.unit.test_transfer import AT, ORG, smith_with_activities

NOW = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)


def test_an_edit_is_cleaned_written_once_and_audited_by_field_name() -> None:
    # Given smith's customer 1 at version 1
    world = smith_with_activities(["1"])
    audit = FakeAuditLog()
    customer_id = world.account("smith")["1"]

    # When a person changes its phone (as people write it) and its email
    edited = edit(
        world.customers,
        audit,
        ORG,
        customer_id,
        {"phone": "07712 345678", "email": " ann@example.com ", "name": "Customer 1"},
        1,
        "bob",
        NOW,
    )

    # Then the values are stored cleaned, the version raised, the person named as the writer
    assert (edited.value("phone"), edited.value("email")) == ("+447712345678", "ann@example.com")
    assert (edited.version, edited.updated_by_job) == (2, "edit:bob")
    # And the audit entry names the fields that changed (the name did not), not their values
    [entry] = audit.entries(ORG)
    assert (entry.action, entry.actor, entry.job_id) == (EDITED, "bob", customer_id)
    assert entry.details["fields"] == ["email", "phone"]
    assert (entry.details["version_before"], entry.details["version"]) == (1, 2)
    assert "ann@example.com" not in str(entry.details)


def test_an_edit_that_changes_nothing_writes_nothing() -> None:
    # Given smith's customer 1
    world = smith_with_activities(["1"])
    audit = FakeAuditLog()
    customer_id = world.account("smith")["1"]
    writes = world.customers.writes

    # When a person sets its name to the name it has
    same = edit(world.customers, audit, ORG, customer_id, {"name": "Customer 1"}, None, "bob", NOW)

    # Then nothing was written or audited
    assert same.version == 1 and world.customers.writes == writes and audit.entries(ORG) == []


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"phone": "12"}, "phone", "Phone normalisation failed"),
        ({"email": "not-an-email"}, "email", "Invalid email address"),
        ({"name": "  "}, "name", "A customer needs a name"),
        ({"name": None}, "name", "A customer needs a name"),
        ({"credit_hold": "yes"}, "credit_hold", "must be true, false or null"),
        ({"account_id": "jones"}, "account_id", "not a field that can be edited"),
    ],
)
def test_a_value_the_rules_refuse_names_the_field_and_writes_nothing(
    changes: dict[str, object], field: str, reason: str
) -> None:
    # Given smith's customer 1
    world = smith_with_activities(["1"])
    customer_id = world.account("smith")["1"]
    writes = world.customers.writes

    # When a person's edit holds a value the cleanup rules refuse
    with pytest.raises(InvalidEdit) as refused:
        edit(world.customers, FakeAuditLog(), ORG, customer_id, changes, None, "bob", NOW)

    # Then the error names the field and the reason, and nothing was written
    assert refused.value.field == field and reason in str(refused.value)
    assert world.customers.writes == writes


def test_an_edit_over_a_version_that_moved_on_is_refused_saying_so() -> None:
    # Given smith's customer 1, edited once already (version 2)
    world = smith_with_activities(["1"])
    customer_id = world.account("smith")["1"]
    edit(world.customers, FakeAuditLog(), ORG, customer_id, {"title": "Dr"}, 1, "bob", NOW)

    # When another person edits it from the version 1 they read
    with pytest.raises(EditConflict) as refused:
        edit(world.customers, FakeAuditLog(), ORG, customer_id, {"title": "Ms"}, 1, "eve", NOW)

    # Then it is refused, naming the version it is at; the first edit stands
    assert "is at version 2, not 1" in str(refused.value)
    stored = world.customers.get(ORG, customer_id)
    assert stored is not None and stored.value("title") == "Dr"


def test_a_binned_or_another_organisations_customer_is_not_found() -> None:
    # Given smith's customer 1 binned, and customer 2 live
    world = smith_with_activities(["1", "2"])
    binned, live = world.account("smith")["1"], world.account("smith")["2"]
    assert world.customers.save([Bin(ORG, binned, 1, "job-x", AT, "2026-12-20")]) == []

    # When either is edited, the live one by another organisation
    # Then both are not found
    with pytest.raises(CustomerNotFound):
        edit(world.customers, FakeAuditLog(), ORG, binned, {"title": "Dr"}, None, "bob", NOW)
    with pytest.raises(CustomerNotFound):
        edit(world.customers, FakeAuditLog(), "org-2", live, {"title": "Dr"}, None, "bob", NOW)
