// A job's live state: its pushes over the WebSocket (`?token=`, then
// {"action": "subscribe", "job_id": ...}; the subscription answers with the job's state at once)
// and, whenever the feed is quiet or gone, a read of the job from the API instead.

import type { Api, JobDetail } from "./api";

export const FINAL = new Set([
  "rejected",
  "completed",
  "completed_with_errors",
  "failed",
  "cancelled",
  "expired",
  "rolled_back",
  "rolled_back_with_conflicts",
]);

/** What a progress push carries (functions/ws_subscribe; customer_import/jobs.py). */
export interface Push {
  type: string;
  job_id?: string;
  status?: string;
  processed?: number;
  total?: number;
  imported?: number;
  failed?: number;
  progress?: string;
  message?: string;
  sent_at?: number;
}

export type Listener = (job: JobDetail, push: Push | null) => void;

const POLL_EVERY_MS = 2000;
// A job waiting for its decision changes only when someone decides: read it less often.
const POLL_READY_EVERY_MS = 10000;

export class JobFeed {
  private socket: WebSocket | null = null;
  private timer: number | undefined;
  private lastPushAt = 0;
  private lastReadAt = 0;
  private job: JobDetail | null = null;
  private stopped = false;
  private reading = false;
  private readAgain = false;

  constructor(
    private readonly api: Api,
    private readonly websocketUrl: string,
    private readonly token: string,
    private readonly jobId: string,
    private readonly listener: Listener,
    private readonly onProblem: (message: string) => void,
  ) {}

  start(job: JobDetail): void {
    this.job = job;
    this.connect();
    this.timer = window.setInterval(() => {
      const quiet = Date.now() - Math.max(this.lastPushAt, this.lastReadAt);
      const every = this.job?.status === "ready" ? POLL_READY_EVERY_MS : POLL_EVERY_MS;
      if (quiet >= every) void this.read(null);
    }, POLL_EVERY_MS);
  }

  /** What the page learnt of the job elsewhere (the answer to its decision). */
  observe(job: JobDetail): void {
    this.job = job;
    if (FINAL.has(job.status)) this.stop();
  }

  stop(): void {
    this.stopped = true;
    window.clearInterval(this.timer);
    this.socket?.close();
    this.socket = null;
  }

  private connect(): void {
    const query = new URLSearchParams({ token: this.token });
    let socket: WebSocket;
    try {
      socket = new WebSocket(`${this.websocketUrl}/?${query}`);
    } catch {
      return; // the API's reads carry on alone
    }
    this.socket = socket;
    socket.addEventListener("open", () => {
      socket.send(JSON.stringify({ action: "subscribe", job_id: this.jobId }));
    });
    socket.addEventListener("message", (event) => {
      let push: Push;
      try {
        push = JSON.parse(String(event.data)) as Push;
      } catch {
        return;
      }
      this.lastPushAt = Date.now();
      this.onPush(push);
    });
    socket.addEventListener("close", () => {
      if (this.socket === socket) this.socket = null;
    });
  }

  private onPush(push: Push): void {
    if (this.stopped || this.job === null) return;
    if (push.type === "error") {
      this.onProblem(`Live progress is unavailable (${push.message ?? "refused"}); the page reads the job instead.`);
      return;
    }
    if (push.job_id !== undefined && push.job_id !== this.jobId) return;
    if (push.status !== undefined && push.status === this.job.status && push.status !== "rolling_back") {
      // Progress within a state: the push says all the import's bar needs (a rollback's
      // batches and what it undid are the job's to say: it is read).
      const counts = { ...this.job.counts };
      if (typeof push.processed === "number") counts.processed = push.processed;
      if (typeof push.total === "number") counts.customers = push.total;
      if (typeof push.imported === "number") counts.imported = push.imported;
      if (typeof push.failed === "number") counts.failed = push.failed;
      this.emit({ ...this.job, counts }, push);
    } else {
      // A new state: the job says what it brings (the preview, the summary).
      void this.read(push);
    }
  }

  private async read(push: Push | null): Promise<void> {
    if (this.stopped) return;
    if (this.reading) {
      // A read is under way; one more follows it, so a change it began before is not missed.
      this.readAgain = true;
      return;
    }
    this.reading = true;
    try {
      this.lastReadAt = Date.now();
      this.emit(await this.api.job(this.jobId), push);
    } catch (error) {
      this.onProblem(error instanceof Error ? error.message : String(error));
    } finally {
      this.reading = false;
    }
    if (this.readAgain) {
      this.readAgain = false;
      await this.read(null);
    }
  }

  private emit(job: JobDetail, push: Push | null): void {
    if (this.stopped) return;
    this.job = job;
    this.listener(job, push);
    if (FINAL.has(job.status)) this.stop();
  }
}
