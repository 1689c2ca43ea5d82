"""The `Customer` aggregate (design §5.2): one customer of one account of an organisation,
with its addresses and vehicles, its stable `customer_id` and its `version`."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ..cleaning import normalise_registration

# The customer's own fields an import reads from a file (the external number aside).
CUSTOMER_FIELDS = (
    "title",
    "name",
    "email",
    "phone",
    "landline",
    "customer_group",
    "credit_hold",
    "account_customer",
    "vat_registered",
    "vat_number",
    "notification_preferences",
    "date_created",
    "last_visit",
)
ADDRESS_FIELDS = ("line1", "line2", "line3", "town", "county", "postcode", "country")
VEHICLE_FIELDS = ("registration", "make", "model", "vin", "first_registered", "mot_due", "mileage")


def new_customer_id() -> str:
    """A customer's internal id ("Portatour ID"): made once, when it is first created."""
    return str(uuid.uuid4())


def vehicle_identity(vehicle: Mapping[str, Any]) -> str | None:
    """What tells two vehicles of a customer apart: the normalised registration, else the VIN."""
    registration = normalise_registration(str(vehicle.get("registration") or ""))
    if registration:
        return f"registration:{registration}"
    vin = str(vehicle.get("vin") or "").strip().upper()
    return f"vin:{vin}" if vin else None


def vehicle_key(vehicle: Mapping[str, Any]) -> str:
    """A vehicle's key within its customer: its identity, else the row it came from (such a
    vehicle cannot be recognised in a later file, so updates never add it twice: see
    `changes.plan`)."""
    return vehicle_identity(vehicle) or f"row:{vehicle.get('row')}"


@dataclass(frozen=True)
class Customer:
    org_id: str
    account_id: str
    customer_id: str
    external_customer_number: str | None
    # Every name of CUSTOMER_FIELDS; an absent value is None.
    fields: Mapping[str, Any] = field(default_factory=dict)
    # By address type (billing, shipping): the ADDRESS_FIELDS of that address.
    addresses: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # By `vehicle_key`: the VEHICLE_FIELDS.
    vehicles: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # 0 for a customer not stored yet; every stored write raises it by one.
    version: int = 0
    created_by_job: str | None = None
    updated_by_job: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    # Set while the customer is in the recycle bin: when it was binned, and from when it may
    # be purged for good.
    deleted_at: str | None = None
    purge_after: str | None = None
    # `{content_digest}@{version}` of the file customer an import last wrote it from, when
    # that write left it holding every value of the file customer (`written_from`); any
    # later write raises the version past it.
    source_digest: str | None = None

    @property
    def binned(self) -> bool:
        return self.deleted_at is not None

    def value(self, name: str) -> Any:
        return self.fields.get(name)

    def with_changes(self, **changes: Any) -> Customer:
        return replace(self, **changes)

    @classmethod
    def from_staged(
        cls, org_id: str, account_id: str, staged: Mapping[str, Any], **extra: Any
    ) -> Customer:
        """A customer as Prepare staged it (a cleaned record's `to_dict` plus its
        `customer_id`), not stored yet."""
        vehicles: dict[str, Mapping[str, Any]] = {}
        for vehicle in staged.get("vehicles") or []:
            vehicles[vehicle_key(vehicle)] = {name: vehicle.get(name) for name in VEHICLE_FIELDS}
        return cls(
            org_id=org_id,
            account_id=account_id,
            customer_id=str(staged["customer_id"]),
            external_customer_number=staged.get("external_customer_number") or None,
            fields={name: staged.get(name) for name in CUSTOMER_FIELDS},
            addresses={
                str(address["type"]): {name: address.get(name) for name in ADDRESS_FIELDS}
                for address in staged.get("addresses") or []
                if any(address.get(name) for name in ADDRESS_FIELDS)
            },
            vehicles=vehicles,
            **extra,
        )

    def content_digest(self) -> str:
        """A digest of what an import compares: the external number, the fields, the
        addresses and the vehicles."""
        content = [self.external_customer_number, self.fields, self.addresses, self.vehicles]
        text = json.dumps(content, sort_keys=True, default=str, separators=(",", ":"))
        return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()

    def written_from(self, version: int) -> str:
        """The `source_digest` of a write from this file customer that leaves `version`."""
        return f"{self.content_digest()}@{version}"

    def flat(self) -> dict[str, Any]:
        """The external number and the fields in one mapping: what match keys and summaries
        read (`duplicates.match_keys`)."""
        return {"external_customer_number": self.external_customer_number, **self.fields}

    def view(self) -> dict[str, Any]:
        """What the API and the CLI show of the customer."""
        return {
            "customer_id": self.customer_id,
            "account": self.account_id,
            "version": self.version,
            "external_customer_number": self.external_customer_number,
            **dict(self.fields),
            "addresses": [{"type": kind, **dict(a)} for kind, a in sorted(self.addresses.items())],
            "vehicles": [dict(v) for _, v in sorted(self.vehicles.items())],
            "created_by_job": self.created_by_job,
            "updated_by_job": self.updated_by_job,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "deleted_at": self.deleted_at,
            "purge_after": self.purge_after,
        }
