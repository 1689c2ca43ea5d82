"""S3, Step Functions callbacks and WebSocket pushes, behind the domain's ports."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import boto3
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import ClientError

from ..errors import ObjectMissing, TransientImportError
from ..ports import ConnectionGone
from ..sources.csv_files import Readable

# How S3 says an object is not there: 404 `NoSuchKey` to a caller allowed `s3:ListBucket`,
# 403 `AccessDenied` to any other (no role of this stack is); a HEAD answer has no body, so
# only its status.
_MISSING_OBJECT_CODES = {"NoSuchKey", "404", "AccessDenied", "403"}


def is_missing_object(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") in _MISSING_OBJECT_CODES


@contextlib.contextmanager
def _missing_as_object_missing(key: str) -> Iterator[None]:
    try:
        yield
    except ClientError as exc:
        if is_missing_object(exc):
            raise ObjectMissing(key) from exc
        raise


# Presigned POSTs and links name the bucket's regional virtual host
# (`{bucket}.s3.{region}.amazonaws.com`). botocore's default, the global `{bucket}.s3.amazonaws.com`,
# answers a browser's POST with a 307 for a bucket younger than a day outside us-east-1, and does
# not reach opt-in regions at all. With `AWS_ENDPOINT_URL` at an IP address (the local stack's
# 127.0.0.1), botocore cannot put the bucket in the host and falls back to the path.
S3_CONFIG = Config(
    signature_version="s3v4",
    s3={"addressing_style": "virtual", "us_east_1_regional_endpoint": "regional"},
)


def s3_client(session: boto3.session.Session, config: Config | None = None) -> BaseClient:
    """The S3 client of the object store: `config` (retries) with regional virtual hosts."""
    return session.client("s3", config=config.merge(S3_CONFIG) if config else S3_CONFIG)


class S3ObjectStore:
    def __init__(self, client: BaseClient, bucket: str) -> None:
        self.client = client
        self.bucket = bucket

    def size(self, key: str) -> int:
        with _missing_as_object_missing(key):
            return int(self.client.head_object(Bucket=self.bucket, Key=key)["ContentLength"])

    def read_head(self, key: str, size: int) -> bytes:
        with _missing_as_object_missing(key):
            response = self.client.get_object(
                Bucket=self.bucket, Key=key, Range=f"bytes=0-{size - 1}"
            )
        return bytes(response["Body"].read())

    def open(self, key: str) -> Readable:
        with _missing_as_object_missing(key):
            body: Readable = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        return body

    def put_json(self, key: str, data: Any) -> None:
        self.client.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=json.dumps(data, separators=(",", ":")).encode(),
            ContentType="application/json",
        )

    def list_keys(self, prefix: str) -> Iterator[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix
        )
        for page in pages:
            for item in page.get("Contents", []):
                yield str(item["Key"])

    def get_json(self, key: str) -> Any:
        with _missing_as_object_missing(key):
            body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        return json.loads(body.read())

    def put_text(self, key: str, text: str, content_type: str) -> None:
        self.client.put_object(
            Bucket=self.bucket, Key=key, Body=text.encode("utf-8"), ContentType=content_type
        )

    def presigned_post(
        self, key: str, content_type: str, max_bytes: int, expires_s: int
    ) -> dict[str, Any]:
        post: dict[str, Any] = self.client.generate_presigned_post(
            Bucket=self.bucket,
            Key=key,
            Fields={"Content-Type": content_type},
            Conditions=[
                {"Content-Type": content_type},
                ["content-length-range", 1, max_bytes],
            ],
            ExpiresIn=expires_s,
        )
        return post

    def presigned_get(self, key: str, expires_s: int, file_name: str) -> str:
        url: str = self.client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": key,
                "ResponseContentDisposition": f'attachment; filename="{file_name}"',
            },
            ExpiresIn=expires_s,
        )
        return url


class StepFunctionsWorkflow:
    def __init__(
        self, client: BaseClient, state_machine_arn: str, rollback_state_machine_arn: str
    ) -> None:
        self.client = client
        self.state_machine_arn = state_machine_arn
        self.rollback_state_machine_arn = rollback_state_machine_arn

    def send_success(self, task_token: str, output: dict[str, Any]) -> None:
        self.client.send_task_success(taskToken=task_token, output=json.dumps(output))

    def send_failure(self, task_token: str, error: str, cause: str) -> None:
        self.client.send_task_failure(taskToken=task_token, error=error, cause=cause)

    def start(self, name: str, execution_input: dict[str, Any]) -> None:
        self._start(self.state_machine_arn, name, execution_input)

    def start_rollback(self, name: str, execution_input: dict[str, Any]) -> None:
        self._start(self.rollback_state_machine_arn, name, execution_input)

    def _start(self, arn: str, name: str, execution_input: dict[str, Any]) -> None:
        # Started before (the same retry asked twice): nothing more to do.
        with contextlib.suppress(self.client.exceptions.ExecutionAlreadyExists):
            self.client.start_execution(
                stateMachineArn=arn, name=name, input=json.dumps(execution_input)
            )


class EventBridgeBus:
    """The account's default event bus (the one S3's upload events reach), as `EventBus`."""

    def __init__(self, client: BaseClient, source: str) -> None:
        self.client = client
        self.source = source

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        answer = self.client.put_events(
            Entries=[
                {
                    "Source": self.source,
                    "DetailType": detail_type,
                    "Detail": json.dumps(detail),
                    "EventBusName": "default",
                }
            ]
        )
        if answer.get("FailedEntryCount"):
            # The step fails and its Retry runs it again: the job's end is stored, and the
            # step's second run announces it (`announce_unannounced`).
            [entry] = answer["Entries"]
            raise TransientImportError(
                f"EventBridge did not take the {detail_type} event: "
                f"{entry.get('ErrorCode')}: {entry.get('ErrorMessage')}"
            )


class ApiGatewayMessageSender:
    def __init__(self, client: BaseClient | None) -> None:
        # None when no WebSocket API is configured: nobody can be listening.
        self.client = client

    def send(self, connection_id: str, message: dict[str, Any]) -> None:
        if self.client is None:
            raise ConnectionGone(connection_id)
        try:
            self.client.post_to_connection(
                ConnectionId=connection_id, Data=json.dumps(message).encode()
            )
        except ClientError as exc:
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if exc.response.get("Error", {}).get("Code") == "GoneException" or status == 410:
                raise ConnectionGone(connection_id) from exc
            raise
