"""Suggesting a `mapped` profile's columns from a file's header row (design §5.8).

`customer-import profiles suggest FILE` prints the suggestion for a person to edit and
`profiles put`; nothing here is applied unseen. Each header is compared with the synonyms of
every canonical (Techman, §5.1) column: an exact synonym after normalisation is certain, a near
one is offered with its score, and each canonical column goes to one header at most.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz

from .techman import KNOWN_COLUMNS

# A fuzzy score below this is no suggestion: one typo in a word of 8+ letters scores ~0.9,
# a transposition in "email" scores 0.8; unrelated words of similar length stay under 0.7.
THRESHOLD = 0.75
# Words shorter than this (normalised, header or synonym) match exactly only: one letter
# changed in "ort", "tel", "land" or "hand" is another word ("org", "tag", "handy"), not a typo.
FUZZY_MIN_LENGTH = 5
# What a mapped file must have (a Techman file needs more, §5.1).
MAPPED_REQUIRED = ("CustomerNumber", "CustomerName")

# The ERP, accounting and garage words for each canonical column, English and German.
# fmt: off
SYNONYMS: dict[str, tuple[str, ...]] = {
    "CustomerNumber": ("Kundennummer", "Kunden-Nr.", "Kundennr", "Kunden-ID", "Debitor",
                       "Debitorennummer", "Debitoren-Nr.", "Customer No", "Customer Number",
                       "Customer Code", "Cust No", "Account No", "Account Number", "Client ID",
                       "KdNr", "Kd-Nr."),
    # Our own UUID (the `internal` key); an ERP's "customer id" is its customer number.
    "CustomerId": ("Interne ID", "Internal ID", "UUID"),
    "CustomerName": ("Name", "Kundenname", "Firma", "Firmenname", "Company", "Company Name",
                     "Full Name", "Customer Name"),
    "Title": ("Anrede", "Salutation", "Titel"),
    "Email": ("E-Mail", "Mail", "Email Address", "E-Mail-Adresse", "Mailadresse"),
    "Phone": ("Mobile", "Mobil", "Handy", "Mobilnummer", "Mobiltelefon", "Cell", "Mobile Phone",
              "Mobile Number"),
    "PhoneLandline": ("Telefon", "Tel", "Telefonnummer", "Festnetz", "Landline", "Phone (home)",
                      "Home Phone", "Telephone"),
    "Address1": ("Straße", "Strasse", "Street", "Adresse", "Anschrift", "Address",
                 "Address Line 1", "Adresse 1"),
    "Address2": ("Adresszusatz", "Address Line 2", "Adresse 2"),
    "Address3": ("Address Line 3", "Adresse 3"),
    "Town": ("Ort", "Stadt", "City", "Wohnort"),
    "Postcode": ("PLZ", "Postleitzahl", "Zip", "Zip Code", "Post Code", "Postal Code"),
    "County": ("Bundesland", "Region", "State", "Kanton"),
    "Country": ("Land", "Staat", "Country Code", "Ländercode", "Länderkennzeichen"),
    "DeliveryAddress1": ("Lieferadresse", "Lieferstraße", "Delivery Address", "Shipping Address"),
    "DeliveryAddress2": ("Lieferadresse 2", "Delivery Address Line 2"),
    "DeliveryTown": ("Lieferort", "Delivery City", "Shipping City"),
    "DeliveryPostcode": ("Liefer-PLZ", "Delivery Zip", "Shipping Postcode"),
    "CustomerGroupName": ("Kundengruppe", "Group", "Gruppe", "Segment", "Customer Group",
                          "Kategorie"),
    "CustomerOnStop": ("Gesperrt", "Liefersperre", "Sperre", "On Stop", "Blocked", "Credit Hold"),
    "VehicleRemindersEnabled": ("Erinnerungen", "Reminders", "Service Reminders"),
    "NotificationsEnabled": ("Newsletter", "Benachrichtigungen", "Notifications"),
    "AccountCustomer": ("Rechnungskunde", "Kreditkunde", "Account Customer", "On Account"),
    "VATRegistered": ("Umsatzsteuerpflichtig", "VAT Registered"),
    "VATNumber": ("USt-IdNr", "UStID", "USt-ID", "VAT No", "VAT ID"),
    "NotificationPreferences": ("Kommunikationseinstellungen", "Contact Preferences"),
    "DateCreated": ("Angelegt am", "Erstellt", "Erstellt am", "Anlagedatum", "Created",
                    "Created At", "Date Created"),
    "LastVisit": ("Letzter Besuch", "Letzter Werkstattbesuch", "Last Visit", "Last Service"),
    "VehicleRegistration": ("Kennzeichen", "Amtliches Kennzeichen", "Reg", "Reg No",
                            "Registration", "Number Plate"),
    "VehicleMake": ("Marke", "Hersteller", "Fabrikat", "Make", "Manufacturer"),
    "VehicleModel": ("Modell", "Model", "Fahrzeugmodell"),
    "VehicleVIN": ("FIN", "Fahrgestellnummer", "Fahrzeug-Ident-Nr", "VIN", "Chassis No"),
    "VehicleFirstRegistered": ("Erstzulassung", "EZ", "First Registered", "Date First Registered"),
    "VehicleMOTDue": ("HU fällig", "HU", "TÜV", "Nächste HU", "MOT", "MOT Due"),
    "VehicleMileage": ("Kilometerstand", "km", "km-Stand", "Laufleistung", "Mileage", "Odometer"),
}
# fmt: on


@dataclass(frozen=True)
class ColumnSuggestion:
    header: str  # as in the file
    column: str | None  # canonical name, or None when nothing is close enough
    confidence: float  # 0..1, rounded to 2 places
    matched: str | None  # the synonym it matched


def _variants(text: str) -> frozenset[str]:
    """The forms a header or synonym is compared in: casefolded, ß → ss, only letters and
    digits; umlauts both as ae/oe/ue ("Strasse", "Tuev") and as the plain letter ("Tuv")."""
    folded = text.strip().casefold().replace("ß", "ss")
    spelled = folded.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")
    forms = set()
    for form in (spelled, folded):
        plain = "".join(
            c for c in unicodedata.normalize("NFKD", form) if not unicodedata.combining(c)
        )
        forms.add("".join(c for c in plain if c.isalnum()))
    return frozenset(forms - {""})


# (normalised form, canonical column, synonym as written); a column's own name counts too.
_CHOICES = [
    (form, column, synonym)
    for column in KNOWN_COLUMNS
    for synonym in (column, *SYNONYMS[column])
    for form in _variants(synonym)
]


def _candidates(header: str) -> list[tuple[float, str, str]]:
    """Every column this header is close enough to: (confidence, column, synonym), best per
    column. Scorer: `fuzz.ratio` (normalised Indel similarity) on the normalised forms. With
    spaces and punctuation gone a header is one token, so token_sort/token_set add nothing;
    WRatio's partial matching scores a synonym found inside a longer word highly ("name" in
    "vorname", "reg" in "regel") and would map unrelated columns; plain ratio penalises the
    difference in length, which is what a typo detector should do."""
    forms = _variants(header)
    # Per column: (score, closeness as written, synonym); as written breaks a tie between
    # synonyms of one form, so "E-Mail" reports "E-Mail", not "Email".
    best: dict[str, tuple[float, float, str]] = {}
    fuzzy = [f for f in forms if len(f) >= FUZZY_MIN_LENGTH]
    for form, column, synonym in _CHOICES:
        if form in forms:
            score = 1.0
        elif len(form) >= FUZZY_MIN_LENGTH and fuzzy:
            # Never 1.0 for a near match: certainty is for exact synonyms.
            score = min(0.99, max(fuzz.ratio(f, form) for f in fuzzy) / 100)
        else:
            continue
        if score >= THRESHOLD:
            candidate = (score, fuzz.ratio(header.strip().casefold(), synonym.casefold()), synonym)
            best[column] = max(best.get(column, candidate), candidate)
    return [(score, column, synonym) for column, (score, _, synonym) in best.items()]


def suggest_columns(headers: Sequence[str]) -> list[ColumnSuggestion]:
    """One suggestion per header, in the file's order. Assigned best-first: the most confident
    (header, column) pair wins the column (the earlier header on a tie); a header that loses
    takes its next best column still free, or none. Empty and repeated headers get none."""
    seen: set[str] = set()
    pairs: list[tuple[float, int, str, str]] = []
    for index, header in enumerate(headers):
        if header in seen or not _variants(header):
            continue
        seen.add(header)
        pairs.extend(
            (score, index, column, synonym) for score, column, synonym in _candidates(header)
        )
    chosen: dict[int, tuple[float, str, str]] = {}
    taken: set[str] = set()
    for score, index, column, synonym in sorted(pairs, key=lambda p: (-p[0], p[1], p[2])):
        if index not in chosen and column not in taken:
            chosen[index] = (score, column, synonym)
            taken.add(column)
    suggestions = []
    for index, header in enumerate(headers):
        if index in chosen:
            score, column, synonym = chosen[index]
            suggestions.append(ColumnSuggestion(header, column, round(score, 2), synonym))
        else:
            suggestions.append(ColumnSuggestion(header, None, 0.0, None))
    return suggestions


def suggested_profile(headers: Sequence[str]) -> dict[str, Any]:
    """The profile's source and columns for the mapped headers; the caller adds the rest."""
    columns = {s.header: s.column for s in suggest_columns(headers) if s.column is not None}
    return {"source": "mapped", "columns": columns}


def missing_required(suggestions: Sequence[ColumnSuggestion]) -> list[str]:
    """The columns a mapped file must have that no header was given."""
    mapped = {s.column for s in suggestions}
    return [column for column in MAPPED_REQUIRED if column not in mapped]
