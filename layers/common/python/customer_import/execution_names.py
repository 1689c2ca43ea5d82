"""The names of an import job's executions, so ops can find them by organisation and job.

Step Functions allows 80 characters; CloudWatch Logs and X-Ray want only letters, digits,
`-` and `_`. The organisation is cut down to fit and never holds `_`, so `_` parts it from
the job id (a UUID, unique on its own). The same job always gets the same name: an event
delivered again starts nothing new.
"""

from __future__ import annotations

import re

MAX_NAME = 80
RETRY_ROOM = len("-retry-99999")
_NOT_IN_AN_ORG_LABEL = re.compile(r"[^A-Za-z0-9-]+")


def import_execution_name(org_id: str, job_id: str) -> str:
    """`<org>_<job>`: the execution an upload or an ERP drop starts."""
    room = MAX_NAME - RETRY_ROOM - len(job_id) - 1
    org = _NOT_IN_AN_ORG_LABEL.sub("-", org_id).strip("-")[:room].rstrip("-")
    return f"{org or 'org'}_{job_id}"


def retry_execution_name(org_id: str, job_id: str, attempt: int) -> str:
    """`<org>_<job>-retry-<n>`: the execution of a job's n-th retry."""
    return f"{import_execution_name(org_id, job_id)}-retry-{attempt}"
