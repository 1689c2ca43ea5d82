"""The data the product keeps: DynamoDB tables, the upload bucket and its access logs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.constructs.naming import pascal_case
from infra.description import BucketSpec, Key, TableSpec

ACCESS_LOG_DAYS = 90


def private_bucket(scope: Construct, construct_id: str, **settings: Any) -> s3.Bucket:
    """A bucket no one reaches in public or without TLS, encrypted with S3-managed keys: every
    bucket of the stack, with its own `settings` besides."""
    return s3.Bucket(
        scope,
        construct_id,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        encryption=s3.BucketEncryption.S3_MANAGED,
        **settings,
    )


class Storage(Construct):
    """Every table and bucket of the description, by their logical names."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        tables: Sequence[TableSpec],
        buckets: Sequence[BucketSpec],
        upload_origins: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        self.upload_origins = tuple(upload_origins)
        self.tables: dict[str, dynamodb.Table] = {spec.name: self._table(spec) for spec in tables}
        # Who read or wrote which object, for an incident's review (S3 delivers them in hours).
        self.access_logs = private_bucket(
            self,
            "AccessLogsBucket",
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[
                s3.LifecycleRule(id="expire-access-logs", expiration=Duration.days(ACCESS_LOG_DAYS))
            ],
        )
        self.buckets: dict[str, s3.Bucket] = {spec.name: self._bucket(spec) for spec in buckets}

    def _table(self, spec: TableSpec) -> dynamodb.Table:
        table = dynamodb.Table(
            self,
            f"{pascal_case(spec.name)}Table",
            partition_key=_attribute(spec.hash_key),
            sort_key=_attribute(spec.range_key) if spec.range_key else None,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute=spec.ttl_attribute,
            # A stack update that would replace or delete a table fails instead.
            deletion_protection=True,
        )
        for index in spec.indexes:
            table.add_global_secondary_index(
                index_name=index.name,
                partition_key=_attribute(index.hash_key),
                sort_key=_attribute(index.range_key) if index.range_key else None,
                # The repositories read whole items from their indexes, but for sparse indexes
                # of keys to look up.
                projection_type=dynamodb.ProjectionType(index.projection),
                non_key_attributes=list(index.non_key_attributes) or None,
            )
        return table

    def _bucket(self, spec: BucketSpec) -> s3.Bucket:
        return private_bucket(
            self,
            f"{pascal_case(spec.name)}Bucket",
            # Object Created events reach the import rule through EventBridge, not S3 notifications.
            event_bridge_enabled=spec.event_bridge,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix=f"{spec.name}/",
            lifecycle_rules=[
                # A browser's upload that broke off leaves parts that are billed, unseen.
                s3.LifecycleRule(
                    id="abort-incomplete-multipart-uploads",
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                ),
                *(
                    s3.LifecycleRule(
                        id=f"expire-{prefix.rstrip('/')}",
                        prefix=prefix,
                        expiration=Duration.days(days),
                    )
                    for prefix, days in spec.expire_after_days.items()
                ),
            ],
            # The web app's browsers POST files with the presigned form, and nothing else.
            cors=[
                s3.CorsRule(
                    allowed_methods=[s3.HttpMethods.POST],
                    allowed_origins=list(self.upload_origins),
                    allowed_headers=["*"],
                    max_age=3600,
                )
            ]
            if self.upload_origins
            else None,
        )


def _attribute(key: Key) -> dynamodb.Attribute:
    attribute_types = {"S": dynamodb.AttributeType.STRING, "N": dynamodb.AttributeType.NUMBER}
    return dynamodb.Attribute(name=key.name, type=attribute_types[key.type])
