"""The change log on S3 (design §5.7): one JSON document a batch, at
`change-log/{org}/{job}/{batch_id}.json` in the upload bucket (a batch's entries may exceed a
DynamoDB item)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ..errors import ObjectMissing
from ..ports import ObjectStore
from .log import SWEEP_PREFIX, ChangeEntry

PREFIX = "change-log"


def batch_order(batch_id: str) -> tuple[bool, list[tuple[int, int | str]]]:
    """Runs in numeric order (`00002` before `00010`, `r2-` before `r10-`), sweep batches
    last."""
    parts = [
        (0, int(part)) if part.isdigit() else (1, part)
        for part in re.split(r"(\d+)", batch_id)
        if part
    ]
    return batch_id.startswith(SWEEP_PREFIX), parts


class ObjectChangeLog:
    """The `ChangeLog` port on an object store; `order` sorts the batch ids `batches` lists."""

    def __init__(self, objects: ObjectStore, order: Callable[[str], Any] = batch_order) -> None:
        self.objects = objects
        self.order = order

    def record(self, org_id: str, job_id: str, batch_id: str, entries: list[ChangeEntry]) -> None:
        document = {"batch_id": batch_id, "entries": [e.to_dict() for e in entries]}
        self.objects.put_json(_key(org_id, job_id, batch_id), document)

    def read(self, org_id: str, job_id: str, batch_id: str) -> list[ChangeEntry] | None:
        try:
            document = self.objects.get_json(_key(org_id, job_id, batch_id))
        except ObjectMissing:
            return None
        return [ChangeEntry.from_dict(e) for e in document["entries"]]

    def batches(self, org_id: str, job_id: str) -> list[str]:
        prefix = _key(org_id, job_id, "")[: -len(".json")]
        ids = [
            key[len(prefix) : -len(".json")]
            for key in self.objects.list_keys(prefix)
            if key.endswith(".json") and "/" not in key[len(prefix) :]
        ]
        return sorted(ids, key=self.order)


def _key(org_id: str, job_id: str, batch_id: str) -> str:
    return f"{PREFIX}/{org_id}/{job_id}/{batch_id}.json"
