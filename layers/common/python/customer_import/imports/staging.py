"""What an import stages, and where: the ids of its objects and customers, the batches and
manifests the state machine's Map reads, the pages of flagged customers and of row errors."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidUpload, ObjectMissing, StagingExpired
from ..jobs import Job
from ..ports import ObjectStore, RowFailure

ID_NAMESPACE = uuid.UUID("6f1c7f8e-1f7a-4a4e-9d55-3c1f0e3b2a10")
DUPLICATES_PAGE = 100
# The whole file's row errors, as the preview pages them (the error log's rows, with reasons).
ROW_ERRORS_PAGE = 1000


def staging_prefix(job: Job) -> str:
    return f"staging/{job.org_id}/{job.job_id}"


def row_errors_page_key(job: Job, number: int) -> str:
    """The key of the row errors' page `number`, counted from 0."""
    return f"{staging_prefix(job)}/row-errors/page-{number + 1:05d}.json"


def duplicates_page_key(job: Job, number: int) -> str:
    """The key of the flagged customers' page `number`, counted from 0."""
    return f"{job.duplicates_key}/page-{number + 1:05d}.json"


@dataclass(frozen=True)
class ObjectLocation:
    """Where an uploaded object sits: `uploads/{org}/{job}/{file}` or `drops/{org}/{profile}/{file}`."""

    kind: str
    org_id: str
    scope: str  # job id for uploads, import profile for drops
    file_name: str

    @classmethod
    def parse(cls, key: str) -> ObjectLocation:
        parts = key.split("/", 3)
        if parts[0] == "drops" and len(parts) == 3 and all(parts[1:]):
            # A drop straight under its organisation names no profile: its job is rejected
            # saying so (`drop_refusal`), in the organisation's own list.
            return cls("drops", parts[1], "", parts[2])
        if len(parts) != 4 or parts[0] not in ("uploads", "drops") or not all(parts[1:]):
            raise InvalidUpload(f"Object key {key!r} is not under uploads/ or drops/")
        return cls(parts[0], parts[1], parts[2], parts[3])


def job_id_of_object(bucket: str, key: str, sequencer: str) -> str:
    """The id of the import job an uploaded object belongs to: the one derivation that both
    starts the job's execution (named after it) and registers the job.

    An upload's key names its job (`uploads/{org}/{job}/{file}`, as `create_upload` made it).
    An ERP drop has no job yet: its id is derived from the object (`sequencer` tells two
    writes of one key apart), so a repeated event for the same object finds the same job.
    """
    location = ObjectLocation.parse(key)
    if location.kind == "drops":
        return str(uuid.uuid5(ID_NAMESPACE, f"{bucket}/{key}/{sequencer}"))
    if not _is_job_id(location.scope):
        raise InvalidUpload(f"Object key {key!r} names no import job")
    return location.scope


def _is_job_id(value: str) -> bool:
    """A job id as `create_upload` makes them: a UUID in its canonical form (which is also a
    valid execution name)."""
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False


def staged(objects: ObjectStore, job: Job, key: str, needed_for: str) -> Any:
    """A staged object a request needs; the lifecycle rule may have removed it since."""
    try:
        return objects.get_json(key)
    except ObjectMissing:
        raise StagingExpired(job.job_id, needed_for) from None


def must_still_be_staged(objects: ObjectStore, job: Job, needed_for: str) -> None:
    """Refuse at once what a later step could not do: staging expires as a whole, so its
    manifest answers for it (one HEAD, whatever the file's size)."""
    try:
        objects.size(job.manifest_key or "")
    except ObjectMissing:
        raise StagingExpired(job.job_id, needed_for) from None


class Stager:
    """Stages customers in batches of `size` under `prefix`, then their manifest: the list
    the state machine's Map reads."""

    def __init__(
        self,
        objects: ObjectStore,
        prefix: str,
        size: int,
        id_prefix: str = "",
        *,
        retry: bool = False,
    ) -> None:
        self.objects = objects
        self.prefix = prefix
        self.size = size
        self.id_prefix = id_prefix
        self.retry = retry
        self.manifest: list[dict[str, Any]] = []
        self._batch: list[dict[str, Any]] = []

    def add(self, customer: dict[str, Any]) -> None:
        self._batch.append(customer)
        if len(self._batch) >= self.size:
            self._flush()

    def _flush(self) -> None:
        batch_id = f"{self.id_prefix}{len(self.manifest) + 1:05d}"
        key = f"{self.prefix}/batch-{batch_id}.json"
        self.objects.put_json(key, {"batch_id": batch_id, "customers": self._batch})
        entry: dict[str, Any] = {"batch_id": batch_id, "key": key, "customers": len(self._batch)}
        if self.retry:
            entry["retry"] = True
        self.manifest.append(entry)
        self._batch = []

    def finish(self, name: str) -> str:
        if self._batch:
            self._flush()
        key = f"{self.prefix}/{name}.json"
        self.objects.put_json(key, self.manifest)
        return key


class DuplicateListing:
    """The flagged customers, for a person to review: pages of DUPLICATES_PAGE entries, and
    the list of their customer numbers that a decision is checked against."""

    def __init__(self, objects: ObjectStore, prefix: str) -> None:
        self.objects = objects
        self.prefix = prefix
        self.numbers: list[str] = []
        self._page: list[dict[str, Any]] = []
        self._pages = 0

    def add(self, entries: list[dict[str, Any]]) -> None:
        for entry in entries:
            self.numbers.append(entry["external_customer_number"])
            self._page.append(entry)
            if len(self._page) >= DUPLICATES_PAGE:
                self._flush()

    def _flush(self) -> None:
        self._pages += 1
        self.objects.put_json(f"{self.prefix}/page-{self._pages:05d}.json", self._page)
        self._page = []

    def finish(self) -> None:
        if self._page:
            self._flush()
        self.objects.put_json(f"{self.prefix}/flagged.json", self.numbers)


def put_row_error_pages(objects: ObjectStore, job: Job, failures: list[RowFailure]) -> None:
    """The preview's view of every row error: pages of ROW_ERRORS_PAGE (row, column,
    reason), each saying how many there are in all; a page is written even for none."""
    pages = range(0, max(len(failures), 1), ROW_ERRORS_PAGE)
    for number, start in enumerate(pages):
        objects.put_json(
            row_errors_page_key(job, number),
            {
                "total": len(failures),
                "items": [
                    {"row": f.row, "column": f.column, "reason": f.reason}
                    for f in failures[start : start + ROW_ERRORS_PAGE]
                ],
            },
        )
