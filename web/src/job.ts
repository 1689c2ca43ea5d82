// One import job, whatever state it is in, read from the API whenever the page opens it (a
// reload or a return hours later shows where it is) and then followed live.

import { ApiError, type Choice, type DecisionRequest, type JobDetail } from "./api";
import { focusHeading, type Context, type Screen } from "./context";
import { DuplicateReview } from "./duplicates";
import { count, h, replace, safeHttpUrl, when } from "./dom";
import { FINAL, JobFeed } from "./feed";
import { statusLabel, SUMMARY_COUNTS } from "./labels";
import { countItem, previewSection } from "./preview";
import { dateQuestion } from "./question";
import { rollbackResult, rollbackSection } from "./rollback";

/** The part of the screen each state shows; a new part is drawn only when the state changes.
 * A job that asks how its file writes its dates is `ready` too, but shows the question: the
 * answer takes it back to preparing, and then to a `ready` with its preview. */
type Stage = "waiting" | "rejected" | "question" | "ready" | "importing" | "rolling_back" | "final" | "other";

function stageOf(job: JobDetail): Stage {
  const status = job.status;
  if (["pending", "validating", "preparing"].includes(status)) return "waiting";
  if (status === "rejected") return "rejected";
  if (status === "ready") return job.preview?.question ? "question" : "ready";
  if (status === "importing") return "importing";
  if (status === "rolling_back") return "rolling_back";
  if (FINAL.has(status)) return "final";
  return "other";
}

const ROLLED_BACK_FROM = new Set(["completed", "completed_with_errors"]);

export class JobScreen implements Screen {
  readonly element: HTMLElement;
  private readonly heading = h("h2", { tabindex: "-1" }, "Import");
  private readonly meta = h("p", { class: "meta" });
  private readonly status = h("p", { role: "status", class: "job-status" });
  private readonly problem = h("div", { role: "alert", class: "problem" });
  private readonly body = h("div", { class: "job-body" });
  private feed: JobFeed | null = null;
  private stage: Stage | null = null;
  private bar: ProgressBar | null = null;
  private disposed = false;
  private shownStatus: string | null = null;
  private removeUploadListener: (() => void) | null = null;

  constructor(
    private readonly context: Context,
    private readonly jobId: string,
  ) {
    document.title = "Import · Import data";
    this.element = h(
      "div",
      null,
      h("h1", null, "Import data"),
      h("p", null, h("a", { href: "#/" }, "← All imports and a new one")),
      h("section", { "aria-labelledby": "job-heading", class: "job" }, this.heading, this.meta, this.status, this.problem, this.body),
    );
    this.heading.id = "job-heading";
    replace(this.status, "Reading the import…");
    void this.open();
  }

  dispose(): void {
    this.disposed = true;
    this.feed?.stop();
    this.removeUploadListener?.();
  }

  private async open(): Promise<void> {
    let job: JobDetail;
    try {
      job = await this.context.api.job(this.jobId);
    } catch (error) {
      replace(this.status);
      replace(
        this.problem,
        error instanceof ApiError && error.status === 404
          ? "There is no such import in your organisation."
          : error instanceof Error
            ? error.message
            : String(error),
      );
      return;
    }
    if (this.disposed) return;
    this.show(job);
    focusHeading(this.heading);
    if (!FINAL.has(job.status)) this.follow(job);
  }

  /** Follow the job live (again: a rollback wakes a job that had ended). */
  private follow(job: JobDetail): void {
    this.feed?.stop();
    this.feed = new JobFeed(
      this.context.api,
      this.context.config.websocket_url,
      this.context.session.token,
      this.jobId,
      (next) => this.show(next),
      (message) => replace(this.problem, message),
    );
    this.feed.start(job);
  }

  /** Read the job that just started again (a retry, a rollback), and follow it. */
  private followAgain(): void {
    this.context.api.job(this.jobId).then(
      (next) => {
        this.show(next);
        this.follow(next);
      },
      (error: unknown) => replace(this.problem, error instanceof Error ? error.message : String(error)),
    );
  }

  private show(job: JobDetail): void {
    if (this.disposed) return;
    this.feed?.observe(job);
    document.title = `${job.file_name} · Import data`;
    replace(this.heading, job.file_name);
    replace(this.meta, describeJob(job));
    const label = statusText(job);
    if (label !== this.shownStatus) {
      // A live region: said once per state, not at every push.
      this.shownStatus = label;
      replace(this.status, "Status: ", h("strong", null, label));
    }
    const stage = stageOf(job);
    if (stage === this.stage) {
      // The same part, newer figures: never redrawn, so choices and focus stay where they are.
      if (stage === "importing" || stage === "rolling_back") this.bar?.update(job.counts);
      if (stage === "waiting") this.drawWaiting(job);
      return;
    }
    const first = this.stage === null;
    this.stage = stage;
    this.bar = null;
    this.removeUploadListener?.();
    this.removeUploadListener = null;
    replace(this.body);
    if (stage === "waiting") this.drawWaiting(job);
    else if (stage === "rejected") this.drawRejected(job);
    else if (stage === "question") this.drawQuestion(job);
    else if (stage === "ready") this.drawReady(job);
    else if (stage === "importing") this.drawImporting(job);
    else if (stage === "rolling_back") this.drawRollingBack(job);
    else if (stage === "final") void this.drawFinal(job);
    else replace(this.body, h("p", null, "This screen shows no more of this state yet."));
    if (!first) focusHeading(this.body.querySelector<HTMLElement>("h3"));
  }

  // ---- before the preview --------------------------------------------------------------------

  private drawWaiting(job: JobDetail): void {
    const upload = this.context.uploads.get(this.jobId);
    if (job.status === "pending" && upload) {
      // This tab is sending the file: its progress, until the job moves on.
      if (this.removeUploadListener) return;
      const draw = (): void => {
        if (this.stage !== "waiting") return;
        if (upload.error) {
          replace(this.body, h("h3", { tabindex: "-1" }, "The upload failed"), h("p", { role: "alert" }, upload.error), newImportLink());
          return;
        }
        const percent = upload.total ? Math.floor((upload.sent / upload.total) * 100) : 0;
        replace(
          this.body,
          h("h3", { tabindex: "-1" }, "Uploading the file"),
          progressElement("Upload", percent, 100, `${percent}% of ${upload.file.name} sent`),
          h("p", null, upload.done ? "Sent: the file is being checked." : `${percent}% sent`),
        );
      };
      upload.listeners.add(draw);
      this.removeUploadListener = () => upload.listeners.delete(draw);
      draw();
      return;
    }
    this.removeUploadListener?.();
    this.removeUploadListener = null;
    const words: Record<string, string> = {
      pending: "Waiting for the file to arrive in the store. If it was never sent (the page was closed during the upload), start a new import.",
      validating: "Checking the file's size, encoding and columns…",
      preparing: "Reading and cleaning every row, and looking for duplicates…",
    };
    replace(this.body, h("h3", { tabindex: "-1" }, statusLabel(job.status)), h("p", null, words[job.status] ?? ""));
  }

  private drawRejected(job: JobDetail): void {
    replace(
      this.body,
      h("h3", { tabindex: "-1" }, "The file was rejected"),
      h("p", { class: "reason" }, job.reason ?? "No reason was given."),
      job.missing_columns.length
        ? [
            h("h4", { id: "missing-columns" }, `Missing columns (${job.missing_columns.length})`),
            h("ul", { "aria-labelledby": "missing-columns", class: "missing" }, job.missing_columns.map((column) => h("li", null, h("code", null, column)))),
            h("p", null, "Export the file again with these columns, then start a new import. Nothing was written."),
          ]
        : null,
      newImportLink(),
    );
  }

  // ---- the preview, the duplicates and the decision -------------------------------------------

  private drawQuestion(job: JobDetail): void {
    const question = job.preview?.question;
    if (!question) return;
    replace(this.body, dateQuestion(this.context, job, question, (next) => this.show({ ...next, preview: null })));
  }

  private drawReady(job: JobDetail): void {
    const review = job.counts.duplicates ? new DuplicateReview(this.context.api, this.jobId) : null;
    // A sync over its deletion threshold waits for the deletions to be confirmed.
    const sweep = job.preview?.sweep;
    const confirming = Boolean(sweep?.needs_confirmation);
    const run = h("button", { type: "button", class: confirming ? "danger" : "primary" }, confirming ? "Confirm deletions and run the import" : "Run the import");
    const cancel = h("button", { type: "button" }, "Cancel this import");
    const answer = h("div", { role: "alert", class: "problem" });
    run.addEventListener("click", () => {
      const decision: DecisionRequest = review ? review.decision() : { default: "skip" as Choice, overrides: {} };
      if (confirming) decision.confirm_deletions = true;
      run.disabled = cancel.disabled = true;
      replace(answer);
      this.context.api.decide(this.jobId, decision).then(
        (next) => this.show({ ...next, preview: job.preview ?? null }),
        (error: unknown) => {
          run.disabled = cancel.disabled = false;
          replace(answer, error instanceof Error ? error.message : String(error));
        },
      );
    });
    cancel.addEventListener("click", () => {
      run.disabled = cancel.disabled = true;
      this.context.api.cancel(this.jobId).then(
        (next) => this.show(next),
        (error: unknown) => {
          run.disabled = cancel.disabled = false;
          replace(answer, error instanceof Error ? error.message : String(error));
        },
      );
    });
    replace(
      this.body,
      previewSection(job),
      review?.element,
      h(
        "section",
        { "aria-labelledby": "run-heading", class: "run" },
        h("h3", { id: "run-heading", tabindex: "-1" }, "Run"),
        h(
          "p",
          null,
          review
            ? "The import writes the customers with your choice for each possible duplicate; the rows with errors are left out and listed in the error log."
            : "The import writes the customers as previewed; the rows with errors are left out and listed in the error log.",
        ),
        confirming && sweep
          ? h(
              "p",
              { class: "warning-box", id: "confirm-deletions" },
              `This sync would bin ${count(sweep.to_bin)} of the ${count(sweep.live)} customers of account ${sweep.account}, more than its threshold allows without asking. Running it confirms the deletions: they go to the recycle bin, from where they can be restored.`,
            )
          : null,
        answer,
        h("div", { class: "actions" }, run, cancel),
      ),
    );
  }

  // ---- the import ---------------------------------------------------------------------------

  private drawRollingBack(job: JobDetail): void {
    this.bar = new ProgressBar("rollback-heading", rollbackProgress);
    this.bar.update(job.counts);
    replace(
      this.body,
      h("h3", { tabindex: "-1", id: "rollback-heading" }, "Rolling back"),
      this.bar.element,
      h("p", { class: "hint" }, "You may leave this page: the rollback goes on, and this page shows where it is when you come back."),
    );
  }

  private drawImporting(job: JobDetail): void {
    this.bar = new ProgressBar("importing-heading", importProgress);
    this.bar.update(job.counts);
    replace(this.body, h("h3", { tabindex: "-1", id: "importing-heading" }, "Importing"), this.bar.element, h("p", { class: "hint" }, "You may leave this page: the import goes on, and this page shows where it is when you come back."));
  }

  private async drawFinal(job: JobDetail): Promise<void> {
    const counts = job.counts;
    const titles: Record<string, string> = {
      completed: "Import completed",
      completed_with_errors: "Import completed with errors",
      failed: "Import failed",
      cancelled: "Import cancelled",
      expired: "Import expired",
      rolled_back: "Import rolled back",
      rolled_back_with_conflicts: "Import rolled back with conflicts",
    };
    const rolledBack = job.status.startsWith("rolled_back");
    const download = h("div", { class: "error-log" });
    replace(
      this.body,
      h("h3", { tabindex: "-1" }, titles[job.status] ?? statusLabel(job.status)),
      job.reason ? h("p", { class: "reason" }, job.reason) : null,
      rolledBack ? rollbackResult(this.context, job) : null,
      ["cancelled", "expired"].includes(job.status)
        ? h("p", null, "Nothing was written.")
        : [
            rolledBack ? h("h4", { id: "import-summary" }, "What the import had done") : null,
            h(
              "dl",
              { class: "counts", "aria-label": "Summary" },
              SUMMARY_COUNTS.filter(([name, , always]) => always || (counts[name] ?? 0) > 0).map(([name, label]) =>
                countItem(name, label, counts[name]),
              ),
            ),
          ],
      download,
      job.status === "completed_with_errors" && (counts.retryable ?? 0) > 0
        ? retrySection(this.context, job, () => this.followAgain())
        : null,
      // The job is rolling back now: follow it to the rollback's end.
      ROLLED_BACK_FROM.has(job.status) ? rollbackSection(this.context, job, () => this.followAgain()) : null,
      ["completed", "completed_with_errors"].includes(job.status) ? profileSection(this.context, job) : null,
      h("p", null, h("a", { href: "#/" }, "Start a new import or see the import history")),
    );
    if (!job.has_error_log) {
      replace(download, h("p", null, "No row failed: there is no error log."));
      return;
    }
    replace(download, h("p", null, "Preparing the error log link…"));
    try {
      const link = await this.context.api.errorLog(this.jobId);
      const url = safeHttpUrl(link.url);
      replace(
        download,
        url
          ? h("a", { href: url, download: `errors-${this.jobId}.csv`, class: "download" }, "Download the error log (CSV)")
          : h("p", null, "No row failed: there is no error log."),
        url ? h("p", { class: "hint" }, "Each failed row with its column, the reason and the original values; the link works for an hour.") : null,
      );
    } catch (error) {
      replace(download, h("p", { role: "alert" }, error instanceof Error ? error.message : String(error)));
    }
  }
}

// What the API takes as a profile's name (customer_import.profiles.PROFILE_NAME_PATTERN).
const PROFILE_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** Keep the settings this import ran with as a profile (POST /profiles/{name}/from-job), for
 * the next import, or an ERP's drops, to run with. */
function profileSection(context: Context, job: JobDetail): HTMLElement {
  const nameId = "profile-name";
  const hintId = "profile-name-hint";
  const name = h("input", { id: nameId, name: "profile", type: "text", autocomplete: "off", spellcheck: "false", "aria-describedby": hintId, value: job.profile ?? "" });
  const save = h("button", { type: "submit" }, "Save as a profile");
  const result = h("p", { role: "status" });
  const problem = h("div", { role: "alert", class: "problem" });
  let replacing: string | null = null; // the existing profile a second click replaces
  name.addEventListener("input", () => {
    replacing = null;
    replace(save, "Save as a profile");
  });
  const form = h(
    "form",
    { class: "profile-form", novalidate: true },
    h("div", { class: "field" }, h("label", { for: nameId }, "Profile name"), name, h("span", { id: hintId, class: "hint" }, "Lowercase letters, digits, - and _, at most 64; an ERP drops its files under drops/<organisation>/<profile>/.")),
    h("div", { class: "actions" }, save),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const wanted = name.value.trim();
    replace(problem);
    replace(result);
    if (!PROFILE_NAME.test(wanted)) {
      replace(problem, "A profile's name is lowercase letters, digits, - and _, starting with a letter or digit, at most 64 characters.");
      name.focus();
      return;
    }
    save.disabled = true;
    const saving =
      replacing === wanted
        ? Promise.resolve(false)
        : context.api.profiles().then(({ items }) => items.some((profile) => profile.name === wanted));
    saving
      .then((exists) => {
        if (exists) {
          replacing = wanted;
          replace(save, `Replace profile ${wanted}`);
          replace(result, `A profile named ${wanted} exists: saving again replaces its settings with this import's.`);
          return;
        }
        return context.api.saveProfileFromJob(wanted, job.job_id).then((saved) => {
          replacing = null;
          replace(save, "Save as a profile");
          replace(result, `Saved profile ${saved.name}: account ${saved.account}, ${saved.mode}; a new import can choose it.`);
        });
      })
      .catch((error: unknown) => replace(problem, error instanceof Error ? error.message : String(error)))
      .finally(() => {
        save.disabled = false;
      });
  });
  return h(
    "section",
    { "aria-labelledby": "profile-heading", class: "profile" },
    h("h3", { id: "profile-heading" }, "Keep these settings"),
    h("p", null, "A profile holds this import's source, account, mode, key, transfers and the way its file was read, so the next import (or an ERP's nightly file) runs the same way."),
    form,
    result,
    problem,
  );
}

/** Import again the rows that failed to be written (POST /imports/{id}/retry). */
function retrySection(context: Context, job: JobDetail, onStarted: () => void): HTMLElement {
  const rows = job.counts.retryable ?? 0;
  const run = h("button", { type: "button" }, `Import the ${count(rows)} ${rows === 1 ? "row" : "rows"} again`);
  const problem = h("div", { role: "alert", class: "problem" });
  run.addEventListener("click", () => {
    run.disabled = true;
    replace(problem);
    context.api.retry(job.job_id).then(onStarted, (error: unknown) => {
      run.disabled = false;
      replace(problem, error instanceof Error ? error.message : String(error));
    });
  });
  return h(
    "section",
    { "aria-labelledby": "retry-heading", class: "retry" },
    h("h3", { id: "retry-heading" }, "Rows that failed to be written"),
    h(
      "p",
      null,
      `${count(rows)} ${rows === 1 ? "row was" : "rows were"} read and cleaned but not written (the database refused ${rows === 1 ? "it" : "them"}, or ${rows === 1 ? "its" : "their"} batch failed after its retries). Importing ${rows === 1 ? "it" : "them"} again writes only ${rows === 1 ? "that row" : "those rows"}; the rows whose values were wrong stay in the error log, to be corrected in the file.`,
    ),
    h("div", { class: "actions" }, run),
    problem,
  );
}

/** Where a run is: done of total, in words, and a detail line. */
type Progress = (counts: Record<string, number>) => { done: number; total: number; words: string; detail: string };

/** Customers settled (imported, skipped or failed) of the file's. */
const importProgress: Progress = (counts) => {
  const total = counts.customers ?? 0;
  const done = Math.min(counts.processed ?? 0, total);
  return {
    done,
    total,
    words: `${count(done)} of ${count(total)} processed`,
    detail: `${count(counts.imported)} imported · ${count(counts.failed)} failed`,
  };
};

/** The rollback's batches undone of its batches (100 customers each). */
const rollbackProgress: Progress = (counts) => {
  const total = counts.rollback_batches_total ?? 0;
  const done = Math.min(counts.rollback_batches_done ?? 0, total);
  const undone = ["created", "updated", "merged", "deleted", "restored", "copied", "moved"].reduce(
    (sum, name) => sum + (counts[`reverted_${name}`] ?? 0),
    0,
  );
  return {
    done,
    total,
    words: total ? `${count(done)} of ${count(total)} batches undone` : "Staging the changes to undo…",
    detail: `${count(undone)} changes undone · ${count(counts.conflicts)} left as changed since`,
  };
};

/** The live "X of Y" bar. */
class ProgressBar {
  readonly element: HTMLElement;
  private readonly bar: HTMLElement;
  private readonly fill: HTMLElement;
  private readonly text: HTMLElement;
  private readonly detail: HTMLElement;

  constructor(
    labelledBy: string,
    private readonly progress: Progress,
  ) {
    this.fill = h("div", { class: "fill" });
    this.bar = h(
      "div",
      { role: "progressbar", class: "bar", "aria-labelledby": labelledBy, "aria-valuemin": "0", "aria-valuemax": "0", "aria-valuenow": "0" },
      this.fill,
    );
    this.text = h("p", { class: "bar-text" });
    this.detail = h("p", { class: "bar-detail" });
    this.element = h("div", { class: "progress" }, this.bar, this.text, this.detail);
  }

  update(counts: Record<string, number>): void {
    const { done, total, words, detail } = this.progress(counts);
    this.bar.setAttribute("aria-valuemax", String(total));
    this.bar.setAttribute("aria-valuenow", String(done));
    this.bar.setAttribute("aria-valuetext", words);
    this.fill.style.width = `${total ? (done / total) * 100 : 0}%`;
    replace(this.text, words);
    replace(this.detail, detail);
  }
}

function progressElement(label: string, value: number, max: number, text: string): HTMLElement {
  const fill = h("div", { class: "fill" });
  fill.style.width = `${max ? (value / max) * 100 : 0}%`;
  return h("div", { role: "progressbar", class: "bar", "aria-label": label, "aria-valuemin": "0", "aria-valuemax": String(max), "aria-valuenow": String(value), "aria-valuetext": text }, fill);
}

/** The job's state in words; at `ready`, what it waits for. */
function statusText(job: JobDetail): string {
  if (job.status === "ready" && job.preview?.question) return "Waiting for your answer: how does the file write its dates?";
  if (job.status === "ready" && job.preview?.sweep?.needs_confirmation) return "Waiting for you to confirm the deletions";
  return statusLabel(job.status);
}

/** The job in one line: its source and profile, account, mode and transfer, who started it. */
function describeJob(job: JobDetail): string {
  const source = job.source === "techman" ? "Techman export" : job.source === "mapped" ? "mapped file" : job.source;
  const transfer =
    job.transfer && job.transfer !== "none"
      ? ` · ${job.transfer === "move" ? "moving" : "copying"} customers from other accounts${job.transfer_related ? " with related records" : ""}`
      : "";
  const profile = job.profile ? ` · profile ${job.profile}` : "";
  return `${source}${profile} · account ${job.account} · ${job.mode}${transfer} · started ${when(job.created_at)} by ${job.created_by}`;
}

function newImportLink(): HTMLElement {
  return h("p", null, h("a", { href: "#/" }, "Start a new import"));
}
