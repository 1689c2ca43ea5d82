// The start of an import (file, source, account, mode) and the organisation's import history.

import { ApiError, type JobSummary, type NewImport, type NewProfileImport } from "./api";
import type { Context, Screen, UploadState } from "./context";
import { count, h, replace, uid, when } from "./dom";
import { ImportSettings } from "./import-settings";
import { statusLabel } from "./labels";
import { screenLinks, withoutCapability } from "./nav";
import { can, IMPORT_MANAGE } from "./session";
import { uploadFile } from "./upload";

export class HomeScreen implements Screen {
  readonly element: HTMLElement;
  private chosen: File | null = null;

  constructor(private readonly context: Context) {
    document.title = "Import data · Settings";
    const heading = h("h1", { tabindex: "-1" }, "Import data");
    if (!can(context.session, IMPORT_MANAGE)) {
      this.element = withoutCapability(
        context,
        "imports",
        heading,
        IMPORT_MANAGE,
        "cannot import customers or see the imports. Sign out and sign in again with it.",
      );
      return;
    }
    this.element = h("div", null, heading, screenLinks(context, "imports"), this.form(), this.history());
  }

  dispose(): void {}

  // ---- a new import ------------------------------------------------------------------------

  private form(): HTMLElement {
    const fileId = uid("file");
    const hintId = uid("file-hint");
    const chosenText = h("p", { class: "chosen", id: uid("chosen"), "aria-live": "polite" }, "No file chosen yet.");
    const input = h("input", {
      type: "file",
      id: fileId,
      name: "file",
      accept: ".csv,text/csv,.xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
      class: "file-input",
      "aria-describedby": `${hintId} ${chosenText.id}`,
    });
    const choose = (file: File | null | undefined): void => {
      this.chosen = file ?? null;
      replace(chosenText, file ? ["Chosen: ", h("strong", null, file.name), ` (${sizeText(file.size)})`] : "No file chosen yet.");
      zone.classList.toggle("has-file", Boolean(file));
    };
    input.addEventListener("change", () => choose(input.files?.[0]));
    const zone = h(
      "div",
      { class: "drop-zone", "data-testid": "drop-zone" },
      h("label", { for: fileId, class: "drop-label" }, "Choose the customer file (CSV, or XLSX with a profile)"),
      input,
      h("p", { id: hintId, class: "hint" }, "Or drop the file here. Up to 30 MiB and 100,000 rows."),
      chosenText,
    );
    for (const name of ["dragenter", "dragover"]) {
      zone.addEventListener(name, (event) => {
        event.preventDefault();
        zone.classList.add("dragging");
      });
    }
    zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
    zone.addEventListener("drop", (event) => {
      event.preventDefault();
      zone.classList.remove("dragging");
      const file = (event as DragEvent).dataTransfer?.files?.[0];
      if (file) choose(file);
    });

    const settings = new ImportSettings(this.context.api, this.context.session);
    const problem = h("div", { role: "alert", class: "problem" });
    const submit = h("button", { type: "submit", class: "primary" }, "Upload and check the file");
    const form = h(
      "form",
      { novalidate: true, "aria-labelledby": "new-import" },
      h("h2", { id: "new-import" }, "New import"),
      zone,
      settings.element,
      problem,
      submit,
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      replace(problem);
      if (!this.chosen) {
        replace(problem, "Choose a file first.");
        input.focus();
        return;
      }
      const request = settings.request();
      if (!request.ok) {
        replace(problem, request.problem);
        request.field.focus();
        return;
      }
      submit.disabled = true;
      void this.start(this.chosen, request.body(this.chosen)).catch((error: unknown) => {
        submit.disabled = false;
        replace(problem, error instanceof Error ? error.message : String(error));
      });
    });
    return form;
  }

  /** Create the job, start the upload, and show the job (#/imports/<id>) while it goes. */
  private async start(file: File, body: NewImport | NewProfileImport): Promise<void> {
    const created = await this.context.api.createImport(body);
    const upload: UploadState = { file, sent: 0, total: file.size, error: null, done: false, listeners: new Set() };
    const changed = (): void => upload.listeners.forEach((listener) => listener());
    this.context.uploads.set(created.job_id, upload);
    uploadFile(created.upload, file, (sent, total) => {
      upload.sent = sent;
      upload.total = total;
      changed();
    }).then(
      () => {
        upload.done = true;
        changed();
      },
      (error: unknown) => {
        upload.error = error instanceof Error ? error.message : String(error);
        changed();
      },
    );
    location.hash = `#/imports/${created.job_id}`;
  }

  // ---- the history ---------------------------------------------------------------------------

  private history(): HTMLElement {
    const body = h("tbody");
    const status = h("p", { role: "status" }, "Loading the imports…");
    const more = h("button", { type: "button", hidden: true }, "Show older imports");
    const table = h(
      "table",
      { hidden: true },
      h("caption", null, "Your organisation's imports, newest first"),
      h(
        "thead",
        null,
        h(
          "tr",
          null,
          ["File", "Account", "Mode", "Status", "Started", "Customers", "Imported", "Failed"].map((label, index) =>
            h("th", { scope: "col", class: index >= 5 ? "number" : null }, label),
          ),
        ),
      ),
      body,
    );
    let cursor: string | undefined;
    const load = async (): Promise<void> => {
      more.disabled = true;
      try {
        const page = await this.context.api.imports(20, cursor);
        for (const job of page.items) body.appendChild(historyRow(job));
        cursor = page.next_cursor ?? undefined;
        more.hidden = !cursor;
        table.hidden = body.childElementCount === 0;
        replace(status, body.childElementCount === 0 ? "No import yet." : "");
      } catch (error) {
        replace(status, error instanceof ApiError ? error.message : String(error));
      } finally {
        more.disabled = false;
      }
    };
    more.addEventListener("click", () => void load());
    void load();
    return h(
      "section",
      { "aria-labelledby": "history", class: "history" },
      h("h2", { id: "history" }, "Import history"),
      status,
      table,
      more,
    );
  }
}

function historyRow(job: JobSummary): HTMLTableRowElement {
  return h(
    "tr",
    { "data-job": job.job_id },
    h("td", null, h("a", { href: `#/imports/${job.job_id}` }, job.file_name)),
    h("td", null, job.account),
    h("td", null, job.mode),
    h("td", null, h("span", { class: `status status-${job.status}` }, statusLabel(job.status))),
    h("td", null, when(job.created_at)),
    h("td", { class: "number" }, count(job.counts.customers)),
    h("td", { class: "number" }, count(job.counts.imported)),
    h("td", { class: "number" }, count(job.counts.failed)),
  );
}

export function sizeText(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
