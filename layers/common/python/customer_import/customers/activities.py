"""Related records of a customer (design §5.2): activities (appointments, visit reports, call
blocks, service bookings), each with its own account, date, text and author. Created and
listed through the API, never by an import; they go with the customer when it is purged, and
a transfer moves (`reassign`) or copies (`copy_to`) them.

Plain Python: the `ActivityRepository` port is implemented on DynamoDB in
`adapters/activities_dynamo.py` (one Query by the customer's key, never a scan).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from ..errors import CustomerImportError

KINDS = ("appointment", "report", "call_block", "service_booking")
MAX_TEXT_CHARS = 4000
MAX_PAGE = 100
# A character that is not white space in any of the regex dialects that read it: the OpenAPI
# document's (ECMAScript), pydantic's (Rust) and Python's; so a text the document calls valid
# is one the domain takes.
NOT_BLANK = "[^\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]"
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# `{date}_{created, compact}_{8 hex}`: the table's sort key, so a customer's activities list by
# date, then by when they were recorded.
ACTIVITY_ID = re.compile(r"^\d{4}-\d{2}-\d{2}_\d{8}T\d{9}Z_[0-9a-f]{8}$")


class InvalidActivity(CustomerImportError, ValueError):
    """An activity that cannot be stored; the message names the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def check_kind(kind: object) -> str:
    if kind not in KINDS:
        raise InvalidActivity("kind", f"must be one of {', '.join(KINDS)}, not {kind!r}")
    return str(kind)


def check_date(value: object) -> str:
    """A real calendar date written YYYY-MM-DD (`date.fromisoformat` alone also takes
    `20261202` and week dates)."""
    if not isinstance(value, str) or not ISO_DATE.match(value):
        raise InvalidActivity("date", f"must be a date written YYYY-MM-DD, not {value!r}")
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise InvalidActivity("date", f"must be a real calendar date, not {value!r}") from None


def check_text(text: object) -> str:
    if not isinstance(text, str) or not re.search(NOT_BLANK, text):
        raise InvalidActivity("text", "must not be empty")
    if len(text) > MAX_TEXT_CHARS:
        raise InvalidActivity(
            "text", f"must be at most {MAX_TEXT_CHARS:,} characters, not {len(text):,}"
        )
    return text


def new_activity_id(day: str, created_at: datetime) -> str:
    stamp = created_at.strftime("%Y%m%dT%H%M%S") + f"{created_at.microsecond // 1000:03d}Z"
    return f"{day}_{stamp}_{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Activity:
    activity_id: str
    org_id: str
    customer_id: str
    account_id: str
    kind: str
    date: str
    text: str
    author: str  # the subject (`sub`) of the token that recorded it
    created_at: str

    def __post_init__(self) -> None:
        check_kind(self.kind)
        check_date(self.date)
        check_text(self.text)

    @classmethod
    def new(
        cls,
        *,
        org_id: str,
        customer_id: str,
        account_id: str,
        kind: str,
        day: str,
        text: str,
        author: str,
        now: datetime,
    ) -> Activity:
        day = check_date(day)
        return cls(
            activity_id=new_activity_id(day, now),
            org_id=org_id,
            customer_id=customer_id,
            account_id=account_id,
            kind=check_kind(kind),
            date=day,
            text=check_text(text),
            author=author,
            created_at=now.isoformat(timespec="milliseconds"),
        )

    def view(self) -> dict[str, Any]:
        return {
            "activity_id": self.activity_id,
            "customer_id": self.customer_id,
            "account": self.account_id,
            "kind": self.kind,
            "date": self.date,
            "text": self.text,
            "author": self.author,
            "created_at": self.created_at,
        }


class ActivityRepository(Protocol):
    def add(self, activity: Activity) -> None:
        """Store a new activity (its id is new: writing it again changes nothing)."""

    def list_for_customer(
        self, customer_id: str, limit: int, start: str | None
    ) -> tuple[list[Activity], str | None]:
        """Up to `limit` of the customer's activities by date, after the activity id `start`,
        and the id to go on from (None on the last page)."""

    def count_for_customers(self, customer_ids: Collection[str]) -> dict[str, int]:
        """How many activities each customer has (0 included)."""

    def counts_recorded_since(self, org_id: str, since: Mapping[str, str]) -> dict[str, int]:
        """For each of the organisation's customers in `since`, how many of its activities
        were recorded (`created_at`) at or after its timestamp there; customers without one
        are left out. Through the organisation's index by time (one paged query from the
        earliest timestamp, not one a customer), which is eventually consistent."""

    def delete_for_customer(self, org_id: str, customer_id: str) -> int:
        """Delete every activity of the organisation's customer; how many went."""

    def reassign(self, customer_id: str, account_id: str) -> int:
        """A move: every activity of the customer now belongs to `account_id` (idempotent)."""

    def copy_to(
        self, source_customer_id: str, target_customer_id: str, target_account_id: str
    ) -> int:
        """A copy: the source's activities again under the target customer and account, with
        the same activity ids (writing them again overwrites, so a retried copy doubles
        nothing)."""


def count_for_customer(repository: ActivityRepository, customer_id: str) -> int:
    return repository.count_for_customers([customer_id]).get(customer_id, 0)


def from_item(values: Mapping[str, Any]) -> Activity:
    return Activity(**{name: str(values[name]) for name in Activity.__dataclass_fields__})
