"""The import page's own rules, read from its source and its build: data is never parsed as
HTML or run as code, and nothing is loaded from another site at run time."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

WEB = REPO_ROOT / "web"
# Every way a string becomes markup or code in a page.
SINKS = re.compile(
    r"\.innerHTML\b|\.outerHTML\b|insertAdjacentHTML|document\.write|\beval\(|new Function\(|"
    r"createContextualFragment|srcdoc"
)
EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.IGNORECASE)


def sources() -> list[Path]:
    return sorted((WEB / "src").glob("*.ts"))


def test_the_page_source_never_parses_data_as_html_or_runs_it() -> None:
    # Given every TypeScript module of the page
    assert sources(), "web/src holds the page"
    # Then none of them uses an HTML or code sink (dom.ts builds text nodes and attributes)
    found = [
        f"{path.name}:{number}: {line.strip()}"
        for path in sources()
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if SINKS.search(line) and not line.lstrip().startswith("//")
    ]
    assert found == []


@pytest.mark.parametrize("name", ["index.html", "sign-in.html"])
def test_the_pages_load_nothing_from_another_site(name: str) -> None:
    # Given the page as written and as built
    built = WEB / "dist" / name
    assert built.is_file(), "web/dist is built by `make web` (or `make test`)"
    for page in (WEB / name, built):
        # Then no script, style, font or icon comes from another site
        assert EXTERNAL.findall(page.read_text()) == [], page
    # And the built scripts and styles fetch no other site's code either
    for asset in (WEB / "dist" / "assets").glob("*"):
        text = asset.read_text()
        assert not re.search(r"""import\s*\(?\s*["'](?:https?:)?//""", text), asset
        assert not re.search(r"""@import\s+url\(\s*["']?(?:https?:)?//""", text), asset
