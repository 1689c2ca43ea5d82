"""The preview a person reads before anything is written, and the organisation's settings."""

from __future__ import annotations

from customer_import.organisations import OrganisationProfile

from tests.fakes import World
from tests.unit.techman_files import customers, row, techman_csv
from tests.unit.test_pipeline import ORG, uploaded


def prepared(world: World, content: bytes) -> tuple[str, dict]:
    job_id = uploaded(world, content)
    world.pipeline.validate(ORG, job_id)
    world.pipeline.prepare(ORG, job_id)
    job = world.pipeline.job(ORG, job_id)
    return job_id, world.objects.get_json(job.preview_key)


def test_the_preview_shows_original_and_cleaned_for_every_changed_cell() -> None:
    # Given a customer whose phone, date, flag and registration need cleaning
    world = World()
    content = techman_csv(
        [
            row(
                "1",
                "Ann Lee",
                Phone="+44 (0)7712 345678",
                CustomerOnStop="yes",
                VehicleRegistration="ab12 cde",
            )
        ]
    )
    # When the file is prepared
    _, preview = prepared(world, content)
    # Then the preview lists each change with its row and column
    [customer] = preview["customers"]
    changes = {c["column"]: (c["original"], c["cleaned"]) for c in customer["changes"]}
    assert changes["Phone"] == ("+44 (0)7712 345678", "+447712345678")
    assert changes["CustomerOnStop"] == ("yes", True)
    assert changes["DateCreated"] == ("25/12/2020 10:00:00", "2020-12-25T10:00:00+00:00")
    assert changes["VehicleRegistration"] == ("ab12 cde", "AB12CDE")
    assert "CustomerName" not in changes and "VehicleRemindersEnabled" not in changes
    assert all(c["row"] == 2 for c in customer["changes"])


def test_the_preview_counts_the_whole_file_and_shows_errors() -> None:
    # Given 150 customers, one with a bad phone and one with an impossible date
    world = World()
    rows = customers(150)
    rows[3]["Phone"] = "123"
    rows[5]["DateCreated"] = "31/02/2020"
    # When prepared
    _, preview = prepared(world, techman_csv(rows))
    # Then the counts cover the whole file, the first 100 customers are shown with their issues
    assert preview["counts"] == {
        "rows": 150,
        "customers": 150,
        "vehicles": 0,
        "rows_with_warnings": 1,
        "rows_failing": 1,
        "customers_failing": 1,
        "duplicates": 0,
    }
    assert len(preview["customers"]) == 100
    assert preview["customers"][3]["errors"] == [
        {"row": 5, "column": "Phone", "reason": "Phone normalisation failed"}
    ]
    assert preview["customers"][5]["warnings"][0]["column"] == "DateCreated"
    assert preview["customers"][5]["date_created"] is None


def test_the_failing_rows_and_customers_are_counted_each_in_its_own_unit() -> None:
    # Given a customer on three rows with a bad phone, and a good customer
    world = World()
    content = techman_csv(
        [
            *(
                row("1", "Ann Lee", Phone="123", VehicleRegistration=f"AB1{n} CDE")
                for n in range(3)
            ),
            row("2", "Bob Hall"),
        ]
    )
    # When prepared
    _, preview = prepared(world, content)
    # Then three rows will fail, and one customer (the unit the summary's `failed` counts)
    assert (preview["counts"]["rows_failing"], preview["counts"]["customers_failing"]) == (3, 1)


def test_the_whole_files_row_errors_are_listed_page_by_page_beyond_the_preview() -> None:
    # Given 2,500 customers, every second one with a bad phone (1,250 errors: two stored pages)
    world = World()
    rows = customers(2500)
    for bad in rows[1::2]:
        bad["Phone"] = "123"
    job_id, preview = prepared(world, techman_csv(rows))
    # When the row errors are read from offset 990, across the first stored page's end, and
    # past the last one
    page = world.pipeline.row_errors(ORG, job_id, offset=990, limit=20)
    last = world.pipeline.row_errors(ORG, job_id, offset=1240, limit=1000)
    beyond = world.pipeline.row_errors(ORG, job_id, offset=5000, limit=10)
    # Then every error is there, in file order, with its row, column and reason, far beyond
    # the preview's first 100 customers
    assert len(preview["customers"]) == 100
    assert (page.total, page.offset, len(page.items)) == (1250, 990, 20)
    assert [e["row"] for e in page.items] == [2 + 2 * n + 1 for n in range(990, 1010)]
    assert page.items[0] == {"row": 1983, "column": "Phone", "reason": "Phone normalisation failed"}
    assert [e["row"] for e in last.items] == [2 + 2 * n + 1 for n in range(1240, 1250)]
    assert (beyond.total, beyond.items) == (1250, [])


def test_a_file_without_errors_has_an_empty_first_page() -> None:
    # Given a clean file, prepared
    world = World()
    job_id, _ = prepared(world, techman_csv(customers(3)))
    # When its row errors are read
    page = world.pipeline.row_errors(ORG, job_id)
    # Then there are none
    assert (page.total, page.items) == (0, [])


def test_groups_go_through_the_organisation_map_and_unknown_names_are_flagged() -> None:
    # Given an organisation mapping Techman groups to its own
    world = World()
    world.organisations.put(
        OrganisationProfile(ORG, group_map={"retail": "Walk-in", "Trade": "Trade accounts"})
    )
    content = techman_csv(
        [
            row("1", "Ann Lee", CustomerGroupName="RETAIL "),
            row("2", "Bob Hall", CustomerGroupName="VIP"),
        ]
    )
    # When prepared
    _, preview = prepared(world, content)
    # Then known names are mapped, unknown ones kept and flagged
    ann, bob = preview["customers"]
    assert ann["customer_group"] == "Walk-in" and ann["warnings"] == []
    assert bob["customer_group"] == "VIP"
    assert bob["warnings"] == [
        {
            "row": 3,
            "column": "CustomerGroupName",
            "reason": "Unknown customer group 'VIP': kept as it is",
        }
    ]


def test_dates_are_read_in_the_organisations_time_zone() -> None:
    # Given a garage in Dublin
    world = World()
    world.organisations.put(OrganisationProfile(ORG, time_zone="Europe/Dublin"))
    # When a summer date is prepared
    _, preview = prepared(world, techman_csv([row("1", "Ann Lee", DateCreated="01/07/2021 09:30")]))
    # Then it carries Dublin's summer offset
    assert preview["customers"][0]["date_created"] == "2021-07-01T09:30:00+01:00"


def test_more_rows_than_the_organisations_limit_reject_the_file_saying_so() -> None:
    # Given an organisation whose limit is 10 rows
    world = World()
    world.organisations.put(OrganisationProfile(ORG, max_rows=10))
    job_id = uploaded(world, techman_csv(customers(11)))
    world.pipeline.validate(ORG, job_id)
    # When the file is prepared
    result = world.pipeline.prepare(ORG, job_id)
    # Then it is rejected, and the message states the limit
    job = world.pipeline.job(ORG, job_id)
    assert result["rejected"] is True
    assert (job.status, job.reason) == (
        "rejected",
        "The file has more than 10 data rows, the limit; split it into smaller files",
    )


def test_a_file_over_the_organisations_size_limit_is_rejected_before_reading() -> None:
    world = World()
    world.organisations.put(OrganisationProfile(ORG, max_file_bytes=1_048_576))
    job_id = uploaded(world, techman_csv(customers(1)) + b"x" * 2_000_000)
    world.pipeline.validate(ORG, job_id)
    job = world.pipeline.job(ORG, job_id)
    assert (job.status, job.reason) == ("rejected", "The file is 1.9 MB; the limit is 1.0 MB")


def test_a_disagreeing_row_warns_naming_the_column() -> None:
    world = World()
    content = techman_csv([row("1", "Ann Lee"), row("1", "Ann Lee", Phone="07712 999888")])
    _, preview = prepared(world, content)
    assert preview["customers"][0]["warnings"] == [
        {
            "row": 3,
            "column": "Phone",
            "reason": "Phone differs from row 2; the first row's value is kept",
        }
    ]


def test_rows_that_cannot_be_read_are_listed_in_the_preview() -> None:
    # Given a file with a short row
    world = World()
    content = techman_csv([row("1", "Ann Lee")]) + b"2,Short\r\n"
    # When prepared
    _, preview = prepared(world, content)
    # Then the preview lists it with its row number and reason
    assert preview["unreadable_rows"] == [
        {"row": 3, "column": "(row)", "reason": "Row has 2 fields; the header has 15"}
    ]
    assert preview["counts"]["rows_failing"] == 1
