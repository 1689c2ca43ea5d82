"""A person's change of the organisation's settings (`PUT /settings`): checked whole, stored,
audited. Every step reads the settings when it runs, so the next import uses them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from .audit import AuditEntry
from .organisations import OrganisationProfile, ProductLimits, checked_settings
from .ports import AuditLog, OrganisationStore

SETTINGS_CHANGED = "settings.changed"


def change_settings(
    store: OrganisationStore,
    audit: AuditLog,
    org_id: str,
    data: Mapping[str, Any],
    limits: ProductLimits,
    actor: str,
    now: datetime,
) -> OrganisationProfile:
    """Replace the organisation's settings by the checked document; audit which fields
    changed, with their values before and after (settings hold no personal data)."""
    before = store.get(org_id)
    after = checked_settings(org_id, data, limits)
    changed = sorted(k for k, v in after.to_dict().items() if before.to_dict()[k] != v)
    if not changed:
        return before
    store.put(after)
    at = now.isoformat(timespec="milliseconds")
    audit.record(
        AuditEntry(
            org_id=org_id,
            # No job did it: the entry is kept under the organisation.
            job_id="settings",
            action=SETTINGS_CHANGED,
            actor=actor,
            at=at,
            job_created_at=at,
            details={
                "fields": changed,
                "before": {k: before.to_dict()[k] for k in changed},
                "after": {k: after.to_dict()[k] for k in changed},
            },
        )
    )
    return after
