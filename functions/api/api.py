"""The HTTP API: imports, customers and executions, for the web app, ERP scripts and ops.

Thin: each route checks the caller's capability, calls one domain function and shapes its
answer. Who the caller is comes from the JWT claims the authorizer put in the event
(`requestContext.authorizer.jwt.claims`); domain errors become 4xx answers in one place below.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from customer_import.access import (
    CUSTOMERS_ACCESS,
    CUSTOMERS_TRANSFER,
    IMPORT_MANAGE,
    Caller,
    Forbidden,
    Unauthenticated,
    caller_from_claims,
)
from customer_import.adapters.api_models import (
    ACCOUNT_PATTERN,
    PROFILE_NAME_PATTERN,
    UUID_PATTERN,
    ActivityOut,
    ActivityPage,
    AuditEntryOut,
    AuditPage,
    BinnedCustomer,
    ChangePage,
    CreatedImport,
    CreateImport,
    Customer,
    CustomerEdit,
    CustomerList,
    Decision,
    DuplicatePage,
    ErrorBody,
    ErrorLogLink,
    ExecutionPage,
    FieldError,
    ImportDetail,
    ImportPage,
    ImportSummary,
    JobExecutionOut,
    JobExecutionsOut,
    NewActivity,
    OrganisationSettings,
    OrganisationSettingsOut,
    PresignedPost,
    ProfileDocument,
    ProfileFromJob,
    ProfileList,
    ProfileOut,
    RecycleBinPage,
    RollbackConflict,
    RollbackOut,
    RollbackRequest,
    RowErrorPage,
    ValidationErrorBody,
)
from customer_import.adapters.queries import queries_for
from customer_import.adapters.wiring import components_for
from customer_import.changes.log import Action
from customer_import.changes.rules import FieldPolicy, MatchKey, Mode, Transfer
from customer_import.customers.activities import (
    ACTIVITY_ID,
    Activity,
    ActivityRepository,
    InvalidActivity,
)
from customer_import.customers.customer import Customer as StoredCustomer
from customer_import.customers.edit import EditConflict, InvalidEdit, edit
from customer_import.customers.recycle_bin import (
    NotInRecycleBin,
    NumberTaken,
    RestoreConflict,
    restore,
)
from customer_import.customers.repository import CustomerRepository
from customer_import.errors import (
    IncompleteDecision,
    InvalidDecision,
    InvalidTransition,
    InvalidUpload,
    JobNotFound,
    StagingExpired,
    TransientImportError,
)
from customer_import.imports.counters import REVERTED_COUNTERS
from customer_import.imports.requests import ERROR_LOG_LINK_SECONDS, PRESIGNED_UPLOAD_SECONDS
from customer_import.imports.staging import ROW_ERRORS_PAGE
from customer_import.jobs import DuplicatePolicy, JobOptions
from customer_import.organisation_settings import change_settings
from customer_import.organisations import InvalidSettings, OrganisationProfile, ProductLimits
from customer_import.profiles import (
    ImportProfile,
    InvalidProfile,
    ProfileNotFound,
    delete_profile,
    document_of_job,
    profile_for_import,
    save_profile,
)
from customer_import.queries import CustomerNotFound, InvalidCursor
from customer_import.settings import Settings
from customer_import.sources.techman import KNOWN_COLUMNS
from customer_import.uploads import check_declared_size, upload_limit
from pynamodb.exceptions import PynamoDBException

logger = Logger()
tracer = Tracer()
app = APIGatewayHttpResolver(enable_validation=True)

JSON = content_types.APPLICATION_JSON
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# What a body may be, checked before any parser reads it: no route's body comes near (a
# decision on 100,000 duplicates is about 2 MB, three levels deep, its numbers short).
MAX_BODY_BYTES = 5 * 1024 * 1024
MAX_JSON_DEPTH = 16
MAX_NUMBER_DIGITS = 100
JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
JSON_BRACKET = re.compile(r"[\[\]{}]")
JobId = Annotated[str, Path(pattern=UUID_PATTERN, description="The import job's id")]
CustomerId = Annotated[str, Path(pattern=UUID_PATTERN, description="The customer's id")]
Limit = Annotated[int, Query(ge=1, le=100, description="Items per page")]
Cursor = Annotated[str | None, Query(max_length=2048, description="From the previous page")]
Offset = Annotated[int, Query(ge=0, le=1_000_000, description="Items to pass over")]

SECURITY_SCHEMES: dict[str, Any] = {"bearerAuth": HTTPBearer(bearerFormat="JWT")}
OPENAPI = {
    "title": "Customer import API",
    "version": "1.0.0",
    "description": (
        "Import customer files, decide their duplicates, follow their jobs, read customers, and "
        "review the workflow executions behind them. Every request needs a bearer JWT naming "
        "the user (`sub`), the organisation (`org_id`) and the capabilities (`capabilities`)."
    ),
    "security_schemes": SECURITY_SCHEMES,
    "security": [{"bearerAuth": []}],
}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"model": ErrorBody}}}


def _responses(ok: int, ok_description: str, *errors: int) -> dict[int, Any]:
    """The answers a route documents: its success, 401 and 403 always, and its own errors."""
    descriptions = {
        400: "The request cannot be served as asked",
        401: "No valid bearer token",
        403: "The token lacks the capability this route needs (named in the message)",
        404: "No such item in the caller's organisation",
        409: "The job's or the customer's state does not allow this now (the message says why)",
        410: "What Prepare staged for the job has expired: import the file again",
        415: "The body is not JSON",
        422: "The request's parameters or body are invalid",
        503: "A service the request needs is throttling or did not answer: try again after"
        " the Retry-After seconds",
    }
    documented: dict[int, Any] = {ok: {"description": ok_description}}
    for code in (401, 403, *errors, 503):
        documented[code] = _error(descriptions[code])
    documented[422] = {
        "description": descriptions[422],
        "content": {"application/json": {"model": ValidationErrorBody}},
    }
    return documented


def _caller(capability: str) -> Caller:
    claims = app.current_event.request_context.authorizer.jwt_claim
    return caller_from_claims(claims).require(capability)


def _settings() -> Settings:
    return Settings.from_env()


# ---- imports ------------------------------------------------------------------------------


@app.post(
    "/imports",
    status_code=201,
    summary="Create an import job and a presigned POST to upload its file",
    responses=_responses(201, "The job, and the form to POST the file with", 400, 404, 415),
    tags=["imports"],
)
def create_import(request: CreateImport) -> CreatedImport:
    caller = _caller(IMPORT_MANAGE)
    settings = _settings()
    components = components_for(settings)
    check_declared_size(
        request.size, upload_limit(settings, components.organisations, caller.org_id)
    )
    account, options = _import_settings(request, components.profiles, caller.org_id)
    if options.transfer is not Transfer.NONE:
        caller.require(CUSTOMERS_TRANSFER)
    source = options.layout.source if request.profile else str(request.source)
    if request.source not in (None, source):
        raise InvalidUpload(
            f"The profile {request.profile} reads {source} files, and the request names the "
            f"source {request.source}: leave the source out, or name {source}"
        )
    upload = components.pipeline.create_upload(
        caller.org_id, account, source, request.file_name, options, caller.user_id
    )
    return CreatedImport(
        job_id=upload.job.job_id,
        status=str(upload.job.status),
        upload=PresignedPost(
            url=upload.post["url"],
            fields={str(k): str(v) for k, v in upload.post["fields"].items()},
            expires_in_seconds=PRESIGNED_UPLOAD_SECONDS,
        ),
    )


def _import_settings(request: CreateImport, profiles: Any, org_id: str) -> tuple[str, JobOptions]:
    """The account and options of the import: its profile's, or the request's own."""
    if request.profile is not None:
        if given := request.settings_given():
            raise InvalidUpload(
                f"An import with a profile takes its settings from it: leave out "
                f"{', '.join(given)}, or the profile"
            )
        profile = profile_for_import(profiles, org_id, request.profile)
        return profile.account, profile.job_options()
    return request.account, JobOptions(
        auto_run=request.options.auto_run,
        on_duplicate=DuplicatePolicy(request.options.on_duplicate),
        mode=Mode(request.mode),
        decision_timeout_seconds=request.options.decision_timeout_seconds,
        key=MatchKey(request.key),
        field_policy=FieldPolicy(request.field_policy),
        max_delete_percent=request.options.max_delete_percent,
        confirm_deletions=request.options.confirm_deletions,
        transfer=Transfer(request.transfer),
        transfer_related=request.transfer_related,
    )


@app.get(
    "/imports",
    summary="The organisation's import jobs, newest first",
    responses=_responses(200, "A page of jobs", 400),
    tags=["imports"],
)
def list_imports(limit: Limit = 20, cursor: Cursor = None) -> ImportPage:
    caller = _caller(IMPORT_MANAGE)
    page = queries_for(_settings()).jobs_newest_first(caller.org_id, limit, cursor)
    return ImportPage(
        items=[ImportSummary.of(job) for job in page.items], next_cursor=page.next_cursor
    )


@app.get(
    "/imports/<job_id>",
    summary="One import job: its state, counts and preview",
    responses=_responses(200, "The job", 404),
    tags=["imports"],
)
def get_import(job_id: JobId) -> ImportDetail:
    caller = _caller(IMPORT_MANAGE)
    return ImportDetail.of_detail(queries_for(_settings()).job(caller.org_id, job_id))


@app.get(
    "/imports/<job_id>/duplicates",
    summary="The possible duplicates of a prepared job, each beside what it matches",
    responses=_responses(200, "A page of possible duplicates, in file order", 404, 410),
    tags=["imports"],
)
def list_duplicates(job_id: JobId, offset: Offset = 0, limit: Limit = 100) -> DuplicatePage:
    caller = _caller(IMPORT_MANAGE)
    page = components_for(_settings()).pipeline.duplicates(caller.org_id, job_id, offset, limit)
    return DuplicatePage.model_validate(
        {"total": page.total, "offset": page.offset, "items": page.items}
    )


@app.get(
    "/imports/<job_id>/errors",
    summary="Every row error of a prepared job's whole file, in file order: what will fail, and why",
    responses=_responses(200, "A page of row errors", 404, 409),
    tags=["imports"],
)
def list_row_errors(
    job_id: JobId,
    offset: Offset = 0,
    limit: Annotated[int, Query(ge=1, le=ROW_ERRORS_PAGE, description="Items per page")] = 100,
) -> RowErrorPage:
    caller = _caller(IMPORT_MANAGE)
    page = components_for(_settings()).pipeline.row_errors(caller.org_id, job_id, offset, limit)
    return RowErrorPage.model_validate(
        {"total": page.total, "offset": page.offset, "items": page.items}
    )


@app.post(
    "/imports/<job_id>/decision",
    summary="Decide the duplicates of a ready job; the import starts",
    responses=_responses(200, "The job, now importing", 400, 404, 409, 410, 415),
    tags=["imports"],
)
def decide(job_id: JobId, decision: Decision) -> ImportSummary:
    caller = _caller(IMPORT_MANAGE)
    job = components_for(_settings()).pipeline.submit_decision(
        caller.org_id,
        job_id,
        decision.default,
        dict(decision.overrides),
        caller.user_id,
        decision.confirm_deletions,
        decision.date_order,
    )
    return ImportSummary.of(job)


@app.post(
    "/imports/<job_id>/cancel",
    summary="Cancel a job that waits for its decision",
    responses=_responses(200, "The job, now cancelled", 400, 404, 409, 415),
    tags=["imports"],
)
def cancel(job_id: JobId) -> ImportSummary:
    caller = _caller(IMPORT_MANAGE)
    job = components_for(_settings()).pipeline.cancel(caller.org_id, job_id, caller.user_id)
    return ImportSummary.of(job)


@app.post(
    "/imports/<job_id>/retry",
    summary="Import again the rows of a job that failed to be written",
    responses=_responses(200, "The job, importing again", 400, 404, 409, 410, 415),
    tags=["imports"],
)
def retry(job_id: JobId) -> ImportSummary:
    caller = _caller(IMPORT_MANAGE)
    job = components_for(_settings()).pipeline.retry_failed(caller.org_id, job_id, caller.user_id)
    return ImportSummary.of(job)


@app.get(
    "/imports/<job_id>/error-log",
    summary="A presigned link to the job's error-log CSV",
    responses=_responses(200, "The link (null when no row failed)", 404),
    tags=["imports"],
)
def error_log(job_id: JobId) -> ErrorLogLink:
    caller = _caller(IMPORT_MANAGE)
    url = components_for(_settings()).pipeline.error_log_url(caller.org_id, job_id)
    return ErrorLogLink(
        job_id=job_id, url=url, expires_in_seconds=ERROR_LOG_LINK_SECONDS if url else None
    )


@app.post(
    "/imports/<job_id>/rollback",
    summary="Roll a completed import back (once), or say what that would do (dry_run)",
    responses=_responses(
        200, "The rollback started, or the dry run's findings", 400, 404, 409, 415
    ),
    tags=["imports"],
)
def rollback(job_id: JobId, request: RollbackRequest) -> RollbackOut:
    caller = _caller(IMPORT_MANAGE)
    pipeline = components_for(_settings()).pipeline
    if request.dry_run:
        plan = pipeline.rollback_dry_run(caller.org_id, job_id)
        job = pipeline.job(caller.org_id, job_id)
        return RollbackOut(
            job_id=job_id,
            status=str(job.status),
            dry_run=True,
            reverted=plan["reverted"],
            conflicts=plan["conflicts"],
            conflict_list=[RollbackConflict(**c) for c in plan["conflict_list"]],
        )
    job = pipeline.rollback(caller.org_id, job_id, caller.user_id)
    return RollbackOut(
        job_id=job_id,
        status=str(job.status),
        dry_run=False,
        reverted={name: job.counter(name) for name in REVERTED_COUNTERS},
        conflicts=job.counter("conflicts"),
    )


@app.get(
    "/imports/<job_id>/changes",
    summary="What the import did to each customer (from its change log), batch by batch",
    responses=_responses(200, "A page of changes, each field before and after", 400, 404),
    tags=["imports"],
)
def import_changes(
    job_id: JobId,
    action: Annotated[Action | None, Query(description="Only the changes of this kind")] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> ChangePage:
    caller = _caller(IMPORT_MANAGE)
    page = components_for(_settings()).pipeline.changes(
        caller.org_id, job_id, limit, cursor, action
    )
    return ChangePage.model_validate({"items": page.items, "next_cursor": page.next_cursor})


@app.get(
    "/imports/<job_id>/conflict-log",
    summary="A presigned link to the CSV of the changes a rollback left as they were",
    responses=_responses(200, "The link (null when nothing was left)", 404),
    tags=["imports"],
)
def conflict_log(job_id: JobId) -> ErrorLogLink:
    caller = _caller(IMPORT_MANAGE)
    url = components_for(_settings()).pipeline.conflict_log_url(caller.org_id, job_id)
    return ErrorLogLink(
        job_id=job_id, url=url, expires_in_seconds=ERROR_LOG_LINK_SECONDS if url else None
    )


# ---- customers ----------------------------------------------------------------------------


Account = Annotated[
    str | None,
    Query(min_length=1, max_length=64, pattern=ACCOUNT_PATTERN, description="The account"),
]


@app.get(
    "/customers",
    summary=(
        "Customers by their external customer number (the indexed look-up), or a page of an "
        "account's live customers, or of the organisation's"
    ),
    responses=_responses(200, "The customers with that number, or a page of them", 400),
    tags=["customers"],
)
def find_customers(
    external_customer_number: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=100,
            description="The source's CustomerNumber; without it, the customers page by page",
        ),
    ] = None,
    account: Account = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> CustomerList:
    caller = _caller(CUSTOMERS_ACCESS)
    if account is not None:
        # Through the repository: live customers only, the binned ones are in the bin.
        repository = _repository()
        if external_customer_number is not None:
            held = repository.find_by_external(caller.org_id, account, [external_customer_number])
            live = [c for c in held.values() if not c.binned]
            return CustomerList(items=[Customer.of(c) for c in live])
        items, next_cursor = _page_of(
            caller.org_id,
            lambda start: repository.live_page(caller.org_id, account, limit, start),
            cursor,
        )
        counts = _activities().count_for_customers([c.customer_id for c in items])
        return CustomerList(
            items=[Customer.of(c, counts.get(c.customer_id, 0)) for c in items],
            next_cursor=next_cursor,
        )
    queries = queries_for(_settings())
    if external_customer_number is not None:
        found = queries.customers_by_external_number(caller.org_id, external_customer_number)
        return CustomerList(items=[Customer(**customer) for customer in found])
    page = queries.customers_page(caller.org_id, limit, cursor)
    return CustomerList(
        items=[Customer(**customer) for customer in page.items], next_cursor=page.next_cursor
    )


@app.get(
    "/customers/<customer_id>",
    summary="One live customer with addresses and vehicles (a binned one is in the recycle bin)",
    responses=_responses(200, "The customer", 404),
    tags=["customers"],
)
def get_customer(customer_id: CustomerId) -> Customer:
    caller = _caller(CUSTOMERS_ACCESS)
    return Customer.of(_live_customer(caller, customer_id))


@app.patch(
    "/customers/<customer_id>",
    summary="Change a live customer's fields (cleaned as an import cleans them), if its "
    "version is still the one given",
    responses=_responses(200, "The customer as stored now", 400, 404, 409, 415),
    tags=["customers"],
)
def edit_customer(customer_id: CustomerId, body: CustomerEdit) -> Customer:
    caller = _caller(CUSTOMERS_ACCESS)
    components = components_for(_settings())
    edited = edit(
        components.customer_repository,
        components.audit,
        caller.org_id,
        customer_id,
        body.changes(),
        body.version,
        caller.user_id,
        datetime.now(UTC),
    )
    return Customer.of(edited)


def _live_customer(caller: Caller, customer_id: str) -> StoredCustomer:
    """The caller's organisation's live customer; CustomerNotFound (404, in the words of
    `GET /customers/{id}`) for another organisation's, a binned or an unknown one."""
    found = _repository().get(caller.org_id, customer_id)
    if found is None or found.binned:
        raise CustomerNotFound(caller.org_id, customer_id)
    return found


# ---- activities ---------------------------------------------------------------------------


@app.post(
    "/customers/<customer_id>/activities",
    status_code=201,
    summary="Record an activity of a live customer (appointment, report, call block, service "
    "booking), in the customer's account, by the caller",
    responses=_responses(201, "The activity", 400, 404, 415),
    tags=["customers"],
)
def add_activity(customer_id: CustomerId, body: NewActivity) -> ActivityOut:
    caller = _caller(CUSTOMERS_ACCESS)
    customer = _live_customer(caller, customer_id)
    activity = Activity.new(
        org_id=caller.org_id,
        customer_id=customer.customer_id,
        account_id=customer.account_id,
        kind=body.kind,
        day=body.date,
        text=body.text,
        author=caller.user_id,
        now=datetime.now(UTC),
    )
    _activities().add(activity)
    return ActivityOut.of(activity)


@app.get(
    "/customers/<customer_id>/activities",
    summary="A live customer's activities, by date",
    responses=_responses(200, "A page of activities", 400, 404),
    tags=["customers"],
)
def list_activities(
    customer_id: CustomerId, limit: Limit = 100, cursor: Cursor = None
) -> ActivityPage:
    caller = _caller(CUSTOMERS_ACCESS)
    customer = _live_customer(caller, customer_id)
    start = _activity_cursor(cursor) if cursor is not None else None
    items, last = _activities().list_for_customer(customer.customer_id, limit, start)
    return ActivityPage(
        items=[ActivityOut.of(a) for a in items],
        next_cursor=base64.urlsafe_b64encode(last.encode()).decode() if last else None,
    )


def _activity_cursor(cursor: str) -> str:
    """The activity id a cursor carries. The query's partition is the path's customer, so a
    cursor can only page within it; one that is no activity id is refused here, before
    DynamoDB would refuse it (and moto would not)."""
    try:
        start = base64.urlsafe_b64decode(cursor.encode()).decode()
    except ValueError:
        start = ""
    if not ACTIVITY_ID.match(start):
        raise InvalidCursor("The cursor is not one this API handed out")
    return start


def _activities() -> ActivityRepository:
    return components_for(_settings()).activities


# ---- recycle bin --------------------------------------------------------------------------


@app.get(
    "/recycle-bin",
    summary="The binned customers of an account, or of the organisation, newest binned first",
    responses=_responses(200, "A page of binned customers, each with when it may be purged", 400),
    tags=["recycle-bin"],
)
def list_recycle_bin(
    account: Account = None, limit: Limit = 100, cursor: Cursor = None
) -> RecycleBinPage:
    caller = _caller(CUSTOMERS_ACCESS)
    repository = _repository()
    items, next_cursor = _page_of(
        caller.org_id,
        lambda start: repository.binned_page(caller.org_id, account, limit, start),
        cursor,
    )
    return RecycleBinPage(items=[BinnedCustomer.of(c) for c in items], next_cursor=next_cursor)


@app.post(
    "/recycle-bin/<customer_id>/restore",
    summary="Restore a binned customer, as it was binned: same id, records and account",
    responses=_responses(200, "The customer, live again", 400, 404, 409, 415),
    tags=["recycle-bin"],
)
def restore_customer(customer_id: CustomerId) -> Customer:
    caller = _caller(CUSTOMERS_ACCESS)
    components = components_for(_settings())
    restored = restore(
        components.customer_repository,
        components.audit,
        caller.org_id,
        customer_id,
        caller.user_id,
        datetime.now(UTC),
    )
    return Customer.of(restored)


def _repository() -> CustomerRepository:
    return components_for(_settings()).customer_repository


def _page_of(
    org_id: str,
    read: Callable[[str | None], tuple[list[StoredCustomer], str | None]],
    cursor: str | None,
) -> tuple[list[StoredCustomer], str | None]:
    """A page from the repository, from a cursor it handed out. The cursor is the database's
    key of the page's last item, not a secret: one that is not such a key of the caller's
    organisation is refused here, before DynamoDB would refuse it (and moto would not)."""
    if cursor is not None and not _own_page_key(cursor, org_id):
        raise InvalidCursor("The cursor is not one this API handed out")
    try:
        return read(cursor)
    except PynamoDBException as exc:
        if cursor is None:
            raise
        raise InvalidCursor("The cursor is not one this API handed out") from exc


def _own_page_key(cursor: str, org_id: str) -> bool:
    """Whether the cursor reads as a key of string attributes naming the organisation (every
    key of the customers table and its indexes holds the table's `org_id`)."""
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor))
    except ValueError:  # binascii.Error and json.JSONDecodeError are ValueErrors
        return False
    return (
        isinstance(key, dict)
        and all(
            isinstance(value, dict) and list(value) == ["S"] and isinstance(value["S"], str)
            for value in key.values()
        )
        and key.get("org_id") == {"S": org_id}
    )


# ---- settings -----------------------------------------------------------------------------


@app.get(
    "/settings",
    summary="The organisation's settings (time zone, phone region, group map, limits, retention)",
    responses=_responses(200, "The settings, and the product's limits they may lower"),
    tags=["settings"],
)
def get_settings() -> OrganisationSettingsOut:
    caller = _caller(IMPORT_MANAGE)
    return _settings_out(components_for(_settings()).organisations.get(caller.org_id))


@app.put(
    "/settings",
    summary="Replace the organisation's settings (a field left out takes its default); "
    "the next import reads them",
    responses=_responses(200, "The settings as stored now", 400, 415),
    tags=["settings"],
)
def put_settings(body: OrganisationSettings) -> OrganisationSettingsOut:
    caller = _caller(IMPORT_MANAGE)
    components = components_for(_settings())
    stored = change_settings(
        components.organisations,
        components.audit,
        caller.org_id,
        body.model_dump(),
        _product_limits(),
        caller.user_id,
        datetime.now(UTC),
    )
    return _settings_out(stored)


def _product_limits() -> ProductLimits:
    settings = _settings()
    return ProductLimits(max_file_bytes=settings.max_file_bytes, max_rows=settings.max_rows)


def _settings_out(profile: OrganisationProfile) -> OrganisationSettingsOut:
    values = {k: v for k, v in profile.to_dict().items() if k != "org_id"}
    limits = _product_limits()
    return OrganisationSettingsOut.model_validate(
        {**values, "limits": {"max_file_bytes": limits.max_file_bytes, "max_rows": limits.max_rows}}
    )


# ---- import profiles ----------------------------------------------------------------------

ProfileName = Annotated[
    str,
    Path(pattern=PROFILE_NAME_PATTERN, description="The profile's name"),
]


@app.get(
    "/profiles",
    summary="The organisation's import profiles, by name",
    responses=_responses(200, "The profiles"),
    tags=["profiles"],
)
def list_profiles() -> ProfileList:
    caller = _caller(IMPORT_MANAGE)
    found = components_for(_settings()).profiles.for_organisation(caller.org_id)
    return ProfileList(
        items=[_profile_out(p) for p in found], canonical_columns=list(KNOWN_COLUMNS)
    )


@app.get(
    "/profiles/<name>",
    summary="One import profile",
    responses=_responses(200, "The profile", 404),
    tags=["profiles"],
)
def get_profile(name: ProfileName) -> ProfileOut:
    caller = _caller(IMPORT_MANAGE)
    profiles = components_for(_settings()).profiles
    return _profile_out(profile_for_import(profiles, caller.org_id, name))


@app.put(
    "/profiles/<name>",
    summary="Save an import profile (replacing one of that name); a field left out takes its "
    "default",
    responses=_responses(200, "The profile as stored", 400, 415),
    tags=["profiles"],
)
def put_profile(name: ProfileName, body: ProfileDocument) -> ProfileOut:
    return _saved_profile(_caller(IMPORT_MANAGE), name, body.model_dump())


@app.post(
    "/profiles/<name>/from-job",
    summary="Save an import profile holding the settings an import ran with (its account, "
    "mode, key, transfers, file layout and the date order it was read in)",
    responses=_responses(200, "The profile as stored", 400, 404, 415),
    tags=["profiles"],
)
def put_profile_from_job(name: ProfileName, body: ProfileFromJob) -> ProfileOut:
    caller = _caller(IMPORT_MANAGE)
    job = components_for(_settings()).pipeline.job(caller.org_id, body.job_id)
    return _saved_profile(caller, name, document_of_job(job))


def _saved_profile(caller: Caller, name: str, document: dict[str, Any]) -> ProfileOut:
    if document.get("transfer", "none") != "none":
        # Whoever sets a profile to transfer customers could transfer them themselves.
        caller.require(CUSTOMERS_TRANSFER)
    components = components_for(_settings())
    saved = save_profile(
        components.profiles,
        components.audit,
        caller.org_id,
        name,
        document,
        caller.user_id,
        datetime.now(UTC),
    )
    return _profile_out(saved)


@app.delete(
    "/profiles/<name>",
    summary="Delete an import profile (the jobs that ran with it keep its name)",
    responses=_responses(200, "Deleted", 404),
    tags=["profiles"],
)
def remove_profile(name: ProfileName) -> dict[str, str]:
    caller = _caller(IMPORT_MANAGE)
    components = components_for(_settings())
    delete_profile(
        components.profiles,
        components.audit,
        caller.org_id,
        name,
        caller.user_id,
        datetime.now(UTC),
    )
    return {"deleted": name}


def _profile_out(profile: ImportProfile) -> ProfileOut:
    return ProfileOut.model_validate({"name": profile.name, **profile.to_document()})


# ---- audit --------------------------------------------------------------------------------


@app.get(
    "/audit",
    summary="The organisation's audit log, newest first: who did what to which import",
    responses=_responses(200, "A page of entries", 400),
    tags=["audit"],
)
def audit_log(limit: Limit = 50, cursor: Cursor = None) -> AuditPage:
    caller = _caller(IMPORT_MANAGE)
    page = queries_for(_settings()).audit_entries(caller.org_id, limit, cursor)
    return AuditPage(
        items=[AuditEntryOut.of(entry) for entry in page.items], next_cursor=page.next_cursor
    )


# ---- executions (ops) ---------------------------------------------------------------------


@app.get(
    "/executions",
    summary="The organisation's jobs, newest first, with the state of their executions",
    responses=_responses(200, "A page of jobs and executions", 400),
    tags=["executions"],
)
def list_executions(limit: Limit = 20, cursor: Cursor = None) -> ExecutionPage:
    caller = _caller(IMPORT_MANAGE)
    page = queries_for(_settings()).executions_newest_first(caller.org_id, limit, cursor)
    return ExecutionPage(
        items=[JobExecutionOut.of(item) for item in page.items], next_cursor=page.next_cursor
    )


@app.get(
    "/executions/<job_id>",
    summary="A job's executions with their failed states and the history events that matter",
    responses=_responses(200, "The job's executions", 404),
    tags=["executions"],
)
def get_executions(job_id: JobId) -> JobExecutionsOut:
    caller = _caller(IMPORT_MANAGE)
    return JobExecutionsOut.of(queries_for(_settings()).job_executions(caller.org_id, job_id))


# ---- the document -------------------------------------------------------------------------


@app.get("/openapi.json", include_in_schema=False)
def openapi() -> Response[str]:
    # Served without a token (the gateway lets it through): it describes, and reveals nothing.
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=app.get_openapi_json_schema(**OPENAPI),
    )


# ---- errors -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Operation:
    path: re.Pattern[str]
    method: str
    query: frozenset[str]  # the query parameters it takes


@lru_cache(maxsize=1)
def _operations() -> tuple[_Operation, ...]:
    """Each documented operation: its path as a pattern, its method and its query names."""
    paths: dict[str, dict[str, Any]] = json.loads(app.get_openapi_json_schema(**OPENAPI))["paths"]
    paths.setdefault("/openapi.json", {"get": {}})
    return tuple(
        _Operation(
            path=re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path)) + "$"),
            method=method.upper(),
            query=frozenset(
                p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"
            ),
        )
        for path, operations in paths.items()
        for method, operation in operations.items()
    )


@app.not_found
def no_route(_: NotFoundError) -> Response[dict[str, Any]]:
    """405 with the methods a known path serves; 404 for a path the API does not have."""
    path, method = app.current_event.path, app.current_event.http_method.upper()
    allowed = sorted({op.method for op in _operations() if op.path.match(path)})
    if allowed:
        return _answer(
            HTTPStatus.METHOD_NOT_ALLOWED,
            f"{method} is not served here; use {', '.join(allowed)}",
            Allow=", ".join(allowed),
        )
    return _answer(HTTPStatus.NOT_FOUND, f"No such resource: {path}")


def _answer(status: HTTPStatus, message: str, **headers: str) -> Response[dict[str, Any]]:
    return Response(
        status_code=status.value,
        content_type=content_types.APPLICATION_JSON,
        body={"statusCode": status.value, "message": message},
        headers=headers or None,
    )


@app.exception_handler(Unauthenticated)
def unauthenticated(exc: Unauthenticated) -> Response[dict[str, Any]]:
    return _answer(HTTPStatus.UNAUTHORIZED, str(exc), **{"WWW-Authenticate": "Bearer"})


@app.exception_handler(Forbidden)
def forbidden(exc: Forbidden) -> Response[dict[str, Any]]:
    return _answer(HTTPStatus.FORBIDDEN, str(exc))


@app.exception_handler(JobNotFound)
def job_not_found(exc: JobNotFound) -> Response[dict[str, Any]]:
    # The same words whether the job is another organisation's or nobody's.
    return _answer(HTTPStatus.NOT_FOUND, f"Import job {exc.job_id} not found")


@app.exception_handler(CustomerNotFound)
def customer_not_found(exc: CustomerNotFound) -> Response[dict[str, Any]]:
    return _answer(HTTPStatus.NOT_FOUND, f"Customer {exc.customer_id} not found")


@app.exception_handler([NotInRecycleBin, NumberTaken, RestoreConflict])
def restore_refused(exc: Exception) -> Response[dict[str, Any]]:
    return _answer(HTTPStatus.CONFLICT, str(exc))


@app.exception_handler(InvalidActivity)
def invalid_activity(exc: InvalidActivity) -> Response[dict[str, Any]]:
    return _answer(HTTPStatus.UNPROCESSABLE_ENTITY, str(exc))


# A value the body's model allows and a rule refuses (a phone that is no number, a zone that
# is none, a limit above the product's): 400 with the reason, as for a file too large; 422
# stays for bodies that break the model.
@app.exception_handler(InvalidEdit)
def invalid_edit(exc: InvalidEdit) -> Response[dict[str, Any]]:
    return _answer(HTTPStatus.BAD_REQUEST, f"Invalid edit: {exc}")


@app.exception_handler(ProfileNotFound)
def profile_not_found(exc: ProfileNotFound) -> Response[dict[str, Any]]:
    return _answer(HTTPStatus.NOT_FOUND, str(exc))


@app.exception_handler(InvalidProfile)
def invalid_profile(exc: InvalidProfile) -> Response[dict[str, Any]]:
    return _answer(HTTPStatus.BAD_REQUEST, str(exc))


@app.exception_handler(InvalidSettings)
def invalid_settings(exc: InvalidSettings) -> Response[dict[str, Any]]:
    return _answer(HTTPStatus.BAD_REQUEST, str(exc))


@app.exception_handler(EditConflict)
def edit_conflict(exc: EditConflict) -> Response[dict[str, Any]]:
    return _answer(HTTPStatus.CONFLICT, str(exc))


@app.exception_handler(InvalidTransition)
def invalid_transition(exc: InvalidTransition) -> Response[dict[str, Any]]:
    return _answer(HTTPStatus.CONFLICT, str(exc))


@app.exception_handler(IncompleteDecision)
def incomplete_decision(exc: IncompleteDecision) -> Response[dict[str, Any]]:
    # The body was valid JSON, but leaves a flagged customer out or names one not flagged.
    return _answer(HTTPStatus.UNPROCESSABLE_ENTITY, str(exc))


@app.exception_handler(InvalidDecision)
def invalid_decision(exc: InvalidDecision) -> Response[dict[str, Any]]:
    # The body was valid; the job cannot take a decision now (not ready, decided already).
    return _answer(HTTPStatus.CONFLICT, str(exc))


@app.exception_handler(StagingExpired)
def staging_expired(exc: StagingExpired) -> Response[dict[str, Any]]:
    return _answer(HTTPStatus.GONE, str(exc))


@app.exception_handler([InvalidUpload, InvalidCursor])
def bad_request(exc: Exception) -> Response[dict[str, Any]]:
    return _answer(HTTPStatus.BAD_REQUEST, str(exc))


# Throttling, or a dependency that did not answer: worth sending again, which a 500 does not say.
@app.exception_handler(TransientImportError)
def busy(exc: TransientImportError) -> Response[dict[str, Any]]:
    return _answer(
        HTTPStatus.SERVICE_UNAVAILABLE, f"Try again shortly: {exc}", **{"Retry-After": "1"}
    )


@app.exception_handler(RequestValidationError)
def invalid_request(exc: RequestValidationError) -> Response[dict[str, Any]]:
    problems = [
        FieldError(loc=list(e.get("loc", ())), msg=str(e.get("msg", "")), type=str(e["type"]))
        for e in exc.errors()
    ]
    summary = "; ".join(f"{'.'.join(map(str, p.loc))}: {p.msg}" for p in problems[:5])
    body = ValidationErrorBody(
        statusCode=HTTPStatus.UNPROCESSABLE_ENTITY.value,
        message=f"Invalid request: {summary}" if summary else "Invalid request",
        detail=problems,
    )
    return Response(
        status_code=HTTPStatus.UNPROCESSABLE_ENTITY.value,
        content_type=content_types.APPLICATION_JSON,
        body=body.model_dump(),
    )


def _unreadable_body(event: dict[str, Any]) -> dict[str, Any] | None:
    """An answer for a body the API cannot read as JSON: 415 for another content type, 400
    for bytes that are not UTF-8 and for text that is not JSON, or JSON too large, too deep
    or with too long a number for any route (Python's parser fails on those, and Powertools'
    with it, instead of answering). None for everything else."""
    body = event.get("body")
    method = str(event.get("requestContext", {}).get("http", {}).get("method", "")).upper()
    if not body or method not in BODY_METHODS:
        return None
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    given_type = headers.get("content-type", "").strip().lower()
    media_type = given_type.partition(";")[0].strip()
    if given_type and media_type != JSON:
        return _raw_answer(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE, f"Send the body as {JSON}, not {given_type}"
        )
    text = str(body)
    if event.get("isBase64Encoded"):
        try:
            text = base64.b64decode(text).decode("utf-8")
        except ValueError:
            return _raw_answer(HTTPStatus.BAD_REQUEST, "The body is not UTF-8 text")
    problem = _json_problem(text)
    return _raw_answer(HTTPStatus.BAD_REQUEST, problem) if problem else None


def _json_problem(text: str) -> str | None:
    """Why `text` is not a JSON body this API reads, or None. Its size and nesting are
    measured before parsing, without recursion; numbers are bounded while parsing."""
    size = len(text.encode("utf-8"))
    if size > MAX_BODY_BYTES:
        return f"The body is {size:,} bytes; the limit is {MAX_BODY_BYTES:,}"
    depth = 0
    for bracket in JSON_BRACKET.findall(JSON_STRING.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        if depth > MAX_JSON_DEPTH:
            return f"The body is nested more than {MAX_JSON_DEPTH} levels deep"

    def bounded_number(digits: str) -> float | int:
        if len(digits) > MAX_NUMBER_DIGITS:
            raise ValueError(
                f"a number of {len(digits):,} characters (at most {MAX_NUMBER_DIGITS})"
            )
        return float(digits) if any(c in digits for c in ".eE") else int(digits)

    try:
        json.loads(text, parse_int=bounded_number, parse_float=bounded_number)
    except ValueError as exc:  # json.JSONDecodeError is one
        return f"The body is not valid JSON: {exc}"
    return None


def _unknown_query(event: dict[str, Any]) -> dict[str, Any] | None:
    """422 for a query parameter the route does not take, as for an unknown body field: a
    misspelt `limt=5` must not quietly mean the default."""
    given = set(event.get("queryStringParameters") or {})
    if not given:
        return None
    path = str(event.get("rawPath", ""))
    method = str(event.get("requestContext", {}).get("http", {}).get("method", "")).upper()
    operation = next(
        (op for op in _operations() if op.method == method and op.path.match(path)), None
    )
    if operation is None or given <= operation.query:
        return None  # an unknown route answers 404 or 405 first
    unknown = sorted(given - operation.query)
    takes = ", ".join(sorted(operation.query)) or "none"
    return _raw_answer(
        HTTPStatus.UNPROCESSABLE_ENTITY,
        f"Unknown query parameter(s): {', '.join(map(repr, unknown))}; this route takes: {takes}",
        detail=[
            FieldError(loc=["query", name], msg="Unknown query parameter", type="extra_forbidden")
            for name in unknown
        ],
    )


def _raw_answer(
    status: HTTPStatus, message: str, detail: list[FieldError] | None = None
) -> dict[str, Any]:
    """An HTTP API answer built before the resolver runs."""
    body: dict[str, Any] = {"statusCode": status.value, "message": message}
    if detail is not None:
        body["detail"] = [problem.model_dump() for problem in detail]
    return {
        "statusCode": status.value,
        "headers": {"Content-Type": JSON},
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return _unreadable_body(event) or _unknown_query(event) or app.resolve(event, context)
