"""Pydantic models of the events the handlers receive (Powertools Parser)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import AliasChoices, BaseModel, Field


class JobRef(BaseModel):
    org_id: str
    job_id: str


class S3ObjectRef(BaseModel):
    key: str
    etag: str = Field(default="", validation_alias=AliasChoices("etag", "eTag"))
    sequencer: str = ""

    @property
    def write_id(self) -> str:
        """What tells two writes of one key apart (its eTag and sequencer, not S3's version
        id): an ERP drop's job id is derived from it."""
        return f"{self.etag}/{self.sequencer}"


class S3BucketRef(BaseModel):
    name: str


class S3ObjectCreatedDetail(BaseModel):
    bucket: S3BucketRef
    object: S3ObjectRef


class S3ObjectCreatedEvent(EventBridgeModel):  # type: ignore[misc]
    detail: S3ObjectCreatedDetail  # type: ignore[assignment]


class RegisterJobEvent(BaseModel):
    event: S3ObjectCreatedEvent
    execution_id: str


class JobStepEvent(BaseModel):
    job: JobRef


class RetryEvent(JobStepEvent):
    retry: int = Field(ge=1)  # which retry of the job this is


class AwaitDecisionEvent(JobStepEvent):
    task_token: str


class BatchRef(BaseModel):
    batch_id: str
    key: str
    customers: int
    retry: bool = False


class BatchEvent(JobStepEvent):
    batch: BatchRef


class BatchFailureEvent(BatchEvent):
    error: dict[str, Any] = Field(default_factory=dict)


class CloseJobEvent(JobStepEvent):
    status: str
    error: dict[str, Any] = Field(default_factory=dict)


class WebSocketCaller(BaseModel):
    """What the authorizer put in `requestContext.authorizer` (the caller of the token)."""

    org_id: str
    user_id: str = "anonymous"
    capabilities: str = ""  # space-separated, as an authorizer context holds only strings

    def claims(self) -> dict[str, str]:
        """The same caller, as token claims (`customer_import.access` reads those)."""
        return {"sub": self.user_id, "org_id": self.org_id, "capabilities": self.capabilities}


class WebSocketRequestContext(BaseModel):
    connection_id: str = Field(alias="connectionId")
    route_key: str = Field(alias="routeKey")
    authorizer: WebSocketCaller | None = None


class WebSocketEvent(BaseModel):
    request_context: WebSocketRequestContext = Field(alias="requestContext")
    body: str | None = None


class SubscribeMessage(BaseModel):
    action: str
    job_id: str
