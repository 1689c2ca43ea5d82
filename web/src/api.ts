// The HTTP API as the page uses it (the README's "The HTTP API"; its OpenAPI document is at
// GET /openapi.json). Every call carries the signed-in person's bearer token.

export type Counts = Record<string, number>;
export type Choice = "skip" | "merge" | "create";
export type Mode = "insert" | "update" | "sync";

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
  created_at: string;
  updated_at: string;
  created_by: string;
  counts: Counts;
  reason: string | null;
  missing_columns: string[];
  warnings: string[];
  decision: Decision | null;
  has_error_log: boolean;
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

export interface PreviewCustomer extends CustomerSummary {
  rows: number[];
  addresses: Address[];
  vehicles: { registration?: string | null; make?: string | null }[];
  warnings: RowIssue[];
  errors: RowIssue[];
  changes: Change[];
  duplicate?: Match;
}

export interface Preview {
  counts: Counts;
  customers: PreviewCustomer[];
  unreadable_rows: RowIssue[];
  mode: string;
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

export interface NewImport {
  source: string;
  file_name: string;
  size: number;
  account: string;
  mode: Mode;
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

  createImport(request: NewImport): Promise<Created> {
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

  decide(jobId: string, decision: { default: Choice; overrides: Record<string, Choice> }): Promise<JobSummary> {
    return this.call("POST", `/imports/${encodeURIComponent(jobId)}/decision`, decision);
  }

  cancel(jobId: string): Promise<JobSummary> {
    return this.call("POST", `/imports/${encodeURIComponent(jobId)}/cancel`, {});
  }

  errorLog(jobId: string): Promise<{ url: string | null }> {
    return this.call("GET", `/imports/${encodeURIComponent(jobId)}/error-log`);
  }
}
