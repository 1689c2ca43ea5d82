"""Possible duplicates and the decision (issue 4), on in-memory fakes."""

from __future__ import annotations

from typing import Any

import pytest
from customer_import.duplicates import (
    Decision,
    match_keys,
    normalise_name,
)
from customer_import.errors import InvalidDecision
from customer_import.jobs import JobStatus

from tests.fakes import World
from tests.unit.techman_files import customers, row, techman_csv
from tests.unit.test_pipeline import ORG, import_all, run_to_ready


def imported(world: World, rows: list[dict[str, str]], default: str | None = "skip", **set_: str):
    """Given a file run to the decision, decided, and imported to the end."""
    job_id = run_to_ready(world, techman_csv(rows))
    world.pipeline.submit_decision(ORG, job_id, default, set_ or None, "alice")
    import_all(world, job_id)
    return world.pipeline.job(ORG, job_id)


def counts(job: Any) -> dict[str, int]:
    names = ("imported", "merged", "skipped_duplicates", "skipped_user", "failed")
    return {name: job.counter(name) for name in names}


def second_file() -> list[dict[str, str]]:
    """Overlapping `customers(6)` (numbers 1000-1005): 2 by email, 1 by phone, 1 by name only
    (giving no email or phone that says otherwise), 1 repeating another row of this file by
    email, and 1 new."""
    return [
        row("2000", "Different Name", Email="customer0@example.com"),
        row("2001", "Other Person", Email="CUSTOMER1@example.com "),
        row("2002", "Someone Else", Phone="+44 7712 001002"),
        row("2003", "Mr. customer3   PERSON", Email="", Phone=""),
        row("2004", "Brand New", Email="brand@new.org"),
        row("2005", "Brand New Too", Email="brand@new.org", Phone="07712 999999"),
    ]


@pytest.mark.parametrize(
    ("name", "normalised"),
    [
        ("Mr. Seán O'Brien", "sean obrien"),
        ("  DR   jane  SMITH-JONES ", "jane smith jones"),
        ("Mrs", None),
        ("Carter Motors Ltd.", "carter motors ltd"),
    ],
)
def test_names_are_compared_without_case_accents_punctuation_or_titles(
    name: str, normalised: str | None
) -> None:
    assert normalise_name(name) == normalised


def test_match_keys_cover_number_email_phones_and_name() -> None:
    keys = match_keys(
        {
            "external_customer_number": " 42 ",
            "email": " Ann@Example.COM",
            "phone": "+447712000001",
            "landline": "+442079460000",
            "name": "Ann Lee",
        }
    )
    assert keys == {
        "external:42",
        "email:ann@example.com",
        "phone:+447712000001",
        "phone:+442079460000",
        "name:ann lee",
    }


def test_a_name_alone_does_not_flag_people_whose_email_or_phones_differ() -> None:
    # Given a stored Ann Lee
    world = World()
    imported(world, [row("1", "Ann Lee", Email="ann@example.com", Phone="07712 000001")])
    # When a file brings another Ann Lee with her own email, one with her own email and
    # phone, and one who gives neither
    rows = [
        row("2", "Ann Lee", Email="ann.lee@example.org", Phone=""),
        row("3", "Ann Lee", Email="ann3@example.org", Phone="07712 000003"),
        row("4", "ANN LEE", Email="", Phone=""),
    ]
    job_id = run_to_ready(world, techman_csv(rows))
    # Then only the one with nothing to tell them apart is a possible duplicate
    page = world.pipeline.duplicates(ORG, job_id)
    assert [
        (e["external_customer_number"], e["match"]["kind"], e["match"]["keys"]) for e in page.items
    ] == [("4", "existing", ["name"])]


def test_a_second_file_is_flagged_against_stored_customers_and_its_own_rows() -> None:
    # Given six customers already imported
    world = World()
    imported(world, customers(6))
    # When a second file overlapping them is prepared
    job_id = run_to_ready(world, techman_csv(second_file()))
    # Then each overlap is flagged with what it matches, on which keys, how surely
    page = world.pipeline.duplicates(ORG, job_id)
    found = {
        e["external_customer_number"]: (
            e["match"]["kind"],
            e["match"]["customer"]["external_customer_number"],
            e["match"]["keys"],
            e["match"]["confidence"],
        )
        for e in page.items
    }
    assert found == {
        "2000": ("existing", "1000", ["email"], "high"),
        "2001": ("existing", "1001", ["email"], "high"),
        "2002": ("existing", "1002", ["phone"], "high"),
        "2003": ("existing", "1003", ["name"], "low"),
        "2005": ("file", "2004", ["email"], "high"),
    }
    assert page.total == 5 == world.pipeline.job(ORG, job_id).counter("duplicates")
    # And the look-ups were batched: one for the one chunk of the file, not one per row
    # (the first import, with nothing stored yet, looked nothing up)
    assert world.customers.key_lookups == 1


def test_a_first_import_looks_nothing_up_and_still_flags_its_own_repeats() -> None:
    # Given an organisation with no stored customer (a migration's first file)
    world = World()
    # When a file repeating one of its own customers is prepared
    job_id = run_to_ready(world, techman_csv(second_file()))
    # Then the repeat is flagged against the earlier row
    page = world.pipeline.duplicates(ORG, job_id)
    assert [(e["external_customer_number"], e["match"]["kind"]) for e in page.items] == [
        ("2005", "file")
    ]
    # And the match-key index was never read: there was nothing stored to match
    assert world.customers.key_lookups == 0


@pytest.mark.parametrize(
    ("default", "expected"),
    [
        # A merge counts in imported: the stored customer now reflects the file (design §5.4).
        ("skip", {"imported": 1, "merged": 0, "skipped_duplicates": 5, "skipped_user": 0}),
        ("merge", {"imported": 6, "merged": 5, "skipped_duplicates": 0, "skipped_user": 0}),
        ("create", {"imported": 6, "merged": 0, "skipped_duplicates": 0, "skipped_user": 0}),
    ],
)
def test_each_default_decision_counts_what_it_did(default: str, expected: dict[str, int]) -> None:
    # Given six stored customers and a second file overlapping them
    world = World()
    imported(world, customers(6))
    # When the second file is imported with the default for all flagged customers
    job = imported(world, second_file(), default)
    # Then the counts say what happened, and the job completed
    assert counts(job) == {**expected, "failed": 0}
    assert job.status is JobStatus.COMPLETED
    stored = len(world.customers.customers)
    assert stored == 6 + expected["imported"] - expected["merged"]


def test_per_customer_choices_override_the_default_and_count_as_the_users() -> None:
    world = World()
    imported(world, customers(6))
    job = imported(world, second_file(), "merge", **{"2000": "skip", "2003": "create"})
    assert counts(job) == {
        "imported": 5,  # 2 created, 3 merged
        "merged": 3,
        "skipped_duplicates": 0,
        "skipped_user": 1,
        "failed": 0,
    }


def test_merge_fills_empty_fields_and_adds_vehicles_but_never_overwrites() -> None:
    # Given a stored customer without a landline or VAT number, with one vehicle
    world = World()
    imported(world, [row("1000", "Ann Lee", VehicleRegistration="AB12CDE")])
    # When a file matching her by email brings a different name, a landline, the same vehicle
    # written differently and a new one
    incoming = [
        row("9", "Annie Lee-Smith", Email="ann@example.com", PhoneLandline="020 7946 0000"),
        row("9", "Annie Lee-Smith", Email="ann@example.com", VehicleRegistration="ab12 cde"),
        row("9", "Annie Lee-Smith", Email="ann@example.com", VehicleRegistration="XY65ZZZ"),
    ]
    incoming[0]["VehicleRegistration"] = ""
    job = imported(world, incoming, "merge")
    # Then she keeps her id, name and phone, gains the landline and only the new vehicle
    assert counts(job)["merged"] == 1
    (ann,) = world.customers.by_number(ORG, "1000")
    assert ann["name"] == "Ann Lee"
    assert ann["phone"] == "+447712001000"
    assert ann["landline"] == "+442079460000"
    assert sorted(v["registration"] for v in ann["vehicles"]) == ["AB12CDE", "XY65ZZZ"]
    assert not world.customers.by_number(ORG, "9")


def test_a_repeat_inside_the_file_merges_into_the_customer_it_repeats() -> None:
    # Given a file where 2 repeats 1's email and brings a vehicle
    world = World()
    rows = [
        row("1", "Ann Lee", Email="ann@example.com"),
        row("2", "A. Lee", Email="ann@example.com", VehicleRegistration="XY65ZZZ"),
    ]
    # When it is imported with merge
    job = imported(world, rows, "merge")
    # Then 1 is created with 2's vehicle (merged into it), and 2 is not a customer of its own
    assert counts(job) == {
        "imported": 2,  # 1 created, 1 merged into it
        "merged": 1,
        "skipped_duplicates": 0,
        "skipped_user": 0,
        "failed": 0,
    }
    (ann,) = world.customers.by_number(ORG, "1")
    assert [v["registration"] for v in ann["vehicles"]] == ["XY65ZZZ"]
    assert not world.customers.by_number(ORG, "2")


def test_a_repeat_follows_where_its_earlier_customer_went() -> None:
    # Given a stored customer, and a file where 1 matches her and 2 repeats 1 by phone
    world = World()
    imported(world, [row("500", "Ann Lee", Email="ann@example.com")])
    rows = [
        row("1", "Ann Lee", Email="ann@example.com", Phone="07712 111111"),
        row("2", "Bob Lee", Email="bob@example.com", Phone="07712 111111"),
    ]
    # When 1 merges into the stored customer and 2 merges too
    job = imported(world, rows, "merge")
    # Then both end in the stored customer
    assert counts(job)["merged"] == 2
    (ann,) = world.customers.by_number(ORG, "500")
    assert ann["email"] == "ann@example.com"
    assert len(world.customers.customers) == 1
    # And when the earlier one is skipped instead, its repeat is skipped with it
    world2 = World()
    imported(world2, [row("500", "Ann Lee", Email="ann@example.com")])
    job2 = imported(world2, rows, "merge", **{"1": "skip"})
    assert counts(job2) == {
        "imported": 0,
        "merged": 0,
        "skipped_duplicates": 1,
        "skipped_user": 1,
        "failed": 0,
    }


def test_importing_the_same_file_twice_with_skip_imports_nothing_the_second_time() -> None:
    world = World()
    first = imported(world, customers(120))
    second = imported(world, customers(120), "skip")
    assert first.counter("imported") == 120
    assert counts(second) == {
        "imported": 0,
        "merged": 0,
        "skipped_duplicates": 120,
        "skipped_user": 0,
        "failed": 0,
    }
    assert len(world.customers.customers) == 120


def test_a_merge_batch_run_twice_adds_nothing_twice() -> None:
    world = World()
    imported(world, [row("1000", "Ann Lee")])
    # Given a second Ann Lee, with no email or phone of her own, bringing a vehicle
    incoming = row("9", "Ann Lee", Email="", Phone="", VehicleRegistration="XY65ZZZ")
    job_id = run_to_ready(world, techman_csv([incoming]))
    world.pipeline.submit_decision(ORG, job_id, "merge", None, "alice")
    # When her merge batch runs twice
    (batch,) = world.objects.get_json(world.pipeline.job(ORG, job_id).manifest_key)
    world.pipeline.import_batch(ORG, job_id, batch)
    world.pipeline.import_batch(ORG, job_id, batch)
    # Then the vehicle was added once, and the merge counted once
    (ann,) = world.customers.by_number(ORG, "1000")
    assert [v["registration"] for v in ann["vehicles"]] == ["XY65ZZZ"]
    assert world.pipeline.job(ORG, job_id).counter("merged") == 1


@pytest.mark.parametrize(
    ("default", "choices", "message"),
    [
        (None, {}, r"No decision for 1 flagged customer\(s\): 2000"),
        ("skip", {"1000": "merge"}, "Not flagged as possible duplicates: 1000"),
        ("later", {}, "Unknown decision 'later'"),
    ],
)
def test_a_decision_must_cover_exactly_the_flagged_customers(
    default: str | None, choices: dict[str, str], message: str
) -> None:
    # Given a job waiting with one flagged customer
    world = World()
    imported(world, [row("1000", "Ann Lee")])
    job_id = run_to_ready(world, techman_csv([row("2000", "Ann Lee", Email="ann@example.com")]))
    answered = len(world.workflow.successes)
    # When a decision leaves it out, or names someone else
    with pytest.raises(InvalidDecision, match=message):
        world.pipeline.submit_decision(ORG, job_id, default, choices, "alice")
    # Then nothing changed: the job still waits, the token is unanswered
    assert world.pipeline.job(ORG, job_id).status is JobStatus.READY
    assert len(world.workflow.successes) == answered
    # And a choice for each flagged customer alone is enough
    job = world.pipeline.submit_decision(ORG, job_id, None, {"2000": "create"}, "alice")
    assert job.status is JobStatus.IMPORTING


def test_decision_parses_case_and_space() -> None:
    decision = Decision.parse(" Merge ", {"7": "SKIP"})
    assert decision.to_dict() == {"default": "merge", "overrides": {"7": "skip"}}
