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


class Transfer(StrEnum):
    """What becomes of a file customer the target account lacks and another account of the
    organisation holds (design §5.5)."""

    NONE = "none"  # it is created anew
    COPY = "copy"  # a new customer of the target account, copied from the other's
    MOVE = "move"  # the other account's customer itself, re-owned by the target account


DEFAULT_MAX_DELETE_PERCENT = 20.0


def transfer_refusal(mode: Mode, key: str, transfer: Transfer, related: bool = False) -> str | None:
    """Why an import cannot transfer customers so, with or without their related records
    (None: it can)."""
    if transfer is Transfer.NONE:
        return "transfer_related needs transfer copy or move" if related else None
    if mode is Mode.INSERT:
        return (
            f"transfer {transfer} needs mode update or sync: an insert never matches a stored "
            "customer, so it has none to transfer"
        )
    if key not in set(MatchKey):
        return (
            f"transfer {transfer} needs the key external, internal or both (the ids that say "
            f"which customer it is), not {key!r}"
        )
    return None
