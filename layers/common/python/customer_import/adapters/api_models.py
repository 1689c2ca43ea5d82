"""The HTTP API's request and response bodies (pydantic), and how domain objects become them.

The OpenAPI document is generated from these models and the routes of `functions/api/api.py`;
Powertools validates requests against them and responses too.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from ..audit import AuditEntry
from ..changes.rules import DEFAULT_MAX_DELETE_PERCENT, Mode, Transfer, transfer_refusal
from ..cleaning import DEFAULT_REGION, DEFAULT_TIME_ZONE
from ..customers.activities import (
    KINDS,
    MAX_TEXT_CHARS,
    NOT_BLANK,
    Activity,
    check_date,
    check_text,
)
from ..customers.customer import Customer as StoredCustomer
from ..jobs import ACCOUNT_PATTERN, Job
from ..profiles import PROFILE_NAME_PATTERN
from ..queries import (
    ExecutionDetail,
    ExecutionSummary,
    FailedState,
    HistoryEvent,
    JobDetail,
    JobExecution,
    JobExecutions,
)

Choice = Literal["skip", "merge", "create"]
# Ids are UUIDs; anything else cannot name a job or a customer.
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
CustomerNumber = Annotated[str, StringConstraints(min_length=1, max_length=100)]


def _whole_number(value: Any) -> Any:
    """JSON's `1.0` is the integer 1 (as JSON Schema says); `"1"` and `true` are not numbers."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class Strict(BaseModel):
    """A request body: no unknown fields, and no coercion (`0` is not `false`)."""

    model_config = ConfigDict(extra="forbid", strict=True)


# ---- errors -------------------------------------------------------------------------------


class ErrorBody(BaseModel):
    """Every 4xx answer: what was wrong, in words a person can act on."""

    message: str
    statusCode: int | None = None  # the name Powertools and API Gateway use


class FieldError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ValidationErrorBody(ErrorBody):
    detail: list[FieldError] = Field(default_factory=list)


# ---- imports ------------------------------------------------------------------------------


class ImportOptions(Strict):
    auto_run: bool = Field(
        default=False, description="Import without waiting for a decision (ERP profiles)."
    )
    on_duplicate: Choice = Field(
        default="skip", description="The decision an auto-run import applies to duplicates."
    )
    decision_timeout_seconds: Annotated[int, Field(ge=60, le=7 * 24 * 3600)] | None = Field(
        default=None, description="How long the job waits for a decision before it expires."
    )
    max_delete_percent: Annotated[float, Field(ge=0, le=100)] = Field(
        default=DEFAULT_MAX_DELETE_PERCENT,
        description="sync: binning more of the account's customers than this waits for a "
        "person's confirmation.",
    )
    confirm_deletions: bool = Field(
        default=False, description="sync: bin what the file no longer holds, whatever the share."
    )

    _whole = field_validator("decision_timeout_seconds", mode="before")(_whole_number)


# The document states the transfer rule (design §5.5) too, so a request it calls valid is one
# the API takes: no transfer, or one in an update mode (`key` is always one of the ids).
_TRANSFER_RULE = {
    "anyOf": [
        {"properties": {"transfer": {"const": "none"}, "transfer_related": {"const": False}}},
        {
            "required": ["mode", "transfer"],
            "properties": {
                "mode": {"enum": ["update", "sync"]},
                "transfer": {"enum": ["copy", "move"]},
            },
        },
    ]
}
# And that a request names the file's source, or a profile (which names it).
_SOURCE_RULE = {
    "anyOf": [
        {"required": ["source"], "properties": {"source": {"type": "string"}}},
        {"required": ["profile"], "properties": {"profile": {"type": "string"}}},
    ]
}


class CreateImport(Strict):
    model_config = ConfigDict(
        extra="forbid", strict=True, json_schema_extra={"allOf": [_TRANSFER_RULE, _SOURCE_RULE]}
    )

    source: str | None = Field(
        default=None,
        min_length=1,
        max_length=40,
        examples=["techman"],
        description="How the file is read (`techman`, or `mapped` with a profile); required "
        "unless a profile is named, whose source it must then be if given.",
    )
    file_name: str = Field(min_length=1, max_length=255, examples=["customers.csv"])
    # 0 is let through so that the answer is "The file is empty" (400), not a range error.
    size: int = Field(ge=0, le=1 << 40, description="The file's size in bytes.")
    account: str = Field(default="main", min_length=1, max_length=64, pattern=ACCOUNT_PATTERN)
    mode: Literal["insert", "update", "sync"] = Field(
        default="insert",
        description="insert: new customers, with the duplicate decision; update: match by key "
        "and update, create the unmatched; sync: update, then bin the account's customers the "
        "file no longer holds (design §5.4).",
    )
    key: Literal["external", "internal", "both"] = Field(
        default="external",
        description="update and sync: how a file customer finds its stored one (the external "
        "number, a CustomerId column holding our customer_id, or the id first, then the number).",
    )
    field_policy: Literal["overwrite", "keep", "fill_empty"] = Field(
        default="overwrite",
        description="update and sync: what a file value does to a stored one (an empty cell "
        "never clears a value).",
    )
    transfer: Literal["none", "copy", "move"] = Field(
        default="none",
        description="update and sync: a file customer the account lacks and another account of "
        "the organisation holds (its recycle bin too) is copied (a new customer) or moved (the "
        "same customer) into the account, then updated from the file (design §5.5). Needs the "
        "customers.transfer capability.",
    )
    transfer_related: bool = Field(
        default=False,
        description="With transfer: the customer's activities go along (moved, or copied).",
    )
    options: ImportOptions = Field(default_factory=ImportOptions)
    profile: str | None = Field(
        default=None,
        pattern=PROFILE_NAME_PATTERN,
        description="An import profile of the organisation: its account and settings, in place "
        "of the request's own (which must then be left out).",
    )

    _whole = field_validator("size", mode="before")(_whole_number)

    def settings_given(self) -> list[str]:
        """The import's own settings the request gave besides its profile."""
        own = {"account", "mode", "key", "field_policy", "transfer", "transfer_related", "options"}
        return sorted(self.model_fields_set & own)

    @model_validator(mode="after")
    def _transfer_fits(self) -> CreateImport:
        if self.source is None and self.profile is None:
            raise ValueError("name the file's source, or a profile that names it")
        reason = transfer_refusal(
            Mode(self.mode), self.key, Transfer(self.transfer), self.transfer_related
        )
        if reason is not None:
            raise ValueError(reason)
        return self


class PresignedPost(BaseModel):
    url: str
    fields: dict[str, str]
    expires_in_seconds: int


class CreatedImport(BaseModel):
    job_id: str
    status: str
    upload: PresignedPost


class DecisionOut(BaseModel):
    default: str | None = None
    overrides: dict[str, str] = Field(default_factory=dict)
    by: str | None = None
    at: str | None = None


class ImportSummary(BaseModel):
    job_id: str
    status: str
    source: str
    account: str
    file_name: str
    mode: str
    transfer: str = "none"
    transfer_related: bool = False
    auto_run: bool
    profile: str | None = Field(default=None, description="The import profile it ran with.")
    date_order: str = Field(
        default="day_first",
        description="How the file's dates are read; detect at ready: the job waits for the "
        "answer (a decision with date_order).",
    )
    created_at: str
    updated_at: str
    created_by: str
    counts: dict[str, int]
    reason: str | None = None
    missing_columns: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    decision: DecisionOut | None = None
    has_error_log: bool = False
    has_conflict_log: bool = False

    @classmethod
    def of(cls, job: Job) -> ImportSummary:
        return cls(**_summary_fields(job))


class ImportDetail(ImportSummary):
    preview: dict[str, Any] | None = Field(
        default=None,
        description="Once prepared: counts and the first customers as they will be imported.",
    )

    @classmethod
    def of_detail(cls, detail: JobDetail) -> ImportDetail:
        return cls(**_summary_fields(detail.job), preview=detail.preview)


def _summary_fields(job: Job) -> dict[str, Any]:
    decision = job.decision or None
    return {
        "job_id": job.job_id,
        "status": str(job.status),
        "source": job.source,
        "account": job.account_id,
        "file_name": job.file_name,
        "mode": str(job.options.mode),
        "transfer": str(job.options.transfer),
        "transfer_related": job.options.transfer_related,
        "auto_run": job.options.auto_run,
        "profile": job.options.profile,
        "date_order": str(job.options.layout.date_order),
        "created_at": job.created_at,
        "updated_at": job.updated_at,
        "created_by": job.actor,
        "counts": {name: job.counter(name) for name in job.counters},
        "reason": job.reason,
        "missing_columns": list(job.missing_columns),
        "warnings": list(job.warnings),
        "decision": DecisionOut(**decision) if decision else None,
        "has_error_log": bool(job.error_log_key),
        "has_conflict_log": bool(job.conflict_log_key),
    }


class ImportPage(BaseModel):
    items: list[ImportSummary]
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` for the next page; absent on the last."
    )


class Decision(Strict):
    default: Choice | None = Field(
        default=None, description="What to do with every duplicate not overridden."
    )
    overrides: dict[CustomerNumber, Choice] = Field(
        default_factory=dict,
        max_length=100_000,
        description="Per CustomerNumber: what to do with that duplicate.",
    )
    confirm_deletions: bool = Field(
        default=False,
        description="A sync over its deletion threshold waits for this: bin them all.",
    )
    date_order: Literal["day_first", "month_first"] | None = Field(
        default=None,
        description="A file none of whose dates tells their order waits for this answer "
        "(the preview's question); the file is then read again with it.",
    )


class CustomerSummary(BaseModel):
    external_customer_number: str | None = None
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    landline: str | None = None


class DuplicateMatch(BaseModel):
    kind: Literal["existing", "file"] = Field(
        description="A stored customer of the organisation, or an earlier customer of the file."
    )
    customer_id: str = Field(description="The stored customer, or the earlier one's future id.")
    row: int | None = Field(default=None, description="The earlier customer's row (file only).")
    keys: list[Literal["external", "email", "phone", "name"]]
    confidence: Literal["high", "low"]
    customer: CustomerSummary


class PossibleDuplicate(CustomerSummary):
    row: int
    customer_id: str
    match: DuplicateMatch


class DuplicatePage(BaseModel):
    total: int
    offset: int
    items: list[PossibleDuplicate]


class RowError(BaseModel):
    row: int = Field(description="The file's row number (the header is row 1).")
    column: str
    reason: str


class RowErrorPage(BaseModel):
    total: int = Field(description="The row errors of the whole file.")
    offset: int
    items: list[RowError]


class OrganisationSettings(Strict):
    """The organisation's settings, whole: a field left out takes its default."""

    time_zone: str = Field(
        default=DEFAULT_TIME_ZONE,
        max_length=64,
        description="The IANA zone a file's times without an offset are read in.",
    )
    phone_region: str = Field(
        default=DEFAULT_REGION,
        pattern="^[A-Z]{2}$",
        description="The region of phone numbers written without a country code.",
    )
    group_map: dict[str, str] = Field(
        default_factory=dict,
        description="Customer group names as files write them -> the organisation's groups "
        "(compared without case or surrounding spaces; unknown names are kept and warned of).",
    )
    max_file_bytes: int | None = Field(
        default=None, ge=1, description="A lower file size limit than the product's (null: its)."
    )
    max_rows: int | None = Field(
        default=None, ge=1, description="A lower row limit than the product's (null: its)."
    )
    recycle_bin_days: int = Field(
        default=14, ge=1, le=14, description="Days a binned customer is kept before it is purged."
    )

    _whole = field_validator("max_file_bytes", "max_rows", "recycle_bin_days", mode="before")(
        _whole_number
    )


class ProductLimitsOut(BaseModel):
    max_file_bytes: int
    max_rows: int


class OrganisationSettingsOut(BaseModel):
    time_zone: str
    phone_region: str
    group_map: dict[str, str]
    max_file_bytes: int | None
    max_rows: int | None
    recycle_bin_days: int
    limits: ProductLimitsOut = Field(description="The product's limits, which these may lower.")


class ProfileDocument(Strict):
    """An import profile as a person writes it; a field left out takes its default."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra=_TRANSFER_RULE)

    source: Literal["techman", "mapped"] = Field(
        default="techman",
        description="techman: Techman's columns; mapped: `columns` maps the file's headers.",
    )
    columns: dict[Annotated[str, Field(min_length=1, max_length=200)], str] = Field(
        default_factory=dict,
        max_length=500,
        description="A mapped file's header -> canonical column (Techman's names, plus "
        "CustomerId); CustomerNumber and CustomerName are required.",
        examples=[{"Kundennummer": "CustomerNumber", "Name": "CustomerName"}],
    )
    date_order: Literal["day_first", "month_first", "iso", "detect"] = Field(
        default="day_first",
        description="detect: decided from the file's dates; a person is asked when none do.",
    )
    phone_region: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] | None = Field(
        default=None, description="Phones without a country code; null: the organisation's."
    )
    boolean_words: dict[Annotated[str, Field(min_length=1, max_length=20)], bool] = Field(
        default_factory=dict, max_length=50, examples=[{"ja": True, "nein": False}]
    )
    format: Literal["csv", "xlsx"] = "csv"
    sheet: Annotated[str, Field(min_length=1, max_length=31)] | None = None
    account: str = Field(default="main", min_length=1, max_length=64, pattern=ACCOUNT_PATTERN)
    mode: Literal["insert", "update", "sync"] = "insert"
    key: Literal["external", "internal", "both"] = "external"
    field_policy: Literal["overwrite", "keep", "fill_empty"] = "overwrite"
    transfer: Literal["none", "copy", "move"] = "none"
    transfer_related: bool = False
    on_duplicate: Choice = Field(
        default="skip", description="The decision applied to every possible duplicate."
    )
    review: Literal["auto", "hold"] = Field(
        default="hold",
        description="auto: the import runs unattended with on_duplicate; hold: it waits at "
        "ready for a person's decision.",
    )
    max_delete_percent: Annotated[float, Field(ge=0, le=100)] = DEFAULT_MAX_DELETE_PERCENT
    decision_timeout_seconds: Annotated[int, Field(ge=60, le=7 * 24 * 3600)] | None = None

    _whole = field_validator("decision_timeout_seconds", mode="before")(_whole_number)

    @model_validator(mode="after")
    def _transfer_fits(self) -> ProfileDocument:
        reason = transfer_refusal(
            Mode(self.mode), self.key, Transfer(self.transfer), self.transfer_related
        )
        if reason is not None:
            raise ValueError(reason)
        return self


class ProfileFromJob(Strict):
    job_id: str = Field(
        pattern=UUID_PATTERN, description="The import whose settings the profile keeps."
    )


class ProfileOut(ProfileDocument):
    model_config = ConfigDict(extra="forbid")

    name: str


class ProfileList(BaseModel):
    items: list[ProfileOut]
    canonical_columns: list[str] = Field(
        description="What a mapped profile's `columns` may map a header onto."
    )


class ErrorLogLink(BaseModel):
    job_id: str
    url: str | None = Field(description="A presigned download link; null: no rows failed.")
    expires_in_seconds: int | None = None


class RollbackRequest(Strict):
    dry_run: bool = Field(
        default=False, description="Say what a rollback would do now, without writing anything."
    )


class RollbackConflict(BaseModel):
    customer_id: str
    account: str
    external_customer_number: str | None = None
    action: str = Field(description="What the import had done (created, updated, moved...).")
    would: str = Field(description="What the rollback would have done.")
    since: str = Field(description="What changed since the import, so it was left as it is.")


class RollbackOut(BaseModel):
    job_id: str
    status: str = Field(description="The job's status: rolling_back once requested.")
    dry_run: bool
    reverted: dict[str, int] = Field(
        description="By what the import had done: the changes undone (dry: that would be)."
    )
    conflicts: int = Field(description="The customers changed since, left as they are.")
    conflict_list: list[RollbackConflict] = Field(
        default_factory=list, description="Dry run: the first 100 conflicts."
    )


class FieldChange(BaseModel):
    field: str = Field(description="A customer field, or `address:{type}` / `vehicle:{key}`.")
    before: Any = Field(default=None, description="Its value before the import (null: none).")
    after: Any = Field(default=None, description="Its value the import left (null: none).")


class ChangeOut(BaseModel):
    customer_id: str
    account: str
    external_customer_number: str | None = None
    action: str = Field(description="created, updated, merged, binned, restored, copied or moved.")
    row: int | None = Field(default=None, description="The file's row, when one.")
    batch_id: str
    version_before: int
    version_after: int
    fields: list[FieldChange]
    transferred_from: dict[str, Any] | None = Field(
        default=None, description="A copy's or a move's source customer and account."
    )


class ChangePage(BaseModel):
    items: list[ChangeOut]
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` for the next page; absent on the last."
    )


# ---- customers ----------------------------------------------------------------------------


class Address(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    line1: str | None = None
    line2: str | None = None
    line3: str | None = None
    town: str | None = None
    county: str | None = None
    postcode: str | None = None
    country: str | None = None


class Vehicle(BaseModel):
    model_config = ConfigDict(extra="allow")
    registration: str | None = None
    make: str | None = None
    model: str | None = None
    vin: str | None = None
    first_registered: str | None = None
    mot_due: str | None = None
    mileage: int | float | None = None


class Customer(BaseModel):
    model_config = ConfigDict(extra="allow")
    customer_id: str
    account_id: str
    account: str | None = Field(default=None, description="The account the customer belongs to.")
    version: int | None = Field(
        default=None, description="Raised by one on every stored change of the customer."
    )
    external_customer_number: str | None = None
    title: str | None = None
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    landline: str | None = None
    customer_group: str | None = None
    credit_hold: bool | None = None
    account_customer: bool | None = None
    vat_registered: bool | None = None
    vat_number: str | None = None
    notification_preferences: Any = None
    date_created: str | None = None
    last_visit: str | None = None
    source_job_id: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    addresses: list[Address] = Field(default_factory=list)
    vehicles: list[Vehicle] = Field(default_factory=list)
    activities: int | None = Field(
        default=None,
        description="How many activities (related records) the customer has; given when "
        "listing an account's customers.",
    )

    @classmethod
    def of(cls, customer: StoredCustomer, activities: int | None = None) -> Customer:
        return cls(**customer.view(), account_id=customer.account_id, activities=activities)


class CustomerEdit(Strict):
    """The fields to change; a field left out stays as it is, null clears it (a name cannot
    be cleared). Phones and emails are cleaned as an import cleans them."""

    version: int | None = Field(
        default=None,
        ge=1,
        description="The version the editor read: the edit is refused (409) if it moved on.",
    )
    title: str | None = Field(default=None, max_length=100)
    name: str | None = Field(default=None, min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=40)
    landline: str | None = Field(default=None, max_length=40)
    customer_group: str | None = Field(default=None, max_length=100)
    credit_hold: bool | None = None
    account_customer: bool | None = None
    vat_registered: bool | None = None
    vat_number: str | None = Field(default=None, max_length=40)

    _whole = field_validator("version", mode="before")(_whole_number)

    def changes(self) -> dict[str, Any]:
        """The fields the body gave, null ones included."""
        return {name: getattr(self, name) for name in self.model_fields_set - {"version"}}


class CustomerList(BaseModel):
    items: list[Customer]
    next_cursor: str | None = Field(
        default=None,
        description="Listing the organisation: pass as `cursor` for the next page; absent on the last.",
    )


# ---- activities ---------------------------------------------------------------------------

ActivityKind = Literal["appointment", "report", "call_block", "service_booking"]
assert tuple(ActivityKind.__args__) == KINDS  # type: ignore[attr-defined]


class NewActivity(Strict):
    kind: ActivityKind = Field(description="What the activity is.")
    # `format: date` is RFC 3339's full-date (YYYY-MM-DD, a real day): what `check_date` takes.
    date: str = Field(
        description="The day it happens or happened: a real calendar date, YYYY-MM-DD.",
        examples=["2026-12-02"],
        json_schema_extra={"format": "date"},
    )
    text: str = Field(
        min_length=1,
        max_length=MAX_TEXT_CHARS,
        pattern=NOT_BLANK,
        description="What was done or said (not only spaces).",
    )

    @field_validator("date")
    @classmethod
    def _real_date(cls, value: str) -> str:
        return check_date(value)

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        return check_text(value)


class ActivityOut(BaseModel):
    activity_id: str = Field(description="Sortable: the date first.")
    customer_id: str
    account: str = Field(description="The account of the customer when it was recorded.")
    kind: str
    date: str
    text: str
    author: str = Field(description="The user (the token's subject) who recorded it.")
    created_at: str

    @classmethod
    def of(cls, activity: Activity) -> ActivityOut:
        return cls(**activity.view())


class ActivityPage(BaseModel):
    items: list[ActivityOut]
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` for the next page; absent on the last."
    )


# ---- recycle bin --------------------------------------------------------------------------


class BinnedCustomer(BaseModel):
    customer_id: str
    external_customer_number: str | None = None
    account: str
    name: str | None = None
    deleted_at: str = Field(description="When it was binned.")
    purge_after: str = Field(
        description="The first day (UTC) it may be purged for good; until then it can be restored."
    )

    @classmethod
    def of(cls, customer: StoredCustomer) -> BinnedCustomer:
        return cls(
            customer_id=customer.customer_id,
            external_customer_number=customer.external_customer_number,
            account=customer.account_id,
            name=customer.value("name"),
            deleted_at=customer.deleted_at or "",
            purge_after=customer.purge_after or "",
        )


class RecycleBinPage(BaseModel):
    items: list[BinnedCustomer]
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` for the next page; absent on the last."
    )


# ---- audit --------------------------------------------------------------------------------


class AuditEntryOut(BaseModel):
    job_id: str
    action: str = Field(examples=["import.completed", "import.decided", "import.cancelled"])
    actor: str
    at: str
    job_created_at: str
    details: dict[str, Any] = Field(
        default_factory=dict,
        description="What the action concerned: file, source, mode, decision, counts, duration.",
    )

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditEntryOut:
        return cls(
            job_id=entry.job_id,
            action=entry.action,
            actor=entry.actor,
            at=entry.at,
            job_created_at=entry.job_created_at,
            details=entry.details,
        )


class AuditPage(BaseModel):
    items: list[AuditEntryOut]
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` for the next page; absent on the last."
    )


# ---- executions ---------------------------------------------------------------------------


class ExecutionOut(BaseModel):
    execution_arn: str
    name: str
    status: str
    started_at: str
    stopped_at: str | None = None
    error: str | None = None
    cause: str | None = None

    @classmethod
    def of(cls, summary: ExecutionSummary) -> ExecutionOut:
        return cls(**summary.__dict__)


class FailedStateOut(BaseModel):
    state: str | None
    event: str
    error: str | None = None
    cause: str | None = None
    timestamp: str

    @classmethod
    def of(cls, failed: FailedState) -> FailedStateOut:
        return cls(**failed.__dict__)


class HistoryEventOut(BaseModel):
    id: int
    type: str
    timestamp: str
    previous_event_id: int | None = None
    state: str | None = None
    error: str | None = None
    cause: str | None = None

    @classmethod
    def of(cls, event: HistoryEvent) -> HistoryEventOut:
        return cls(**event.__dict__)


class ExecutionDetailOut(ExecutionOut):
    failed_states: list[FailedStateOut]
    events: list[HistoryEventOut] = Field(
        description="The history events that matter: states entered, failures, start and end."
    )

    @classmethod
    def of_detail(cls, detail: ExecutionDetail) -> ExecutionDetailOut:
        return cls(
            **detail.summary.__dict__,
            failed_states=[FailedStateOut.of(f) for f in detail.failed_states],
            events=[HistoryEventOut.of(e) for e in detail.events],
        )


class JobExecutionsOut(BaseModel):
    job_id: str
    job_status: str
    executions: list[ExecutionDetailOut] = Field(
        description="The import's execution, then its retries."
    )

    @classmethod
    def of(cls, found: JobExecutions) -> JobExecutionsOut:
        return cls(
            job_id=found.job.job_id,
            job_status=str(found.job.status),
            executions=[ExecutionDetailOut.of_detail(d) for d in found.executions],
        )


class JobExecutionOut(BaseModel):
    job_id: str
    job_status: str
    file_name: str
    created_at: str
    execution: ExecutionOut | None = None

    @classmethod
    def of(cls, item: JobExecution) -> JobExecutionOut:
        return cls(
            job_id=item.job.job_id,
            job_status=str(item.job.status),
            file_name=item.job.file_name,
            created_at=item.job.created_at,
            execution=ExecutionOut.of(item.execution) if item.execution else None,
        )


class ExecutionPage(BaseModel):
    items: list[JobExecutionOut]
    next_cursor: str | None = None
