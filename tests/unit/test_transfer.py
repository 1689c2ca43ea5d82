"""Transfers between accounts (issue #17, design §5.5): a file customer the target account
lacks is found in another account (its recycle bin too) and copied or moved, with its
activities if asked; a move interrupted at any step and run again leaves every customer in
exactly one account with all its records. On the in-memory repositories."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from customer_import.changes.apply import Applied, BatchContext, apply_batch
from customer_import.changes.log import Action, ChangeEntry
from customer_import.changes.matching import FileCustomer, match_or_transfer
from customer_import.changes.plan import Kind, Rules, plan
from customer_import.changes.preview import Tally, describe
from customer_import.changes.rules import MatchKey, Mode, Transfer, transfer_refusal
from customer_import.changes.store import ObjectChangeLog
from customer_import.customers.activities import Activity
from customer_import.customers.customer import new_customer_id
from customer_import.customers.repository import Bin

from tests.fake_activities import FakeActivityRepository
from tests.fake_customers import FakeCustomerRepository
from tests.fakes import FakeObjectStore

ORG = "org-1"
AT = "2026-12-02T03:00:00.000+00:00"
MOVE = Rules(Mode.UPDATE, transfer=Transfer.MOVE, transfer_related=True)
COPY = Rules(Mode.UPDATE, transfer=Transfer.COPY, transfer_related=True)


class World:
    def __init__(self) -> None:
        self.customers = FakeCustomerRepository()
        self.activities = FakeActivityRepository()
        self.log = ObjectChangeLog(FakeObjectStore())
        # When the imports run (the activities `add_activities` records are after AT)
        self.at = AT

    def import_(
        self, account: str, numbers: Sequence[str], rules: Rules, job: str, **values: str
    ) -> Applied:
        """One batch of file customers into `account`, as ImportBatch runs it."""
        chunk = [file_customer(account, n, **values) for n in numbers]
        return self.run(account, chunk, rules, job)

    def run(self, account: str, chunk: list[FileCustomer], rules: Rules, job: str) -> Applied:
        found = match_or_transfer(self.customers, ORG, account, chunk, rules)
        batch = BatchContext(ORG, account, job, "00001", self.at)
        logged = self.log.read(ORG, job, "00001") or []
        pairs = list(zip(chunk, found, strict=True))
        return apply_batch(self.customers, self.log, batch, rules, pairs, logged, self.activities)

    def account(self, account: str) -> dict[str, str]:
        """The account's live customers: external number -> customer id."""
        return {
            str(c.external_customer_number): c.customer_id
            for c in self.customers.customers.values()
            if c.account_id == account and not c.binned
        }

    def add_activities(self, account: str, number: str, count: int) -> None:
        customer_id = self.account(account)[number]
        for day in range(1, count + 1):
            self.activities.add(
                Activity.new(
                    org_id=ORG,
                    customer_id=customer_id,
                    account_id=account,
                    kind="call_block",
                    day=f"2026-11-{day:02d}",
                    text=f"Call {day} with {number}",
                    author="rep@example.com",
                    now=datetime(2026, 12, 2, 9, day, tzinfo=UTC),  # after AT: on customers stored
                )
            )

    def activity_accounts(self, customer_id: str) -> list[str]:
        return [a.account_id for a in self.activities.items.get(customer_id, {}).values()]


def file_customer(account: str, number: str, **values: str) -> FileCustomer:
    staged: dict[str, Any] = {
        "customer_id": new_customer_id(),
        "external_customer_number": number,
        "name": f"Customer {number}",
        "email": f"c{number}@example.com",
        "addresses": [{"type": "billing", "line1": "1 High St", "postcode": "AB1 2CD"}],
        "vehicles": [{"registration": f"AB{number}CDE", "row": int(number)}],
        "rows": [int(number)],
        **values,
    }
    return FileCustomer.from_staged(ORG, account, staged)


def smith_with_activities(numbers: Sequence[str] = ("1", "2", "3")) -> World:
    world = World()
    world.import_("smith", numbers, Rules(Mode.UPDATE), "job-smith")
    for number in numbers:
        world.add_activities("smith", number, 2)
    return world


def test_a_move_re_owns_the_same_customers_with_their_activities() -> None:
    # Given smith's customers 1, 2, 3 with two activities each
    world = smith_with_activities()
    ids = world.account("smith")

    # When jones imports 1 and 2 with a new email, moving them with their related records
    applied = world.import_("jones", ["1", "2"], MOVE, "job-jones", email="new@example.com")

    # Then they are jones's, with the same ids, the new email and their activities
    assert applied.counts["moved"] == 2 and not applied.failures
    assert world.account("jones") == {"1": ids["1"], "2": ids["2"]}
    assert world.account("smith") == {"3": ids["3"]}
    moved = world.customers.get(ORG, ids["1"])
    assert moved is not None and moved.value("email") == "new@example.com"
    assert moved.addresses and moved.vehicles
    assert world.activity_accounts(ids["1"]) == ["jones", "jones"]
    assert world.activity_accounts(ids["3"]) == ["smith", "smith"]
    # And the change log says where each came from, with what undoing it needs
    entries = {e.customer_id: e for e in world.log.read(ORG, "job-jones", "00001") or []}
    entry = entries[ids["1"]]
    assert entry.action is Action.MOVED and entry.account_id == "jones"
    assert entry.before["account_id"] == "smith" and entry.after["account_id"] == "jones"
    assert entry.before["email"] == "c1@example.com"
    assert entry.transferred_from == {
        "account_id": "smith",
        "customer_id": ids["1"],
        "from_recycle_bin": False,
        "with_related": True,
    }


def test_a_move_without_related_records_leaves_the_activities_with_the_source_account() -> None:
    # Given smith's customer 1 with two activities
    world = smith_with_activities(["1"])
    customer_id = world.account("smith")["1"]

    # When jones moves it without its related records
    rules = Rules(Mode.UPDATE, transfer=Transfer.MOVE)
    world.import_("jones", ["1"], rules, "job-jones")

    # Then the customer is jones's and its activities still smith's
    assert world.account("jones") == {"1": customer_id}
    assert world.activity_accounts(customer_id) == ["smith", "smith"]


def test_a_copy_gives_new_customers_with_copies_of_the_activities_and_leaves_the_source() -> None:
    # Given smith's customers 1 and 2 with two activities each
    world = smith_with_activities(["1", "2"])
    ids = world.account("smith")

    # When brown imports 1 copying it with its related records
    applied = world.import_("brown", ["1"], COPY, "job-brown")

    # Then brown has a new customer 1 (new id, smith's records) and copies of the activities
    assert applied.counts["copied"] == 1
    copy_id = world.account("brown")["1"]
    assert copy_id != ids["1"]
    copy, source = world.customers.get(ORG, copy_id), world.customers.get(ORG, ids["1"])
    assert copy is not None and source is not None
    assert copy.vehicles == source.vehicles and copy.addresses == source.addresses
    assert world.activity_accounts(copy_id) == ["brown", "brown"]
    # And smith keeps its own, untouched
    assert world.account("smith") == ids
    assert source.version == 1 and world.activity_accounts(ids["1"]) == ["smith", "smith"]
    entry = (world.log.read(ORG, "job-brown", "00001") or [])[0]
    assert entry.action is Action.COPIED and entry.customer_id == copy_id
    assert entry.transferred_from is not None
    assert entry.transferred_from["customer_id"] == ids["1"]


def test_a_customer_binned_in_another_account_is_moved_out_of_its_recycle_bin() -> None:
    # Given smith's customers 1 and 2, 2 binned by smith's sync
    world = smith_with_activities(["1", "2"])
    binned = world.customers.get(ORG, world.account("smith")["2"])
    assert binned is not None
    world.customers.save([Bin(ORG, binned.customer_id, binned.version, "sync", AT, "2026-12-16")])

    # When jones imports 2, moving it
    applied = world.import_("jones", ["2"], MOVE, "job-jones")

    # Then it is jones's, live, with its activities, and smith's bin no longer holds it
    assert applied.counts["moved"] == 1
    assert world.account("jones") == {"2": binned.customer_id}
    moved = world.customers.get(ORG, binned.customer_id)
    assert moved is not None and not moved.binned and moved.purge_after is None
    assert world.activity_accounts(binned.customer_id) == ["jones", "jones"]
    entry = (world.log.read(ORG, "job-jones", "00001") or [])[0]
    assert entry.transferred_from is not None and entry.transferred_from["from_recycle_bin"]
    assert entry.before["deleted_at"] == AT


def test_without_transfer_the_customer_of_another_account_is_a_stranger_created_anew() -> None:
    # Given smith's customer 1
    world = smith_with_activities(["1"])

    # When jones imports 1 without transfer
    applied = world.import_("jones", ["1"], Rules(Mode.UPDATE), "job-jones")

    # Then jones gets a new customer and smith keeps its own
    assert applied.counts["created"] == 1
    assert world.account("jones")["1"] != world.account("smith")["1"]


def test_the_preview_line_and_tally_say_where_transferred_customers_come_from() -> None:
    # Given smith's customer 1 live and 2 binned
    world = smith_with_activities(["1", "2"])
    binned = world.customers.get(ORG, world.account("smith")["2"])
    assert binned is not None
    world.customers.save([Bin(ORG, binned.customer_id, binned.version, "sync", AT, "2026-12-16")])
    chunk = [file_customer("jones", n) for n in ("1", "2", "3")]

    # When jones's import plans a move of the chunk
    found = match_or_transfer(world.customers, ORG, "jones", chunk, MOVE)
    planned = [plan(c.customer, s, MOVE, c.row) for c, s in zip(chunk, found, strict=True)]

    # Then 1 and 2 move (2 from smith's recycle bin), 3 is created
    assert [p.kind for p in planned] == [Kind.MOVE, Kind.MOVE, Kind.CREATE]
    line = describe(planned[1])
    assert line["from_account"] == "smith" and line["from_recycle_bin"] is True
    tally = Tally().add(planned)
    assert tally.to_dict()["moved"] == 2 and tally.to_dict()["imported"] == 3
    assert tally.transfers.to_list() == [
        {
            "from_account": "smith",
            "from_recycle_bin": False,
            "customers": 1,
            "copied": 0,
            "moved": 1,
        },
        {
            "from_account": "smith",
            "from_recycle_bin": True,
            "customers": 1,
            "copied": 0,
            "moved": 1,
        },
    ]


def test_a_move_by_internal_id_finds_the_customer_in_another_account() -> None:
    # Given smith's customer 1
    world = smith_with_activities(["1"])
    customer_id = world.account("smith")["1"]

    # When jones's file names it by its CustomerId (under another number)
    staged_with_id = file_customer("jones", "9")
    chunk = [
        FileCustomer(staged_with_id.customer, internal_customer_id=customer_id, row=9),
    ]
    applied = world.run("jones", chunk, Rules(Mode.UPDATE, MatchKey.INTERNAL, **_move()), "j")

    # Then that customer moves, and takes the file's number
    assert applied.counts["moved"] == 1
    assert world.account("jones") == {"9": customer_id}


def _move() -> dict[str, Any]:
    return {"transfer": Transfer.MOVE, "transfer_related": True}


@pytest.mark.parametrize(
    ("mode", "key", "refusal"),
    [
        (Mode.INSERT, "external", "needs mode update or sync"),
        (Mode.UPDATE, "email", "needs the key external, internal or both"),
        (Mode.SYNC, "both", None),
    ],
)
def test_a_transfer_needs_an_update_mode_and_a_key_of_ids(
    mode: Mode, key: str, refusal: str | None
) -> None:
    # Given / When an import asks to copy customers so
    reason = transfer_refusal(mode, key, Transfer.COPY)

    # Then it is refused naming the rule, or allowed
    assert (reason is None) if refusal is None else (refusal in (reason or ""))
    assert transfer_refusal(mode, key, Transfer.NONE) is None


class Interrupted(Exception):
    """The Lambda died here (a timeout, a crash)."""


def fail_once(target: Any, name: str) -> Callable[[], bool]:
    """Make `target.name` raise the first time it is called; returns whether it did."""
    original = getattr(target, name)
    state = {"failed": False}

    def once(*args: Any, **kwargs: Any) -> Any:
        if not state["failed"]:
            state["failed"] = True
            raise Interrupted(name)
        return original(*args, **kwargs)

    setattr(target, name, once)
    return lambda: state["failed"]


@pytest.mark.parametrize(
    ("port", "step"),
    [
        ("log", "record"),  # before anything is written (the intent)
        ("customers", "save"),  # the move itself
        ("activities", "reassign"),  # between the move and its activities
    ],
)
def test_a_move_interrupted_at_any_step_and_run_again_leaves_each_customer_in_one_account(
    port: str, step: str
) -> None:
    # Given smith's customers 1..4 with two activities each
    world = smith_with_activities(["1", "2", "3", "4"])
    ids = world.account("smith")
    interrupted = fail_once(getattr(world, port), step)

    # When jones's batch moving 1..3 is interrupted at that step, then run again
    try:
        first: Applied | None = world.import_("jones", ["1", "2", "3"], MOVE, "job-jones")
    except Interrupted:
        first = None
    assert first is None and interrupted()
    again = world.import_("jones", ["1", "2", "3"], MOVE, "job-jones")

    # Then every customer is in exactly one account, with its records and its activities
    assert again.counts["moved"] == 3 and not again.failures
    assert world.account("jones") == {n: ids[n] for n in ("1", "2", "3")}
    assert world.account("smith") == {"4": ids["4"]}
    assert len(world.customers.customers) == 4
    for number in ("1", "2", "3"):
        moved = world.customers.get(ORG, ids[number])
        assert moved is not None and moved.addresses and moved.vehicles
        assert world.activity_accounts(ids[number]) == ["jones", "jones"]
        assert world.customers.find_by_external(ORG, "smith", [number]) == {}
    # And the change log holds each move once
    logged: list[ChangeEntry] = world.log.read(ORG, "job-jones", "00001") or []
    assert sorted(e.customer_id for e in logged) == sorted(ids[n] for n in ("1", "2", "3"))
