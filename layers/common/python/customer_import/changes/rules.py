"""How an import writes (design §5.4): its mode, the key that matches a file customer to a
stored one, and what happens to a field both sides hold."""

from __future__ import annotations

from enum import StrEnum


class Mode(StrEnum):
    INSERT = "insert"  # new customers, with the duplicate decision (migrations)
    UPDATE = "update"  # match by key and update; create the unmatched
    SYNC = "sync"  # update, then bin the account's customers the file no longer holds


class MatchKey(StrEnum):
    EXTERNAL = "external"  # the external number (Techman's CustomerNumber, an ERP's key)
    INTERNAL = "internal"  # a CustomerId column holding our customer_id
    BOTH = "both"  # internal first, then external


class FieldPolicy(StrEnum):
    OVERWRITE = "overwrite"  # the file's value replaces the stored one (default in update modes)
    # A matched customer keeps its stored values as they are (the file only creates the
    # unmatched and restores the binned).
    KEEP = "keep"
    FILL_EMPTY = "fill_empty"  # only empty stored fields take the file's value


DEFAULT_MAX_DELETE_PERCENT = 20.0
