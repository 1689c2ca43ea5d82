"""Small Techman files built in code, for tests."""

from __future__ import annotations

import csv
import io

from customer_import.sources.techman import REQUIRED_COLUMNS

HEADER = [*REQUIRED_COLUMNS, "VehicleRegistration", "VehicleMake", "DateCreated"]


def row(number: str, name: str = "Alice Smith", **overrides: str) -> dict[str, str]:
    """A clean row; its phone and email follow the number and name, so customers built from
    different numbers and names are not duplicates of each other."""
    digits = "".join(c for c in number if c.isdigit()) or "0"
    base = {
        "CustomerNumber": number,
        "CustomerName": name,
        "Phone": f"07712 {int(digits) % 1_000_000:06d}",
        "PhoneLandline": "",
        "Email": f"{name.split()[0].lower()}@example.com",
        "Address1": "1 High St",
        "Town": "Leeds",
        "Postcode": "LS1 1AA",
        "CustomerGroupName": "Retail",
        "CustomerOnStop": "False",
        "VehicleRemindersEnabled": "True",
        "NotificationsEnabled": "True",
        "VehicleRegistration": "",
        "VehicleMake": "",
        "DateCreated": "25/12/2020 10:00:00",
    }
    base.update(overrides)
    return base


def techman_csv(
    rows: list[dict[str, str]],
    header: list[str] | None = None,
    *,
    encoding: str = "utf-8",
    delimiter: str = ",",
) -> bytes:
    header = header or HEADER
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    for r in rows:
        writer.writerow([r.get(column, "") for column in header])
    return out.getvalue().encode(encoding)


def customers(count: int, start: int = 1000) -> list[dict[str, str]]:
    return [row(str(start + i), f"Customer{i} Person") for i in range(count)]
