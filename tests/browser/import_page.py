"""The import page as the tests use it: the steps a person takes, by what the page shows them
(roles, accessible names, labels), so a step that a screen reader could not find fails."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from customer_import.access import CAPABILITIES, CUSTOMERS_ACCESS, IMPORT_MANAGE

from tests.browser.browser import Browser

FILE_LABEL = "Choose the customer file (CSV, or XLSX with a profile)"
JOB_ROUTE = re.compile(r"#/imports/([0-9a-f-]{36})$")
MODE_LABELS = {"insert": "Insert", "update": "Update", "sync": "Sync"}
KEY_LABELS = {
    "external": "Customer number",
    "internal": "Our customer id",
    "both": "Customer id, then customer number",
}
TRANSFER_LABELS = {"none": "No transfer", "copy": "Copy", "move": "Move"}
FIELD_POLICY_LABELS = {
    "overwrite": "Overwrite: the file's values replace the stored ones",
    "fill_empty": "Fill empty: only empty stored fields take the file's value",
    "keep": "Keep: matched customers stay as they are (the others are created)",
}


@dataclass
class ImportPage:
    browser: Browser
    web_url: str
    # Photographs the screen and scans it with axe-core (tests/browser/conftest.py).
    screen: Callable[[str], None]

    def sign_in(
        self,
        org: str,
        user: str = "admin",
        capabilities: Iterable[str] = (IMPORT_MANAGE, CUSTOMERS_ACCESS),
        *,
        photograph: bool = False,
    ) -> None:
        """Open the page; it sends a person without a token to the local sign-in."""
        self.browser.goto(self.web_url)
        self.browser.wait_for(role="heading", name="Sign in to the local stack")
        self.browser.fill(org, label="Organisation")
        self.browser.fill(user, label="User")
        wanted = set(capabilities)
        for capability in CAPABILITIES:
            self.browser.set_checked(capability in wanted, role="checkbox", name=capability)
        if photograph:
            self.screen("sign-in")
        self.browser.click(role="button", name="Sign in")
        self.browser.wait_for(role="heading", name="Import data", exact=True)
        self.browser.wait_for(text=f"Signed in as {user}")

    def start_import(
        self,
        path: Path,
        *,
        account: str = "main",
        mode: str = "insert",
        drop: bool = False,
        profile: str | None = None,
        key: str | None = None,
        field_policy: str | None = None,
        transfer: str | None = None,
        with_related: bool = False,
        max_delete_percent: str | None = None,
        before_sending: Callable[[], None] | None = None,
    ) -> str:
        """Choose the file (picker, or dropped on the page), then a profile, or the account,
        the mode and the update settings, and send it; the job's id from the address the page
        moves to. `before_sending` runs once everything is chosen (a screenshot)."""
        browser = self.browser
        browser.wait_for(role="heading", name="New import")
        if drop:
            browser.drop_file(path, testid="drop-zone")
        else:
            browser.choose_file(path, label=FILE_LABEL)
        browser.wait_for(text=f"Chosen: {path.name}")
        if profile is not None:
            browser.wait_for(role="option", name=profile, state="attached")
            browser.select(profile, label="Import profile", exact=True)
        else:
            browser.fill(account, label="Account", exact=True)
            browser.check(role="radio", name=MODE_LABELS[mode], exact=True)
            if key is not None:
                browser.check(role="radio", name=KEY_LABELS[key], exact=True)
            if field_policy is not None:
                browser.select(field_policy, label="What the file's values do to a stored customer")
            if transfer is not None:
                browser.check(role="radio", name=TRANSFER_LABELS[transfer], exact=True)
            if with_related:
                browser.check(role="checkbox", name="With related records")
            if max_delete_percent is not None:
                browser.fill(max_delete_percent, label="Bin at most this share of the account")
        if before_sending is not None:
            # A full-page screenshot resizes the viewport, and Chromium then scrolls a focused
            # text field back into view, late: under the click that follows. Nothing is focused
            # while the screen is photographed.
            browser.evaluate("document.activeElement?.blur()")
            before_sending()
        browser.click(role="button", name="Upload and check the file")
        browser.wait_until("/#\\/imports\\/[0-9a-f-]{36}$/.test(location.hash)")
        return self.job_id()

    def job_id(self) -> str:
        match = JOB_ROUTE.search(self.browser.url())
        assert match, f"not on a job's page: {self.browser.url()}"
        return match.group(1)

    def wait_for_heading(self, name: str, timeout_ms: int = 60_000) -> None:
        self.browser.wait_for(role="heading", name=name, exact=True, timeout_ms=timeout_ms)

    def counts(self, label: str) -> dict[str, str]:
        """A list of counts (`<dl aria-label=...>`), by counter name."""
        return dict(
            self.browser.evaluate(
                "[...document.querySelectorAll('dl[aria-label=\"" + label + "\"] dd')]"
                ".map(dd => [dd.dataset.count, dd.textContent])"
            )
        )

    def changes(self, customer_number: str) -> list[tuple[str, str, str]]:
        """The preview's "original → cleaned" of one customer: (column, original, cleaned)."""
        found = self.browser.evaluate(
            f"[...document.querySelectorAll('tr[data-number=\"{customer_number}\"] .changes li')]"
            ".map(li => ['.column', '.original', '.cleaned']"
            ".map(part => li.querySelector(part).textContent))"
        )
        return [tuple(change) for change in found]

    def table(self, caption: str) -> list[list[str]]:
        """A table's body rows (by its caption), each cell's text."""
        rows: list[list[str]] = self.browser.evaluate(
            "[...document.querySelectorAll('table')]"
            ".filter(t => t.caption && t.caption.textContent === " + json.dumps(caption) + ")"
            ".flatMap(t => [...t.tBodies[0].rows])"
            ".map(r => [...r.cells].map(c => c.innerText.trim()))"
        )
        return rows

    def progress(self) -> dict[str, str | None]:
        bar = {"role": "progressbar", "name": "Importing"}
        return {
            name: self.browser.attribute(name, **bar)
            for name in ("aria-valuenow", "aria-valuemax", "aria-valuetext")
        }
