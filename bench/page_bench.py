"""The import page's figures (issue #20), measured in a real headless Chromium on the embedded
stack, each beside a baseline measured in the same run:

- from sending a file on the page (the 5,500 sample, dropped on it) to the first preview row
  the page shows, beside the same file's preview through the API alone (create, upload, wait
  for `ready` and read the preview: what the page waits for before it can draw anything);
- how far the page's progress bar lags behind the batches: the time from the job's
  `processed` counter reaching a value (read from the API every 50 ms) to the bar showing it
  (read from the page every 50 ms), beside a Python WebSocket subscriber's push → received
  latency for the same import.

    .venv/bin/python -m bench.page_bench samples/techman_5500.csv
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any


def median_p95(values: list[float]) -> str:
    if not values:
        return "no samples"
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"median {statistics.median(ordered) * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms   ({len(ordered)} samples)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path)
    args = parser.parse_args()

    from customer_import_local.session import Remote, preview_file
    from customer_import_local.stack import LocalStack
    from customer_import_local.tokens import local_token

    from tests.browser.browser import Browser, missing_tools
    from tests.browser.import_page import ImportPage

    if problem := missing_tools():
        raise SystemExit(problem)
    with LocalStack() as stack, tempfile.TemporaryDirectory() as scratch:
        assert stack.endpoints is not None
        # Baseline: the preview through the API alone, in an organisation of its own.
        remote = Remote.of(stack.endpoints, local_token("page-bench-api", "bench"))
        started = time.perf_counter()
        _, preview = preview_file(remote, args.file, source="techman", account_id="main")
        api_preview_s = time.perf_counter() - started
        assert preview and preview["customers"], "the API's preview has no customers"

        browser = Browser(Path(scratch) / "profile", Path(scratch) / "bridge.log")
        try:
            page = ImportPage(browser, stack.endpoints.web_url, screen=lambda _name: None)
            page.sign_in("page-bench")
            sent: list[float] = []
            job_id = page.start_import(
                args.file, drop=True, before_sending=lambda: sent.append(time.perf_counter())
            )
            browser.wait_for(css="tr[data-number]", timeout_ms=600_000)
            page_preview_s = time.perf_counter() - sent[0]
            lags, pushes = follow_the_bar(browser, stack, job_id)
        finally:
            browser.close()

    print(f"Import page benchmark: {args.file} (headless Chromium {browser.version})")
    print(f"  preview   send → first preview row on the page     {page_preview_s:7.2f} s")
    print(f"  baseline  create → upload → ready (+ row errors), API {api_preview_s:7.2f} s")
    print(
        f"            the page over the API alone               {page_preview_s / api_preview_s:7.2f} x"
    )
    print(f"  bar lag   processed (API) → shown by the bar     {median_p95(lags)}")
    print(f"  baseline  push → received, Python subscriber      {median_p95(pushes)}")
    print("  (each read every 50 ms: a lag is known to ±50 ms; times are this machine's)")


def follow_the_bar(browser: Any, stack: Any, job_id: str) -> tuple[list[float], list[float]]:
    """Run the import from the page and sample the API's counter and the page's bar."""
    from customer_import_local.session import Remote
    from customer_import_local.tokens import local_token

    remote = Remote.of(stack.endpoints, local_token("page-bench", "bench"))
    reached: dict[int, float] = {}  # processed -> when the API first said so
    pushes: list[float] = []
    done = threading.Event()

    def poll_api() -> None:
        while not done.is_set():
            job = remote.api.job(job_id)
            now = time.perf_counter()
            reached.setdefault(int(job["counts"].get("processed", 0)), now)
            if job["status"] in ("completed", "completed_with_errors", "failed"):
                done.set()
            time.sleep(0.05)

    def subscribe() -> None:
        with remote.follow(job_id) as follower:
            for _job, message in follower.events(600):
                if message and message.get("type") == "progress" and "sent_at" in message:
                    pushes.append(message["received_at"] - message["sent_at"])
                if done.is_set():
                    return

    threads = [threading.Thread(target=poll_api), threading.Thread(target=subscribe, daemon=True)]
    for thread in threads:
        thread.start()
    browser.click(role="button", name="Run the import")
    shown: dict[int, float] = {}
    while not done.is_set():
        value = browser.evaluate(
            "document.querySelector('[role=progressbar]')?.getAttribute('aria-valuenow') ?? null"
        )
        if value is not None:
            shown.setdefault(int(float(value)), time.perf_counter())
        time.sleep(0.05)
    threads[0].join()
    lags = []
    for value, seen_at in shown.items():
        earliest = [at for processed, at in reached.items() if processed >= value]
        if earliest and value > 0:
            lags.append(max(0.0, seen_at - min(earliest)))
    return lags, pushes


if __name__ == "__main__":
    main()
