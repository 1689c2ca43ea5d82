"""What an organisation configures about its imports (design §5.1, issue 3)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import phonenumbers
from dateutil.zoneinfo import get_zonefile_instance

from .cleaning import DEFAULT_REGION, DEFAULT_TIME_ZONE
from .errors import CustomerImportError

# How long a binned customer stays restorable (design §5.4): at most two weeks.
DEFAULT_RECYCLE_BIN_DAYS = 14
MIN_RECYCLE_BIN_DAYS, MAX_RECYCLE_BIN_DAYS = 1, 14


def check_recycle_bin_days(days: object) -> int:
    """The retention an organisation may configure, or a clear error."""
    if isinstance(days, bool) or not isinstance(days, int):
        raise ValueError(f"recycle_bin_days must be a whole number of days, not {days!r}")
    if not MIN_RECYCLE_BIN_DAYS <= days <= MAX_RECYCLE_BIN_DAYS:
        raise ValueError(
            f"recycle_bin_days must be between {MIN_RECYCLE_BIN_DAYS} and "
            f"{MAX_RECYCLE_BIN_DAYS} days, not {days}"
        )
    return days


@dataclass(frozen=True)
class OrganisationProfile:
    org_id: str
    time_zone: str = DEFAULT_TIME_ZONE
    phone_region: str = DEFAULT_REGION
    # Customer group names as the source writes them -> the organisation's own groups.
    group_map: dict[str, str] = field(default_factory=dict)
    max_file_bytes: int | None = None  # None: the product's default limit
    max_rows: int | None = None
    # Days a binned customer is kept before the scheduled purge deletes it (`purge_after_for`).
    recycle_bin_days: int = DEFAULT_RECYCLE_BIN_DAYS

    def __post_init__(self) -> None:
        check_recycle_bin_days(self.recycle_bin_days)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OrganisationProfile:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def map_group(self, name: str | None) -> tuple[str | None, bool]:
        """The organisation's group for a source group name, and whether the name was known.
        Unknown names are kept as they are; with no map at all, every name is taken as is."""
        if name is None or not self.group_map:
            return name, True
        by_key = {k.strip().casefold(): v for k, v in self.group_map.items()}
        mapped = by_key.get(name.strip().casefold())
        return (mapped, True) if mapped is not None else (name, False)


# ---- the settings a person changes (`PUT /settings`) ---------------------------------------

GROUP_MAP_ENTRIES = 1_000
GROUP_NAME_CHARS = 100


@dataclass(frozen=True)
class ProductLimits:
    """The product's own limits, which an organisation's may lower, never raise."""

    max_file_bytes: int
    max_rows: int


class InvalidSettings(CustomerImportError):
    """Settings refused; `problems` names each field at fault and why."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("Invalid settings: " + "; ".join(problems))
        self.problems = problems


def _limit(name: str, value: object, ceiling: int, problems: list[str]) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= ceiling:
        problems.append(
            f"{name}: a whole number from 1 to {ceiling:,} (the product's limit), or null for "
            f"that limit, not {value!r}"
        )


def _group_map(value: object, problems: list[str]) -> None:
    if not isinstance(value, Mapping):
        problems.append("group_map: an object of source group name -> the organisation's group")
        return
    if len(value) > GROUP_MAP_ENTRIES:
        problems.append(f"group_map: at most {GROUP_MAP_ENTRIES:,} names, not {len(value):,}")
    seen: dict[str, str] = {}
    for source, target in value.items():
        for what, text in (("name", source), ("group", target)):
            if not isinstance(text, str) or not text.strip() or len(text) > GROUP_NAME_CHARS:
                problems.append(
                    f"group_map: every {what} is text of 1 to {GROUP_NAME_CHARS} characters, "
                    f"not {text!r}"
                )
        if isinstance(source, str):
            key = source.strip().casefold()
            if key in seen:
                # map_group compares names without case or surrounding spaces.
                problems.append(f"group_map: {seen[key]!r} and {source!r} are the same name")
            seen[key] = source


def checked_settings(
    org_id: str, data: Mapping[str, Any], limits: ProductLimits
) -> OrganisationProfile:
    """The organisation's settings from a person's whole document (a field left out takes
    its default); InvalidSettings names every problem at once."""
    problems: list[str] = []
    known = set(OrganisationProfile.__dataclass_fields__) - {"org_id"}
    for name in sorted(set(data) - known):
        problems.append(f"{name}: not a setting (those are {', '.join(sorted(known))})")
    zone = data.get("time_zone", DEFAULT_TIME_ZONE)
    if not isinstance(zone, str) or zone not in get_zonefile_instance().zones:
        problems.append(f"time_zone: an IANA time zone such as Europe/London, not {zone!r}")
    region = data.get("phone_region", DEFAULT_REGION)
    if not isinstance(region, str) or region not in phonenumbers.SUPPORTED_REGIONS:
        problems.append(f"phone_region: a two-letter region such as GB, not {region!r}")
    _group_map(data.get("group_map", {}), problems)
    _limit("max_file_bytes", data.get("max_file_bytes"), limits.max_file_bytes, problems)
    _limit("max_rows", data.get("max_rows"), limits.max_rows, problems)
    try:
        check_recycle_bin_days(data.get("recycle_bin_days", DEFAULT_RECYCLE_BIN_DAYS))
    except ValueError as exc:
        problems.append(str(exc))
    if problems:
        raise InvalidSettings(problems)
    return OrganisationProfile.from_dict({**data, "org_id": org_id})
