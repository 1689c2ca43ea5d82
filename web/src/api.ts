// The HTTP API as the page uses it (the README's "The HTTP API"; its OpenAPI document is at
// GET /openapi.json). Every call carries the signed-in person's bearer token.

export type Counts = Record<string, number>;
export type Choice = "skip" | "merge" | "create";
export type Mode = "insert" | "update" | "sync";
export type Key = "external" | "internal" | "both";
export type FieldPolicy = "overwrite" | "keep" | "fill_empty";
export type Transfer = "none" | "copy" | "move";
export type DateOrder = "day_first" | "month_first";

export interface Decision {
  default?: Choice | null;
  overrides?: Record<string, Choice>;
  by?: string | null;
  at?: string | null;
}

export interface JobSummary {
  job_id: string;
  status: string;
  source: string;
  account: string;
  file_name: string;
  mode: string;
  transfer?: string;
  transfer_related?: boolean;
  auto_run?: boolean;
  /** The import profile it ran with, if any. */
  profile?: string | null;
  /** How the file's dates are read; "detect" at ready: the job asks (preview.question). */
  date_order?: string;
  created_at: string;
  updated_at: string;
  created_by: string;
  counts: Counts;
  reason: string | null;
  missing_columns: string[];
  warnings: string[];
  decision: Decision | null;
  has_error_log: boolean;
  has_conflict_log?: boolean;
}

export interface RowIssue {
  row: number;
  column: string;
  reason: string;
}

export interface Change {
  row: number;
  column: string;
  original: string;
  cleaned: string | null;
}

export interface CustomerSummary {
  external_customer_number: string | null;
  name: string | null;
  email: string | null;
  phone: string | null;
  landline: string | null;
}

export interface Match {
  kind: "existing" | "file";
  customer_id: string;
  row?: number | null;
  keys: string[];
  confidence: "high" | "low";
  customer: CustomerSummary;
}

export interface Address {
  type?: string;
  line1?: string | null;
  town?: string | null;
  postcode?: string | null;
}

/** One field an update will change: its stored value and the file's (any JSON value). */
export interface PlannedChange {
  field: string;
  old: unknown;
  new: unknown;
}

/** What an update or a sync will do to one customer (changes/preview.py `describe`). */
export interface Planned {
  action: "create" | "update" | "merge" | "unchanged" | "restore" | "copy" | "move" | string;
  customer_id?: string;
  account?: string;
  external_customer_number?: string | null;
  row?: number;
  from_account?: string;
  from_recycle_bin?: boolean;
  changes?: PlannedChange[];
}

export interface PreviewCustomer extends CustomerSummary {
  rows: number[];
  addresses: Address[];
  vehicles: { registration?: string | null; make?: string | null }[];
  warnings: RowIssue[];
  errors: RowIssue[];
  changes: Change[];
  duplicate?: Match;
  planned?: Planned;
}

/** The customers a transfer brings from one account (or its recycle bin). */
export interface TransferLine {
  from_account: string;
  from_recycle_bin: boolean;
  customers: number;
  copied: number;
  moved: number;
}

/** What a sync will bin: the account's live customers the file no longer holds. */
export interface Sweep {
  account: string;
  live: number;
  to_bin: number;
  percent: number;
  needs_confirmation: boolean;
  confirmation: string | null;
  /** The first it bins by external number (at most 100), each as its stored summary. */
  customers?: BinnedSummary[];
}

export interface BinnedSummary {
  customer_id: string;
  external_customer_number: string | null;
  name: string | null;
  email: string | null;
  phone: string | null;
}

/** A date of the file read both ways (sources/dates.py `readings`). */
export interface DateExample {
  row: number;
  column: string;
  value: string;
  day_first: string | null;
  month_first: string | null;
}

/** What the job asks before it can read the file (today: how it writes its dates). */
export interface Question {
  question: string;
  text: string;
  choices: string[];
  examples: DateExample[];
}

export interface Preview {
  counts: Counts;
  customers: PreviewCustomer[];
  unreadable_rows?: RowIssue[];
  mode: string;
  transfers?: TransferLine[];
  sweep?: Sweep;
  question?: Question;
}

export interface JobDetail extends JobSummary {
  preview?: Preview | null;
}

export interface PossibleDuplicate extends CustomerSummary {
  row: number;
  customer_id: string;
  match: Match;
}

export interface Page<T> {
  total: number;
  offset: number;
  items: T[];
}

export interface Created {
  job_id: string;
  status: string;
  upload: { url: string; fields: Record<string, string>; expires_in_seconds: number };
}

/** An import with its own settings. */
export interface NewImport {
  source: string;
  file_name: string;
  size: number;
  account: string;
  mode: Mode;
  key?: Key;
  field_policy?: FieldPolicy;
  transfer?: Transfer;
  transfer_related?: boolean;
  options?: { max_delete_percent?: number };
}

/** An import whose source, account and settings are a profile's (the API refuses settings
 * beside it, and a source other than the profile's). */
export interface NewProfileImport {
  source: string;
  file_name: string;
  size: number;
  profile: string;
}

export interface Profile {
  name: string;
  source: string;
  format?: string;
  columns?: Record<string, string>;
  account: string;
  mode: string;
  key: string;
  field_policy: string;
  transfer: string;
  transfer_related: boolean;
  on_duplicate: string;
  review: string;
  date_order?: string;
  phone_region?: string | null;
  boolean_words?: Record<string, boolean>;
  sheet?: string | null;
  max_delete_percent: number;
  decision_timeout_seconds?: number | null;
}

export interface DecisionRequest {
  default?: Choice;
  overrides?: Record<string, Choice>;
  confirm_deletions?: boolean;
  date_order?: DateOrder;
}

export interface RollbackConflict {
  customer_id: string;
  account: string;
  external_customer_number: string | null;
  action: string;
  would: string;
  since: string;
}

export interface RollbackResult {
  job_id: string;
  status: string;
  dry_run: boolean;
  reverted: Counts;
  conflicts: number;
  conflict_list: RollbackConflict[];
}

export interface BinnedCustomer {
  customer_id: string;
  external_customer_number: string | null;
  account: string;
  name: string | null;
  deleted_at: string;
  purge_after: string;
}

export interface StoredCustomer {
  customer_id: string;
  account?: string | null;
  account_id: string;
  external_customer_number: string | null;
  name: string | null;
  version?: number | null;
}

export interface AuditEntry {
  job_id: string;
  action: string;
  actor: string;
  at: string;
  job_created_at: string;
  details: Record<string, unknown>;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export class Api {
  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
    /** Called on a 401 (an expired or unknown token): the page signs in again. */
    private readonly onUnauthorized: () => void,
  ) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}` };
    const init: RequestInit = { method, headers, cache: "no-store" };
    if (body !== undefined) {
      headers["content-type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, init);
    } catch {
      throw new ApiError(0, "The API cannot be reached: is the stack running?");
    }
    const text = await response.text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = text;
    }
    if (response.status === 401) {
      this.onUnauthorized();
      throw new ApiError(401, "Your sign-in has expired: sign in again");
    }
    if (!response.ok) {
      const message =
        parsed && typeof parsed === "object" && "message" in parsed
          ? String((parsed as { message: unknown }).message)
          : `HTTP ${response.status}`;
      throw new ApiError(response.status, message);
    }
    return parsed as T;
  }

  createImport(request: NewImport | NewProfileImport): Promise<Created> {
    return this.call("POST", "/imports", request);
  }

  job(jobId: string): Promise<JobDetail> {
    return this.call("GET", `/imports/${encodeURIComponent(jobId)}`);
  }

  imports(limit = 20, cursor?: string): Promise<{ items: JobSummary[]; next_cursor?: string | null }> {
    const query = new URLSearchParams({ limit: String(limit) });
    if (cursor) query.set("cursor", cursor);
    return this.call("GET", `/imports?${query}`);
  }

  duplicates(jobId: string, offset = 0, limit = 100): Promise<Page<PossibleDuplicate>> {
    const query = new URLSearchParams({ offset: String(offset), limit: String(limit) });
    return this.call("GET", `/imports/${encodeURIComponent(jobId)}/duplicates?${query}`);
  }

  decide(jobId: string, decision: DecisionRequest): Promise<JobSummary> {
    return this.call("POST", `/imports/${encodeURIComponent(jobId)}/decision`, decision);
  }

  saveProfileFromJob(name: string, jobId: string): Promise<Profile> {
    return this.call("POST", `/profiles/${encodeURIComponent(name)}/from-job`, { job_id: jobId });
  }

  profiles(): Promise<{ items: Profile[]; canonical_columns: string[] }> {
    return this.call("GET", "/profiles");
  }

  profile(name: string): Promise<Profile> {
    return this.call("GET", `/profiles/${encodeURIComponent(name)}`);
  }

  /** Save a profile whole (PUT replaces it; a field left out takes its default). */
  putProfile(name: string, document: Omit<Profile, "name">): Promise<Profile> {
    return this.call("PUT", `/profiles/${encodeURIComponent(name)}`, document);
  }

  deleteProfile(name: string): Promise<{ deleted: string }> {
    return this.call("DELETE", `/profiles/${encodeURIComponent(name)}`);
  }

  rollback(jobId: string, dryRun: boolean): Promise<RollbackResult> {
    return this.call("POST", `/imports/${encodeURIComponent(jobId)}/rollback`, { dry_run: dryRun });
  }

  conflictLog(jobId: string): Promise<{ url: string | null }> {
    return this.call("GET", `/imports/${encodeURIComponent(jobId)}/conflict-log`);
  }

  recycleBin(account: string, limit = 50, cursor?: string): Promise<{ items: BinnedCustomer[]; next_cursor?: string | null }> {
    const query = new URLSearchParams({ account, limit: String(limit) });
    if (cursor) query.set("cursor", cursor);
    return this.call("GET", `/recycle-bin?${query}`);
  }

  restore(customerId: string): Promise<StoredCustomer> {
    return this.call("POST", `/recycle-bin/${encodeURIComponent(customerId)}/restore`);
  }

  audit(limit = 100, cursor?: string): Promise<{ items: AuditEntry[]; next_cursor?: string | null }> {
    const query = new URLSearchParams({ limit: String(limit) });
    if (cursor) query.set("cursor", cursor);
    return this.call("GET", `/audit?${query}`);
  }

  retry(jobId: string): Promise<JobSummary> {
    return this.call("POST", `/imports/${encodeURIComponent(jobId)}/retry`, {});
  }

  cancel(jobId: string): Promise<JobSummary> {
    return this.call("POST", `/imports/${encodeURIComponent(jobId)}/cancel`, {});
  }

  errorLog(jobId: string): Promise<{ url: string | null }> {
    return this.call("GET", `/imports/${encodeURIComponent(jobId)}/error-log`);
  }
}
