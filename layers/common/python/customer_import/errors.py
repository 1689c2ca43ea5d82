"""Errors the domain raises. Their class names are what the state machine's Retry and Catch
match on, so renaming one is a change to `statemachine/*.asl.json` too."""

from __future__ import annotations


class CustomerImportError(Exception):
    """Base of every error this package raises on purpose."""


class TransientImportError(CustomerImportError):
    """Worth retrying: throttling, a dependency that did not answer."""


class JobNotFound(CustomerImportError):
    def __init__(self, org_id: str, job_id: str) -> None:
        super().__init__(f"Import job {job_id} not found in organisation {org_id}")
        self.org_id = org_id
        self.job_id = job_id


class InvalidTransition(CustomerImportError):
    def __init__(self, job_id: str, current: str, wanted: str, message: str = "") -> None:
        super().__init__(message or f"Import job {job_id} is {current}; it cannot become {wanted}")
        self.job_id = job_id
        self.current = current
        self.wanted = wanted


class InvalidDecision(CustomerImportError):
    """A duplicate decision that cannot be accepted; the message says why."""


class IncompleteDecision(InvalidDecision):
    """A decision that leaves a flagged customer out, or names one that was not flagged."""


class InvalidUpload(CustomerImportError):
    """An upload request the product refuses (unknown source, bad file name, too large)."""


class ObjectMissing(CustomerImportError):
    """An object the store does not have: expired by the lifecycle rule, or never written.
    S3 says so with 404 `NoSuchKey` only to a caller allowed `s3:ListBucket`; to the others
    (every role of this stack) with 403 `AccessDenied`, and the store reports both as this."""

    def __init__(self, key: str) -> None:
        super().__init__(f"Object {key} does not exist (expired, or never written)")
        self.key = key


class StagingExpired(CustomerImportError):
    """A request needs what Prepare staged for the job, and the lifecycle rule has removed it."""

    def __init__(self, job_id: str, needed_for: str) -> None:
        super().__init__(
            f"Import job {job_id}'s staged data has expired, so {needed_for} can no longer be "
            "shown or done; import the file again"
        )
        self.job_id = job_id
