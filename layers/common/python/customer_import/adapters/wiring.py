"""Assembles the pipeline from settings: clients built once per process and configuration."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import boto3
from botocore.config import Config

from ..notifications import EVENT_SOURCE, AnnouncingJobStore
from ..pipeline import ImportPipeline
from ..progress import ProgressBroadcaster
from ..settings import Settings
from . import dynamo
from .activities_dynamo import DynamoActivityRepository
from .aws import (
    ApiGatewayMessageSender,
    EventBridgeBus,
    S3ObjectStore,
    StepFunctionsWorkflow,
    s3_client,
)
from .customers_dynamo import DynamoCustomerRepository


@dataclass(frozen=True)
class Components:
    pipeline: ImportPipeline
    jobs: AnnouncingJobStore
    customers: dynamo.DynamoCustomerStore
    customer_repository: DynamoCustomerRepository
    connections: dynamo.DynamoConnectionStore
    organisations: dynamo.DynamoOrganisationStore
    audit: dynamo.DynamoAuditLog
    broadcaster: ProgressBroadcaster
    activities: DynamoActivityRepository
    profiles: dynamo.DynamoProfileStore


_cache: dict[Settings, Components] = {}
_lock = threading.Lock()


def components_for(settings: Settings) -> Components:
    with _lock:
        if settings not in _cache:
            _cache[settings] = _build(settings)
        return _cache[settings]


def _build(settings: Settings) -> Components:
    session = boto3.session.Session(region_name=settings.region)
    config = Config(retries={"mode": "adaptive", "max_attempts": 8})
    dynamo.bind(settings)
    # Every job's ending is announced on the event bus (`Import Finished`).
    jobs = AnnouncingJobStore(
        dynamo.DynamoJobStore(settings.region),
        EventBridgeBus(session.client("events", config=config), EVENT_SOURCE),
    )
    customers = dynamo.DynamoCustomerStore()
    customer_repository = DynamoCustomerRepository(settings.region)
    activities = DynamoActivityRepository()
    connections = dynamo.DynamoConnectionStore()
    organisations = dynamo.DynamoOrganisationStore()
    audit = dynamo.DynamoAuditLog()
    profiles = dynamo.DynamoProfileStore()
    management = (
        session.client(
            "apigatewaymanagementapi",
            endpoint_url=settings.websocket_management_endpoint,
            config=Config(retries={"mode": "standard", "max_attempts": 2}),
        )
        if settings.websocket_management_endpoint
        else None
    )
    broadcaster = ProgressBroadcaster(connections, ApiGatewayMessageSender(management))
    pipeline = ImportPipeline(
        settings=settings,
        jobs=jobs,
        objects=S3ObjectStore(s3_client(session, config), settings.upload_bucket),
        customers=customer_repository,
        activities=activities,
        broadcaster=broadcaster,
        workflow=StepFunctionsWorkflow(
            session.client("stepfunctions", config=config),
            settings.import_state_machine_arn,
            settings.rollback_state_machine_arn,
        ),
        organisations=organisations,
        audit=audit,
        profiles=profiles,
    )
    return Components(
        pipeline,
        jobs,
        customers,
        customer_repository,
        connections,
        organisations,
        audit,
        broadcaster,
        activities,
        profiles,
    )


def pipeline_for(settings: Settings) -> ImportPipeline:
    return components_for(settings).pipeline
