"""The import page in a real headless Chromium, against the local stack, as an admin uses it
(issue 20, first slice): sign in, upload a Techman file, read the preview, settle the
duplicates, run, follow the bar, read the summary, download the error log, see the history.

Every screen is photographed and scanned with axe-core (`page.screen`): a serious or critical
accessibility problem fails the test that reached it.
"""

from __future__ import annotations

import csv
import io
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from customer_import.access import CUSTOMERS_ACCESS

from tests.browser.import_page import ImportPage
from tests.browser.test_recurring_imports import api, write
from tests.conftest import Driver, written_by
from tests.unit.techman_files import HEADER, customers, row, techman_csv

XSS_NAME = "<img src=x onerror=alert(1)>"


def test_a_techman_file_is_previewed_decided_imported_and_its_error_log_downloaded(
    page: ImportPage, driver: Driver, org: str, tmp_path: Path
) -> None:
    # Given an organisation that has Ann Lee (ann@example.com) and Cara Diaz (cara@...)
    stored = techman_csv([row("1000", "Ann Lee"), row("1001", "Cara Diaz")])
    assert driver.run(org, stored).status == "completed"
    # And a Techman file with Annie Lee and Cara D of the same emails (possible duplicates), a
    # customer whose phone is no phone (an error: that row fails) and three new customers
    path = write(
        tmp_path,
        "techman-export.csv",
        techman_csv(
            [
                row("9", "Annie Lee", Email="ann@example.com"),
                row("10", "Bob Jones", Phone="not a phone"),
                row("11", "Cara D", Email="cara@example.com"),
                *customers(3, start=2000),
            ]
        ),
    )
    # When the admin signs in and drops the file on the page
    page.sign_in(org, photograph=True)
    page.screen("new-import")
    job_id = page.start_import(path, drop=True)
    page.wait_for_heading("Preview")
    browser = page.browser
    browser.wait_for(text="2 possible duplicates.")
    page.screen("preview-and-duplicates")

    # Then the preview counts the whole file: 6 customers, 1 failing, 2 possible duplicates
    counts = page.counts("The whole file")
    assert (counts["customers"], counts["customers_failing"], counts["duplicates"]) == (
        "6",
        "1",
        "2",
    )
    # And shows each cleaned value beside the original, and the failing row's error
    assert page.changes("9") == [
        ("Phone", "07712 000009", "+447712000009"),
        ("DateCreated", "25/12/2020 10:00:00", "2020-12-25T10:00:00+00:00"),
    ]
    assert "Error: row 3, Phone: Phone normalisation failed" in browser.text(
        role="row", has_text="Bob Jones"
    )
    # And the duplicate review shows Annie beside the stored Ann Lee, matched on the email
    annie = {"role": "group", "name": "Row 2: Annie Lee (customer 9)"}
    review = browser.text(**annie)
    assert "Already stored" in review and "Ann Lee" in review and "1000" in review
    assert "Matched on email · high confidence" in review

    # When she makes every duplicate a new customer ("apply to all"), then merges Annie into
    # Ann, and runs the import
    browser.select("create", label="For every possible duplicate")
    browser.click(role="button", name="Apply to all")
    chosen = "[...document.querySelectorAll('.duplicate input:checked')].map(i => i.value)"
    assert browser.evaluate(chosen) == ["create", "create"]
    browser.check(role="radio", name="Merge", within=annie)
    browser.click(role="button", name="Run the import")
    page.wait_for_heading("Import completed with errors")
    page.screen("summary")

    # Then the decision sent is "create" for all but Annie, whom she merged
    decision = driver.components.pipeline.job(org, job_id).decision
    assert (decision["default"], decision["overrides"]) == ("create", {"9": "merge"})
    # And the summary counts 5 imported (Cara D and three new created, Annie merged) and Bob
    # failed
    summary = page.counts("Summary")
    assert {k: summary[k] for k in ("customers", "imported", "created", "merged", "failed")} == {
        "customers": "6",
        "imported": "5",
        "created": "4",
        "merged": "1",
        "failed": "1",
    }
    # And the organisation holds Ann (Annie merged into her), Cara, Cara D and the new three
    stored_numbers = sorted(c["external_customer_number"] for c in driver.customers(org))
    assert stored_numbers == ["1000", "1001", "11", "2000", "2001", "2002"]
    # And the error log downloads as a CSV naming Bob's row, column and reason
    downloaded = browser.download(
        tmp_path / "errors.csv", role="link", name="Download the error log (CSV)"
    )
    log = list(csv.DictReader(io.StringIO(Path(downloaded["path"]).read_text("utf-8-sig"))))
    assert [(line["row"], line["column"], line["reason"]) for line in log] == [
        ("3", "Phone", "Phone normalisation failed")
    ]

    # When she goes back to the imports
    browser.click(role="link", name="Start a new import or see the import history")
    browser.wait_for(role="link", name="techman-export.csv")
    page.screen("history")
    # Then the history lists this import first, completed with errors, with its counts
    first = browser.text(role="row", nth=1)
    assert first.split("\t")[:4] == [
        "techman-export.csv",
        "main",
        "insert",
        "Completed with errors",
    ]
    assert first.split("\t")[5:] == ["6", "5", "1"]


def test_a_file_missing_required_columns_is_rejected_naming_every_one(
    page: ImportPage, org: str, tmp_path: Path
) -> None:
    # Given a file without the Email and Postcode columns
    header = [column for column in HEADER if column not in ("Email", "Postcode")]
    path = write(tmp_path, "no-email.csv", techman_csv([row("1")], header=header))
    # And a network that drops every WebSocket: the page can only read the job from the API
    page.sign_in(org)
    page.browser.refuse_websockets()
    # When the admin chooses the file with the file picker and sends it
    page.start_import(path)
    page.wait_for_heading("The file was rejected")
    page.screen("rejected")
    # Then the page says why, and lists each missing column
    browser = page.browser
    assert browser.text(css=".reason") == "Missing required columns: Email, Postcode"
    assert browser.texts(
        role="listitem", within={"role": "list", "name": "Missing columns (2)"}
    ) == [
        "Email",
        "Postcode",
    ]
    # And it learnt so by reading the job, with no push to tell it
    assert all(socket["received"] == [] for socket in browser.events()["websockets"])
    # And the history shows it rejected
    browser.click(role="link", name="Start a new import")
    browser.wait_for(role="link", name="no-email.csv")
    assert "Rejected" in browser.text(role="row", has_text="no-email.csv")


def test_an_update_previews_and_writes_only_what_changed(
    page: ImportPage, driver: Driver, org: str, tmp_path: Path
) -> None:
    # Given an organisation with Ann Lee and Cara Diaz
    stored = techman_csv([row("1000", "Ann Lee"), row("1001", "Cara Diaz")])
    assert driver.run(org, stored).status == "completed"
    # And a file with Ann's new email, Cara as she is, and a new customer
    path = write(
        tmp_path,
        "nightly.csv",
        techman_csv(
            [
                row("1000", "Ann Lee", Email="ann.lee@example.com"),
                row("1001", "Cara Diaz"),
                row("1002", "Dev Patel"),
            ]
        ),
    )
    # When the admin uploads it in update mode
    page.sign_in(org)
    page.start_import(path, mode="update")
    page.wait_for_heading("Preview")
    page.screen("update-preview")
    # Then the preview says what the update will do, before anything is written
    counts = page.counts("The whole file")
    assert (counts["updated"], counts["unchanged"], counts["created"]) == ("1", "1", "1")
    assert page.browser.count(role="heading", name="Possible duplicates") == 0
    # When she runs it
    page.browser.click(role="button", name="Run the import")
    page.wait_for_heading("Import completed")
    # Then the summary counts one updated, one created and one left unchanged
    summary = page.counts("Summary")
    assert (summary["updated"], summary["created"], summary["unchanged"]) == ("1", "1", "1")
    # And Ann has her new email
    ann = next(c for c in driver.customers(org) if c["external_customer_number"] == "1000")
    assert ann["email"] == "ann.lee@example.com"


@pytest.fixture
def held_batch(monkeypatch: pytest.MonkeyPatch, org: str) -> Any:
    """The org's batch that begins with customer 1100 (the second of `customers(n)`) waits
    before it writes until `release()` (at the latest after 60 s); the others write at once."""
    from customer_import.adapters.customers_dynamo import DynamoCustomerRepository

    original = DynamoCustomerRepository.save
    released = threading.Event()

    def save(self: Any, writes: Any) -> Any:
        if written_by(writes) == (org, "1100"):
            released.wait(60)
        return original(self, writes)

    monkeypatch.setattr(DynamoCustomerRepository, "save", save)
    try:
        yield released
    finally:
        released.set()


def test_a_reload_during_and_after_an_import_shows_where_it_is(
    page: ImportPage,
    driver: Driver,
    stack: Any,
    org: str,
    tmp_path: Path,
    held_batch: threading.Event,
) -> None:
    # Given a file of 250 customers (three batches) whose second batch will be held
    path = write(tmp_path, "big.csv", techman_csv(customers(250)))
    page.sign_in(org)
    job_id = page.start_import(path)
    page.wait_for_heading("Preview")
    browser = page.browser
    # When the admin reloads the preview
    browser.reload()
    # Then it is the same job's preview again, ready to run
    page.wait_for_heading("Preview")
    assert page.job_id() == job_id
    assert page.counts("The whole file")["customers"] == "250"

    # When she runs it, and the first and third batches are written
    browser.click(role="button", name="Run the import")
    page.wait_for_heading("Importing")

    def processed() -> int:
        return driver.components.pipeline.job(org, job_id).counter("processed")

    eventually_processed(processed, 150)
    # Then the job's progress reaches the page over its WebSocket, and the bar shows it
    push = browser.wait_for_push(job_id=job_id, status="importing", processed=150)
    assert (push["total"], push["imported"], push["failed"]) == (250, 150, 0)
    # (it subscribed to the job on the stack's WebSocket, its token in the query)
    sockets = browser.events()["websockets"]
    assert {"action": "subscribe", "job_id": job_id} in [
        json.loads(frame) for socket in sockets for frame in socket["sent"]
    ]
    assert all(
        socket["url"].startswith(f"{stack.endpoints.websocket_url}/?token=") for socket in sockets
    )
    browser.wait_until(
        "document.querySelector('[role=progressbar]')?.getAttribute('aria-valuenow') === '150'"
    )
    # And she reloads the page while the second batch is still held
    browser.evaluate("window.beforeReload = true")
    browser.reload()
    page.wait_for_heading("Importing")
    page.screen("importing-after-reload")
    # Then the page was loaded anew and shows the bar where the import is: 150 of 250
    assert browser.evaluate("window.beforeReload === undefined") is True
    assert page.job_id() == job_id
    assert page.progress() == {
        "aria-valuenow": "150",
        "aria-valuemax": "250",
        "aria-valuetext": "150 of 250 processed",
    }
    assert browser.text(css=".bar-text") == "150 of 250 processed"

    # When the held batch is written
    held_batch.set()
    # Then the same page follows the import to its end
    page.wait_for_heading("Import completed")
    assert page.counts("Summary")["imported"] == "250"
    # And a reload afterwards shows the summary again, with no error log to download
    browser.reload()
    page.wait_for_heading("Import completed")
    page.screen("summary-after-reload")
    assert page.counts("Summary")["imported"] == "250"
    assert browser.count(text="No row failed: there is no error log.") == 1


def eventually_processed(read: Any, expected: int, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if read() == expected:
            return
        time.sleep(0.05)
    raise AssertionError(f"processed stayed at {read()}, expected {expected}")


def test_text_from_the_file_is_shown_as_text_and_never_run_as_markup(
    page: ImportPage, driver: Driver, org: str, tmp_path: Path
) -> None:
    # Given a stored customer named like an HTML element with a script in it
    stored = techman_csv([row("1", XSS_NAME, Email="x@example.com")])
    assert driver.run(org, stored).status == "completed"
    # And a file, itself named like markup, holding her again (a possible duplicate)
    name = "<svg onload=alert(2)>.csv"
    path = write(tmp_path, name, techman_csv([row("2", XSS_NAME, Email="x@example.com")]))
    # When the admin uploads it and reads the preview and the duplicate review
    page.sign_in(org)
    page.start_import(path)
    page.wait_for_heading("Preview")
    page.screen("preview-of-markup-names")
    browser = page.browser
    # Then the names show as the text they are: in the preview, beside the stored customer,
    # and as the file's name
    assert browser.count(role="rowheader", name=XSS_NAME) == 1
    # (the review's legend, the file's customer and the stored one)
    assert browser.text(role="group", name=f"Row 2: {XSS_NAME} (customer 2)").count(XSS_NAME) == 3
    assert browser.text(role="heading", level=2) == name
    # And no element came from them, nor did any script run
    assert browser.count(css="img, svg, script:not([src])") == 0

    # When she settles the duplicate with the keyboard alone (arrow keys move a radio
    # group's choice) and runs the import with Enter
    group = {"role": "group", "name": f"Row 2: {XSS_NAME} (customer 2)"}
    browser.press("ArrowRight", role="radio", name="Skip", within=group)
    assert browser.evaluate("document.activeElement.value") == "merge"
    browser.press("Enter", role="button", name="Run the import")
    page.wait_for_heading("Import completed")
    # Then the history shows the file's name as text too
    browser.click(role="link", name="Start a new import or see the import history")
    browser.wait_for(role="link", name=name)
    assert browser.count(css="img, svg, script:not([src])") == 0
    events = browser.events()
    assert events["dialogs"] == []
    assert events["pageErrors"] == []


def test_without_the_import_capability_the_page_offers_no_import(
    page: ImportPage, org: str
) -> None:
    # Given a person who signs in with the keyboard alone, leaving settings.import.manage out
    browser = page.browser
    browser.goto(page.web_url)
    browser.wait_for(role="heading", name="Sign in to the local stack")
    browser.press("Control+A", label="Organisation")
    browser.type(org)
    browser.keyboard("Tab")
    browser.keyboard("Control+A")
    browser.type("reader")
    browser.keyboard("Tab")
    assert browser.evaluate("document.activeElement.value") == "settings.import.manage"
    browser.keyboard("Space")
    for _ in range(3):  # past the other two capabilities, to the button
        browser.keyboard("Tab")
    assert browser.focused() == {"tag": "button", "text": "Sign in"}
    browser.keyboard("Enter")
    # When the page opens
    page.wait_for_heading("Import data")
    browser.wait_for(text="Signed in as reader")
    page.screen("no-import-capability")
    # Then it says what is missing, and offers neither the upload nor the history
    assert "does not carry the settings.import.manage capability" in browser.text(role="alert")
    assert browser.count(role="button", name="Upload and check the file") == 0
    assert browser.count(role="heading", name="Import history") == 0
    # And the token it holds carries only what was picked
    capabilities = browser.evaluate(
        "JSON.parse(sessionStorage.getItem('customer-import.session')).capabilities"
    )
    assert capabilities == [CUSTOMERS_ACCESS]


def test_rows_that_failed_to_be_written_are_imported_again_from_the_page(
    page: ImportPage, driver: Driver, stack: Any, org: str, unavailable_batch: Any
) -> None:
    # Given an import of 150 customers whose second batch could not be written
    unavailable_batch.start()
    job = driver.run(org, techman_csv(customers(150)))
    assert (job.status, job.counter("failed"), job.counter("retryable")) == (
        "completed_with_errors",
        50,
        50,
    )
    unavailable_batch.end()
    # When the admin opens the import
    page.sign_in(org)
    browser = page.browser
    browser.goto(f"{page.web_url}#/imports/{job.job_id}")
    page.wait_for_heading("Import completed with errors")
    # Then the page says 50 rows were not written, and offers to import them again
    section = browser.text(role="region", name="Rows that failed to be written")
    assert "50 rows were read and cleaned but not written" in section
    page.screen("failed-rows")
    # When she imports them again
    browser.click(role="button", name="Import the 50 rows again")
    # Then the page follows the retry to its end: every customer imported, none failed
    page.wait_for_heading("Import completed")
    summary = page.counts("Summary")
    assert (summary["imported"], summary.get("failed", "0")) == ("150", "0")
    assert browser.count(role="region", name="Rows that failed to be written") == 0
    stored = api(stack, org).all_customers(account="main")
    assert len({c["external_customer_number"] for c in stored}) == 150
