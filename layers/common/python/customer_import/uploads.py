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


MB = 1_048_576


def check_declared_size(size: int, limit: int) -> None:
    if size <= 0:
        raise InvalidUpload("The file is empty")
    if size > limit:
        raise InvalidUpload(too_large(size, limit))


def too_large(size: int, limit: int) -> str:
    """Why a file larger than the limit is refused, both sizes in MB with as many decimals as
    it takes to see they differ ("30.1 MB", "30.0 MB"); in bytes when three decimals do not."""
    for decimals in range(1, 4):
        shown_size, shown_limit = f"{size / MB:.{decimals}f}", f"{limit / MB:.{decimals}f}"
        if shown_size != shown_limit:
            return f"The file is {shown_size} MB; the limit is {shown_limit} MB"
    return f"The file is {size:,} bytes; the limit is {limit:,} bytes"
