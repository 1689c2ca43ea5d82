"""A real headless Chromium for the tests: Debian's /usr/bin/chromium, driven by Playwright's
core in a Node process (`bridge.mjs`, run from `web/node_modules`), one JSON command a line.

Targets are keyword arguments, found as a person or a screen reader finds them: `role` and
`name`, `label`, `text`; `css` or `testid` only where nothing else names the thing; `within`
(another target) scopes one, `has_text` filters, `nth` picks one of several.
"""

from __future__ import annotations

import contextlib
import json
import queue
import shutil
import subprocess
import threading
from itertools import count
from pathlib import Path
from typing import Any

from tests.conftest import REPO_ROOT

BRIDGE = Path(__file__).with_name("bridge.mjs")
CHROMIUM = Path("/usr/bin/chromium")
WEB = REPO_ROOT / "web"
# Longer than any one step: Playwright's own waits give up after 15 s and say why.
ANSWER_TIMEOUT_S = 90


class BrowserError(AssertionError):
    """What the browser could not do, in Playwright's words."""


def missing_tools() -> str | None:
    """Why the browser cannot run here, if it cannot (`make test` installs all of it)."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing: `make test` installs Debian's chromium and chromium-driver"
    if not (WEB / "node_modules" / "playwright-core").is_dir():
        return "web/node_modules is missing: `make test` (or `make web`) runs npm ci in web/"
    if not (WEB / "dist" / "index.html").is_file():
        return "web/dist is missing: `make test` (or `make web`) builds the page"
    if shutil.which("node") is None:
        return "node is missing"
    return None


def target(**spec: Any) -> dict[str, Any]:
    """A target for the bridge: `has_text` becomes Playwright's `hasText`."""
    if "has_text" in spec:
        spec["hasText"] = spec.pop("has_text")
    if isinstance(spec.get("within"), dict):
        spec["within"] = target(**spec["within"])
    return spec


class Browser:
    def __init__(self, profile: Path, log: Path) -> None:
        self._log = log.open("w")
        self._process = subprocess.Popen(
            ["node", str(BRIDGE)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            cwd=REPO_ROOT,
        )
        self._answers: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=self._read, name="browser-bridge", daemon=True)
        self._reader.start()
        self._ids = count(1)
        self.version = self.call("launch", userDataDir=str(profile))["version"]

    def _read(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            self._answers.put(line)

    def call(self, op: str, **args: Any) -> Any:
        assert self._process.stdin is not None
        request_id = next(self._ids)
        self._process.stdin.write(json.dumps({"id": request_id, "op": op, **args}) + "\n")
        self._process.stdin.flush()
        try:
            answer = json.loads(self._answers.get(timeout=ANSWER_TIMEOUT_S))
        except queue.Empty:
            raise BrowserError(f"The browser did not answer {op} in {ANSWER_TIMEOUT_S}s") from None
        if answer["id"] != request_id:
            raise BrowserError(f"Answer {answer['id']} came for request {request_id}")
        if not answer["ok"]:
            raise BrowserError(f"{op} {json.dumps(args)[:300]}: {answer['error']}")
        return answer["value"]

    def close(self) -> None:
        if self._process.poll() is None:
            with contextlib.suppress(BrowserError, BrokenPipeError, OSError):
                self.call("close")
            if self._process.stdin is not None:
                self._process.stdin.close()
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=5)
        self._log.close()

    # ---- what a person does ------------------------------------------------------------------

    def goto(self, url: str) -> str:
        return str(self.call("goto", url=url))

    def reload(self) -> str:
        return str(self.call("reload"))

    def url(self) -> str:
        return str(self.call("url"))

    def click(self, **spec: Any) -> None:
        self.call("click", target=target(**spec))

    def fill(self, value: str, **spec: Any) -> None:
        self.call("fill", target=target(**spec), value=value)

    def check(self, **spec: Any) -> None:
        self.call("check", target=target(**spec))

    def set_checked(self, checked: bool, **spec: Any) -> None:
        self.call("setChecked", target=target(**spec), checked=checked)

    def select(self, value: str, **spec: Any) -> None:
        self.call("select", target=target(**spec), value=value)

    def press(self, key: str, **spec: Any) -> None:
        """Focus the target, then press `key` there."""
        self.call("press", target=target(**spec), key=key)

    def keyboard(self, key: str) -> None:
        """Press `key` wherever the focus is."""
        self.call("keyboard", key=key)

    def type(self, text: str) -> None:
        """Type `text` wherever the focus is."""
        self.call("type", text=text)

    def choose_file(self, path: Path, **spec: Any) -> None:
        self.call("setFiles", target=target(**spec), path=str(path))

    def drop_file(self, path: Path, **spec: Any) -> None:
        self.call("drop", target=target(**spec), path=str(path))

    def download(self, save_as: Path, **spec: Any) -> dict[str, str]:
        answer: dict[str, str] = self.call("download", target=target(**spec), saveAs=str(save_as))
        return answer

    # ---- what a person sees ------------------------------------------------------------------

    def wait_for(self, state: str = "visible", timeout_ms: int | None = None, **spec: Any) -> None:
        args: dict[str, Any] = {"target": target(**spec), "state": state}
        if timeout_ms is not None:
            args["timeout"] = timeout_ms
        self.call("waitFor", **args)

    def wait_until(self, expression: str, timeout_ms: int = 30_000) -> Any:
        """Wait until the page's JavaScript `expression` is truthy; its value."""
        return self.call("waitForFunction", expression=expression, timeout=timeout_ms)

    def text(self, **spec: Any) -> str:
        return str(self.call("text", target=target(**spec)))

    def texts(self, **spec: Any) -> list[str]:
        return list(self.call("texts", target=target(**spec)))

    def count(self, **spec: Any) -> int:
        return int(self.call("count", target=target(**spec)))

    def attribute(self, attribute: str, **spec: Any) -> str | None:
        value = self.call("attribute", target=target(**spec), name=attribute)
        return None if value is None else str(value)

    def focused(self) -> dict[str, str] | None:
        focused: dict[str, str] | None = self.call("focused")
        return focused

    def evaluate(self, expression: str) -> Any:
        return self.call("evaluate", expression=expression)

    def screenshot(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.call("screenshot", path=str(path))
        return path

    def axe(self) -> dict[str, Any]:
        """axe-core's violations on the page as it is now."""
        results: dict[str, Any] = self.call("axe")
        return results

    def wait_for_push(self, timeout_ms: int = 30_000, **fields: Any) -> dict[str, Any]:
        """The first message the page received over a WebSocket holding all of `fields`."""
        message: dict[str, Any] = self.call("waitForPush", fields=fields, timeout=timeout_ms)
        return message

    def refuse_websockets(self) -> None:
        """Close every WebSocket the page opens from now on, as a network that drops them."""
        self.call("refuseWebSockets")

    def forward(self, origin: str, to: str) -> None:
        """Send every request to `origin` from now on to the server at `to` instead, and give
        its answers to the page as `origin`'s: a site the test stands in for, answered on
        loopback. The browser follows a redirect to the address as it is (Playwright routes no
        request a redirect leads to). Playwright answers CORS preflights to a routed origin
        itself, and adds `Access-Control-Allow-Origin` to an answer that has none."""
        self.call("forward", origin=origin, to=to)

    def events(self) -> dict[str, list[Any]]:
        """The dialogs (alert, confirm...) the page opened, its uncaught errors and console
        errors, every URL it requested, and its WebSockets (url, frames sent and received)."""
        events: dict[str, list[Any]] = self.call("events")
        return events
