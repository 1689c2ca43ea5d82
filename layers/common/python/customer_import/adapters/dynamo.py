"""DynamoDB through PynamoDB: jobs, batch outcomes, customers, WebSocket connections.

Table names come from `Settings` at run time (`bind`), never from the environment at import.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import botocore.session
from pynamodb.attributes import (
    Attribute,
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
)
from pynamodb.connection import Connection
from pynamodb.exceptions import (
    AttributeNullError,
    DeleteError,
    PutError,
    PynamoDBException,
    TransactWriteError,
    UpdateError,
)
from pynamodb.indexes import (
    AllProjection,
    GlobalSecondaryIndex,
    IncludeProjection,
    KeysOnlyProjection,
)
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from ..audit import AuditEntry
from ..backoff import retry_transient, send_until_processed
from ..duplicates import (
    stored_match_key,
)
from ..errors import InvalidTransition, JobNotFound, TransientImportError
from ..imports.counters import OUTCOME_COUNTERS, batch_deltas
from ..jobs import COUNTER_NAMES, Job, JobOptions, JobStatus, sources_of
from ..organisations import OrganisationProfile
from ..ports import BatchOutcome, RowFailure
from ..profiles import ImportProfile, checked_profile
from ..settings import Settings
from ..stuck_jobs import UNSETTLED_STATUSES

CONNECTION_TTL = timedelta(hours=2)
BATCH_WRITE_LIMIT = 25  # items per BatchWriteItem request


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class JobsByCreated(GlobalSecondaryIndex["JobModel"]):
    class Meta:
        index_name = "by_created"
        projection = AllProjection()

    org_id = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class JobsByUnsettledStatus(GlobalSecondaryIndex["JobModel"]):
    """Sparse: only jobs in a status that waits for something outside them (pending,
    validating) carry `unsettled_status`, so the sweep of stuck jobs reads those alone."""

    class Meta:
        index_name = "by_unsettled_status"
        projection = KeysOnlyProjection()

    unsettled_status = UnicodeAttribute(hash_key=True)
    updated_at = UnicodeAttribute(range_key=True)


class JobModel(Model):
    class Meta:
        table_name = "unbound"

    org_id = UnicodeAttribute(hash_key=True)
    job_id = UnicodeAttribute(range_key=True)
    status = UnicodeAttribute()
    source = UnicodeAttribute()
    account_id = UnicodeAttribute()
    file_name = UnicodeAttribute()
    object_key = UnicodeAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    actor = UnicodeAttribute()
    options = JSONAttribute()
    execution_id = UnicodeAttribute(null=True)
    task_token = UnicodeAttribute(null=True)
    encoding = UnicodeAttribute(null=True)
    delimiter = UnicodeAttribute(null=True)
    missing_columns = ListAttribute(of=UnicodeAttribute, null=True)
    warnings = ListAttribute(of=UnicodeAttribute, null=True)
    reason = UnicodeAttribute(null=True)
    manifest_key = UnicodeAttribute(null=True)
    late_manifest_key = UnicodeAttribute(null=True)
    duplicates_key = UnicodeAttribute(null=True)
    preview_key = UnicodeAttribute(null=True)
    row_errors_key = UnicodeAttribute(null=True)
    error_log_key = UnicodeAttribute(null=True)
    conflict_log_key = UnicodeAttribute(null=True)
    announced_event_id = UnicodeAttribute(null=True)
    decision = JSONAttribute(null=True)
    # One attribute per counter, so batches can ADD to them atomically.
    rows = NumberAttribute(default=0)
    rows_with_warnings = NumberAttribute(default=0)
    rows_failing = NumberAttribute(default=0)
    customers = NumberAttribute(default=0)
    vehicles = NumberAttribute(default=0)
    duplicates = NumberAttribute(default=0)
    batches_total = NumberAttribute(default=0)
    batches_done = NumberAttribute(default=0)
    processed = NumberAttribute(default=0)
    imported = NumberAttribute(default=0)
    created = NumberAttribute(default=0)
    updated = NumberAttribute(default=0)
    unchanged = NumberAttribute(default=0)
    merged = NumberAttribute(default=0)
    deleted = NumberAttribute(default=0)
    restored = NumberAttribute(default=0)
    copied = NumberAttribute(default=0)
    moved = NumberAttribute(default=0)
    skipped_duplicates = NumberAttribute(default=0)
    skipped_user = NumberAttribute(default=0)
    failed = NumberAttribute(default=0)
    retries = NumberAttribute(default=0)
    retryable = NumberAttribute(default=0)
    reverted_created = NumberAttribute(default=0)
    reverted_updated = NumberAttribute(default=0)
    reverted_merged = NumberAttribute(default=0)
    reverted_deleted = NumberAttribute(default=0)
    reverted_restored = NumberAttribute(default=0)
    reverted_copied = NumberAttribute(default=0)
    reverted_moved = NumberAttribute(default=0)
    conflicts = NumberAttribute(default=0)
    rollback_batches_total = NumberAttribute(default=0)
    rollback_batches_done = NumberAttribute(default=0)
    # The status while it is one of UNSETTLED_STATUSES, else absent (the sparse index's key).
    unsettled_status = UnicodeAttribute(null=True)
    by_created = JobsByCreated()
    by_unsettled_status = JobsByUnsettledStatus()

    def to_job(self) -> Job:
        return Job(
            org_id=self.org_id,
            job_id=self.job_id,
            status=JobStatus(self.status),
            source=self.source,
            account_id=self.account_id,
            file_name=self.file_name,
            object_key=self.object_key,
            created_at=self.created_at,
            updated_at=self.updated_at,
            options=JobOptions.from_dict(self.options),
            actor=self.actor,
            execution_id=self.execution_id,
            task_token=self.task_token,
            encoding=self.encoding,
            delimiter=self.delimiter,
            missing_columns=list(self.missing_columns or []),
            warnings=list(self.warnings or []),
            reason=self.reason,
            manifest_key=self.manifest_key,
            late_manifest_key=self.late_manifest_key,
            duplicates_key=self.duplicates_key,
            preview_key=self.preview_key,
            row_errors_key=self.row_errors_key,
            error_log_key=self.error_log_key,
            conflict_log_key=self.conflict_log_key,
            announced_event_id=self.announced_event_id,
            decision=self.decision,
            counters={name: int(getattr(self, name) or 0) for name in COUNTER_NAMES},
        )

    @classmethod
    def from_job(cls, job: Job) -> JobModel:
        return cls(
            job.org_id,
            job.job_id,
            status=str(job.status),
            source=job.source,
            account_id=job.account_id,
            file_name=job.file_name,
            object_key=job.object_key,
            created_at=job.created_at,
            updated_at=job.updated_at,
            actor=job.actor,
            options=job.options.to_dict(),
            # a drop refused when it was registered carries its reason from the start
            reason=job.reason,
            unsettled_status=_unsettled(job.status),
            **{name: job.counter(name) for name in COUNTER_NAMES},
        )


def _unsettled(status: JobStatus) -> str | None:
    return str(status) if status in UNSETTLED_STATUSES else None


class BatchModel(Model):
    class Meta:
        table_name = "unbound"

    job_id = UnicodeAttribute(hash_key=True)
    batch_id = UnicodeAttribute(range_key=True)
    customers = NumberAttribute()
    # Stored under its old name, so a batch recorded before reads back the same.
    created = NumberAttribute(attr_name="imported")
    failed = NumberAttribute()
    vehicles = NumberAttribute(default=0)
    updated = NumberAttribute(default=0)
    unchanged = NumberAttribute(default=0)
    merged = NumberAttribute(default=0)
    deleted = NumberAttribute(default=0)
    restored = NumberAttribute(default=0)
    copied = NumberAttribute(default=0)
    moved = NumberAttribute(default=0)
    skipped_duplicates = NumberAttribute(default=0)
    skipped_user = NumberAttribute(default=0)
    failures = JSONAttribute(null=True)
    failures_key = UnicodeAttribute(null=True)
    retry = BooleanAttribute(default=False)
    recovered_rows = ListAttribute(of=NumberAttribute, null=True)
    transfers = JSONAttribute(null=True)
    recorded_at = UnicodeAttribute()


class OrganisationModel(Model):
    class Meta:
        table_name = "unbound"

    org_id = UnicodeAttribute(hash_key=True)
    profile = JSONAttribute()


class ProfileModel(Model):
    """An organisation's import profile, by name (`profiles.ImportProfile`)."""

    class Meta:
        table_name = "unbound"

    org_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute(range_key=True)
    document = JSONAttribute()


class AuditByTime(GlobalSecondaryIndex["AuditModel"]):
    class Meta:
        index_name = "by_time"
        projection = AllProjection()

    org_id = UnicodeAttribute(hash_key=True)
    at = UnicodeAttribute(range_key=True)


class AuditModel(Model):
    class Meta:
        table_name = "unbound"

    org_id = UnicodeAttribute(hash_key=True)
    entry_key = UnicodeAttribute(range_key=True)
    job_id = UnicodeAttribute()
    action = UnicodeAttribute()
    actor = UnicodeAttribute()
    at = UnicodeAttribute()
    job_created_at = UnicodeAttribute()
    details = JSONAttribute()
    by_time = AuditByTime()


class CustomersByExternalNumber(GlobalSecondaryIndex["CustomerModel"]):
    class Meta:
        index_name = "by_external_number"
        projection = AllProjection()

    org_id = UnicodeAttribute(hash_key=True)
    external_customer_number = UnicodeAttribute(range_key=True)


class CustomersLiveByOrg(GlobalSecondaryIndex["CustomerModel"]):
    class Meta:
        index_name = "live_by_org"
        projection = IncludeProjection(["external_customer_number", "version"])

    live_org = UnicodeAttribute(hash_key=True)
    live_key = UnicodeAttribute(range_key=True)


class CustomersBinnedByOrg(GlobalSecondaryIndex["CustomerModel"]):
    class Meta:
        index_name = "binned_by_org"
        projection = AllProjection()

    binned_org = UnicodeAttribute(hash_key=True)
    binned_key = UnicodeAttribute(range_key=True)


class CustomersBinnedByAccount(GlobalSecondaryIndex["CustomerModel"]):
    class Meta:
        index_name = "binned_by_account"
        projection = AllProjection()

    binned_account = UnicodeAttribute(hash_key=True)
    binned_key = UnicodeAttribute(range_key=True)


class CustomersByPurgeDay(GlobalSecondaryIndex["CustomerModel"]):
    class Meta:
        index_name = "by_purge_day"
        projection = AllProjection()

    purge_day = UnicodeAttribute(hash_key=True)
    purge_after = UnicodeAttribute(range_key=True)


class CustomerModel(Model):
    class Meta:
        table_name = "unbound"

    org_id = UnicodeAttribute(hash_key=True)
    customer_id = UnicodeAttribute(range_key=True)
    account_id = UnicodeAttribute()
    external_customer_number = UnicodeAttribute(null=True)
    title = UnicodeAttribute(null=True)
    name = UnicodeAttribute(null=True)
    email = UnicodeAttribute(null=True)
    email_normalised = UnicodeAttribute(null=True)
    phone = UnicodeAttribute(null=True)
    landline = UnicodeAttribute(null=True)
    customer_group = UnicodeAttribute(null=True)
    credit_hold = BooleanAttribute(null=True)
    account_customer = BooleanAttribute(null=True)
    vat_registered = BooleanAttribute(null=True)
    vat_number = UnicodeAttribute(null=True)
    notification_preferences = JSONAttribute(null=True)
    date_created = UnicodeAttribute(null=True)
    last_visit = UnicodeAttribute(null=True)
    source_job_id = UnicodeAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()
    # Written by the customer repository (`customers_dynamo.py`); absent on items the bulk
    # store wrote before it.
    version = NumberAttribute(null=True)
    created_by_job = UnicodeAttribute(null=True)
    updated_by_job = UnicodeAttribute(null=True)
    deleted_at = UnicodeAttribute(null=True)
    # The keys of its addresses and vehicles (customers_dynamo.py): a chunk of customers is
    # read back with one BatchGetItem per table, not two Queries per customer.
    address_types = ListAttribute(of=UnicodeAttribute, null=True)
    vehicle_keys = ListAttribute(of=UnicodeAttribute, null=True)
    purge_after = UnicodeAttribute(null=True)
    source_digest = UnicodeAttribute(null=True)  # `Customer.source_digest`
    # The keys of the sparse indexes: `live_*` on live customers only, `binned_*` and
    # `purge_day` on binned ones only (see customers_dynamo.py).
    live_org = UnicodeAttribute(null=True)
    live_key = UnicodeAttribute(null=True)
    binned_org = UnicodeAttribute(null=True)
    binned_account = UnicodeAttribute(null=True)
    binned_key = UnicodeAttribute(null=True)
    purge_day = UnicodeAttribute(null=True)
    by_external_number = CustomersByExternalNumber()
    live_by_org = CustomersLiveByOrg()
    binned_by_org = CustomersBinnedByOrg()
    binned_by_account = CustomersBinnedByAccount()
    by_purge_day = CustomersByPurgeDay()


class MatchKeyModel(Model):
    """`{org}#{kind}:{value}` (its digest when too long for a key: `stored_match_key`) -> the
    customer holding it: the index duplicate detection reads in batches. Shared keys (two
    customers of one name) point at the last one written."""

    class Meta:
        table_name = "unbound"

    match_key = UnicodeAttribute(hash_key=True)
    org_id = UnicodeAttribute()
    customer_id = UnicodeAttribute()


class AddressModel(Model):
    class Meta:
        table_name = "unbound"

    customer_id = UnicodeAttribute(hash_key=True)
    address_type = UnicodeAttribute(range_key=True)
    org_id = UnicodeAttribute()
    line1 = UnicodeAttribute(null=True)
    line2 = UnicodeAttribute(null=True)
    line3 = UnicodeAttribute(null=True)
    town = UnicodeAttribute(null=True)
    county = UnicodeAttribute(null=True)
    postcode = UnicodeAttribute(null=True)
    country = UnicodeAttribute(null=True)


class VehicleModel(Model):
    class Meta:
        table_name = "unbound"

    customer_id = UnicodeAttribute(hash_key=True)
    vehicle_id = UnicodeAttribute(range_key=True)
    org_id = UnicodeAttribute()
    registration = UnicodeAttribute(null=True)
    make = UnicodeAttribute(null=True)
    model = UnicodeAttribute(null=True)
    vin = UnicodeAttribute(null=True)
    first_registered = UnicodeAttribute(null=True)
    mot_due = UnicodeAttribute(null=True)
    mileage = NumberAttribute(null=True)
    # `customer.vehicle_key`, written by the customer repository.
    vehicle_key = UnicodeAttribute(null=True)


class IdentityModel(Model):
    """`{org}#{account}#{external number}` (a digest when too long) -> the customer holding
    it, and whether that customer is live: the guard that keeps an external number unique
    per account among live customers (see customers_dynamo.py)."""

    class Meta:
        table_name = "unbound"

    identity_key = UnicodeAttribute(hash_key=True)
    org_id = UnicodeAttribute()
    customer_id = UnicodeAttribute()
    live = BooleanAttribute()


class ActivitiesByOrgCreated(GlobalSecondaryIndex["ActivityModel"]):
    """An organisation's activities by when they were recorded: what a rollback asks to
    know whether people recorded any on the customers an import created."""

    class Meta:
        index_name = "by_org_created"
        projection = KeysOnlyProjection()

    org_id = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class ActivityModel(Model):
    """A related record of a customer (`customers.activities`): by the customer's id, ranged
    by the activity's id (its date first, so a Query lists them by date)."""

    class Meta:
        table_name = "unbound"

    customer_id = UnicodeAttribute(hash_key=True)
    activity_id = UnicodeAttribute(range_key=True)
    org_id = UnicodeAttribute()
    account_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    date = UnicodeAttribute()
    text = UnicodeAttribute()
    author = UnicodeAttribute()
    created_at = UnicodeAttribute()
    by_org_created = ActivitiesByOrgCreated()


class ConnectionsByJob(GlobalSecondaryIndex["ConnectionModel"]):
    class Meta:
        index_name = "by_job"
        projection = AllProjection()

    job_id = UnicodeAttribute(hash_key=True)


class ConnectionModel(Model):
    class Meta:
        table_name = "unbound"

    connection_id = UnicodeAttribute(hash_key=True)
    org_id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    job_id = UnicodeAttribute(null=True)
    expires_at = TTLAttribute()
    by_job = ConnectionsByJob()


_bound: Settings | None = None
_bind_lock = threading.Lock()


def bind(settings: Settings) -> None:
    """Point the models at the tables of these settings (once per process and settings), and
    build each model's botocore client now. PynamoDB builds a client lazily, from a botocore
    session of the calling thread: concurrent first calls (the batches of a Map) would each
    load botocore's endpoint and service data again, which costs more than the writes."""
    global _bound
    with _bind_lock:
        if _bound == settings:
            return
        tables = {
            JobModel: settings.jobs_table,
            BatchModel: settings.job_batches_table,
            OrganisationModel: settings.organisations_table,
            ProfileModel: settings.import_profiles_table,
            AuditModel: settings.audit_log_table,
            CustomerModel: settings.customers_table,
            MatchKeyModel: settings.customer_match_keys_table,
            AddressModel: settings.customer_addresses_table,
            VehicleModel: settings.vehicles_table,
            IdentityModel: settings.customer_identities_table,
            ActivityModel: settings.customer_activities_table,
            ConnectionModel: settings.connections_table,
        }
        for model, table_name in tables.items():
            model.Meta.table_name = table_name
            model.Meta.region = settings.region
            model._connection = None
            _build_client(model._get_connection().connection)
        _bound = settings


@functools.cache
def _botocore_session() -> botocore.session.Session:
    return botocore.session.get_session()


def _build_client(connection: Connection) -> None:
    """Build the connection's client now, from the one botocore session of this process.
    PynamoDB gives each connection a session of its own, and each session loads DynamoDB's
    service model again: ten of them took ≈ 80 MiB in every process that binds the models
    (each Lambda container). PynamoDB has no public way to pass a session in."""
    connection._local.session = _botocore_session()
    _ = connection.client


# How DynamoDB says it is throttling: the error of a request, or a transaction's reasons.
THROTTLING_ERRORS = frozenset(
    {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"}
)
THROTTLING_CANCELLATIONS = frozenset({"ThrottlingError", "ProvisionedThroughputExceeded"})

_Store = TypeVar("_Store", bound=type)


def _throttled(exc: Exception) -> bool:
    return getattr(exc, "cause_response_code", None) in THROTTLING_ERRORS or bool(
        THROTTLING_CANCELLATIONS & set(_cancellation_codes(exc))
    )


def _throttling_is_transient(store: _Store) -> _Store:
    """Every public method of the store raises `TransientImportError`, which the state
    machine retries with backoff, when DynamoDB still throttles after botocore's own
    retries (exponential backoff with jitter): throttling is nobody's fault in the file, so
    it never fails a row."""

    def transient(method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return method(*args, **kwargs)
            except PynamoDBException as exc:
                if not _throttled(exc):
                    raise
                raise TransientImportError(f"DynamoDB is throttling: {exc.cause or exc}") from exc

        return call

    for name, method in list(vars(store).items()):
        if callable(method) and not name.startswith("_"):
            setattr(store, name, transient(method))
    return store


@_throttling_is_transient
class DynamoJobStore:
    def __init__(self, region: str) -> None:
        # One connection for every transaction: building a botocore client costs more than
        # the write itself.
        self._transactions = Connection(region=region)
        _build_client(self._transactions)  # once, not by concurrent first transactions

    def create(self, job: Job) -> bool:
        try:
            JobModel.from_job(job).save(condition=JobModel.job_id.does_not_exist())
        except PutError as exc:
            if _conditional_failed(exc):
                return False
            raise
        return True

    def get(self, org_id: str, job_id: str) -> Job:
        try:
            return JobModel.get(org_id, job_id, consistent_read=True).to_job()
        except JobModel.DoesNotExist:
            raise JobNotFound(org_id, job_id) from None

    def transition(self, org_id: str, job_id: str, to: JobStatus, **changes: Any) -> Job:
        item = JobModel(org_id, job_id)
        unsettled = _unsettled(to)
        actions = [
            JobModel.status.set(str(to)),
            JobModel.unsettled_status.set(unsettled)
            if unsettled
            else JobModel.unsettled_status.remove(),
            *self._set(changes),
        ]
        try:
            item.update(actions=actions, condition=JobModel.status.is_in(*map(str, sources_of(to))))
        except UpdateError as exc:
            if not _conditional_failed(exc):
                raise
            current = self.get(org_id, job_id)
            raise InvalidTransition(job_id, str(current.status), str(to)) from None
        return item.to_job()

    def update(self, org_id: str, job_id: str, **changes: Any) -> Job:
        item = JobModel(org_id, job_id)
        try:
            item.update(actions=self._set(changes), condition=JobModel.org_id.exists())
        except UpdateError as exc:
            if _conditional_failed(exc):
                raise JobNotFound(org_id, job_id) from None
            raise
        return item.to_job()

    @staticmethod
    def _set(changes: dict[str, Any]) -> list[Any]:
        counters = changes.pop("counters", {})
        actions = [JobModel.updated_at.set(_now())]
        for name, value in {**changes, **counters}.items():
            if isinstance(value, JobOptions):
                value = value.to_dict()
            attribute = getattr(JobModel, name)
            actions.append(attribute.remove() if value is None else attribute.set(value))
        return actions

    def claim_execution(self, org_id: str, job_id: str, execution_id: str) -> bool:
        item = JobModel(org_id, job_id)
        try:
            item.update(
                actions=[
                    JobModel.execution_id.set(execution_id),
                    JobModel.status.set(str(JobStatus.VALIDATING)),
                    JobModel.unsettled_status.set(str(JobStatus.VALIDATING)),
                    JobModel.updated_at.set(_now()),
                ],
                condition=(JobModel.status == str(JobStatus.PENDING))
                & JobModel.execution_id.does_not_exist(),
            )
        except UpdateError as exc:
            if not _conditional_failed(exc):
                raise
            return self.get(org_id, job_id).execution_id == execution_id
        return True

    def record_batch(self, org_id: str, job_id: str, outcome: BatchOutcome) -> Job | None:
        record = BatchModel(
            job_id,
            outcome.batch_id,
            customers=outcome.customers,
            vehicles=outcome.vehicles,
            **{name: getattr(outcome, name) for name in OUTCOME_COUNTERS},
            failures=[f.to_dict() for f in outcome.failures] or None,
            failures_key=outcome.failures_key,
            retry=outcome.retry,
            recovered_rows=list(outcome.recovered_rows) or None,
            transfers=list(outcome.transfers) or None,
            recorded_at=_now(),
        )

        deltas = batch_deltas(outcome)

        def commit() -> None:
            with TransactWrite(connection=self._transactions) as tx:
                tx.save(record, condition=BatchModel.batch_id.does_not_exist())
                tx.update(
                    JobModel(org_id, job_id),
                    actions=[
                        *(getattr(JobModel, name).add(delta) for name, delta in deltas.items()),
                        JobModel.updated_at.set(_now()),
                    ],
                    condition=JobModel.org_id.exists(),
                )

        try:
            # Every batch updates the one job item: concurrent transactions on it conflict.
            retry_transient(commit, _transaction_contended)
        except TransactWriteError as exc:
            if _cancellation_codes(exc)[:1] == ["ConditionalCheckFailed"]:
                return None  # this batch was recorded by an earlier attempt
            raise
        return self.get(org_id, job_id)

    def unsettled(self, status: JobStatus, changed_before: str) -> list[tuple[str, str]]:
        return [
            (item.org_id, item.job_id)
            for item in JobModel.by_unsettled_status.query(
                str(status), JobModel.updated_at < changed_before
            )
        ]

    def announce_unannounced(self, job: Job) -> Job:
        return job  # this store announces nothing (`AnnouncingJobStore` does)

    def batch_outcomes(self, job_id: str) -> list[BatchOutcome]:
        return [
            BatchOutcome(
                batch_id=b.batch_id,
                customers=int(b.customers),
                vehicles=int(b.vehicles or 0),
                **{name: int(getattr(b, name) or 0) for name in OUTCOME_COUNTERS},
                failures=tuple(RowFailure.from_dict(f) for f in (b.failures or [])),
                failures_key=b.failures_key,
                retry=bool(b.retry),
                recovered_rows=tuple(int(r) for r in (b.recovered_rows or [])),
                transfers=tuple(b.transfers or ()),
            )
            for b in BatchModel.query(job_id, consistent_read=True)
        ]


# An item to put: its model (the table) and its attributes, serialized for DynamoDB.
_Put = tuple[type[Model], dict[str, Any]]


def _serialize(model: type[Model], key: tuple[Any, ...], values: dict[str, Any]) -> _Put:
    """What `model(*key, **values).serialize()` gives, through the model's own attributes and
    their own serializers, without building a model instance: the bulk writes build hundreds
    of items per batch, and a PynamoDB instance costs more to build than to send."""
    names, attributes = _serialized_attributes(model)
    unknown = values.keys() - names
    if unknown:
        raise ValueError(f"Attributes {sorted(unknown)} do not exist on {model.__name__}")
    named = dict(zip(_key_names(model), key, strict=True))
    item: dict[str, Any] = {}
    for name, attr_name, attr_type, attribute in attributes:
        value = named[name] if name in named else values.get(name)
        serialized = None if value is None else attribute.serialize(value)
        if serialized is None:
            if not attribute.null:
                raise AttributeNullError(name)
            continue
        item[attr_name] = {attr_type: serialized}
    return model, item


@functools.cache
def _serialized_attributes(
    model: type[Model],
) -> tuple[frozenset[str], tuple[tuple[str, str, str, Attribute[Any]], ...]]:
    """A model's attribute names, and each attribute with its stored name and type, looked
    up once (PynamoDB computes `attr_name` on every access)."""
    attributes = model.get_attributes()
    return frozenset(attributes), tuple(
        (name, a.attr_name, a.attr_type, a) for name, a in attributes.items()
    )


def _stored_key(model: type[Model], serialized: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(
        next(iter(serialized[model.get_attributes()[name].attr_name].values()))
        for name in _key_names(model)
    )


@functools.cache
def _key_names(model: type[Model]) -> tuple[str, ...]:
    names = [name for name, a in model.get_attributes().items() if a.is_hash_key]
    names += [name for name, a in model.get_attributes().items() if a.is_range_key]
    return tuple(names)


@_throttling_is_transient
class DynamoCustomerStore:
    @staticmethod
    def _write_all(items: Sequence[_Put]) -> None:
        """BatchWriteItem, 25 items a request, through PynamoDB's connection; what DynamoDB
        leaves unprocessed goes again with backoff and jitter (PynamoDB's own batch_write
        resends at once)."""
        by_model: dict[type[Model], dict[tuple[Any, ...], dict[str, Any]]] = {}
        for model, serialized in items:
            # DynamoDB refuses a request naming one key twice (two customers of one batch
            # sharing a match key, two rows of one vehicle): the last put of a key is what
            # writing them one after another would have left.
            by_model.setdefault(model, {})[_stored_key(model, serialized)] = serialized
        # A customer's own item goes last: a stored customer always has every record it came
        # with (a write that fails before leaves records nobody reads, which writing it again
        # overwrites), and a batch that failed counts as written exactly the customers stored.
        for model, by_key in sorted(by_model.items(), key=lambda entry: entry[0] is CustomerModel):
            serialized_items = list(by_key.values())
            connection = model._get_connection()

            def send(
                pending: Sequence[dict[str, Any]],
                model: type[Model] = model,
                connection: Any = connection,
            ) -> list[dict[str, Any]]:
                response = connection.batch_write_item(put_items=list(pending))
                unprocessed = response.get("UnprocessedItems", {}).get(model.Meta.table_name, [])
                return [request["PutRequest"]["Item"] for request in unprocessed]

            for start in range(0, len(serialized_items), BATCH_WRITE_LIMIT):
                send_until_processed(send, serialized_items[start : start + BATCH_WRITE_LIMIT])

    def read(self, org_id: str, external_number: str | None = None) -> list[dict[str, Any]]:
        """Customers of an organisation with their addresses and vehicles, every field present
        (absent values as None). Queries only: the table or its external-number index. The
        recycle bin's customers are not among them."""
        live = CustomerModel.deleted_at.does_not_exist()
        if external_number is None:
            found = CustomerModel.query(org_id, filter_condition=live)
        else:
            found = CustomerModel.by_external_number.query(
                org_id,
                CustomerModel.external_customer_number == external_number,
                filter_condition=live,
            )
        return [self._view(customer) for customer in found]

    def page(
        self, org_id: str, limit: int, start: dict[str, str] | None
    ) -> tuple[list[dict[str, Any]], dict[str, str] | None]:
        """Up to `limit` customers of the organisation, viewed as `read` views them, from
        after the table key `start`; and the key to go on from (None after the last)."""
        found = CustomerModel.query(
            org_id,
            filter_condition=CustomerModel.deleted_at.does_not_exist(),
            limit=limit,
            # Both key attributes of the customers table are strings.
            last_evaluated_key={k: {"S": v} for k, v in start.items()} if start else None,
        )
        customers = [self._view(customer) for customer in found]
        last = found.last_evaluated_key
        return customers, ({k: v["S"] for k, v in last.items()} if last else None)

    def get(self, org_id: str, customer_id: str) -> dict[str, Any] | None:
        """One customer of the organisation, viewed as `read` views them; None if absent."""
        try:
            customer = CustomerModel.get(org_id, customer_id)
        except CustomerModel.DoesNotExist:
            return None
        return None if customer.deleted_at else self._view(customer)

    @staticmethod
    def _view(customer: CustomerModel) -> dict[str, Any]:
        view = _all_attributes(
            customer, exclude=("org_id", "email_normalised", "address_types", "vehicle_keys")
        )
        view["addresses"] = [
            {
                "type": a.address_type,
                **_all_attributes(a, exclude=("customer_id", "address_type", "org_id")),
            }
            for a in AddressModel.query(customer.customer_id)
        ]
        view["vehicles"] = [
            _all_attributes(v, exclude=("customer_id", "vehicle_id", "vehicle_key", "org_id"))
            for v in VehicleModel.query(customer.customer_id)
        ]
        return view


def _match_key_items(org_id: str, customer_id: str, keys: Iterable[str]) -> list[_Put]:
    return [
        _serialize(
            MatchKeyModel,
            (stored_match_key(org_id, key),),
            {"org_id": org_id, "customer_id": customer_id},
        )
        for key in keys
    ]


def _all_attributes(item: Model, exclude: tuple[str, ...]) -> dict[str, Any]:
    values = item.attribute_values
    return {name: _plain(values.get(name)) for name in item.get_attributes() if name not in exclude}


def _plain(value: Any) -> Any:
    """DynamoDB numbers come back as floats; a mileage of 115882 should read as such."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


class DynamoOrganisationStore:
    def get(self, org_id: str) -> OrganisationProfile:
        try:
            stored = OrganisationModel.get(org_id)
        except OrganisationModel.DoesNotExist:
            return OrganisationProfile(org_id=org_id)
        return OrganisationProfile.from_dict({**stored.profile, "org_id": org_id})

    def put(self, profile: OrganisationProfile) -> None:
        OrganisationModel(profile.org_id, profile=profile.to_dict()).save()


class DynamoProfileStore:
    def get(self, org_id: str, name: str) -> ImportProfile | None:
        try:
            item = ProfileModel.get(org_id, name, consistent_read=True)
        except ProfileModel.DoesNotExist:
            return None
        return checked_profile(org_id, name, item.document)

    def put(self, profile: ImportProfile) -> None:
        ProfileModel(profile.org_id, profile.name, document=profile.to_document()).save()

    def delete(self, org_id: str, name: str) -> bool:
        try:
            ProfileModel(org_id, name).delete(condition=ProfileModel.name.exists())
        except DeleteError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def for_organisation(self, org_id: str) -> list[ImportProfile]:
        return [
            checked_profile(org_id, item.name, item.document)
            for item in ProfileModel.query(org_id, consistent_read=True)
        ]


class DynamoAuditLog:
    def record(self, entry: AuditEntry) -> None:
        item = AuditModel(
            entry.org_id,
            entry.sort_key,
            job_id=entry.job_id,
            action=entry.action,
            actor=entry.actor,
            at=entry.at,
            job_created_at=entry.job_created_at,
            details=entry.details,
        )
        try:
            item.save(condition=AuditModel.entry_key.does_not_exist())
        except PutError as exc:
            if not _conditional_failed(exc):
                raise

    def page(
        self, org_id: str, limit: int, start: dict[str, str] | None
    ) -> tuple[list[AuditEntry], dict[str, str] | None]:
        found = AuditModel.by_time.query(
            org_id,
            scan_index_forward=False,
            limit=limit,
            # Every key attribute of the audit table and its index is a string.
            last_evaluated_key={k: {"S": v} for k, v in start.items()} if start else None,
        )
        entries = [
            AuditEntry(
                org_id=item.org_id,
                job_id=item.job_id,
                action=item.action,
                actor=item.actor,
                at=item.at,
                job_created_at=item.job_created_at,
                details=item.details,
            )
            for item in found
        ]
        last = found.last_evaluated_key
        return entries, ({k: plain_key(v) for k, v in last.items()} if last else None)


def plain_key(attribute: Any) -> str:
    """`{"S": "..."}` as DynamoDB returns key attributes -> the string itself."""
    return str(attribute["S"]) if isinstance(attribute, dict) else str(attribute)


class DynamoConnectionStore:
    def add(self, connection_id: str, org_id: str, user_id: str) -> None:
        ConnectionModel(
            connection_id,
            org_id=org_id,
            user_id=user_id,
            expires_at=datetime.now(UTC) + CONNECTION_TTL,
        ).save()

    def subscribe(self, connection_id: str, org_id: str, job_id: str) -> bool:
        try:
            ConnectionModel(connection_id).update(
                actions=[ConnectionModel.job_id.set(job_id)],
                condition=ConnectionModel.org_id == org_id,
            )
        except UpdateError as exc:
            if _conditional_failed(exc):
                return False
            raise
        return True

    def remove(self, connection_id: str) -> None:
        ConnectionModel(connection_id).delete()

    def subscribers(self, job_id: str) -> list[str]:
        return [c.connection_id for c in ConnectionModel.by_job.query(job_id)]


def _cancellation_codes(exc: Exception) -> list[str | None]:
    reasons = getattr(exc, "cancellation_reasons", None) or []
    return [reason.code if reason is not None else None for reason in reasons]


def _transaction_contended(exc: Exception) -> bool:
    codes = set(_cancellation_codes(exc)) | {getattr(exc, "cause_response_code", None)}
    return bool(
        codes
        & {
            "TransactionConflict",
            "TransactionConflictException",
        }
    ) or _throttled(exc)


def _conditional_failed(exc: Exception) -> bool:
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"
