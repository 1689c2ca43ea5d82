"""Small Techman files built in code, for tests."""

from __future__ import annotations

import csv
import io

from customer_import.techman import REQUIRED_COLUMNS

HEADER = [*REQUIRED_COLUMNS, "VehicleRegistration", "VehicleMake", "DateCreated"]


def row(number: str, name: str = "Alice Smith", **overrides: str) -> dict[str, str]:
    base = {
        "CustomerNumber": number,
        "CustomerName": name,
        "Phone": "07712 345678",
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
