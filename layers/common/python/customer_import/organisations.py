"""What an organisation configures about its imports (design §5.1, issue 3)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from .cleaning import DEFAULT_REGION, DEFAULT_TIME_ZONE

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
