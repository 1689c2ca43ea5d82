"""Writes the awkward Techman files of this folder, byte for byte.

The committed files are the corpus; this script only documents how they were made and lets
them be made again (`.venv/bin/python -m tests.corpus.make_corpus`). What each file must give
is in `expected.json`, checked by `tests/unit/test_corpus.py`.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from pathlib import Path

from customer_import.sources.techman import REQUIRED_COLUMNS

HERE = Path(__file__).resolve().parent
HEAD_BYTES = (
    64 * 1024
)  # customer_import.sources.csv_files.HEAD_BYTES, spelled out: no import needed
# Curly quotes, as Word and Outlook type them and Excel keeps them.
RSQUO, LDQUO, RDQUO = "\u2019", "\u201c", "\u201d"

REQUIRED = list(REQUIRED_COLUMNS)
VEHICLE = ["VehicleRegistration", "VehicleMake", "VehicleModel"]
# The columns most files use: every required one, a few optional ones, in Techman's order.
HEADER = [
    "CustomerNumber",
    "Title",
    "CustomerName",
    "Phone",
    "PhoneLandline",
    "Email",
    "Address1",
    "Address2",
    "Town",
    "Postcode",
    "CustomerGroupName",
    "CustomerOnStop",
    "VehicleRemindersEnabled",
    "NotificationsEnabled",
    "DateCreated",
    *VEHICLE,
]

DEFAULTS = {
    "Title": "Mr",
    "Phone": "07712 345678",
    "PhoneLandline": "",
    "Address1": "1 High Street",
    "Address2": "",
    "Town": "Leeds",
    "Postcode": "LS1 1AA",
    "County": "West Yorkshire",
    "Country": "United Kingdom",
    "CustomerGroupName": "Retail",
    "CustomerOnStop": "False",
    "AccountCustomer": "False",
    "VATRegistered": "False",
    "VehicleRemindersEnabled": "True",
    "NotificationsEnabled": "True",
    "DateCreated": "25/12/2020 10:00:00",
}


def row(number: str, name: str, **cells: str) -> dict[str, str]:
    first, *_ = name.split()
    return {
        **DEFAULTS,
        "CustomerNumber": number,
        "CustomerName": name,
        "Email": f"{first.lower()}@example.com",
        **cells,
    }


def text(
    rows: list[dict[str, str]],
    header: list[str] = HEADER,
    delimiter: str = ",",
    newline: str = "\r\n",
) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=newline)
    writer.writerow(header)
    for values in rows:
        writer.writerow([values.get(column, "") for column in header])
    return out.getvalue()


def write(name: str, data: bytes) -> None:
    (HERE / name).write_bytes(data)


def a_zip_renamed_csv() -> bytes:
    """What arrives when someone uploads the .xlsx workbook instead of the CSV export."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as workbook:
        for path, body in (
            ("[Content_Types].xml", '<?xml version="1.0"?><Types/>'),
            ("xl/workbook.xml", '<?xml version="1.0"?><workbook/>'),
            ("xl/worksheets/sheet1.xml", '<?xml version="1.0"?><worksheet/>' * 20),
        ):
            info = zipfile.ZipInfo(path, date_time=(2024, 1, 1, 0, 0, 0))
            workbook.writestr(info, body)
    return out.getvalue()


def main() -> None:
    # ---- encodings, delimiters, line endings ------------------------------------------------
    write(
        "utf8_comma_crlf.csv",
        text(
            [
                row(
                    "1001",
                    "Renée Dubois",
                    Address2=f"Café {LDQUO}Le Pont{RDQUO}",
                    CustomerGroupName="Trade £",
                ),
                row("1002", "Zoë Ørsted", VehicleRegistration="AB12 CDE", VehicleMake="Škoda"),
                row("1002", "Zoë Ørsted", VehicleRegistration="CD34 EFG", VehicleMake="Citroën"),
                row("1003", "Bob Hall"),
            ]
        ).encode("utf-8"),
    )
    write(
        "utf8_bom_lf.csv",
        codecs.BOM_UTF8
        + text(
            [row("2001", "José Álvarez", Address1=f"5 Rue d{RSQUO}Été"), row("2002", "Amy Pond")],
            newline="\n",
        ).encode("utf-8"),
    )
    write(
        "utf16le_bom_tab.csv",
        codecs.BOM_UTF16_LE
        + text(
            [
                row("3001", f"Siobhán O{RSQUO}Neill", Address2=f"Flat 2, {LDQUO}The Forge{RDQUO}"),
                row("3002", "Łukasz Nowak", VehicleRegistration="LK19 ABC"),
            ],
            delimiter="\t",
        ).encode("utf-16-le"),
    )
    write(
        "cp1252_semicolon.csv",
        text(
            [
                row(
                    "4001",
                    "Renée Dubois",
                    Address2=f"Café {LDQUO}Le Pont{RDQUO}",
                    CustomerGroupName="Trade £",
                ),
                row("4002", f"Bob O{RSQUO}Brien", Address1="£5 Parking, Lot 2"),
            ],
            delimiter=";",
        ).encode("cp1252"),
    )
    filler = [row(str(50000 + i), f"Customer{i} Filler") for i in range(520)]
    late = text(
        [
            *filler,
            row("5400", "Renée Dubois", Address2=f"Café {LDQUO}Le Pont{RDQUO}"),
            row("5401", "Chloë Price", CustomerGroupName="Trade £"),
        ]
    ).encode("cp1252")
    assert min(late.index(b"\xe9"), late.index(b"\xa3")) > HEAD_BYTES, "not late enough"
    write("late_cp1252_after_ascii_head.csv", late)
    write(
        "mac_cr_line_endings.csv",
        text([row("6001", "Ann Lee"), row("6002", "Bob Hall")], newline="\r").encode("utf-8"),
    )

    # ---- CSV structure ----------------------------------------------------------------------
    write(
        "quoted_newlines_and_doubled_quotes.csv",
        text(
            [
                row("7001", "Ann Lee", Address1="Unit 4\r\nRiverside Estate"),
                row(
                    "7002", 'Bob "The Builder" Hall', Address1="2 Mill Lane, Rear", Address2="a\nb"
                ),
                row("7003", "Cat Ng", Email="cat.ng@"),
            ]
        ).encode("utf-8"),
    )
    header, ann, dan = text([row("8001", "Ann Lee"), row("8005", "Dan Roe")]).splitlines(True)
    too_few = "8002,Mr,Bob Hall,07712 345678\r\n"
    too_many = text([row("8003", "Cat Ng")]).splitlines(True)[1].rstrip() + ",extra\r\n"
    no_number = text([row("", "Nobody Known")]).splitlines(True)[1]
    short_and_long = [header, ann, too_few, too_many, no_number, dan]
    write("wrong_field_counts.csv", "".join(short_and_long).encode("utf-8"))

    # ---- files that cannot be imported at all -----------------------------------------------
    write("empty.csv", b"")
    write("bom_and_blank_lines.csv", codecs.BOM_UTF8 + b"\r\n\r\n  \r\n")
    write("header_only.csv", text([]).encode("utf-8"))
    write("header_and_blank_rows.csv", (text([]) + ",,,,\r\n\r\n").encode("utf-8"))
    write("workbook_not_csv.csv", a_zip_renamed_csv())
    write(
        "missing_required_columns.csv",
        text(
            [row("9001", "Ann Lee")],
            header=[c for c in HEADER if c not in ("PhoneLandline", "Email", "CustomerOnStop")],
        ).encode("utf-8"),
    )
    write(
        "missing_every_column.csv",
        text([{"Name": "Ann Lee", "Mobile": "07712 345678"}], header=["Name", "Mobile"]).encode(),
    )

    # ---- the column contract ----------------------------------------------------------------
    messy = [
        "  notificationsenabled ",
        "EMAIL",
        "Loyalty Points",
        "customername",
        " CustomerNumber",
        "phone ",
        "PHONELANDLINE",
        "town",
        "address1",
        "postcode",
        "CustomerGroupName",
        "customeronstop",
        "vehicleremindersenabled",
        "Notes",
        "vehicleregistration",
    ]
    canonical = {c.strip().lower(): c for c in [*HEADER, "Loyalty Points", "Notes"]}
    messy_rows = [
        row("10001", "Ann Lee", **{"Loyalty Points": "120", "Notes": "Pays cash"}),
        row("10002", "Bob Hall", VehicleRegistration="ab12cde", NotificationsEnabled="False"),
    ]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(messy)
    for values in messy_rows:
        writer.writerow([values.get(canonical[c.strip().lower()], "") for c in messy])
    write("messy_headers.csv", out.getvalue().encode("utf-8"))

    # ---- dates ------------------------------------------------------------------------------
    dated = [*HEADER, "LastVisit", "VehicleFirstRegistered", "VehicleMOTDue"]
    write(
        "dates.csv",
        text(
            [
                row(
                    "11001",
                    "Ann Lee",
                    DateCreated="25/12/2020 10:00:00",
                    LastVisit="01/07/2021 09:30",
                ),
                row("11002", "Bob Hall", DateCreated="3/7/2019", LastVisit="3/7/2019 9:05"),
                row(
                    "11003",
                    "Cat Ng",
                    DateCreated="13/01/2020",
                    VehicleRegistration="AB12CDE",
                    VehicleFirstRegistered="1/9/2012",
                    VehicleMOTDue="31/08/2025",
                ),
                row(
                    "11004",
                    "Dan Roe",
                    DateCreated="31/02/2020",
                    VehicleRegistration="CD34EFG",
                    VehicleFirstRegistered="30/02/2019",
                    VehicleMOTDue="5/4/2024",
                ),
                row("11005", "Eve Moss", DateCreated="12/25/2020 10:00:00", LastVisit=""),
                row(
                    "11006", "Fay Dunn", DateCreated="29/02/2020 23:59:59", LastVisit="next Tuesday"
                ),
            ],
            header=dated,
        ).encode("utf-8"),
    )
    write(
        "text_date_column.csv",
        text(
            [
                row("12001", "Ann Lee", LastVisit="next Tuesday"),
                row("12002", "Bob Hall", LastVisit="last week"),
                row("12003", "Cat Ng", LastVisit="ask Dave"),
            ],
            header=[*HEADER, "LastVisit"],
        ).encode("utf-8"),
    )
    write(
        "month_first_dates.csv",
        text(
            [
                row("13001", "Ann Lee", DateCreated="12/25/2020 10:00:00"),
                row("13002", "Bob Hall", DateCreated="07/04/2021"),
                row("13003", "Cat Ng", DateCreated="02/28/2019 14:30"),
            ]
        ).encode("utf-8"),
    )

    # ---- booleans, phones, emails -----------------------------------------------------------
    flags = [*REQUIRED, "AccountCustomer", "VATRegistered"]
    write(
        "booleans.csv",
        text(
            [
                row(
                    "14001",
                    "Ann Lee",
                    CustomerOnStop="True",
                    AccountCustomer="False",
                    VATRegistered="TRUE",
                    VehicleRemindersEnabled="true",
                    NotificationsEnabled="false",
                ),
                row(
                    "14002",
                    "Bob Hall",
                    CustomerOnStop="yes",
                    AccountCustomer="No",
                    VATRegistered="YES",
                    VehicleRemindersEnabled="no",
                    NotificationsEnabled="Yes",
                ),
                row(
                    "14003",
                    "Cat Ng",
                    CustomerOnStop="Y",
                    AccountCustomer="n",
                    VATRegistered="y",
                    VehicleRemindersEnabled="N",
                    NotificationsEnabled="Y",
                ),
                row(
                    "14004",
                    "Dan Roe",
                    CustomerOnStop="1",
                    AccountCustomer="0",
                    VATRegistered=" 1 ",
                    VehicleRemindersEnabled="0",
                    NotificationsEnabled="1",
                ),
                row(
                    "14005",
                    "Eve Moss",
                    CustomerOnStop="",
                    AccountCustomer="",
                    VATRegistered="",
                    VehicleRemindersEnabled="",
                    NotificationsEnabled="",
                ),
                row("14006", "Fay Dunn", CustomerOnStop="maybe", AccountCustomer="-1"),
            ],
            header=flags,
        ).encode("utf-8"),
    )
    phones = [
        ("15001", "07712 345678", ""),
        ("15002", "+44 (0)7712 345678", "(0161) 496 0123"),
        ("15003", "0044 7712 345678", "0161-496-0123"),
        ("15004", "7712345678", "+44 161 496 0123"),
        ("15005", "", "1614960123"),
        ("15006", "07911123456", "020 7946 0018"),
    ]
    write(
        "phones.csv",
        text(
            [row(n, f"Person{n[-1]} Phones", Phone=p, PhoneLandline=land) for n, p, land in phones]
        ).encode("utf-8"),
    )
    write(
        "phones_unusable.csv",
        text(
            [
                row("16001", "Ann Lee", Phone="12345"),
                row("16002", "Bob Hall", Phone="07712 345678", PhoneLandline="0161 496"),
                row("16003", "Cat Ng", Phone="07700 900123"),
                row("16004", "Dan Roe", Phone="call after 6pm", PhoneLandline="n/a"),
                row("16005", "Eve Moss", Phone="07712 345678"),
            ]
        ).encode("utf-8"),
    )
    write(
        "emails.csv",
        text(
            [
                row("17001", "Ann Lee", Email="  Ann.Lee@Example.COM "),
                row("17002", "Bob Hall", Email="john.smith@"),
                row("17003", "Cat Ng", Email="cat.ng.example.com"),
                row("17004", "Dan Roe", Email="dan roe@example.com"),
                row("17005", "Eve Moss", Email=""),
            ]
        ).encode("utf-8"),
    )

    # ---- preferences, addresses, registrations, grouping ------------------------------------
    write(
        "notification_preferences.csv",
        text(
            [
                row("18001", "Ann Lee", NotificationPreferences='{"marketing": true, "sms": true}'),
                row(
                    "18002",
                    "Bob Hall",
                    NotificationPreferences='{"marketing": false, "email": true}',
                ),
                row("18003", "Cat Ng", NotificationPreferences='{"sms": false}'),
                row(
                    "18004", "Dan Roe", NotificationPreferences="", VehicleRemindersEnabled="False"
                ),
                row("18005", "Eve Moss", NotificationPreferences="{marketing: yes"),
                row("18006", "Fay Dunn", NotificationPreferences='["sms"]'),
            ],
            header=[*HEADER, "NotificationPreferences"],
        ).encode("utf-8"),
    )
    addressed = [
        *HEADER,
        "Address3",
        "County",
        "Country",
        "DeliveryAddress1",
        "DeliveryAddress2",
        "DeliveryTown",
        "DeliveryPostcode",
        "VehicleVIN",
    ]
    write(
        "addresses_and_registrations.csv",
        text(
            [
                row(
                    "19001",
                    "Ann Lee",
                    Address2="Headingley",
                    Address3="North Side",
                    DeliveryAddress1="Unit 9, Canal Wharf",
                    DeliveryAddress2="Holbeck",
                    DeliveryTown="Leeds",
                    DeliveryPostcode="LS11 5PS",
                    VehicleRegistration="ab12 cde",
                    VehicleVIN="wvwzzz1jzxw000001",
                ),
                row("19002", "Bob Hall", County="", Country="", VehicleRegistration="  K123 abc "),
                row("19003", "Cat Ng", VehicleRegistration="", VehicleVIN="sajac01p1xx000002"),
            ],
            header=addressed,
        ).encode("utf-8"),
    )
    write(
        "one_customer_many_rows.csv",
        text(
            [
                row("20001", "Ann Lee", VehicleRegistration="AB12 CDE", VehicleMake="Ford"),
                row("20001", "Ann Lee", VehicleRegistration="CD34 EFG", VehicleMake="Audi"),
                row(
                    "20001",
                    "Ann Lee",
                    Email="ann.lee@work.example.com",
                    Phone="07911 123456",
                    VehicleRegistration="EF56 GHJ",
                    VehicleMake="Kia",
                ),
                row("20002", "Bob Hall"),
            ]
        ).encode("utf-8"),
    )
    write(
        "later_row_problems.csv",
        text(
            [
                row("21001", "Ann Lee", VehicleRegistration="AB12 CDE"),
                row(
                    "21001",
                    "Ann Lee",
                    Phone="12345",
                    DateCreated="31/02/2020",
                    VehicleRegistration="CD34 EFG",
                ),
            ]
        ).encode("utf-8"),
    )


if __name__ == "__main__":
    main()
