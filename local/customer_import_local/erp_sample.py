"""A German ERP's nightly customer export (issue #19's Show): its own headers, semicolons,
Windows-1252, dates as TT.MM.JJJJ, yes/no as ja/nein, postcodes with leading zeros; as CSV or
as the XLSX the same ERP writes (real dates and numbers in the cells)."""

from __future__ import annotations

import csv
import io
import random
from datetime import date
from pathlib import Path
from typing import Any

HEADERS = (
    "Kundennummer",
    "Name",
    "E-Mail",
    "Mobil",
    "Telefon",
    "Straße",
    "PLZ",
    "Ort",
    "Land",
    "Kundengruppe",
    "Angelegt am",
    "Gesperrt",
    "Newsletter",
    "Bemerkung",
)
_FIRST = ("Jürgen", "Anna", "Björn", "Käthe", "Lukas", "Sophie", "Mehmet", "Zoë", "Günter", "Renée")
_LAST = ("Müller", "Weiß", "Schäfer", "Köhler", "Groß", "Öztürk", "Bauer", "Hoffmann")
_TOWNS = (("01067", "Dresden"), ("04109", "Leipzig"), ("10115", "Berlin"), ("80331", "München"))
_ASCII = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "é": "e", "ë": "e"})
_STREETS = ("Hauptstraße", "Schloßallee", "Bahnhofstraße", "Am Gänseberg")


def german_rows(customers: int, seed: int = 1, ambiguous_dates: bool = False) -> list[list[Any]]:
    """One row per customer, the values as the ERP holds them (dates as `date`). With
    `ambiguous_dates`, no day is over 12: no value tells day-first from month-first."""
    rng = random.Random(f"german-erp:{seed}:{customers}:{ambiguous_dates}")
    rows: list[list[Any]] = []
    for number in range(1, customers + 1):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        postcode, town = rng.choice(_TOWNS)
        day = rng.randint(1, 12) if ambiguous_dates else rng.randint(13, 28)
        rows.append(
            [
                f"K-{10000 + number}",
                f"{first} {last}",
                f"{first}.{last}{number}@example.de".lower().translate(_ASCII),
                f"0151 {rng.randint(20000000, 29999999)}",
                f"030 {rng.randint(2000000, 8999999)}",
                f"{rng.choice(_STREETS)} {rng.randint(1, 120)}",
                postcode,
                town,
                "Deutschland",
                rng.choice(("Privat", "Gewerbe")),
                date(2020 + number % 5, rng.randint(1, 12), day),
                "ja" if number % 17 == 0 else "nein",
                rng.choice(("ja", "nein")),
                "Rückruf erwünscht" if number % 9 == 0 else "",
            ]
        )
    return rows


def german_csv(rows: list[list[Any]]) -> bytes:
    """As the ERP exports it on a German Windows: `;`, CRLF, Windows-1252, TT.MM.JJJJ."""
    text = io.StringIO()
    writer = csv.writer(text, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADERS)
    for row in rows:
        writer.writerow(
            [value.strftime("%d.%m.%Y") if isinstance(value, date) else value for value in row]
        )
    return text.getvalue().encode("cp1252")


def german_xlsx(rows: list[list[Any]], path: Path, sheet: str = "Kunden") -> None:
    """The same rows as a workbook: dates as date cells, the postcode as text."""
    from openpyxl import Workbook

    book = Workbook()
    worksheet = book.active
    assert worksheet is not None
    worksheet.title = sheet
    worksheet.append(list(HEADERS))
    for row in rows:
        worksheet.append(row)
        worksheet.cell(row=worksheet.max_row, column=11).number_format = "DD.MM.YYYY"
    book.save(path)
