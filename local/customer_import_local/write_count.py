"""Counting the DynamoDB items a piece of work writes, on the embedded local stack: what the
sync benchmark sets beside the items that changed, and what tests count to show that an
unchanged customer is not written.

Counted where moto applies a write (`DynamoDBBackend.put_item`, `update_item`,
`delete_item`), so every way in counts: PutItem, UpdateItem, DeleteItem, each item of a
BatchWriteItem, each write of a TransactWriteItems that commits (a cancelled transaction
writes nothing on AWS, and is not counted). A ConditionCheck writes nothing.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from moto.dynamodb.models import DynamoDBBackend

_WRITES = ("put_item", "update_item", "delete_item")
_state = threading.local()


class WriteCount:
    def __init__(self) -> None:
        self.by_table: Counter[str] = Counter()
        self._lock = threading.Lock()

    def add(self, table: str, items: int = 1) -> None:
        with self._lock:
            self.by_table[table] += items

    def total(self, *tables: str) -> int:
        """Items written to these tables (every table when none is named)."""
        return sum(n for t, n in self.by_table.items() if not tables or t in tables)


@contextmanager
def count_writes() -> Iterator[WriteCount]:
    """Count every DynamoDB item written in this process while the block runs."""
    count = WriteCount()
    originals = {
        name: getattr(DynamoDBBackend, name) for name in (*_WRITES, "transact_write_items")
    }

    def counted(write: Callable[..., Any]) -> Callable[..., Any]:
        def call(self: DynamoDBBackend, table_name: str, *args: Any, **kwargs: Any) -> Any:
            result = write(self, table_name, *args, **kwargs)
            pending = getattr(_state, "transaction", None)
            if pending is None:
                count.add(table_name)
            else:
                pending.append(table_name)
            return result

        return call

    def transaction(self: DynamoDBBackend, *args: Any, **kwargs: Any) -> Any:
        _state.transaction = []
        try:
            result = originals["transact_write_items"](self, *args, **kwargs)
            for table_name in _state.transaction:
                count.add(table_name)
            return result
        finally:
            _state.transaction = None

    for name in _WRITES:
        setattr(DynamoDBBackend, name, counted(originals[name]))
    DynamoDBBackend.transact_write_items = transaction  # type: ignore[method-assign]
    try:
        yield count
    finally:
        for name, original in originals.items():
            setattr(DynamoDBBackend, name, original)
