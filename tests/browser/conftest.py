"""The import page in a real headless Chromium against the session's local stack (the `stack`
fixture of tests/conftest.py, which serves the page built in web/dist).

Every screen a test reaches is photographed under tests/browser/screenshots/<test>/ and
scanned with axe-core; the paths and the scan's summary are printed at the end of the run.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.browser.browser import Browser, missing_tools
from tests.browser.import_page import ImportPage

SCREENSHOTS = Path(__file__).with_name("screenshots")
# axe-core's impacts that fail a screen; "moderate" and "minor" are reported only.
BLOCKING = {"serious", "critical"}


@dataclass
class Scan:
    test: str
    screen: str
    violations: list[dict[str, Any]]


@dataclass
class Record:
    screenshots: list[Path] = field(default_factory=list)
    scans: list[Scan] = field(default_factory=list)


RECORD = Record()


@pytest.fixture(scope="session")
def web_url(stack: Any) -> str:
    problem = missing_tools()
    if problem:
        pytest.fail(problem)
    url: str = stack.endpoints.web_url
    return url


@pytest.fixture
def browser(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Browser]:
    # A fresh profile (--user-data-dir) for every test: no session, storage or cache carried over.
    running = Browser(tmp_path / "profile", tmp_path / "bridge.log")
    try:
        yield running
    finally:
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            # What the page showed when the test failed, beside the others.
            try:
                path = running.screenshot(_folder(request.node.name) / "failed.png")
                RECORD.screenshots.append(path)
            except AssertionError:
                pass
        running.close()


@pytest.fixture
def page(browser: Browser, web_url: str, request: pytest.FixtureRequest) -> ImportPage:
    folder = _folder(request.node.name)
    for old in folder.glob("*.png"):
        old.unlink()

    def screen(name: str) -> None:
        """Photograph the screen and scan it: no serious or critical accessibility problem."""
        number = len([s for s in RECORD.scans if s.test == request.node.name]) + 1
        path = browser.screenshot(folder / f"{number:02d}-{name}.png")
        RECORD.screenshots.append(path)
        results = browser.axe()
        RECORD.scans.append(Scan(request.node.name, name, results["violations"]))
        blocking = [v for v in results["violations"] if v["impact"] in BLOCKING]
        assert blocking == [], f"axe-core on the {name} screen: {blocking}"

    return ImportPage(browser, web_url, screen)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.report_call = report  # type: ignore[attr-defined]
    return report


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not RECORD.screenshots and not RECORD.scans:
        return
    write = terminalreporter.write_line
    terminalreporter.section("import page: screenshots and accessibility")
    for path in RECORD.screenshots:
        write(f"screenshot {path}")
    impacts: dict[str, int] = {}
    for scan in RECORD.scans:
        for violation in scan.violations:
            impacts[violation["impact"] or "unknown"] = impacts.get(violation["impact"], 0) + 1
    write(
        f"axe-core: {len(RECORD.scans)} screens scanned, "
        + (
            ", ".join(f"{n} {impact}" for impact, n in sorted(impacts.items()))
            if impacts
            else "no violations"
        )
    )
    for scan in RECORD.scans:
        for violation in scan.violations:
            write(
                f"  {scan.test} / {scan.screen}: {violation['impact']} {violation['id']} "
                f"({violation['help']}) at {', '.join(violation['nodes'][:3])}"
            )


def _folder(test_name: str) -> Path:
    return SCREENSHOTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", test_name)
