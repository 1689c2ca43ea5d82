"""The one declarative description of the stack.

Both the CDK app (`infra/app.py`) and the embedded local stack
(`customer_import_local.stack`) build every resource from this module, so the cloud and the
laptop cannot drift apart. Plain data only: no CDK and no boto3 imports here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
STACK_NAME = "CustomerImportStack"


@dataclass(frozen=True)
class Ref:
    """A value only known once the stack exists: a table's or bucket's name, an ARN, a URL."""

    # "table" | "bucket" | "function_arn" | "state_machine_arn" | "websocket_management_endpoint"
    # | "token_issuer" | "token_audience" | "token_jwks_url" (the user pool, or the local issuer)
    kind: str
    name: str = ""


@dataclass(frozen=True)
class ObjectAccess:
    """Key patterns of one bucket a function may read or write (`staging/*`)."""

    bucket: str
    read: tuple[str, ...] = ()
    write: tuple[str, ...] = ()


# DynamoDB actions a function may be granted on a table, each an operation its code calls. A
# transaction needs the action of each of its parts (PutItem, UpdateItem...) on that part's
# table. There is no Scan: the product reads by key and through indexes only.
GET, BATCH_GET, QUERY = "GetItem", "BatchGetItem", "Query"
PUT, UPDATE, DELETE, BATCH_WRITE = "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"
TABLE_ACTIONS = frozenset({GET, BATCH_GET, QUERY, PUT, UPDATE, DELETE, BATCH_WRITE})


@dataclass(frozen=True)
class TableAccess:
    """The operations a function calls on one table (on its items), and the indexes it queries."""

    table: str
    actions: tuple[str, ...] = ()
    query_indexes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        unknown = set(self.actions) - TABLE_ACTIONS
        if unknown:
            raise ValueError(f"{self.table}: {sorted(unknown)} are not grantable table actions")


# The IAM actions behind each grant: the CDK stack grants exactly these (`infra/stack.py` and its
# constructs), and the local stack refuses what they do not allow
# (`customer_import_local.permissions`).
OBJECT_READ, OBJECT_WRITE = "s3:GetObject", "s3:PutObject"
PUSH_ACTIONS = ("execute-api:ManageConnections",)
START_EXECUTION_ACTIONS = ("states:StartExecution",)
READ_EXECUTION_ACTIONS = ("states:DescribeExecution", "states:GetExecutionHistory")
ANSWER_TASK_ACTIONS = ("states:SendTaskSuccess", "states:SendTaskFailure")
# `Import Finished` on the account's default event bus (design §5.6).
PUBLISH_EVENT_ACTIONS = ("events:PutEvents",)


@dataclass(frozen=True)
class Statement:
    """IAM actions allowed on resources of one kind: a `table`'s items, a table's `index`es, a
    bucket's `objects` under key patterns, the stack's `state_machine`, its `executions`, the
    WebSocket stage's `connections`, or an `event_bus`."""

    actions: tuple[str, ...]
    kind: str
    name: str = ""  # the table's, bucket's or state machine's logical name; the bus's name
    resources: tuple[str, ...] = ()  # index names or key patterns; none: every one of its kind


# What a progress push does besides posting: it reads the job's subscribers through the
# connections index, and forgets a connection API Gateway says is gone.
PUSH_TABLE_ACCESS = TableAccess("connections", (DELETE,), query_indexes=("by_job",))


@dataclass(frozen=True)
class Grants:
    """Exactly what a function may touch; a function that names none may touch nothing.

    Tables and key patterns are the description's logical names. An append-only table (the
    audit log, batch outcomes) is granted PutItem alone: the code writes each entry under a
    condition that its key is new, and nothing may update or delete it.
    """

    tables: tuple[TableAccess, ...] = ()
    objects: tuple[ObjectAccess, ...] = ()
    # Post to WebSocket connections (and PUSH_TABLE_ACCESS).
    push_progress: bool = False
    answer_tasks: bool = False  # send task success/failure to the waiting execution
    # The state machines whose executions it may describe (and read the history of), and those
    # it may start, by name.
    read_executions: tuple[str, ...] = ()
    start_executions: tuple[str, ...] = ()
    # Put `Import Finished` events: the functions that end a job.
    publish_events: bool = False

    def table_access(self) -> dict[str, TableAccess]:
        """Table name -> everything granted on it, the pushes' connections included."""
        merged: dict[str, TableAccess] = {}
        for access in (*self.tables, *((PUSH_TABLE_ACCESS,) if self.push_progress else ())):
            before = merged.get(access.table, TableAccess(access.table))
            merged[access.table] = TableAccess(
                access.table,
                tuple(dict.fromkeys((*before.actions, *access.actions))),
                tuple(dict.fromkeys((*before.query_indexes, *access.query_indexes))),
            )
        return merged

    def statements(self) -> tuple[Statement, ...]:
        """The grants as IAM statements, in the order the CDK stack adds them."""
        statements: list[Statement] = []
        for name, access in self.table_access().items():
            if access.actions:
                statements.append(
                    Statement(
                        tuple(f"dynamodb:{action}" for action in access.actions), "table", name
                    )
                )
            if access.query_indexes:
                statements.append(
                    Statement((f"dynamodb:{QUERY}",), "index", name, access.query_indexes)
                )
        for objects in self.objects:
            for action, patterns in ((OBJECT_READ, objects.read), (OBJECT_WRITE, objects.write)):
                if patterns:
                    statements.append(Statement((action,), "objects", objects.bucket, patterns))
        for granted, actions, kind in (
            (self.push_progress, PUSH_ACTIONS, "connections"),
            (self.answer_tasks, ANSWER_TASK_ACTIONS, "state_machine"),
        ):
            if granted:
                statements.append(Statement(actions, kind))
        if self.publish_events:
            # The account's default bus, which the S3 uploads' events reach too.
            statements.append(Statement(PUBLISH_EVENT_ACTIONS, "event_bus", "default"))
        for machine in self.read_executions:
            statements.append(Statement(READ_EXECUTION_ACTIONS, "executions", machine))
        for machine in self.start_executions:
            statements.append(Statement(START_EXECUTION_ACTIONS, "state_machine", machine))
        return tuple(statements)


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    handler: str  # unique dotted path, e.g. "register_job.handler"
    description: str
    memory_mb: int = 512
    timeout_s: int = 60
    grants: Grants = Grants()
    # At most this many run at once (CDK applies it; the local stack runs one per core).
    reserved_concurrency: int | None = None
    # Invoked asynchronously (by an EventBridge rule): after Lambda's retries the event goes
    # to a dead-letter queue, never dropped.
    invoked_asynchronously: bool = False

    @property
    def code_dir(self) -> Path:
        return REPO_ROOT / "functions" / self.name


@dataclass(frozen=True)
class Key:
    name: str
    type: str = "S"  # "S" | "N"


@dataclass(frozen=True)
class IndexSpec:
    name: str
    hash_key: Key
    range_key: Key | None = None
    projection: str = "ALL"  # "ALL" | "KEYS_ONLY" | "INCLUDE"
    non_key_attributes: tuple[str, ...] = ()  # what an INCLUDE projection adds to the keys

    def projection_spec(self) -> dict[str, Any]:
        """The index's `Projection`, as CloudFormation and DynamoDB's API write it."""
        spec: dict[str, Any] = {"ProjectionType": self.projection}
        if self.non_key_attributes:
            spec["NonKeyAttributes"] = list(self.non_key_attributes)
        return spec


@dataclass(frozen=True)
class TableSpec:
    name: str  # logical name; the local stack prefixes it, CloudFormation names it in the cloud
    hash_key: Key
    range_key: Key | None = None
    indexes: tuple[IndexSpec, ...] = ()
    ttl_attribute: str | None = None


@dataclass(frozen=True)
class BucketSpec:
    name: str
    event_bridge: bool = True
    # prefix -> days before objects under it expire (uploaded files, error logs, staging)
    expire_after_days: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class RuleSpec:
    """An EventBridge rule on the default bus: S3 `Object Created` under key prefixes, sent to
    a function (a rule's target cannot name the execution it would start; the function can)."""

    name: str
    bucket: str
    key_prefixes: tuple[str, ...]
    target_function: str

    def event_pattern(self, bucket_name: str) -> dict[str, object]:
        return {
            "source": ["aws.s3"],
            "detail-type": ["Object Created"],
            "detail": {
                "bucket": {"name": [bucket_name]},
                "object": {"key": [{"prefix": prefix} for prefix in self.key_prefixes]},
            },
        }


@dataclass(frozen=True)
class ScheduleSpec:
    """An EventBridge schedule that invokes a function. The local stack creates the function
    but not the schedule: there, tests and people invoke it."""

    name: str
    expression: str  # "rate(15 minutes)", "cron(0 3 * * ? *)"
    target_function: str


@dataclass(frozen=True)
class StateMachineSpec:
    name: str
    definition_file: str  # relative to the repository root
    # placeholder in the ASL (without ${}) -> a Ref or a literal
    substitutions: dict[str, Ref | str]
    invokes: tuple[str, ...]  # function names the machine may invoke
    # What its own states read (a Distributed Map's ItemReader), by key pattern
    reads_objects: tuple[ObjectAccess, ...] = ()

    @property
    def definition_path(self) -> Path:
        return REPO_ROOT / self.definition_file


@dataclass(frozen=True)
class WebSocketSpec:
    name: str
    stage: str
    routes: dict[str, str]  # route key -> function name
    # The function that checks the bearer token of `$connect` (`?token=`): a WebSocket API
    # cannot use the HTTP API's JWT authorizer.
    authorizer: str
    token_query_parameter: str = "token"  # noqa: S105 (a parameter name, not a secret)


@dataclass(frozen=True)
class HttpApiSpec:
    """The HTTP API: one `$default` route to one function, behind a JWT authorizer (and the
    open routes, to the same function without it).

    The token's claims name the user (`sub`), the organisation and the capabilities; the
    function reads them (`customer_import.access`). In the cloud the tokens are a Cognito user
    pool's ID tokens, whose custom attributes arrive as `custom:<name>` claims.
    """

    name: str
    function: str
    # Custom attributes of the user pool that become claims: set by an administrator, never by
    # the app client (it may read them, not write them).
    org_attribute: str = "org_id"
    capabilities_attribute: str = "capabilities"
    # Routes served without a token, before the authorizer: the OpenAPI document describes
    # the API and reveals nothing of anyone's data.
    open_routes: tuple[str, ...] = ("GET /openapi.json",)


@dataclass(frozen=True)
class StackDescription:
    functions: tuple[FunctionSpec, ...]
    tables: tuple[TableSpec, ...]
    buckets: tuple[BucketSpec, ...]
    rules: tuple[RuleSpec, ...]
    schedules: tuple[ScheduleSpec, ...]
    state_machines: tuple[StateMachineSpec, ...]
    websocket: WebSocketSpec
    http_api: HttpApiSpec
    # One environment for every function: in-process, all functions share one os.environ.
    environment: dict[str, Ref | str]

    def function(self, name: str) -> FunctionSpec:
        return next(f for f in self.functions if f.name == name)


def _fn(name: str, description: str, grants: Grants = Grants(), **kwargs: Any) -> FunctionSpec:
    return FunctionSpec(
        name=name, handler=f"{name}.handler", description=description, grants=grants, **kwargs
    )


# Where the import reads the uploaded file: an upload's key, or an ERP drop's.
_UPLOADED = ("uploads/*", "drops/*")
# Where a batch's failures go whole (original values and all): its record keeps their summaries.
_FAILURES = "staging/*/failures/*"

# Every job step reads its job and moves it on (an update under a condition on its status,
# read again when the condition fails).
_JOB_STEP = TableAccess("jobs", (GET, UPDATE))
_AUDIT = TableAccess("audit_log", (PUT,))

# The customer repository (adapters/customers_dynamo.py) reads a customer by key with its
# addresses and vehicles, and external numbers through the identity table.
_CUSTOMER_READS = (
    TableAccess("customers", (BATCH_GET,)),
    TableAccess("customer_identities", (BATCH_GET,)),
    TableAccess("customer_addresses", (BATCH_GET, QUERY)),
    TableAccess("vehicles", (BATCH_GET, QUERY)),
)
# Its writes: sub-records in batch writes, then the customer and its identity in one
# transaction under conditions (a create, an update, a bin), then its match keys.
_CUSTOMER_WRITES = (
    TableAccess("customers", (BATCH_GET, PUT)),
    TableAccess("customer_identities", (GET, BATCH_GET, PUT)),
    TableAccess("customer_addresses", (BATCH_GET, QUERY, BATCH_WRITE)),
    TableAccess("vehicles", (BATCH_GET, QUERY, BATCH_WRITE)),
    TableAccess("customer_match_keys", (BATCH_GET, BATCH_WRITE)),
)
# A transfer (design §5.5): the other accounts' customers by external number; a move frees
# the identity of the account it leaves and takes (or a copy copies) the activities along.
_TRANSFER_READS = TableAccess("customers", query_indexes=("by_external_number",))
_TRANSFER_RELATED = TableAccess("customer_activities", (QUERY, UPDATE, BATCH_WRITE))
# A rollback's question: which activities did people record on the customers an import
# created, since (the organisation's activities by time).
_ACTIVITIES_SINCE = TableAccess("customer_activities", query_indexes=("by_org_created",))
# A change log document per batch, before it writes and after (design §5.7).
_CHANGE_LOG = "change-log/*"

FUNCTIONS = (
    FunctionSpec(
        name="start_import",
        handler="start_import.handler",
        description="Starts the import of an uploaded object: an execution named after its job",
        memory_mb=256,
        timeout_s=30,
        grants=Grants(start_executions=("ImportJob",)),
        invoked_asynchronously=True,
    ),
    _fn(
        "register_job",
        "Turns an S3 Object Created event into an import job, exactly once",
        # creates an ERP drop's job (a put if none exists), claims the job for this execution
        grants=Grants(
            tables=(
                TableAccess("jobs", (GET, PUT, UPDATE)),
                # an ERP drop's job takes its folder's import profile
                TableAccess("import_profiles", (GET,)),
            ),
            push_progress=True,
        ),
    ),
    _fn(
        "validate_upload",
        "Checks size, encoding, delimiter and required columns",
        grants=Grants(
            tables=(
                _JOB_STEP,
                # the organisation's file size limit; a rejection goes into the audit log
                TableAccess("organisations", (GET,)),
                _AUDIT,
            ),
            # the head of the file only
            objects=(ObjectAccess("uploads", read=_UPLOADED),),
            push_progress=True,
            publish_events=True,
        ),
    ),
    _fn(
        "prepare_import",
        "Cleans, groups and stages customers in batches; writes the preview",
        grants=Grants(
            tables=(
                _JOB_STEP,
                TableAccess("organisations", (GET,)),
                # whether the organisation has live customers at all (one item of its index),
                # then the duplicates by match key, or (update modes) the customers the file's
                # keys name, and (sync) the account's live customers, through the index; with
                # a transfer, the other accounts' customers by external number
                TableAccess(
                    "customers", (BATCH_GET,), query_indexes=("live_by_org", "by_external_number")
                ),
                TableAccess("customer_identities", (BATCH_GET,)),
                TableAccess("customer_addresses", (BATCH_GET, QUERY)),
                TableAccess("vehicles", (BATCH_GET, QUERY)),
                TableAccess("customer_match_keys", (BATCH_GET,)),
                # a file over the row limit is rejected
                _AUDIT,
            ),
            # batches, manifests, duplicates, row errors and the preview all go under staging/
            objects=(ObjectAccess("uploads", read=_UPLOADED, write=("staging/*",)),),
            push_progress=True,
            publish_events=True,
        ),
        memory_mb=1024,
        timeout_s=900,
    ),
    _fn(
        "await_decision",
        "Stores the task token and tells subscribers the job is ready",
        # the token goes on the job; the API answers it, this function never does
        grants=Grants(tables=(_JOB_STEP,), push_progress=True),
    ),
    _fn(
        "import_batch",
        "Writes one staged batch of customers",
        grants=Grants(
            tables=(
                # the batch outcome and the job's counters in one transaction
                _JOB_STEP,
                TableAccess("job_batches", (PUT,)),
                # the stored customers it matches, then its conditional writes
                *_CUSTOMER_WRITES,
                _TRANSFER_READS,
                TableAccess("customer_identities", (DELETE,)),
                _TRANSFER_RELATED,
            ),
            # the batch and its change log in; its change log and failures, whole, out
            objects=(
                ObjectAccess(
                    "uploads",
                    read=("staging/*", _CHANGE_LOG),
                    write=(_FAILURES, _CHANGE_LOG),
                ),
            ),
            push_progress=True,
        ),
        memory_mb=1024,
        timeout_s=300,
        # Five imports' Maps at full width (MaxConcurrency 10 each) and no more: one busy
        # hour cannot take the account's concurrency (1,000 by default) from the API and the
        # WebSocket; a batch over the limit is throttled, and the ASL retries it with backoff.
        reserved_concurrency=50,
    ),
    _fn(
        "record_batch_failure",
        "Records the rows of a batch that failed after its retries",
        grants=Grants(
            tables=(
                _JOB_STEP,
                TableAccess("job_batches", (PUT,)),
                # which customers of the batch its change log shows written before it failed,
                # and the activities of the transfers among them
                *_CUSTOMER_READS,
                _TRANSFER_READS,
                _TRANSFER_RELATED,
            ),
            objects=(ObjectAccess("uploads", read=("staging/*", _CHANGE_LOG), write=(_FAILURES,)),),
            push_progress=True,
        ),
    ),
    _fn(
        "sweep_missing",
        "Moves a sync's batch of customers the file no longer holds to the recycle bin",
        grants=Grants(
            tables=(
                # whether every import batch wrote all it had to, then the outcome; the
                # organisation's retention says from when the binned may be purged
                _JOB_STEP,
                TableAccess("job_batches", (QUERY, PUT)),
                TableAccess("organisations", (GET,)),
                # each bin: the customer and its identity, in one transaction on its version
                TableAccess("customers", (BATCH_GET, PUT)),
                TableAccess("customer_identities", (GET, BATCH_GET, PUT)),
                TableAccess("customer_addresses", (BATCH_GET, QUERY)),
                TableAccess("vehicles", (BATCH_GET, QUERY)),
            ),
            objects=(
                ObjectAccess("uploads", read=("staging/*", _CHANGE_LOG), write=(_CHANGE_LOG,)),
            ),
            push_progress=True,
        ),
        timeout_s=300,
    ),
    _fn(
        "stage_retry",
        "A retry's first step: stages again the rows that failed to be written",
        grants=Grants(
            tables=(
                # the job's manifests, and the failures its batches recorded
                TableAccess("jobs", (GET,)),
                TableAccess("job_batches", (QUERY,)),
            ),
            # reads the batches Prepare staged that hold those rows; writes the retry's own
            objects=(ObjectAccess("uploads", read=("staging/*",), write=("staging/*/retry-*",)),),
        ),
        memory_mb=1024,
        timeout_s=900,
    ),
    _fn(
        "finalize_import",
        "Summary counts, error log, final status",
        grants=Grants(
            tables=(
                _JOB_STEP,
                # the failures every batch recorded, and the record of a batch that left none
                TableAccess("job_batches", (QUERY, PUT)),
                # which customers such a batch wrote before it failed (a batch's failure, as
                # RecordBatchFailure records it)
                *_CUSTOMER_READS,
                _TRANSFER_READS,
                _TRANSFER_RELATED,
                _AUDIT,
            ),
            # Prepare's row errors and the manifests in, the error-log CSV out, and the failures
            # of a batch that left no outcome set aside
            objects=(
                ObjectAccess(
                    "uploads",
                    read=("staging/*", _CHANGE_LOG),
                    write=("error-logs/*", _FAILURES),
                ),
            ),
            push_progress=True,
            publish_events=True,
        ),
        timeout_s=300,
    ),
    _fn(
        "close_job",
        "Ends a job that did not import: expired, cancelled or failed",
        grants=Grants(tables=(_JOB_STEP, _AUDIT), push_progress=True, publish_events=True),
    ),
    # The RollbackImport machine's steps (design §5.7).
    _fn(
        "stage_rollback",
        "Stages an import's changes, newest first, in batches to roll back",
        grants=Grants(
            tables=(
                _JOB_STEP,
                # which batches the import ran (its change log is one object per batch)
                TableAccess("job_batches", (QUERY,)),
            ),
            objects=(ObjectAccess("uploads", read=(_CHANGE_LOG,), write=("staging/*",)),),
            push_progress=True,
        ),
        timeout_s=300,
    ),
    _fn(
        "revert_batch",
        "Undoes one staged batch of an import's changes, never over a later change",
        grants=Grants(
            tables=(
                _JOB_STEP,
                TableAccess("job_batches", (PUT,)),
                # the customers as they are now, then the conditional writes that undo the
                # import: removes (customer, identity, records, match keys) and before-images
                *_CUSTOMER_WRITES,
                TableAccess("customers", (DELETE,)),
                TableAccess("customer_identities", (DELETE,)),
                # a move's activities go back with it, a copy's copied ones go with it
                _TRANSFER_RELATED,
                # the activities people recorded on created customers since
                _ACTIVITIES_SINCE,
            ),
            # the batch in, its intent and its conflicts (whole) out
            objects=(ObjectAccess("uploads", read=("staging/*",), write=("staging/*",)),),
            push_progress=True,
        ),
        memory_mb=1024,
        timeout_s=300,
    ),
    _fn(
        "record_revert_failure",
        "Records the changes of a rollback batch that failed after its retries as left as they were",
        grants=Grants(
            tables=(_JOB_STEP, TableAccess("job_batches", (PUT,))),
            objects=(ObjectAccess("uploads", read=("staging/*",), write=(_FAILURES,)),),
            push_progress=True,
        ),
    ),
    _fn(
        "finalize_rollback",
        "The rollback's conflict CSV, final status and audit entry",
        grants=Grants(
            tables=(_JOB_STEP, TableAccess("job_batches", (QUERY,)), _AUDIT),
            objects=(ObjectAccess("uploads", read=("staging/*",), write=("rollback-logs/*",)),),
            push_progress=True,
        ),
        timeout_s=300,
    ),
    FunctionSpec(
        name="ws_authorize",
        handler="ws_authorize.handler",
        description="WebSocket $connect authorizer: the caller of the bearer token",
        memory_mb=256,
        timeout_s=10,
        # Checks a signature against the issuer's published keys: no table, no bucket.
        grants=Grants(),
    ),
    # API Gateway refuses posts to a connection during its own $connect and after its
    # $disconnect: those two handlers never push.
    _fn(
        "ws_connect",
        "WebSocket $connect",
        grants=Grants(tables=(TableAccess("connections", (PUT,)),)),
    ),
    _fn(
        "ws_disconnect",
        "WebSocket $disconnect",
        grants=Grants(tables=(TableAccess("connections", (DELETE,)),)),
    ),
    _fn(
        "ws_subscribe",
        "WebSocket subscribe: follow one job",
        grants=Grants(
            tables=(
                # the job's current state goes to the new subscriber at once
                TableAccess("jobs", (GET,)),
                # the connection follows the job, if it is the caller's organisation's
                TableAccess("connections", (UPDATE,)),
            ),
            push_progress=True,
        ),
    ),
    _fn(
        "sweep_stuck_jobs",
        "Fails jobs stuck in pending or validating, with a reason the user sees",
        grants=Grants(
            tables=(
                # the stuck jobs' keys from the sparse index, then each job, failed
                TableAccess("jobs", (GET, UPDATE), query_indexes=("by_unsettled_status",)),
                _AUDIT,
            ),
            push_progress=True,
            publish_events=True,
        ),
        timeout_s=300,
        # by its schedule: a run that fails its retries is kept, and alarmed
        invoked_asynchronously=True,
    ),
    _fn(
        "purge_recycle_bin",
        "Deletes for good the binned customers whose retention has passed",
        grants=Grants(
            tables=(
                # the customers due from the purge-day index; each read (with its records)
                # and deleted with its identity in one transaction, on its version
                TableAccess("customers", (BATCH_GET, DELETE), query_indexes=("by_purge_day",)),
                # who holds its identity (a refused purge names the holder), then its delete
                TableAccess("customer_identities", (GET, BATCH_GET, DELETE)),
                TableAccess("customer_addresses", (BATCH_GET, QUERY, BATCH_WRITE)),
                TableAccess("vehicles", (BATCH_GET, QUERY, BATCH_WRITE)),
                # its match keys, those still pointing at it
                TableAccess("customer_match_keys", (BATCH_GET, BATCH_WRITE)),
                # its activities, by the customer's key, once its purge was applied
                TableAccess("customer_activities", (QUERY, BATCH_WRITE)),
            ),
        ),
        timeout_s=900,
        # by its schedule: a run that fails its retries is kept, and alarmed
        invoked_asynchronously=True,
    ),
    FunctionSpec(
        name="api",
        handler="api.handler",
        description="HTTP API: imports, customers and executions, for callers with a JWT",
        grants=Grants(
            tables=(
                # create jobs, list them newest first, decide, cancel, retry, roll back
                TableAccess("jobs", (GET, PUT, UPDATE), query_indexes=("by_created",)),
                # a rollback's dry run: which batches the import ran
                TableAccess("job_batches", (QUERY,)),
                # the settings: read by requests, replaced by `PUT /settings`
                TableAccess("organisations", (GET, PUT)),
                # the organisation's import profiles: read, listed, saved, deleted
                TableAccess("import_profiles", (GET, PUT, DELETE, QUERY)),
                # the requests' entries, and `GET /audit`
                TableAccess("audit_log", (PUT,), query_indexes=("by_time",)),
                # one customer, a page of them, or those with an external number; an
                # account's live customers and the recycle bin through their sparse indexes;
                # a restore or a person's edit puts the customer on its version
                TableAccess(
                    "customers",
                    (GET, BATCH_GET, QUERY, PUT),
                    query_indexes=(
                        "by_external_number",
                        "live_by_org",
                        "binned_by_org",
                        "binned_by_account",
                    ),
                ),
                # the holder of an external number; a restore takes it back in the same
                # transaction
                TableAccess("customer_identities", (GET, BATCH_GET, PUT)),
                TableAccess("customer_addresses", (BATCH_GET, QUERY)),
                TableAccess("vehicles", (BATCH_GET, QUERY)),
                # a person's edit points the match keys of its new values at the customer
                TableAccess("customer_match_keys", (BATCH_WRITE,)),
                # a customer's activities: recorded, listed and counted by its key
                TableAccess("customer_activities", (PUT, QUERY)),
                # a rollback's dry run
                _ACTIVITIES_SINCE,
            ),
            objects=(
                ObjectAccess(
                    "uploads",
                    # previews, duplicates, row errors, a retry's check that staging is
                    # still there, error logs and rollback conflicts it links to, and the
                    # change log a rollback's dry run reads
                    read=("staging/*", "error-logs/*", "rollback-logs/*", _CHANGE_LOG),
                    # presigned POSTs of uploads
                    write=("uploads/*",),
                ),
            ),
            push_progress=True,
            answer_tasks=True,
            # a cancel ends the job
            publish_events=True,
            read_executions=("ImportJob", "RollbackImport"),
            # a retry of the failed rows is an execution of its own, and so is a rollback
            start_executions=("ImportJob", "RollbackImport"),
        ),
    ),
)

TABLES = (
    TableSpec(
        "jobs",
        Key("org_id"),
        Key("job_id"),
        indexes=(
            IndexSpec("by_created", Key("org_id"), Key("created_at")),
            # Sparse: only pending and validating jobs carry `unsettled_status`; the sweep of
            # stuck jobs reads the keys of those not changed since a time.
            IndexSpec(
                "by_unsettled_status",
                Key("unsettled_status"),
                Key("updated_at"),
                projection="KEYS_ONLY",
            ),
        ),
    ),
    TableSpec("job_batches", Key("job_id"), Key("batch_id")),
    TableSpec("organisations", Key("org_id")),
    # Kept by job (a retried step writes the same key); listed by organisation, newest first,
    # through `by_time` (the key's time is the job's creation, not the entry's).
    TableSpec(
        "audit_log",
        Key("org_id"),
        Key("entry_key"),
        indexes=(IndexSpec("by_time", Key("org_id"), Key("at")),),
    ),
    TableSpec(
        "customers",
        Key("org_id"),
        Key("customer_id"),
        indexes=(
            IndexSpec("by_external_number", Key("org_id"), Key("external_customer_number")),
            # Sparse (customers_dynamo.py): live customers by organisation, ranged by account
            # and customer id; binned ones by organisation and by account, newest first; binned
            # ones by the day they may be purged from.
            # A sync reads every live customer of the account from it, for the external
            # number and the version only: whole items would be most of its Prepare.
            IndexSpec(
                "live_by_org",
                Key("live_org"),
                Key("live_key"),
                projection="INCLUDE",
                non_key_attributes=("external_customer_number", "version", "source_digest"),
            ),
            IndexSpec("binned_by_org", Key("binned_org"), Key("binned_key")),
            IndexSpec("binned_by_account", Key("binned_account"), Key("binned_key")),
            IndexSpec("by_purge_day", Key("purge_day"), Key("purge_after")),
        ),
    ),
    # The uniqueness guard of external numbers: one item per (org, account, number), naming
    # the customer that holds it and whether it is live.
    TableSpec("customer_identities", Key("identity_key")),
    # Duplicate detection looks customers up by normalised email, phone, name and external
    # number: one item per `{org}#{kind}:{value}`, so a chunk of keys is one BatchGetItem.
    TableSpec("customer_match_keys", Key("match_key")),
    TableSpec("customer_addresses", Key("customer_id"), Key("address_type")),
    TableSpec("vehicles", Key("customer_id"), Key("vehicle_id")),
    # A customer's related records (activities), by date: `{date}_{created}_{random}`.
    TableSpec(
        "customer_activities",
        Key("customer_id"),
        Key("activity_id"),
        indexes=(
            IndexSpec("by_org_created", Key("org_id"), Key("created_at"), projection="KEYS_ONLY"),
        ),
    ),
    TableSpec(
        "connections",
        Key("connection_id"),
        indexes=(IndexSpec("by_job", Key("job_id")),),
        ttl_attribute="expires_at",
    ),
    TableSpec("import_profiles", Key("org_id"), Key("name")),
)

# An ERP's role (design §5.8, `infra.constructs.erp_access`; at home `customer_import_local.
# erp_drops`): these actions on `drops/{org}/*` of the upload bucket, nothing else. PutObject
# covers a whole multipart upload too (create, upload part, complete).
DROPS_PREFIX = "drops"
DROP_ACTIONS = ("s3:PutObject", "s3:AbortMultipartUpload")

UPLOAD_BUCKET = BucketSpec(
    "uploads",
    event_bridge=True,
    expire_after_days={
        "uploads/": 30,
        "drops/": 30,
        "staging/": 14,
        "error-logs/": 30,
        "rollback-logs/": 30,
    },
)

IMPORT_JOB = StateMachineSpec(
    name="ImportJob",
    definition_file="statemachine/import_job.asl.json",
    substitutions={
        **{
            f"{''.join(part.title() for part in fn.split('_'))}FunctionArn": Ref("function_arn", fn)
            for fn in (
                "register_job",
                "validate_upload",
                "prepare_import",
                "await_decision",
                "import_batch",
                "record_batch_failure",
                "sweep_missing",
                "stage_retry",
                "finalize_import",
                "close_job",
            )
        },
        "UploadBucket": Ref("bucket", "uploads"),
    },
    invokes=(
        "register_job",
        "validate_upload",
        "prepare_import",
        "await_decision",
        "import_batch",
        "record_batch_failure",
        "sweep_missing",
        "stage_retry",
        "finalize_import",
        "close_job",
    ),
    # The Maps' ItemReaders read Prepare's manifests and a retry's (`manifest.json`,
    # `late-manifest.json`, a sync's `sweep-manifest.json`), never the customers in the
    # batches they list.
    reads_objects=(ObjectAccess("uploads", read=("staging/*manifest.json",)),),
)

ROLLBACK_IMPORT = StateMachineSpec(
    name="RollbackImport",
    definition_file="statemachine/rollback_import.asl.json",
    substitutions={
        **{
            f"{''.join(part.title() for part in fn.split('_'))}FunctionArn": Ref("function_arn", fn)
            for fn in (
                "stage_rollback",
                "revert_batch",
                "record_revert_failure",
                "finalize_rollback",
                "close_job",
            )
        },
        "UploadBucket": Ref("bucket", "uploads"),
    },
    invokes=(
        "stage_rollback",
        "revert_batch",
        "record_revert_failure",
        "finalize_rollback",
        "close_job",
    ),
    # The Map's ItemReader reads StageRollback's manifest, never the batches it lists.
    reads_objects=(ObjectAccess("uploads", read=("staging/*/rollback/rollback-manifest.json",)),),
)

DESCRIPTION = StackDescription(
    functions=FUNCTIONS,
    tables=TABLES,
    buckets=(UPLOAD_BUCKET,),
    rules=(
        RuleSpec(
            "ImportOnUpload",
            bucket="uploads",
            key_prefixes=("uploads/", "drops/"),
            target_function="start_import",
        ),
    ),
    schedules=(
        ScheduleSpec(
            "sweep_stuck_jobs",
            expression="rate(15 minutes)",
            target_function="sweep_stuck_jobs",
        ),
        # Daily, at 03:00 UTC, when no one works: what is due that day goes then.
        ScheduleSpec(
            "purge_recycle_bin",
            expression="cron(0 3 * * ? *)",
            target_function="purge_recycle_bin",
        ),
    ),
    state_machines=(IMPORT_JOB, ROLLBACK_IMPORT),
    websocket=WebSocketSpec(
        name="ImportProgress",
        stage="live",
        routes={
            "$connect": "ws_connect",
            "$disconnect": "ws_disconnect",
            "subscribe": "ws_subscribe",
        },
        authorizer="ws_authorize",
    ),
    http_api=HttpApiSpec(name="ImportApi", function="api"),
    environment={
        **{f"{t.name.upper()}_TABLE": Ref("table", t.name) for t in TABLES},
        "UPLOAD_BUCKET": Ref("bucket", "uploads"),
        "WEBSOCKET_MANAGEMENT_ENDPOINT": Ref("websocket_management_endpoint"),
        # start_import and `retry` start executions; the ARN is built from the machine's name,
        # so the functions do not depend on the machine that depends on them.
        "IMPORT_STATE_MACHINE_ARN": Ref("state_machine_arn", "ImportJob"),
        "ROLLBACK_STATE_MACHINE_ARN": Ref("state_machine_arn", "RollbackImport"),
        # Whose bearer tokens the WebSocket authorizer accepts (the HTTP API's authorizer is
        # configured with the same issuer and audience).
        "TOKEN_ISSUER": Ref("token_issuer"),
        "TOKEN_AUDIENCE": Ref("token_audience"),
        "TOKEN_JWKS_URL": Ref("token_jwks_url"),
        "POWERTOOLS_SERVICE_NAME": "customer-import",
        "POWERTOOLS_METRICS_NAMESPACE": "CustomerImport",
    },
)
