"""The import page for recurring syncs, in a real headless Chromium against the local stack
(issue 20, second slice): the update settings offered only to who may use them, a sync that
bins over its threshold confirmed in the page, a transfer from another account and its
rollback with the dry run, the date-order question of a mapped profile, the recycle bin with
restore, the audit log, and the profiles: kept from an import, changed, deleted.

Every screen is photographed and scanned with axe-core (`page.screen`): a serious or critical
accessibility problem fails the test that reached it.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from customer_import.access import CAPABILITIES, CUSTOMERS_ACCESS, IMPORT_MANAGE
from customer_import.changes.rules import FieldPolicy, Mode
from customer_import.jobs import JobOptions
from customer_import_local.api_client import ApiClient
from customer_import_local.erp_sample import german_csv, german_rows
from customer_import_local.tokens import local_token

from tests.browser.import_page import ImportPage
from tests.conftest import Driver
from tests.unit.techman_files import HEADER, customers, row, techman_csv


def write(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def api(stack: Any, org: str, user: str = "tester") -> ApiClient:
    """The HTTP API as another person of the organisation, with every capability."""
    return ApiClient(stack.endpoints.api_url, local_token(org, user, CAPABILITIES))


def numbers(client: ApiClient, account: str) -> list[str]:
    """The external numbers of an account's live customers."""
    return sorted(c["external_customer_number"] for c in client.all_customers(account=account))


def test_a_sync_over_its_deletion_threshold_runs_once_the_deletions_are_confirmed(
    page: ImportPage, driver: Driver, stack: Any, org: str, tmp_path: Path
) -> None:
    # Given account north holds 10 customers
    assert driver.run(org, techman_csv(customers(10)), account="north").status == "completed"
    # And the ERP's file holds only 7 of them, the first with a new email
    kept = customers(7)
    kept[0] = {**kept[0], "Email": "new.address@example.com"}
    path = write(tmp_path, "north-nightly.csv", techman_csv(kept))
    # When an admin without customers.transfer chooses a sync into north
    page.sign_in(org)
    browser = page.browser

    def settings_chosen() -> None:
        # Then the update settings are offered, and no transfer (her token cannot make one)
        assert browser.count(role="group", name="Match customers by") == 1
        assert browser.count(role="group", name="Transfer between accounts") == 0
        assert browser.attribute("value", label="Bin at most this share of the account") == "20"
        page.screen("sync-settings")

    job_id = page.start_import(path, account="north", mode="sync", before_sending=settings_chosen)
    page.wait_for_heading("Preview")
    page.screen("sync-over-its-threshold")

    # Then the preview says the sync would bin 3 of north's 10 customers (30 %), over the 20 %
    # threshold, and waits for her confirmation
    assert page.counts("What the sync will bin") == {"to_bin": "3", "live": "10", "percent": "30 %"}
    assert (
        "This sync would bin 3 of the 10 customers of account north (30 %), over the 20 % "
        "threshold" in browser.text(role="region", name="Customers the sync will bin")
    )
    counts = page.counts("The whole file")
    assert (counts["updated"], counts["unchanged"], counts["deleted"]) == ("1", "6", "3")
    # And names the three it would bin, by number
    binned = page.table("The 3 customers the sync will bin, by number")
    assert [r[:2] for r in binned] == [
        ["1007", "Customer7 Person"],
        ["1008", "Customer8 Person"],
        ["1009", "Customer9 Person"],
    ]
    # And says per customer what will happen: 1000's email, stored → file; the others unchanged
    first = browser.text(role="row", has_text="Customer0 Person")
    assert "Update" in first and "email" in first
    assert "customer0@example.com" in first and "new.address@example.com" in first
    assert "Unchanged" in browser.text(role="row", has_text="Customer1 Person")

    # When she confirms the deletions
    browser.click(role="button", name="Confirm deletions and run the import")
    page.wait_for_heading("Import completed")
    page.screen("sync-summary")
    # Then the decision sent confirmed them, and the summary counts 3 binned
    decision = driver.components.pipeline.job(org, job_id).decision
    assert decision["confirm_deletions"] is True
    summary = page.counts("Summary")
    assert (summary["updated"], summary["unchanged"], summary["deleted"]) == ("1", "6", "3")
    # And north keeps the 7 customers of the file
    assert numbers(api(stack, org), "north") == [str(n) for n in range(1000, 1007)]


def test_a_sync_that_moves_customers_from_another_account_is_rolled_back_after_its_dry_run(
    page: ImportPage, driver: Driver, stack: Any, org: str, tmp_path: Path
) -> None:
    # Given account smith holds customers 1000 to 1004, 1001 with an appointment
    assert driver.run(org, techman_csv(customers(5)), account="smith").status == "completed"
    client = api(stack, org)
    smiths = {c["external_customer_number"]: c for c in client.all_customers(account="smith")}
    client.add_activity(smiths["1001"]["customer_id"], "appointment", "2026-12-01", "MOT booked")
    # And account jones holds one customer, 5000, whom the ERP no longer sends
    jones = techman_csv([row("5000", "Jo Old")])
    assert driver.run(org, jones, account="jones").status == "completed"
    # And the ERP's file for jones holds three of smith's customers and a new one
    file_rows = [*customers(3), row("3000", "Nia New")]
    path = write(tmp_path, "jones-nightly.csv", techman_csv(file_rows))

    # When an admin with customers.transfer syncs it into jones, moving customers with their
    # related records, and lets the sync bin all of the account it no longer holds
    page.sign_in(org, capabilities=CAPABILITIES)
    browser = page.browser

    def settings_chosen() -> None:
        assert (
            browser.evaluate("document.querySelector('input[name=transfer_related]').disabled")
            is False
        )
        page.screen("transfer-settings")

    job_id = page.start_import(
        path,
        account="jones",
        mode="sync",
        transfer="move",
        with_related=True,
        max_delete_percent="100",
        before_sending=settings_chosen,
    )
    page.wait_for_heading("Preview")
    page.screen("transfer-preview")
    # Then the preview lists the transfers by account: 3 customers moved from smith
    assert page.table(
        "Customers the import will copy or move into the account, by the account they come from"
    ) == [["smith", "no", "3", "0", "3"]]
    # And says so per customer, and that the sync bins jones's one other customer (100 %)
    assert "Move from account smith" in browser.text(role="row", has_text="Customer0 Person")
    assert "Create" in browser.text(role="row", has_text="Nia New")
    assert page.counts("What the sync will bin") == {"to_bin": "1", "live": "1", "percent": "100 %"}
    counts = page.counts("The whole file")
    assert (counts["moved"], counts["created"]) == ("3", "1")
    assert browser.count(role="button", name="Run the import") == 1

    # When she runs it
    browser.click(role="button", name="Run the import")
    page.wait_for_heading("Import completed")
    summary = page.counts("Summary")
    assert (summary["moved"], summary["created"], summary["deleted"]) == ("3", "1", "1")
    assert numbers(client, "jones") == ["1000", "1001", "1002", "3000"]
    assert numbers(client, "smith") == ["1003", "1004"]
    # And a person then edits 1002 in jones
    moved = client.customers("1002", account="jones")[0]
    client.edit_customer(moved["customer_id"], {"title": "Dr"}, moved["version"])

    # When she asks what a rollback would undo
    browser.click(role="button", name="Check what a rollback would undo")
    browser.wait_for(role="heading", name="What a rollback would do now")
    page.screen("rollback-dry-run")
    # Then it would remove 3000, move two back to smith and take 5000 out of the bin, and leave
    # 1002, edited since, as it is
    assert page.counts("The rollback would undo") == {
        "created": "1",
        "deleted": "1",
        "moved": "2",
        "conflicts": "1",
    }
    [conflict] = page.table(
        "Customers changed since the import, which the rollback would leave as they are"
    )
    assert conflict[:4] == ["1002", "jones", "moved it", "move the customer back to account smith"]
    # And nothing was written
    assert numbers(client, "jones") == ["1000", "1001", "1002", "3000"]

    # When she rolls the import back
    browser.click(role="button", name="Roll the import back")
    page.wait_for_heading("Import rolled back with conflicts")
    page.screen("rolled-back-with-conflicts")
    # Then the page says what it undid, and what it left
    assert page.counts("Rollback summary") == {
        "reverted_created": "1",
        "reverted_deleted": "1",
        "reverted_moved": "2",
        "conflicts": "1",
    }
    # And the accounts hold what they held before, but the edited 1002
    assert numbers(client, "smith") == ["1000", "1001", "1003", "1004"]
    assert numbers(client, "jones") == ["1002", "5000"]
    # And 1001's appointment went back with it
    back = client.customers("1001", account="smith")[0]
    assert [a["text"] for a in client.all_activities(back["customer_id"])] == ["MOT booked"]
    # And the conflict log downloads, naming 1002
    downloaded = browser.download(
        tmp_path / "conflicts.csv", role="link", name="Download the conflict log (CSV)"
    )
    log = list(csv.DictReader(io.StringIO(Path(downloaded["path"]).read_text("utf-8-sig"))))
    assert [(line["external_customer_number"], line["action"]) for line in log] == [
        ("1002", "moved")
    ]
    # And a reload shows the rolled-back import as it is
    browser.reload()
    page.wait_for_heading("Import rolled back with conflicts")
    assert page.job_id() == job_id
    assert browser.count(role="button", name="Check what a rollback would undo") == 0


def test_a_file_whose_dates_cannot_tell_their_order_is_answered_in_the_page(
    page: ImportPage, driver: Driver, stack: Any, org: str, tmp_path: Path
) -> None:
    # Given a mapped profile for a German ERP's export that detects the date order and holds
    # its imports for review
    client = api(stack, org)
    client.put_profile(
        "erp-detect",
        {
            "source": "mapped",
            "columns": {
                "Kundennummer": "CustomerNumber",
                "Name": "CustomerName",
                "E-Mail": "Email",
                "Mobil": "Phone",
                "Telefon": "PhoneLandline",
                "Straße": "Address1",
                "PLZ": "Postcode",
                "Ort": "Town",
                "Kundengruppe": "CustomerGroupName",
                "Angelegt am": "DateCreated",
                "Gesperrt": "CustomerOnStop",
            },
            "date_order": "detect",
            "phone_region": "DE",
            "boolean_words": {"ja": True, "nein": False},
            "account": "erp",
            "mode": "update",
            "review": "hold",
        },
    )
    # And an export none of whose dates has a part over 12
    rows = german_rows(4, ambiguous_dates=True)
    path = write(tmp_path, "kunden.csv", german_csv(rows))

    # When the admin chooses the profile (the settings it fixes are shown, none asked) and
    # sends the file
    page.sign_in(org)
    browser = page.browser

    def profile_chosen() -> None:
        summary = browser.text(css='dl[aria-label="The profile\'s settings"]')
        assert "mapped" in summary and "erp" in summary and "update" in summary
        assert browser.count(role="group", name="Mode") == 0
        page.screen("profile-chosen")

    job_id = page.start_import(path, profile="erp-detect", before_sending=profile_chosen)
    page.wait_for_heading("How does the file write its dates?")
    page.screen("date-order-question")
    # Then the job asks how the file writes its dates, with some of them read both ways
    assert "day-first or month-first" in browser.text(
        role="region", name="How does the file write its dates?"
    )
    examples = page.table("Some of the file's dates, read both ways")
    written = next(r[10] for r in rows if r[10].day != r[10].month)
    as_written = written.strftime("%d.%m.%Y")
    assert examples[0][1:3] == ["Angelegt am (DateCreated)", as_written]
    day_first = written.strftime("%-d %B %Y")
    month_first = written.replace(day=written.month, month=written.day).strftime("%-d %B %Y")
    assert examples[0][3:] == [day_first, month_first]
    # And the job has sent nothing but the profile
    assert driver.components.pipeline.job(org, job_id).options.profile == "erp-detect"

    # When she answers month-first
    browser.check(role="radio", name="Month first")
    browser.click(role="button", name="Answer and read the file again")
    # Then the file is read again that way, and its preview comes, to run
    page.wait_for_heading("Preview")
    page.screen("preview-after-the-answer")
    assert client.job(job_id)["date_order"] == "month_first"
    assert page.counts("The whole file")["created"] == "4"
    browser.click(role="button", name="Run the import")
    page.wait_for_heading("Import completed")
    # And the customers' dates were read month-first
    first = client.customers("K-10001", account="erp")[0]
    assert first["date_created"][:10] == (
        f"{rows[0][10].year}-{rows[0][10].day:02d}-{rows[0][10].month:02d}"
    )


def test_binned_customers_are_listed_by_account_and_restored_from_the_recycle_bin(
    page: ImportPage, driver: Driver, stack: Any, org: str
) -> None:
    # Given a sync of north that binned 1003 and 1004
    assert driver.run(org, techman_csv(customers(5)), account="north").status == "completed"
    sync = JobOptions(mode=Mode.SYNC, max_delete_percent=50)
    synced = driver.run(org, techman_csv(customers(3)), options=sync, account="north")
    assert (synced.status, synced.counter("deleted")) == ("completed", 2)
    # And a new customer of north that took 1004's number since
    taken = techman_csv([row("1004", "Other Holder")])
    assert driver.run(org, taken, account="north").status == "completed"

    # When a person who may read customers opens the recycle bin, and asks for north's
    page.sign_in(org, capabilities=(CUSTOMERS_ACCESS,))
    browser = page.browser
    browser.click(role="link", name="Recycle bin")
    page.wait_for_heading("Recycle bin of account main")
    # (the heading comes before the listing: wait for what the listing says)
    browser.wait_for(text="The recycle bin of account main is empty.")
    browser.fill("north", label="Account", exact=True)
    browser.click(role="button", name="Show its recycle bin")
    page.wait_for_heading("Recycle bin of account north")
    browser.wait_for(role="table", name="Binned customers of account north, newest binned first")
    page.screen("recycle-bin")
    # Then it lists the two binned customers, each with when it is purged
    binned = page.table("Binned customers of account north, newest binned first")
    assert sorted(r[1] for r in binned) == ["1003", "1004"]
    assert all(r[4] == "Restore" for r in binned)

    # When she restores 1003
    browser.click(role="button", name="Restore Customer3 Person")
    browser.wait_for(text="Customer3 Person is live again in account north.")
    # And tries 1004, whose number another customer holds now
    browser.click(role="button", name="Restore Customer4 Person")
    browser.wait_for(role="alert", has_text="was not restored")
    page.screen("restored-and-refused")
    # Then 1003 is live again, and 1004 stays in the bin, the page naming why
    assert "has its external number 1004 now" in browser.text(role="alert", has_text="not restored")
    client = api(stack, org)
    assert numbers(client, "north") == ["1000", "1001", "1002", "1003", "1004"]
    assert [c["external_customer_number"] for c in client.all_binned("north")] == ["1004"]
    # And a reload shows north's bin as it is now
    browser.reload()
    page.wait_for_heading("Recycle bin of account north")
    browser.wait_for(role="table", name="Binned customers of account north, newest binned first")
    assert [r[1] for r in page.table("Binned customers of account north, newest binned first")] == [
        "1004"
    ]


def test_the_audit_log_shows_who_did_what_to_which_import_newest_first(
    page: ImportPage, driver: Driver, stack: Any, org: str
) -> None:
    # Given an import decided by tester, a rejected file and a customer alice restored
    job = driver.run(org, techman_csv(customers(2)))
    assert job.status == "completed"
    header = [column for column in HEADER if column != "Email"]
    rejected = driver.upload(org, techman_csv([row("1")], header=header), name="no-email.csv")
    driver.wait_for(org, rejected.job_id, {"rejected"})
    sync = JobOptions(mode=Mode.SYNC, max_delete_percent=100)
    assert driver.run(org, techman_csv(customers(1)), options=sync).status == "completed"
    [binned] = api(stack, org).all_binned("main")
    api(stack, org, "alice").restore(binned["customer_id"])

    # When the admin opens the audit log
    page.sign_in(org, capabilities=(IMPORT_MANAGE,))
    browser = page.browser
    assert browser.count(role="link", name="Recycle bin") == 0  # (no customers.access)
    browser.click(role="link", name="Audit log")
    page.wait_for_heading("Audit log")
    browser.wait_for(role="table", name="The organisation's audit log, newest first")
    page.screen("audit-log")
    # Then it lists the entries newest first: the restore, the sync, the rejection, the import
    rows = page.table("The organisation's audit log, newest first")
    assert [(r[1], r[2]) for r in rows] == [
        ("alice", "Customer restored from the recycle bin"),
        ("tester", "Import completed"),
        ("tester", "Import decided"),
        ("tester", "File rejected"),
        ("tester", "Import completed"),
        ("tester", "Import decided"),
    ]
    assert rows[0][3] == "customer 1001 (account main)"
    assert rows[3][3] == "no-email.csv"
    assert "Missing required columns: Email" in rows[3][4]
    assert "1 deleted" in rows[1][4] and "1 unchanged" in rows[1][4]
    assert browser.count(role="button", name="Show older entries") == 0
    # And each import's entry links to the import
    browser.click(role="link", name="no-email.csv")
    page.wait_for_heading("The file was rejected")
    assert page.job_id() == rejected.job_id


def test_the_audit_log_shows_older_entries_a_page_at_a_time(
    page: ImportPage, stack: Any, org: str
) -> None:
    # Given an organisation with 130 audit entries, one a minute
    from customer_import.adapters.dynamo import DynamoAuditLog
    from customer_import.audit import AuditEntry

    log = DynamoAuditLog()
    for minute in range(130):
        at = f"2026-11-20T{9 + minute // 60:02d}:{minute % 60:02d}:00+00:00"
        log.record(AuditEntry(org, f"note-{minute:03d}", "import.created", "tester", at, at))

    # When the admin opens the audit log
    page.sign_in(org, capabilities=(IMPORT_MANAGE,))
    browser = page.browser
    browser.click(role="link", name="Audit log")
    browser.wait_for(text="The latest 100 entries.")
    # Then it shows the newest 100, and offers the older ones
    rows = page.table("The organisation's audit log, newest first")
    assert (len(rows), rows[0][3], rows[-1][3]) == (100, "note-129", "note-030")
    # When she asks for the older entries
    browser.click(role="button", name="Show older entries")
    browser.wait_for(text="All 130 entries.")
    # Then the other 30 follow, oldest last, and nothing more is offered
    rows = page.table("The organisation's audit log, newest first")
    assert [r[3] for r in rows] == [f"note-{m:03d}" for m in reversed(range(130))]
    assert browser.count(role="button", name="Show older entries") == 0


def test_an_imports_settings_are_kept_as_a_profile_from_its_page(
    page: ImportPage, driver: Driver, stack: Any, org: str, tmp_path: Path
) -> None:
    # Given an update into account north, completed
    update = JobOptions(mode=Mode.UPDATE, field_policy=FieldPolicy.FILL_EMPTY)
    job = driver.run(org, techman_csv(customers(2)), options=update, account="north")
    assert job.status == "completed"
    # When the admin opens it and keeps its settings as profile north-nightly
    page.sign_in(org)
    browser = page.browser
    browser.goto(f"{page.web_url}#/imports/{job.job_id}")
    page.wait_for_heading("Import completed")
    browser.fill("North Nightly", label="Profile name")
    browser.click(role="button", name="Save as a profile")
    # Then a name the API would refuse is refused in the page, saying what a name is
    assert "lowercase letters, digits, - and _" in browser.text(role="alert", has_text="name")
    browser.fill("north-nightly", label="Profile name")
    browser.click(role="button", name="Save as a profile")
    browser.wait_for(
        text="Saved profile north-nightly: account north, update; a new import can choose it."
    )
    page.screen("saved-as-a-profile")
    # And the profile holds the import's settings
    profile = api(stack, org).profile("north-nightly")
    assert (profile["account"], profile["mode"], profile["field_policy"]) == (
        "north",
        "update",
        "fill_empty",
    )
    # When she saves under that name again, the page asks first, then replaces it
    browser.click(role="button", name="Save as a profile")
    browser.wait_for(text="A profile named north-nightly exists")
    browser.click(role="button", name="Replace profile north-nightly")
    browser.wait_for(
        text="Saved profile north-nightly: account north, update; a new import can choose it."
    )
    # And a new import offers it
    browser.goto(page.web_url)
    path = write(tmp_path, "next.csv", techman_csv(customers(2)))
    job_id = page.start_import(path, profile="north-nightly")
    page.wait_for_heading("Preview")
    # (which runs as the kept import did: into north, an update, its two customers unchanged)
    assert "profile north-nightly · account north · update" in browser.text(css="p.meta")
    assert page.counts("The whole file")["unchanged"] == "2"
    assert driver.components.pipeline.job(org, job_id).options.profile == "north-nightly"


def test_a_profiles_settings_are_changed_and_the_profile_deleted_in_the_page(
    page: ImportPage, stack: Any, org: str
) -> None:
    # Given two profiles: north-nightly, an update into north held for a person, and another
    client = api(stack, org)
    client.put_profile(
        "north-nightly",
        {"source": "techman", "account": "north", "mode": "update", "review": "hold"},
    )
    client.put_profile("south-weekly", {"source": "techman", "account": "south"})
    # When the admin opens the profiles
    page.sign_in(org)
    browser = page.browser
    browser.click(role="link", name="Profiles")
    page.wait_for_heading("Import profiles")
    browser.wait_for(role="link", name="south-weekly")  # the list loads after the heading
    # Then each is listed with its account, mode and review
    rows = page.table("The organisation's import profiles, by name")
    assert [r[0] for r in rows] == ["north-nightly", "south-weekly"]
    assert rows[0][2:] == ["north", "update", "waits for a person"]
    page.screen("profiles")
    # When she opens north-nightly, makes it a sync that runs without waiting and binning up
    # to 5 %, with a mistyped account first
    browser.click(role="link", name="north-nightly")
    page.wait_for_heading("Profile north-nightly")
    assert browser.attribute("value", role="textbox", name="Account") == "north"
    browser.fill("north east", role="textbox", name="Account")
    browser.select("sync", label="Mode")
    browser.select("auto", label="Review")
    browser.fill("5", label="Bin at most this share of the account without asking (%)")
    browser.click(role="button", name="Save profile north-nightly")
    # Then the account is refused in the page, saying what an account is
    assert "1 to 64 letters, digits" in browser.text(role="alert", has_text="account")
    browser.fill("north", role="textbox", name="Account")
    browser.click(role="button", name="Save profile north-nightly")
    browser.wait_for(text="Saved profile north-nightly: account north, sync, runs without waiting.")
    page.screen("profile-changed")
    # And the stored profile holds the changes, and kept what the form does not show
    saved = client.profile("north-nightly")
    assert (saved["mode"], saved["review"], saved["max_delete_percent"]) == ("sync", "auto", 5)
    assert (saved["source"], saved["account"], saved["date_order"]) == (
        "techman",
        "north",
        "day_first",
    )
    # When she deletes it, confirming the second time
    browser.click(role="button", name="Delete profile north-nightly")
    browser.wait_for(text="Deleting profile north-nightly cannot be undone")
    assert [p["name"] for p in client.profiles()] == ["north-nightly", "south-weekly"]
    browser.click(role="button", name="Delete profile north-nightly for good")
    page.wait_for_heading("Import profiles")
    # Then it is gone, from the list and from the API
    browser.wait_for(role="link", name="south-weekly")
    assert browser.count(role="link", name="north-nightly") == 0
    assert [p["name"] for p in client.profiles()] == ["south-weekly"]
    # And a profile that transfers customers is shown, but not saved, under her sign-in (it
    # carries no customers.transfer: the API would refuse it)
    client.put_profile(
        "east-moves",
        {"source": "techman", "account": "east", "mode": "update", "transfer": "move"},
    )
    browser.goto(f"{page.web_url}#/profiles/east-moves")
    page.wait_for_heading("Profile east-moves")
    browser.wait_for(text="Saving a profile that transfers customers takes the customers.transfer")
    assert browser.attribute("disabled", role="button", name="Save profile east-moves") == ""


def test_how_a_mapped_profile_reads_its_files_is_changed_in_the_page(
    page: ImportPage, stack: Any, org: str
) -> None:
    # Given an ERP's profile mapping two German headers, whose dates the file tells
    client = api(stack, org)
    client.put_profile(
        "erp-de",
        {
            "source": "mapped",
            "columns": {"Kundennummer": "CustomerNumber", "Name": "CustomerName"},
            "date_order": "detect",
            "boolean_words": {"ja": True},
            "account": "erp",
        },
    )
    # When the admin opens it
    page.sign_in(org)
    browser = page.browser
    browser.goto(f"{page.web_url}#/profiles/erp-de")
    page.wait_for_heading("Profile erp-de")
    browser.wait_for(role="group", name="How the profile reads its files")
    # Then its columns are listed, each with what it holds, and its words for yes and no
    holds = "[...document.querySelectorAll('select[name=column_holds]')].map(s => s.value)"
    assert browser.evaluate(holds) == ["CustomerNumber", "CustomerName"]
    assert browser.attribute("value", label="Header of column 1") == "Kundennummer"
    assert browser.attribute("value", label="Header of column 2") == "Name"
    assert browser.attribute("value", label="The file's own words for yes and no") == "ja = yes"
    # When she adds the email column, reads dates month first, phones as German, more words,
    # two days to decide, and mistypes a word first
    browser.click(role="button", name="Add a column")
    browser.fill("E-Mail", label="Header of column 3")
    browser.select("Email", label="What column 3 holds")
    browser.select("month_first", label="The file writes its dates")
    browser.fill("de", label="Phones without a country code are in")
    browser.fill("ja = yes, nein = vielleicht", label="The file's own words for yes and no")
    browser.fill("48", label="A person has this many hours to decide")
    # And, the ERP sending workbooks from now on, reads them from its sheet Kunden (a text
    # file has no sheet to ask for)
    browser.wait_for(state="hidden", label="Sheet")
    browser.select("xlsx", label="Its files come as")
    browser.fill("Kunden", label="Sheet")
    browser.click(role="button", name="Save profile erp-de")
    # Then the word is refused in the page, saying how to write one
    assert "word = yes or word = no, not “nein = vielleicht”" in browser.text(role="alert")
    browser.fill("ja = yes, Nein = no", label="The file's own words for yes and no")
    # And a mapping without the customer's name is refused by the API, saying what it needs
    browser.click(role="button", name="Remove column 2")
    browser.click(role="button", name="Save profile erp-de")
    browser.wait_for(role="alert", has_text="CustomerName")
    assert "was not saved" in browser.text(role="alert")
    browser.click(role="button", name="Add a column")
    browser.fill("Name", label="Header of column 3")
    browser.select("CustomerName", label="What column 3 holds")
    browser.click(role="button", name="Save profile erp-de")
    browser.wait_for(text="Saved profile erp-de: account erp")
    page.screen("profile-reading-changed")
    # And the stored profile reads its files so, and kept its source and account
    saved = client.profile("erp-de")
    assert saved["columns"] == {
        "Kundennummer": "CustomerNumber",
        "E-Mail": "Email",
        "Name": "CustomerName",
    }
    assert (saved["date_order"], saved["phone_region"], saved["boolean_words"]) == (
        "month_first",
        "DE",
        {"ja": True, "nein": False},
    )
    assert (saved["decision_timeout_seconds"], saved["source"], saved["account"]) == (
        48 * 3600,
        "mapped",
        "erp",
    )
    assert (saved["format"], saved["sheet"]) == ("xlsx", "Kunden")
