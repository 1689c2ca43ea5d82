"""Suggesting a mapped profile's columns from a file's header row (design §5.8)."""

from __future__ import annotations

from customer_import.sources.suggest import (
    SYNONYMS,
    THRESHOLD,
    ColumnSuggestion,
    _variants,
    missing_required,
    suggest_columns,
    suggested_profile,
)
from customer_import.sources.techman import KNOWN_COLUMNS


def test_a_german_erp_header_row_maps_with_certainty() -> None:
    # Given the header row of a German ERP's customer export
    headers = [
        "Kundennummer", "Name", "E-Mail", "Mobil", "Telefon", "Straße", "PLZ", "Ort",
        "Kundengruppe", "Angelegt am", "Gesperrt", "Newsletter", "Bemerkung",
    ]  # fmt: skip
    # When a mapping is suggested
    suggestions = suggest_columns(headers)
    # Then every known word maps to its column with confidence 1.0, in the file's order
    assert [s.header for s in suggestions] == headers
    assert {s.header: (s.column, s.confidence) for s in suggestions[:-1]} == {
        "Kundennummer": ("CustomerNumber", 1.0),
        "Name": ("CustomerName", 1.0),
        "E-Mail": ("Email", 1.0),
        "Mobil": ("Phone", 1.0),
        "Telefon": ("PhoneLandline", 1.0),
        "Straße": ("Address1", 1.0),
        "PLZ": ("Postcode", 1.0),
        "Ort": ("Town", 1.0),
        "Kundengruppe": ("CustomerGroupName", 1.0),
        "Angelegt am": ("DateCreated", 1.0),
        "Gesperrt": ("CustomerOnStop", 1.0),
        "Newsletter": ("NotificationsEnabled", 1.0),
    }
    assert suggestions[2].matched == "E-Mail"
    # And the free-text remark is left unmapped
    assert suggestions[-1] == ColumnSuggestion("Bemerkung", None, 0.0, None)


def test_english_headers_and_spelling_variants_map_exactly() -> None:
    # Given English headers, and German ones written without umlauts or ß, in other cases
    headers = ["Customer No", "Email Address", "Mobile", "STRASSE", "tuev"]
    # When a mapping is suggested
    suggestions = suggest_columns(headers)
    # Then each is an exact synonym after normalisation
    assert [(s.column, s.confidence) for s in suggestions] == [
        ("CustomerNumber", 1.0),
        ("Email", 1.0),
        ("Phone", 1.0),
        ("Address1", 1.0),
        ("VehicleMOTDue", 1.0),
    ]
    # And an umlaut may also be written as its plain letter; punctuation does not count
    assert suggest_columns(["Tuv"])[0] == ColumnSuggestion("Tuv", "VehicleMOTDue", 1.0, "TÜV")
    assert suggest_columns(["kunden_nr"])[0].column == "CustomerNumber"


def test_typos_map_with_less_than_certainty() -> None:
    # Given headers with a typo each
    headers = ["Kundenummer", "E-mial", "Postleitzal"]
    # When a mapping is suggested
    suggestions = suggest_columns(headers)
    # Then each maps to the column it meant, above the threshold but below 1
    assert [s.column for s in suggestions] == ["CustomerNumber", "Email", "Postcode"]
    assert all(THRESHOLD <= s.confidence < 1.0 for s in suggestions)
    assert suggestions[0].matched == "Kundennummer"


def test_two_headers_competing_for_one_column_the_best_gets_it() -> None:
    # Given an exact and a near match for Email, the near one first in the file
    headers = ["E-Mail 2", "Email"]
    # When a mapping is suggested
    suggestions = suggest_columns(headers)
    # Then the exact one gets the column and the other, with no other column close, gets none
    assert [(s.column, s.confidence) for s in suggestions] == [(None, 0.0), ("Email", 1.0)]


def test_a_header_that_loses_takes_its_next_best_column() -> None:
    # Given a street column and, after it, an address column
    headers = ["Straße", "Adresse"]
    # When a mapping is suggested
    suggestions = suggest_columns(headers)
    # Then the street, first, wins Address1 (both are exact) and "Adresse" takes its next
    # best column still free, Address2, with less than certainty
    assert [s.column for s in suggestions] == ["Address1", "Address2"]
    assert THRESHOLD <= suggestions[1].confidence < 1.0


def test_the_techman_header_maps_one_to_one() -> None:
    # Given a Techman export's own header row
    headers = list(KNOWN_COLUMNS)
    # When a mapping is suggested
    suggestions = suggest_columns(headers)
    # Then every column maps to itself with certainty
    assert [(s.column, s.confidence, s.matched) for s in suggestions] == [
        (c, 1.0, c) for c in headers
    ]


def test_unrelated_words_empty_and_repeated_headers_stay_unmapped() -> None:
    # Given words no column is close to, empty headers and a repeated header
    headers = ["Foo", "Notizen", "", "  ", "Vorname", "Hand", "Regel", "Email", "Email"]
    # When a mapping is suggested
    suggestions = suggest_columns(headers)
    # Then only the first "Email" is mapped
    assert [s.column for s in suggestions] == [None] * 7 + ["Email", None]
    assert suggestions[-1] == ColumnSuggestion("Email", None, 0.0, None)
    assert suggestions[2] == ColumnSuggestion("", None, 0.0, None)


def test_missing_required_names_what_a_mapped_file_lacks() -> None:
    # Given headers with a name but no customer number
    suggestions = suggest_columns(["Firma", "E-Mail", "Notizen"])
    # When the required columns are checked
    # Then the customer number is named, and nothing once both are there
    assert missing_required(suggestions) == ["CustomerNumber"]
    assert missing_required(suggest_columns([])) == ["CustomerNumber", "CustomerName"]
    assert missing_required(suggest_columns(["Debitor", "Kundenname"])) == []


def test_the_suggested_profile_is_a_mapped_source_with_the_mapped_columns() -> None:
    # Given a header row with an unmapped column
    headers = ["Kunden-Nr.", "Firma", "Bemerkung", "Kennzeichen"]
    # When a profile is suggested
    profile = suggested_profile(headers)
    # Then it holds only the source and the mapped headers
    assert profile == {
        "source": "mapped",
        "columns": {
            "Kunden-Nr.": "CustomerNumber",
            "Firma": "CustomerName",
            "Kennzeichen": "VehicleRegistration",
        },
    }


def test_the_synonym_table_covers_every_column_without_ambiguity() -> None:
    # Given the synonym table
    # Then it names every canonical column, and no normalised word belongs to two columns
    assert set(SYNONYMS) == set(KNOWN_COLUMNS)
    owners: dict[str, set[str]] = {}
    for column in KNOWN_COLUMNS:
        for synonym in (column, *SYNONYMS[column]):
            for form in _variants(synonym):
                owners.setdefault(form, set()).add(column)
    assert {form: cols for form, cols in owners.items() if len(cols) > 1} == {}
