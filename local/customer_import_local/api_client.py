"""A small typed client of the HTTP API, as the web app or an ERP script would use it: a base
URL and a bearer token, nothing else. The bodies are those of the OpenAPI document
(`GET /openapi.json`); an answer of 400 or more raises ApiError with the API's message. A
read, a PUT or a DELETE the API answers 503 (throttled) or 429 is sent again after its
`Retry-After`, a few times; a POST is not (it may have done part of its work)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import requests
from requests.adapters import HTTPAdapter, Retry

Choice = Literal["skip", "merge", "create"]
TOKEN_ERROR = re.compile(r'error_description="([^"]*)"')
BUSY_RETRIES = Retry(
    total=4,
    status_forcelist=(429, 503),
    allowed_methods=frozenset({"GET", "HEAD", "PUT", "DELETE"}),
    backoff_factor=0.5,
    respect_retry_after_header=True,
    raise_on_status=False,  # the last answer is the API's, with its message
)


def _session() -> requests.Session:
    session = requests.Session()
    session.mount("http://", HTTPAdapter(max_retries=BUSY_RETRIES))
    session.mount("https://", HTTPAdapter(max_retries=BUSY_RETRIES))
    return session


class ApiError(Exception):
    def __init__(self, status: int, message: str, body: Any = None) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.message = message
        self.body = body


@dataclass
class ApiClient:
    base_url: str
    token: str
    timeout_s: float = 30
    session: requests.Session = field(default_factory=_session)

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
    ) -> Any:
        response = self.session.request(
            method,
            f"{self.base_url.rstrip('/')}{path}",
            params={k: v for k, v in (params or {}).items() if v is not None},
            json=json,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=self.timeout_s,
        )
        try:
            body = response.json()
        except ValueError:
            body = response.text
        if response.status_code >= 400:
            message = body.get("message") if isinstance(body, dict) else None
            message = str(message or body or response.reason)
            # A refused token's reason travels in the challenge (RFC 6750), as API Gateway's
            # JWT authorizer sends it: "the token has expired".
            reason = TOKEN_ERROR.search(response.headers.get("www-authenticate", ""))
            if response.status_code == 401 and reason:
                message = f"{message}: {reason.group(1)}"
            raise ApiError(response.status_code, message, body)
        return body

    # ---- imports --------------------------------------------------------------------------

    def create_import(
        self,
        file_name: str,
        size: int,
        *,
        source: str = "techman",
        account: str = "main",
        mode: str = "insert",
        auto_run: bool = False,
        on_duplicate: Choice = "skip",
        key: str = "external",
        field_policy: str = "overwrite",
        options: dict[str, Any] | None = None,
        transfer: str = "none",
        transfer_related: bool = False,
    ) -> dict[str, Any]:
        """`{job_id, status, upload: {url, fields, expires_in_seconds}}`. `options`: more of
        the job's options (max_delete_percent, confirm_deletions)."""
        created: dict[str, Any] = self._call(
            "POST",
            "/imports",
            json={
                "source": source,
                "file_name": file_name,
                "size": size,
                "account": account,
                "mode": mode,
                "key": key,
                "field_policy": field_policy,
                "transfer": transfer,
                "transfer_related": transfer_related,
                "options": {"auto_run": auto_run, "on_duplicate": on_duplicate, **(options or {})},
            },
        )
        return created

    def create_import_with_profile(
        self, file_name: str, size: int, profile: str, *, source: str = "techman"
    ) -> dict[str, Any]:
        """A job whose account and settings are the profile's."""
        created: dict[str, Any] = self._call(
            "POST",
            "/imports",
            json={"source": source, "file_name": file_name, "size": size, "profile": profile},
        )
        return created

    def profiles(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self._call("GET", "/profiles")["items"]
        return found

    def profile(self, name: str) -> dict[str, Any]:
        found: dict[str, Any] = self._call("GET", f"/profiles/{name}")
        return found

    def put_profile(self, name: str, document: dict[str, Any]) -> dict[str, Any]:
        saved: dict[str, Any] = self._call("PUT", f"/profiles/{name}", json=document)
        return saved

    def put_profile_from_job(self, name: str, job_id: str) -> dict[str, Any]:
        saved: dict[str, Any] = self._call(
            "POST", f"/profiles/{name}/from-job", json={"job_id": job_id}
        )
        return saved

    def delete_profile(self, name: str) -> None:
        self._call("DELETE", f"/profiles/{name}")

    def upload(self, created: dict[str, Any], path: Path) -> None:
        """POST the file to S3 with the presigned form of `create_import` (no token: the
        form is the permission)."""
        post = created["upload"]
        with path.open("rb") as handle:
            response = self.session.post(
                post["url"],
                data=post["fields"],
                files={"file": (path.name, handle, post["fields"].get("Content-Type", "text/csv"))},
                timeout=max(self.timeout_s, 300),
            )
        if response.status_code >= 300:
            raise ApiError(response.status_code, f"Upload refused: {response.text[:200]}")

    def imports(self, limit: int = 20, cursor: str | None = None) -> dict[str, Any]:
        """One page, newest first: `{items, next_cursor}`."""
        page: dict[str, Any] = self._call(
            "GET", "/imports", params={"limit": limit, "cursor": cursor}
        )
        return page

    def all_imports(self, page_size: int = 100) -> Iterator[dict[str, Any]]:
        cursor: str | None = None
        while True:
            page = self.imports(page_size, cursor)
            yield from page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                return

    def job(self, job_id: str) -> dict[str, Any]:
        """State, counts and (once prepared) the preview."""
        job: dict[str, Any] = self._call("GET", f"/imports/{job_id}")
        return job

    def duplicates(self, job_id: str, offset: int = 0, limit: int = 100) -> dict[str, Any]:
        """A page of the job's possible duplicates: `total`, `offset`, `items`."""
        page: dict[str, Any] = self._call(
            "GET", f"/imports/{job_id}/duplicates", params={"offset": offset, "limit": limit}
        )
        return page

    def all_duplicates(self, job_id: str, page_size: int = 100) -> Iterator[dict[str, Any]]:
        offset = 0
        while True:
            page = self.duplicates(job_id, offset, page_size)
            yield from page["items"]
            offset += len(page["items"])
            if not page["items"] or offset >= page["total"]:
                return

    def row_errors(self, job_id: str, offset: int = 0, limit: int = 1000) -> dict[str, Any]:
        """A page of the row errors of a prepared job's whole file: `total`, `offset`, `items`
        (row, column, reason), in file order."""
        page: dict[str, Any] = self._call(
            "GET", f"/imports/{job_id}/errors", params={"offset": offset, "limit": limit}
        )
        return page

    def all_row_errors(self, job_id: str, page_size: int = 1000) -> Iterator[dict[str, Any]]:
        offset = 0
        while True:
            page = self.row_errors(job_id, offset, page_size)
            yield from page["items"]
            offset += len(page["items"])
            if not page["items"] or offset >= page["total"]:
                return

    def decide(
        self,
        job_id: str,
        default: Choice | None,
        overrides: dict[str, Choice] | None = None,
        confirm_deletions: bool = False,
        date_order: str | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"overrides": overrides or {}}
        if confirm_deletions:
            body["confirm_deletions"] = True
        if date_order is not None:
            body["date_order"] = date_order
        if default is not None:
            body["default"] = default
        job: dict[str, Any] = self._call("POST", f"/imports/{job_id}/decision", json=body)
        return job

    def cancel(self, job_id: str) -> dict[str, Any]:
        job: dict[str, Any] = self._call("POST", f"/imports/{job_id}/cancel")
        return job

    def retry(self, job_id: str) -> dict[str, Any]:
        job: dict[str, Any] = self._call("POST", f"/imports/{job_id}/retry")
        return job

    def rollback(self, job_id: str, *, dry_run: bool = False) -> dict[str, Any]:
        """`{job_id, status, dry_run, reverted, conflicts, conflict_list}`."""
        answer: dict[str, Any] = self._call(
            "POST", f"/imports/{job_id}/rollback", json={"dry_run": dry_run}
        )
        return answer

    def changes(
        self,
        job_id: str,
        limit: int = 100,
        cursor: str | None = None,
        action: str | None = None,
    ) -> dict[str, Any]:
        """One page of what the import did to each customer."""
        page: dict[str, Any] = self._call(
            "GET",
            f"/imports/{job_id}/changes",
            params={"limit": limit, "cursor": cursor, "action": action},
        )
        return page

    def all_changes(
        self, job_id: str, action: str | None = None, page_size: int = 100
    ) -> Iterator[dict[str, Any]]:
        yield from self._all(lambda cursor: self.changes(job_id, page_size, cursor, action))

    def error_log_url(self, job_id: str, log: str = "error-log") -> str | None:
        link = self._call("GET", f"/imports/{job_id}/{log}")
        url: str | None = link["url"]
        return url

    def download_conflict_log(self, job_id: str, target: Path) -> Path | None:
        return self.download_error_log(job_id, target, log="conflict-log")

    def download_error_log(self, job_id: str, target: Path, log: str = "error-log") -> Path | None:
        url = self.error_log_url(job_id, log)
        if url is None:
            return None
        response = self.session.get(url, timeout=max(self.timeout_s, 60))
        response.raise_for_status()
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(response.content)
        return target

    # ---- customers ------------------------------------------------------------------------

    def customers(
        self, external_customer_number: str, account: str | None = None
    ) -> list[dict[str, Any]]:
        """The customers with this number: the organisation's, or the account's live one."""
        found = self._call(
            "GET",
            "/customers",
            params={"external_customer_number": external_customer_number, "account": account},
        )
        items: list[dict[str, Any]] = found["items"]
        return items

    def customers_page(
        self, limit: int = 100, cursor: str | None = None, account: str | None = None
    ) -> dict[str, Any]:
        """One page of the organisation's customers, or of the account's live ones:
        `{items, next_cursor}`."""
        page: dict[str, Any] = self._call(
            "GET", "/customers", params={"limit": limit, "cursor": cursor, "account": account}
        )
        return page

    def all_customers(
        self, page_size: int = 100, account: str | None = None
    ) -> Iterator[dict[str, Any]]:
        yield from self._all(lambda cursor: self.customers_page(page_size, cursor, account))

    def customer(self, customer_id: str) -> dict[str, Any]:
        customer: dict[str, Any] = self._call("GET", f"/customers/{customer_id}")
        return customer

    # ---- activities -----------------------------------------------------------------------

    def add_activity(self, customer_id: str, kind: str, date: str, text: str) -> dict[str, Any]:
        """Record an activity of a live customer; the activity (201)."""
        added: dict[str, Any] = self._call(
            "POST",
            f"/customers/{customer_id}/activities",
            json={"kind": kind, "date": date, "text": text},
        )
        return added

    def activities(
        self, customer_id: str, limit: int = 100, cursor: str | None = None
    ) -> dict[str, Any]:
        """One page of the customer's activities, by date: `{items, next_cursor}`."""
        page: dict[str, Any] = self._call(
            "GET",
            f"/customers/{customer_id}/activities",
            params={"limit": limit, "cursor": cursor},
        )
        return page

    def all_activities(self, customer_id: str, page_size: int = 100) -> Iterator[dict[str, Any]]:
        yield from self._all(lambda cursor: self.activities(customer_id, page_size, cursor))

    def edit_customer(
        self, customer_id: str, changes: dict[str, Any], version: int | None = None
    ) -> dict[str, Any]:
        """Change a live customer's fields (if still at `version`); the customer as stored."""
        body = {**changes, **({"version": version} if version is not None else {})}
        edited: dict[str, Any] = self._call("PATCH", f"/customers/{customer_id}", json=body)
        return edited

    # ---- settings -------------------------------------------------------------------------

    def settings(self) -> dict[str, Any]:
        """The organisation's settings, with the product's `limits`."""
        found: dict[str, Any] = self._call("GET", "/settings")
        return found

    def put_settings(self, settings: dict[str, Any]) -> dict[str, Any]:
        """Replace the organisation's settings; the settings as stored."""
        stored: dict[str, Any] = self._call("PUT", "/settings", json=settings)
        return stored

    # ---- recycle bin ----------------------------------------------------------------------

    def recycle_bin(
        self, account: str | None = None, limit: int = 100, cursor: str | None = None
    ) -> dict[str, Any]:
        """One page of the bin (of the account, or of the organisation), newest binned first."""
        page: dict[str, Any] = self._call(
            "GET", "/recycle-bin", params={"account": account, "limit": limit, "cursor": cursor}
        )
        return page

    def all_binned(
        self, account: str | None = None, page_size: int = 100
    ) -> Iterator[dict[str, Any]]:
        yield from self._all(lambda cursor: self.recycle_bin(account, page_size, cursor))

    def restore(self, customer_id: str) -> dict[str, Any]:
        """Restore a binned customer; the customer, live again."""
        restored: dict[str, Any] = self._call("POST", f"/recycle-bin/{customer_id}/restore")
        return restored

    @staticmethod
    def _all(
        page: Callable[[str | None], dict[str, Any]],
    ) -> Iterator[dict[str, Any]]:
        cursor: str | None = None
        while True:
            found = page(cursor)
            yield from found["items"]
            cursor = found.get("next_cursor")
            if not cursor:
                return

    # ---- audit ----------------------------------------------------------------------------

    def audit(self, limit: int = 50, cursor: str | None = None) -> dict[str, Any]:
        """A page of the organisation's audit log, newest first."""
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        page: dict[str, Any] = self._call("GET", "/audit", params=params)
        return page

    def all_audit(self, page_size: int = 100) -> Iterator[dict[str, Any]]:
        yield from self._all(lambda cursor: self.audit(page_size, cursor))

    # ---- executions (ops) -----------------------------------------------------------------

    def executions(self, limit: int = 20, cursor: str | None = None) -> dict[str, Any]:
        page: dict[str, Any] = self._call(
            "GET", "/executions", params={"limit": limit, "cursor": cursor}
        )
        return page

    def job_executions(self, job_id: str) -> dict[str, Any]:
        found: dict[str, Any] = self._call("GET", f"/executions/{job_id}")
        return found

    def openapi(self) -> dict[str, Any]:
        document: dict[str, Any] = self._call("GET", "/openapi.json")
        return document
