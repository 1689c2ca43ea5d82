"""What an upload request must satisfy before a job is created for it.

The presigned POST names a size range too, but S3 only enforces it when the file arrives (and
the local stack not at all), and Validate checks the object again: this is the early, friendly
answer to a web app that declares a file larger than the organisation accepts.
"""

from __future__ import annotations

from .errors import InvalidUpload
from .ports import OrganisationStore
from .settings import Settings


def upload_limit(settings: Settings, organisations: OrganisationStore, org_id: str) -> int:
    """The largest file the organisation may upload, in bytes (as Validate reckons it)."""
    return organisations.get(org_id).max_file_bytes or settings.max_file_bytes


def check_declared_size(size: int, limit: int) -> None:
    if size <= 0:
        raise InvalidUpload("The file is empty")
    if size > limit:
        raise InvalidUpload(
            f"The file is {size / 1_048_576:.1f} MB; the limit is {limit / 1_048_576:.0f} MB"
        )
