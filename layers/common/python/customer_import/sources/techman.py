"""The Techman customer export (source `techman`, design §5.1): columns and row cleanup.

One row per customer-vehicle pair; the rows of one `CustomerNumber` become one customer.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from .. import cleaning
from ..cleaning import CleanupError
from ..organisations import OrganisationProfile
from .csv_files import UnreadableRecord, readable, undecodable_bytes

SOURCE = "techman"

REQUIRED_COLUMNS = (
    "CustomerNumber",
    "CustomerName",
    "Phone",
    "PhoneLandline",
    "Email",
    "Address1",
    "Town",
    "Postcode",
    "CustomerGroupName",
    "CustomerOnStop",
    "VehicleRemindersEnabled",
    "NotificationsEnabled",
)
OPTIONAL_COLUMNS = (
    # Our own customer id (a UUID), for files exported from us and edited: the `internal`
    # match key reads it.
    "CustomerId",
    "Title",
    "Address2",
    "Address3",
    "County",
    "Country",
    "DeliveryAddress1",
    "DeliveryAddress2",
    "DeliveryTown",
    "DeliveryPostcode",
    "AccountCustomer",
    "VATRegistered",
    "VATNumber",
    "NotificationPreferences",
    "DateCreated",
    "LastVisit",
    "VehicleRegistration",
    "VehicleMake",
    "VehicleModel",
    "VehicleVIN",
    "VehicleFirstRegistered",
    "VehicleMOTDue",
    "VehicleMileage",
)
KNOWN_COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
# What a file mapped onto these columns must hold at least (an ERP's export holds what it holds).
MAPPED_REQUIRED_COLUMNS = ("CustomerNumber", "CustomerName")
# Techman writes 34 columns; an export with hundreds of columns of its own still fits. The cap
# keeps every step linear in the file's size however its rows are cut (issue 15).
MAX_COLUMNS = 500

# The longest value each column may hold, in characters: well above any real customer record
# (a name of 200 characters, an email address of 254, RFC 5321's limit), far below what breaks
# storage. A longer value fails its row, naming the column and the limit; the original stays in
# the error log (in S3, where its size does not matter).
COLUMN_LIMITS = {
    "CustomerNumber": 100,
    "CustomerId": 100,
    "Title": 50,
    "CustomerName": 200,
    "Phone": 50,
    "PhoneLandline": 50,
    "Email": 254,
    "Address1": 200,
    "Address2": 200,
    "Address3": 200,
    "Town": 100,
    "County": 100,
    "Country": 100,
    "Postcode": 20,
    "DeliveryAddress1": 200,
    "DeliveryAddress2": 200,
    "DeliveryTown": 100,
    "DeliveryPostcode": 20,
    "CustomerGroupName": 100,
    "CustomerOnStop": 20,
    "VehicleRemindersEnabled": 20,
    "NotificationsEnabled": 20,
    "AccountCustomer": 20,
    "VATRegistered": 20,
    "VATNumber": 50,
    "NotificationPreferences": 4000,
    "DateCreated": 40,
    "LastVisit": 40,
    "VehicleRegistration": 20,
    "VehicleMake": 100,
    "VehicleModel": 100,
    "VehicleVIN": 50,
    "VehicleFirstRegistered": 40,
    "VehicleMOTDue": 40,
    "VehicleMileage": 20,
}
# A column the import ignores is free text (notes, say); its value is kept for the error log.
OTHER_COLUMN_LIMIT = 4000
# Columns whose values are looked up and matched: every invisible format character goes. In
# the others, zero-width (non-)joiners stay: Persian and Indic names, and emoji, need them.
KEY_COLUMNS = frozenset(
    {
        "CustomerNumber",
        "CustomerId",
        "Email",
        "Phone",
        "PhoneLandline",
        "Postcode",
        "DeliveryPostcode",
        "VATNumber",
        "VehicleRegistration",
        "VehicleVIN",
    }
)
VEHICLE_COLUMNS = tuple(c for c in OPTIONAL_COLUMNS if c.startswith("Vehicle"))
CUSTOMER_COLUMNS = tuple(c for c in KNOWN_COLUMNS if c not in VEHICLE_COLUMNS)


# Customer fields and the columns they come from, to name columns in warnings.
FIELD_COLUMNS = {
    "internal_customer_id": "CustomerId",
    "title": "Title",
    "name": "CustomerName",
    "email": "Email",
    "phone": "Phone",
    "landline": "PhoneLandline",
    "customer_group": "CustomerGroupName",
    "credit_hold": "CustomerOnStop",
    "account_customer": "AccountCustomer",
    "vat_registered": "VATRegistered",
    "vat_number": "VATNumber",
    "notification_preferences": "NotificationPreferences",
    "date_created": "DateCreated",
    "last_visit": "LastVisit",
}


@dataclass(frozen=True)
class ColumnCheck:
    positions: dict[str, int]  # canonical column name -> index in the row
    missing: list[str]
    unknown: list[str]
    header: list[str]
    # Known columns the header names more than once, each with its (1-based) column numbers.
    repeated: dict[str, list[int]] = field(default_factory=dict)
    mapped: bool = False  # the header's names are a profile's, mapped onto the columns

    def named(self, column: str) -> str:
        """A column as the file's reader knows it: in a mapped file, the file's header with
        the canonical column it maps to (`E-Mail (Email)`); otherwise the column itself."""
        index = self.positions.get(column)
        if not self.mapped or index is None:
            return column
        header = readable(cleaning.strip_invisible(self.header[index], keys=True).strip())
        return column if header.lower() == column.lower() else f"{header} ({column})"

    def problem(self) -> str | None:
        """Why the header cannot be used (missing columns aside), or None."""
        if len(self.header) > MAX_COLUMNS:
            return f"The header has {len(self.header):,} columns; the limit is {MAX_COLUMNS:,}"
        if self.repeated:
            named = "; ".join(
                f"{name} (columns {', '.join(map(str, numbers))})"
                for name, numbers in self.repeated.items()
            )
            return f"Columns named more than once in the header: {named}. Keep one of each"
        return None


def check_header(header: list[str], mapping: Mapping[str, str] | None = None) -> ColumnCheck:
    """Match header names case-insensitively after trimming, in any order: Techman's own
    names, or with `mapping` (a mapped file) the file's headers it maps to canonical columns.
    A missing column of a mapped file is named by its header and its column."""
    if mapping is None:
        by_key = {name.lower(): name for name in KNOWN_COLUMNS}
        required: tuple[str, ...] = REQUIRED_COLUMNS
    else:
        by_key = {name.strip().lower(): column for name, column in mapping.items()}
        required = MAPPED_REQUIRED_COLUMNS
    positions: dict[str, int] = {}
    unknown: list[str] = []
    repeated: dict[str, list[int]] = {}
    for index, raw in enumerate(header):
        canonical = by_key.get(cleaning.strip_invisible(raw, keys=True).strip().lower())
        if canonical is None:
            if raw.strip():
                unknown.append(readable(raw.strip()))
        elif canonical in positions:
            repeated.setdefault(canonical, [positions[canonical] + 1]).append(index + 1)
        else:
            positions[canonical] = index
    headers_of = {column: name for name, column in (mapping or {}).items()}
    missing = [
        f"{headers_of[name]} ({name})" if name in headers_of else name
        for name in required
        if name not in positions
    ]
    return ColumnCheck(
        positions=positions,
        missing=missing,
        unknown=unknown,
        header=header,
        repeated=repeated,
        mapped=mapping is not None,
    )


@dataclass(frozen=True)
class ValueReading:
    """How a file writes its values, where files differ (a profile's transforms): the order
    of its numeric dates, the region of phone numbers without a country code (None: the
    organisation's) and yes/no words beyond the usual English ones."""

    date_order: str = cleaning.DAY_FIRST
    phone_region: str | None = None
    boolean_words: frozenset[tuple[str, bool]] = frozenset()


@dataclass(frozen=True)
class RowIssue:
    row: int
    column: str
    reason: str
    severity: str = "error"  # "error" fails the customer; "warning" only informs

    def to_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "reason": self.reason}


@dataclass
class CustomerRecord:
    """A cleaned customer, ready to stage; JSON-serialisable through `to_dict`."""

    external_customer_number: str
    fields: dict[str, Any]
    addresses: list[dict[str, Any]]
    vehicles: list[dict[str, Any]] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    originals: list[dict[str, str]] = field(default_factory=list)
    warnings: list[RowIssue] = field(default_factory=list)
    errors: list[RowIssue] = field(default_factory=list)
    # "original -> cleaned" for every cell the cleanup rules changed
    changes: list[dict[str, Any]] = field(default_factory=list)
    first_values: list[str] = field(default_factory=list, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "external_customer_number": self.external_customer_number,
            **self.fields,
            "addresses": self.addresses,
            "vehicles": self.vehicles,
            "rows": self.rows,
            "originals": self.originals,
            "warnings": [w.to_dict() for w in self.warnings],
        }

    def preview(self) -> dict[str, Any]:
        """What a person reviews before anything is written."""
        view = self.to_dict()
        del view["originals"]
        view["errors"] = [e.to_dict() for e in self.errors]
        view["changes"] = self.changes
        return view


@dataclass
class _Row:
    """One data row, read by column name; cleanup problems collect in `issues`."""

    number: int
    values: list[str]
    positions: dict[str, int]
    issues: list[RowIssue] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)
    # Columns whose value failed screening (too long, binary, undecodable): read as empty,
    # and not reported again as empty.
    refused: frozenset[str] = frozenset()

    def text(self, column: str) -> str:
        index = self.positions.get(column)
        return self.values[index].strip() if index is not None else ""

    def cell(self, column: str) -> str | None:
        return self.text(column) or None

    def clean(self, column: str, fn: Callable[[str], Any], severity: str = "warning") -> Any:
        original = self.text(column)
        try:
            cleaned = fn(original)
        except CleanupError as exc:
            self.issues.append(RowIssue(self.number, column, exc.reason, severity))
            return None
        self.note_change(column, original, cleaned)
        return cleaned

    def note_change(self, column: str, original: str, cleaned: Any) -> None:
        if cleaned is not None and str(cleaned) != original:
            self.changes.append(
                {"row": self.number, "column": column, "original": original, "cleaned": cleaned}
            )


@dataclass(frozen=True)
class RowIndex:
    """What a first pass over the rows learns: each customer's last row, and how many data
    rows there are (counting stops once past the limit)."""

    last_rows: dict[str, int]
    rows: int


def index_rows(
    columns: ColumnCheck,
    records: Iterable[tuple[int, list[str]]],
    limit: int,
    see: Callable[[int, list[str]], None] | None = None,
) -> RowIndex:
    """Each `CustomerNumber`'s last row, from the data rows of `records` (the header first),
    read the way `TechmanRows.add` reads them. Tens of bytes per customer, nothing per row.
    `see` is shown every data row (to learn how the file writes its dates, say)."""
    last_rows: dict[str, int] = {}
    rows = 0
    data = iter(records)
    next(data, None)  # the header
    for row_number, values in data:
        rows += 1
        if rows > limit:
            break
        number = _customer_number(columns, values)
        if number is not None and see is not None:
            see(row_number, values)  # a row refused whole tells nothing
        if number:
            last_rows[number] = row_number
    return RowIndex(last_rows, rows)


def _customer_number(columns: ColumnCheck, values: list[str]) -> str | None:
    """The row's customer, or None when the row cannot belong to one (unreadable, wrong field
    count, or a CustomerNumber that fails screening)."""
    if isinstance(values, UnreadableRecord) or len(values) != len(columns.header):
        return None
    index = columns.positions.get("CustomerNumber")
    if index is None:
        return ""
    number, issues = screen_cell("CustomerNumber", values[index])
    return None if any(i.severity == "error" for i in issues) else number.strip()


def screen_cell(column: str, value: str, row: int = 0) -> tuple[str, list[RowIssue]]:
    """A known column's value as the cleanup rules may read it, and what was wrong with it.

    Invisible format characters (a BOM, a zero-width space) are removed with a warning: they
    break look-ups and matching and no one typed them on purpose. A value over its column's
    limit, holding a NUL or bytes the file's encoding cannot read fails the row saying so, and
    reads as empty (so no oversized or damaged value goes any further than the error log).
    """
    limit = COLUMN_LIMITS[column]
    if len(value) > limit:
        reason = f"{column} is {len(value):,} characters long; the limit is {limit:,}"
        return "", [RowIssue(row, column, reason)]
    if "\x00" in value:
        reason = f"{column} holds a NUL character: binary data, not text"
        return "", [RowIssue(row, column, reason)]
    if value.isascii():  # neither undecodable bytes nor invisible characters are ASCII
        return value, []
    if wrong := undecodable_bytes(value):
        shown = " ".join(f"0x{b:02X}" for b in wrong[:8])
        reason = (
            f"{column} holds bytes that are not text in the encoding the rest of the file is "
            f"read in ({shown}): the file mixes encodings; save it again as UTF-8"
        )
        return "", [RowIssue(row, column, reason)]
    visible = cleaning.strip_invisible(value, keys=column in KEY_COLUMNS)
    if visible == value:
        return value, []
    removed = ", ".join(f"U+{ord(ch):04X}" for ch in sorted(set(value) - set(visible)))
    reason = f"{column} held invisible characters ({removed}); they were removed"
    return visible, [RowIssue(row, column, reason, "warning")]


class TechmanRows:
    """Cleans rows and groups them into customers, one `CustomerNumber` at a time.

    Given each customer's last row (`index_rows`) and the rows themselves (`read`),
    `customers()` streams: it yields each customer as soon as its last row is read, so only
    customers whose rows are still to come are held, however long the file. Without them, it
    holds every customer until the rows end, then yields them all.
    """

    def __init__(
        self,
        columns: ColumnCheck,
        profile: OrganisationProfile | None = None,
        last_rows: Mapping[str, int] | None = None,
        reading: ValueReading = ValueReading(),
    ) -> None:
        self.columns = columns
        self.profile = profile or OrganisationProfile(org_id="")
        self.reading = reading
        self._phone_region = reading.phone_region or self.profile.phone_region
        self._customer_positions = [
            index for column, index in columns.positions.items() if column in CUSTOMER_COLUMNS
        ]
        self._known = {index: column for column, index in columns.positions.items()}
        self._original_names = _original_names(columns.header)
        self.malformed: list[tuple[RowIssue, dict[str, str]]] = []
        self.rows = 0
        self._customers: dict[str, CustomerRecord] = {}
        self._last_rows = last_rows
        self._complete: deque[CustomerRecord] = deque()
        self._records: Iterator[tuple[int, list[str]]] | None = None

    def read(self, records: Iterable[tuple[int, list[str]]]) -> None:
        """The data rows that `customers()` adds as it goes."""
        self._records = iter(records)

    def add(self, row_number: int, values: list[str]) -> None:
        self.rows += 1
        width = len(self.columns.header)
        original = self._original(values)
        if isinstance(values, UnreadableRecord):
            self.malformed.append((RowIssue(row_number, "(row)", values.reason), original))
            return
        if len(values) != width:
            reason = (
                f"Row has {len(values):,} fields; the header has {width:,}"
                if len(values) < width
                else f"Row has {len(values):,} fields; the header has only {width:,}"
            )
            self.malformed.append((RowIssue(row_number, "(row)", reason), original))
            return
        values, screening = self._screen(row_number, values)
        refused = frozenset(i.column for i in screening if i.severity == "error")
        number = self._cell(values, "CustomerNumber")
        if "CustomerNumber" in refused or not number:
            problems = [i for i in screening if i.severity == "error"] or [
                RowIssue(row_number, "CustomerNumber", "CustomerNumber is empty")
            ]
            self.malformed.extend((self._named(issue), original) for issue in problems)
            return
        customer = self._customers.get(number)
        if customer is None:
            customer = self._customers[number] = self._new_customer(
                row_number, values, original, screening, refused
            )
        else:
            self._add_row(customer, row_number, values, original, screening, refused)
        if self._last_rows is not None and self._last_rows.get(number, row_number) <= row_number:
            self._complete.append(self._customers.pop(number))

    @property
    def unreadable_rows(self) -> int:
        """How many rows failed before they could belong to a customer."""
        return len({issue.row for issue, _ in self.malformed})

    def customers(self) -> Iterator[CustomerRecord]:
        """Every customer once, when complete: each handed over is no longer held."""
        for row_number, values in self._records or ():
            self.add(row_number, values)
            while self._complete:
                yield self._handed_over(self._complete.popleft())
        self._records = None
        while self._complete:
            yield self._handed_over(self._complete.popleft())
        rest, self._customers = self._customers, {}
        for record in rest.values():
            yield self._handed_over(record)

    def _handed_over(self, record: CustomerRecord) -> CustomerRecord:
        """The record with its problems naming the columns as the file does."""
        if self.columns.mapped:
            record.errors = [self._named(issue) for issue in record.errors]
            record.warnings = [self._named(issue) for issue in record.warnings]
        return record

    def _named(self, issue: RowIssue) -> RowIssue:
        named = self.columns.named(issue.column)
        return issue if named == issue.column else replace(issue, column=named)

    def _original(self, values: list[str]) -> dict[str, str]:
        """The row's values by column name, for the error log: every value, as read (bytes
        that could not be read shown as U+FFFD); fields past the header's in one cell, as CSV."""
        names = self._original_names
        original = {name: readable(value) for name, value in zip(names, values, strict=False)}
        if len(values) > len(names):
            extra = io.StringIO()
            csv.writer(extra, lineterminator="").writerow(values[len(names) :])
            original["(extra fields)"] = readable(extra.getvalue())
        return original

    def _screen(self, row_number: int, values: list[str]) -> tuple[list[str], list[RowIssue]]:
        """The row's values with each known column screened (`screen_cell`), and every
        column's length checked: an ignored column is kept for the error log, so it has a
        limit too."""
        screened = list(values)
        issues: list[RowIssue] = []
        for index, value in enumerate(values):
            if not value:
                continue
            column = self._known.get(index)
            if column is not None:
                screened[index], found = screen_cell(column, value, row_number)
                issues.extend(found)
            elif len(value) > OTHER_COLUMN_LIMIT:
                name = self._original_names[index]
                reason = (
                    f"{name} is {len(value):,} characters long; the limit is "
                    f"{OTHER_COLUMN_LIMIT:,}, also for a column the import ignores"
                )
                issues.append(RowIssue(row_number, name, reason))
        return screened, issues

    def _cell(self, values: list[str], column: str) -> str:
        index = self.columns.positions.get(column)
        return values[index].strip() if index is not None else ""

    def _customer_fields(self, row: _Row) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        def phone(raw: str) -> str | None:
            return cleaning.normalise_phone(raw, self._phone_region)

        def moment(raw: str) -> str | None:
            return cleaning.parse_datetime(raw, self.profile.time_zone, self.reading.date_order)

        yes_no = self._yes_no
        reminders = row.clean("VehicleRemindersEnabled", yes_no)
        notifications = row.clean("NotificationsEnabled", yes_no)
        try:
            preferences = cleaning.notification_preferences(
                row.text("NotificationPreferences"), reminders, notifications
            )
        except CleanupError as exc:
            row.issues.append(
                RowIssue(row.number, "NotificationPreferences", exc.reason, "warning")
            )
            preferences = cleaning.notification_preferences("", reminders, notifications)
        name = row.cell("CustomerName")
        if name is None and "CustomerName" not in row.refused:
            row.issues.append(RowIssue(row.number, "CustomerName", "CustomerName is empty"))
        source_group = row.cell("CustomerGroupName")
        group, known = self.profile.map_group(source_group)
        if not known:
            row.issues.append(
                RowIssue(
                    row.number,
                    "CustomerGroupName",
                    f"Unknown customer group {source_group!r}: kept as it is",
                    "warning",
                )
            )
        row.note_change("CustomerGroupName", source_group or "", group)
        fields = {
            "internal_customer_id": row.clean("CustomerId", _internal_customer_id, "error"),
            "title": row.cell("Title"),
            "name": name,
            "email": row.clean("Email", cleaning.clean_email, "error"),
            "phone": row.clean("Phone", phone, "error"),
            "landline": row.clean("PhoneLandline", phone, "error"),
            "customer_group": group,
            "credit_hold": row.clean("CustomerOnStop", yes_no),
            "account_customer": row.clean("AccountCustomer", yes_no),
            "vat_registered": row.clean("VATRegistered", yes_no),
            "vat_number": row.cell("VATNumber"),
            "notification_preferences": preferences,
            "date_created": row.clean("DateCreated", moment),
            "last_visit": row.clean("LastVisit", moment),
        }
        addresses = [
            {
                "type": "billing",
                "line1": row.cell("Address1"),
                "line2": row.cell("Address2"),
                "line3": row.cell("Address3"),
                "town": row.cell("Town"),
                "county": row.cell("County"),
                "postcode": row.cell("Postcode"),
                "country": row.cell("Country"),
            }
        ]
        if row.cell("DeliveryAddress1") or row.cell("DeliveryPostcode"):
            addresses.append(
                {
                    "type": "shipping",
                    "line1": row.cell("DeliveryAddress1"),
                    "line2": row.cell("DeliveryAddress2"),
                    "line3": None,
                    "town": row.cell("DeliveryTown"),
                    "county": None,
                    "postcode": row.cell("DeliveryPostcode"),
                    "country": row.cell("Country"),
                }
            )
        return fields, addresses

    def _yes_no(self, raw: str) -> bool | None:
        return cleaning.parse_bool(raw, self.reading.boolean_words)

    def _vehicle(self, row: _Row) -> dict[str, Any] | None:
        def day(raw: str) -> str | None:
            return cleaning.parse_date(raw, self.reading.date_order)

        registration = cleaning.normalise_registration(row.text("VehicleRegistration"))
        if registration is None and not row.text("VehicleVIN"):
            return None
        row.note_change("VehicleRegistration", row.text("VehicleRegistration"), registration)
        return {
            "registration": registration,
            "make": row.cell("VehicleMake"),
            "model": row.cell("VehicleModel"),
            "vin": row.text("VehicleVIN").upper() or None,
            "first_registered": row.clean("VehicleFirstRegistered", day),
            "mot_due": row.clean("VehicleMOTDue", day),
            "mileage": row.clean("VehicleMileage", cleaning.parse_int),
            "row": row.number,
        }

    def _new_customer(
        self,
        row: int,
        values: list[str],
        original: dict[str, str],
        screening: list[RowIssue],
        refused: frozenset[str],
    ) -> CustomerRecord:
        parsed = _Row(row, values, self.columns.positions, list(screening), refused=refused)
        fields, addresses = self._customer_fields(parsed)
        customer = CustomerRecord(
            external_customer_number=self._cell(values, "CustomerNumber"),
            fields=fields,
            addresses=addresses,
            rows=[row],
            originals=[original],
            changes=parsed.changes,
            first_values=values,
        )
        self._file(customer, parsed.issues)
        self._add_vehicle(customer, _Row(row, values, self.columns.positions))
        return customer

    def _add_vehicle(self, customer: CustomerRecord, row: _Row) -> None:
        vehicle = self._vehicle(row)
        if vehicle:
            customer.vehicles.append(vehicle)
        customer.warnings.extend(row.issues)
        customer.changes.extend(row.changes)

    def _add_row(
        self,
        customer: CustomerRecord,
        row: int,
        values: list[str],
        original: dict[str, str],
        screening: list[RowIssue],
        refused: frozenset[str],
    ) -> None:
        customer.rows.append(row)
        customer.originals.append(original)
        # Screening errors fail the customer on any of its rows: its record would be written
        # without the refused value otherwise. Its warnings are said once, here.
        self._file(customer, screening)
        self._add_vehicle(customer, _Row(row, values, self.columns.positions, refused=refused))
        if self._customer_cells(values) == self._customer_cells(customer.first_values):
            return  # the usual case: the customer's columns simply repeat
        parsed = _Row(row, values, self.columns.positions, refused=refused)
        fields, _ = self._customer_fields(parsed)
        # The first row's values win, so a later row's bad cell only warns, but it is said.
        customer.warnings.extend(
            RowIssue(issue.row, issue.column, issue.reason, "warning") for issue in parsed.issues
        )
        for name, value in fields.items():
            if value is not None and customer.fields.get(name) not in (None, value):
                column = FIELD_COLUMNS.get(name, name)
                customer.warnings.append(
                    RowIssue(
                        row,
                        column,
                        f"{column} differs from row {customer.rows[0]}; the first row's value is kept",
                        "warning",
                    )
                )

    def _customer_cells(self, values: list[str]) -> list[str]:
        return [values[i].strip() for i in self._customer_positions]

    @staticmethod
    def _file(customer: CustomerRecord, issues: list[RowIssue]) -> None:
        for issue in issues:
            (customer.errors if issue.severity == "error" else customer.warnings).append(issue)


def _internal_customer_id(raw: str) -> str | None:
    """The customer id a `CustomerId` cell names, as we write it (lower case, hyphens)."""
    if not raw:
        return None
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        raise CleanupError(f"CustomerId {raw!r} is not a customer id (a UUID)") from None


def _original_names(header: list[str]) -> list[str]:
    """A name per column for the error log, each once: a column whose name is empty or taken
    is named after its position too, so no value hides another."""
    names: list[str] = []
    taken: set[str] = set()
    for index, raw in enumerate(header):
        name = readable(raw.strip())
        if not name or name in taken:
            name = f"{name or '(unnamed)'} (column {index + 1})"
        taken.add(name)
        names.append(name)
    return names
