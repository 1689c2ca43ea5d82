"""Import profiles (design §5.8): what an organisation decided in advance about the files of
one kind (an ERP's nightly export), so that nobody has to click through its import: the
account, the mode and key, the field policy, transfers, the duplicate decision, whether a
person reviews it, the deletion threshold and how long a decision may wait.

A profile is a JSON object checked whole when it is saved: every problem is named at once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from .audit import AuditEntry
from .changes.rules import (
    DEFAULT_MAX_DELETE_PERCENT,
    FieldPolicy,
    MatchKey,
    Mode,
    Transfer,
    transfer_refusal,
)
from .errors import CustomerImportError
from .jobs import ACCOUNT_PATTERN, DuplicatePolicy, Job, JobOptions
from .ports import AuditLog
from .sources.layout import FORMATS, SOURCES, TECHMAN, DateOrder, FileLayout, layout_problems

PROFILE_NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
PROFILE_NAME, ACCOUNT = re.compile(PROFILE_NAME_PATTERN), re.compile(ACCOUNT_PATTERN)
REVIEWS = ("auto", "hold")
DECISION_TIMEOUT_RANGE = (60, 7 * 24 * 3600)
PROFILE_SAVED, PROFILE_DELETED = "profile.saved", "profile.deleted"


class InvalidProfile(CustomerImportError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("Invalid profile: " + "; ".join(problems))
        self.problems = problems


class ProfileNotFound(CustomerImportError):
    def __init__(self, name: str) -> None:
        super().__init__(f"Import profile {name!r} not found")
        self.name = name


@dataclass(frozen=True)
class ImportProfile:
    org_id: str
    name: str
    account: str = "main"
    options: JobOptions = field(default_factory=JobOptions)

    @property
    def source(self) -> str:
        return self.options.layout.source

    def to_document(self) -> dict[str, Any]:
        """The profile as a person writes it (and `profiles put` takes back)."""
        options = self.options
        return {
            **options.layout.to_dict(),
            "account": self.account,
            "mode": str(options.mode),
            "key": str(options.key),
            "field_policy": str(options.field_policy),
            "transfer": str(options.transfer),
            "transfer_related": options.transfer_related,
            "on_duplicate": str(options.on_duplicate),
            "review": "auto" if options.auto_run else "hold",
            "max_delete_percent": options.max_delete_percent,
            "decision_timeout_seconds": options.decision_timeout_seconds,
        }

    def job_options(self) -> JobOptions:
        return replace(self.options, profile=self.name)


DOCUMENT_FIELDS = tuple(ImportProfile("", "").to_document())


def _choice(
    data: Mapping[str, Any], name: str, allowed: Any, default: str, problems: list[str]
) -> str:
    value = data.get(name, default)
    names = [str(a) for a in allowed]
    if value not in names:
        problems.append(f"{name}: one of {', '.join(names)}, not {value!r}")
        return default
    return str(value)


def checked_profile(org_id: str, name: str, data: Mapping[str, Any]) -> ImportProfile:
    """The profile a person's document describes (a field left out takes its default);
    InvalidProfile names every problem at once."""
    problems: list[str] = []
    if not PROFILE_NAME.match(name):
        problems.append(
            f"name: 1 to 64 lower-case letters, digits, '-' or '_', starting with a letter or "
            f"digit, not {name!r}"
        )
    for unknown in sorted(set(data) - set(DOCUMENT_FIELDS)):
        problems.append(f"{unknown}: not a profile field (those are {', '.join(DOCUMENT_FIELDS)})")
    layout = _layout(data, problems)
    account = data.get("account", "main")
    if not isinstance(account, str) or not ACCOUNT.match(account):
        problems.append(f"account: 1 to 64 letters, digits, '.', '-' or '_', not {account!r}")
        account = "main"
    mode = Mode(_choice(data, "mode", Mode, str(Mode.INSERT), problems))
    key = MatchKey(_choice(data, "key", MatchKey, str(MatchKey.EXTERNAL), problems))
    policy = FieldPolicy(
        _choice(data, "field_policy", FieldPolicy, str(FieldPolicy.OVERWRITE), problems)
    )
    transfer = Transfer(_choice(data, "transfer", Transfer, str(Transfer.NONE), problems))
    on_duplicate = DuplicatePolicy(
        _choice(data, "on_duplicate", DuplicatePolicy, str(DuplicatePolicy.SKIP), problems)
    )
    review = _choice(data, "review", REVIEWS, "hold", problems)
    related = data.get("transfer_related", False)
    if not isinstance(related, bool):
        problems.append(f"transfer_related: true or false, not {related!r}")
        related = False
    share = data.get("max_delete_percent", DEFAULT_MAX_DELETE_PERCENT)
    if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 100:
        problems.append(f"max_delete_percent: a number from 0 to 100, not {share!r}")
        share = DEFAULT_MAX_DELETE_PERCENT
    timeout = data.get("decision_timeout_seconds")
    low, high = DECISION_TIMEOUT_RANGE
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, int) or not low <= timeout <= high
    ):
        problems.append(
            f"decision_timeout_seconds: whole seconds from {low} to {high:,}, or null, "
            f"not {timeout!r}"
        )
        timeout = None
    if refusal := transfer_refusal(mode, str(key), transfer, related):
        problems.append(f"transfer: {refusal}")
    if problems:
        raise InvalidProfile(problems)
    return ImportProfile(
        org_id=org_id,
        name=name,
        account=account,
        options=JobOptions(
            auto_run=review == "auto",
            on_duplicate=on_duplicate,
            mode=mode,
            decision_timeout_seconds=timeout,
            key=key,
            field_policy=policy,
            max_delete_percent=float(share),
            transfer=transfer,
            transfer_related=related,
            layout=layout,
        ),
    )


def _layout(data: Mapping[str, Any], problems: list[str]) -> FileLayout:
    """How the profile's files are read; a field of the wrong kind is named and left out."""
    source = _choice(data, "source", SOURCES, TECHMAN, problems)
    order = DateOrder(_choice(data, "date_order", DateOrder, str(DateOrder.DAY_FIRST), problems))
    file_format = _choice(data, "format", FORMATS, "csv", problems)
    columns = data.get("columns") or {}
    if not isinstance(columns, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in columns.items()
    ):
        problems.append("columns: an object of file header -> canonical column name")
        columns = {}
    words = data.get("boolean_words") or {}
    if not isinstance(words, dict) or not all(isinstance(v, bool) for v in words.values()):
        problems.append('boolean_words: an object of word -> true or false, e.g. {"ja": true}')
        words = {}
    region, sheet = data.get("phone_region"), data.get("sheet")
    if region is not None and not isinstance(region, str):
        problems.append(f"phone_region: a region code such as GB or DE, not {region!r}")
        region = None
    if sheet is not None and (not isinstance(sheet, str) or not 1 <= len(sheet) <= 31):
        problems.append(f"sheet: a sheet's name (1 to 31 characters), not {sheet!r}")
        sheet = None
    layout = FileLayout(source, columns, order, region, words, file_format, sheet)
    problems += layout_problems(layout)
    return layout


class ProfileStore(Protocol):
    def get(self, org_id: str, name: str) -> ImportProfile | None: ...

    def put(self, profile: ImportProfile) -> None: ...

    def delete(self, org_id: str, name: str) -> bool:
        """Whether there was such a profile."""

    def for_organisation(self, org_id: str) -> list[ImportProfile]:
        """The organisation's profiles, by name."""


def save_profile(
    store: ProfileStore,
    audit: AuditLog,
    org_id: str,
    name: str,
    data: Mapping[str, Any],
    actor: str,
    now: datetime,
) -> ImportProfile:
    """Check and store the profile (replacing one of that name), and audit it."""
    profile = checked_profile(org_id, name, data)
    store.put(profile)
    _audit(audit, profile.org_id, name, PROFILE_SAVED, actor, now, profile.to_document())
    return profile


def document_of_job(job: Job) -> dict[str, Any]:
    """A profile document holding a job's settings, as it ran (a date order it detected or
    was told included): an import set up by hand, kept for the nightly ones."""
    options = replace(job.options, profile=None, confirm_deletions=False)
    return ImportProfile(job.org_id, "", account=job.account_id, options=options).to_document()


def delete_profile(
    store: ProfileStore, audit: AuditLog, org_id: str, name: str, actor: str, now: datetime
) -> None:
    if not store.delete(org_id, name):
        raise ProfileNotFound(name)
    _audit(audit, org_id, name, PROFILE_DELETED, actor, now, {})


def profile_for_import(store: ProfileStore, org_id: str, name: str) -> ImportProfile:
    found = store.get(org_id, name)
    if found is None:
        raise ProfileNotFound(name)
    return found


def _audit(
    audit: AuditLog,
    org_id: str,
    name: str,
    action: str,
    actor: str,
    now: datetime,
    document: dict[str, Any],
) -> None:
    at = now.isoformat(timespec="milliseconds")
    audit.record(
        AuditEntry(
            org_id=org_id,
            # No job did it: the entry is kept under the profile.
            job_id=f"profile:{name}",
            action=action,
            actor=actor,
            at=at,
            job_created_at=at,
            details={"profile": name, **document},
        )
    )
