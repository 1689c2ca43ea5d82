// The organisation's audit log (GET /audit, capability settings.import.manage), newest first:
// who started, decided, answered, cancelled, retried and rolled back which import and how each
// ended, who restored or edited which customer, who changed the settings and the profiles.

import type { AuditEntry } from "./api";
import { focusHeading, type Context, type Screen } from "./context";
import { count, h, replace } from "./dom";
import { auditAction } from "./labels";
import { screenLinks, withoutCapability } from "./nav";
import { can, IMPORT_MANAGE } from "./session";

// Entries per page: the API's most; older ones come a page at a time, on request.
const PAGE = 100;
const JOB_ID = /^[0-9a-fA-F-]{36}$/;

export class AuditScreen implements Screen {
  readonly element: HTMLElement;
  private readonly heading = h("h2", { id: "audit-heading", tabindex: "-1" }, "Audit log");
  private readonly status = h("p", { role: "status" }, "Loading the audit log…");
  private readonly body = h("tbody");
  private readonly table: HTMLTableElement;
  private readonly more = h("button", { type: "button", hidden: true }, "Show older entries");
  private cursor: string | undefined;
  private disposed = false;

  constructor(private readonly context: Context) {
    document.title = "Audit log · Import data";
    const title = h("h1", null, "Import data");
    this.table = h(
      "table",
      { hidden: true, class: "audit" },
      h("caption", null, "The organisation's audit log, newest first"),
      h("thead", null, h("tr", null, ["When", "Who", "What", "About", "Details"].map((label) => h("th", { scope: "col" }, label)))),
      this.body,
    );
    if (!can(context.session, IMPORT_MANAGE)) {
      this.element = withoutCapability(context, "audit", title, IMPORT_MANAGE, "cannot read the audit log.");
      return;
    }
    this.more.addEventListener("click", () => void this.load());
    this.element = h(
      "div",
      null,
      title,
      screenLinks(context, "audit"),
      h("section", { "aria-labelledby": "audit-heading" }, this.heading, this.status, this.table, this.more),
    );
    void this.load().then(() => focusHeading(this.heading));
  }

  dispose(): void {
    this.disposed = true;
  }

  private async load(): Promise<void> {
    this.more.disabled = true;
    try {
      const page = await this.context.api.audit(PAGE, this.cursor);
      if (this.disposed) return;
      for (const entry of page.items) this.body.appendChild(entryRow(entry));
      this.cursor = page.next_cursor ?? undefined;
      this.more.hidden = !this.cursor;
      const shown = this.body.childElementCount;
      this.table.hidden = shown === 0;
      replace(this.status, shown ? (this.cursor ? `The latest ${count(shown)} entries.` : `All ${count(shown)} entries.`) : "Nothing has happened yet.");
    } catch (error) {
      replace(this.status, error instanceof Error ? error.message : String(error));
    } finally {
      this.more.disabled = false;
    }
  }
}

function entryRow(entry: AuditEntry): HTMLTableRowElement {
  return h(
    "tr",
    { "data-action": entry.action },
    h("td", null, h("time", { datetime: entry.at }, exactly(entry.at))),
    h("td", null, entry.actor),
    h("th", { scope: "row" }, auditAction(entry.action)),
    h("td", null, about(entry)),
    h("td", null, details(entry)),
  );
}

/** What the entry concerns: the import (a link to it), the customer, the profile. */
function about(entry: AuditEntry): Node | string {
  const d = entry.details;
  if (entry.action.startsWith("import.") && JOB_ID.test(entry.job_id)) {
    return h("a", { href: `#/imports/${entry.job_id}` }, text(d.file) || `import ${entry.job_id}`);
  }
  if (entry.action.startsWith("customer.")) {
    const number = text(d.external_customer_number);
    return `customer ${number || entry.job_id}${d.account ? ` (account ${text(d.account)})` : ""}`;
  }
  if (entry.action.startsWith("profile.")) return `profile ${text(d.profile)}`;
  return entry.job_id;
}

const SHOWN_ELSEWHERE = new Set(["file", "external_customer_number", "profile", "customer_id"]);

function details(entry: AuditEntry): HTMLElement | string {
  const items = Object.entries(entry.details)
    .filter(([name]) => !SHOWN_ELSEWHERE.has(name))
    .map(([name, value]) => h("li", null, h("span", { class: "column" }, name.replace(/_s$/, "").replace(/_/g, " ")), ": ", describe(name, value)));
  return items.length ? h("ul", { class: "details" }, items) : "";
}

/** A detail's value as text: counts without their zeros, transfers by account. */
function describe(name: string, value: unknown): string {
  if (name === "counts" && value && typeof value === "object") {
    const shown = Object.entries(value as Record<string, unknown>).filter(([, n]) => typeof n === "number" && n > 0);
    return shown.length ? shown.map(([counter, n]) => `${count(n as number)} ${counter.replace(/_/g, " ")}`).join(" · ") : "none";
  }
  if (name === "transfers" && Array.isArray(value)) {
    return value
      .map((line: Record<string, unknown>) => `from ${text(line.from_account)}${line.from_recycle_bin ? " (its recycle bin)" : ""}: ${text(line.copied)} copied, ${text(line.moved)} moved`)
      .join("; ");
  }
  if (name === "duration_s" && typeof value === "number") return `${value.toLocaleString("en-GB")} s`;
  if (name.endsWith("_at") && typeof value === "string") return exactly(value);
  return text(value);
}

/** An ISO time to the second, in the reader's time zone: "3 Dec 2026, 12:43:19". */
function exactly(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "medium" });
}

function text(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value) && value.every((item) => typeof item !== "object")) return value.join(", ");
  return JSON.stringify(value);
}
