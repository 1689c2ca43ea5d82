// What the import will do, before anything is written: the whole file's counts and its first
// customers as they will be imported, each cleaned value beside the original.

import type { Change, JobDetail, Planned, PlannedChange, PreviewCustomer, RowIssue, Sweep, TransferLine } from "./api";
import { count, h } from "./dom";
import { KEYS, PLANNED, PREVIEW_COUNTS } from "./labels";

export function previewSection(job: JobDetail): HTMLElement {
  const preview = job.preview;
  const section = h("section", { "aria-labelledby": "preview-heading", class: "preview" }, h("h3", { id: "preview-heading", tabindex: "-1" }, "Preview"));
  if (!preview) {
    section.appendChild(h("p", null, "The preview is not available."));
    return section;
  }
  const counts = preview.counts;
  const known = new Set(PREVIEW_COUNTS.map(([name]) => name));
  section.append(
    h("p", null, "Nothing is written until you run the import. The counts are the whole file's; the table shows its first customers as they will be imported."),
    h(
      "dl",
      { class: "counts", "aria-label": "The whole file" },
      PREVIEW_COUNTS.filter(([name]) => name in counts).map(([name, label]) => countItem(name, label, counts[name])),
      Object.keys(counts)
        .filter((name) => !known.has(name))
        .map((name) => countItem(name, name.replace(/_/g, " "), counts[name])),
    ),
  );
  if (preview.sweep) section.append(sweepSection(preview.sweep));
  if (preview.transfers) section.append(transfersSection(preview.transfers));
  if (job.warnings.length) {
    section.append(h("h4", { id: "file-warnings" }, "About the file"), h("ul", { "aria-labelledby": "file-warnings", class: "warnings" }, job.warnings.map((warning) => h("li", null, warning))));
  }
  const unreadable = preview.unreadable_rows ?? [];
  if (unreadable.length) {
    section.append(
      h("h4", { id: "unreadable" }, "Rows that could not be read"),
      h("ul", { "aria-labelledby": "unreadable", class: "issues" }, unreadable.map((issue) => h("li", { class: "error" }, issueText(issue)))),
    );
  }
  const customers = preview.customers;
  // Update modes say per customer what will happen: created, updated (each field's old → new),
  // unchanged, restored, copied or moved from another account.
  const planning = customers.some((customer) => customer.planned);
  section.append(
    h(
      "div",
      { class: "table-scroll", tabindex: "0", role: "region", "aria-labelledby": "preview-caption" },
      h(
        "table",
        { class: "preview-table" },
        h("caption", { id: "preview-caption" }, `The first ${count(customers.length)} of ${count(counts.customers)} customers`),
        h(
          "thead",
          null,
          h(
            "tr",
            null,
            [
              "Row",
              "Number",
              "Name",
              ...(planning ? ["What will happen (stored → file)"] : []),
              "Contact",
              "Address",
              "Vehicles",
              "Cleaned (original → cleaned)",
              "Warnings and errors",
            ].map((label) => h("th", { scope: "col" }, label)),
          ),
        ),
        h("tbody", null, customers.map((customer) => customerRow(customer, planning))),
      ),
    ),
  );
  return section;
}

/** One count of a `<dl class="counts">`: its name, and the figure (data-count names it). */
export function countItem(name: string, label: string, value: number | undefined): HTMLElement {
  return h("div", { class: "count" }, h("dt", null, label), h("dd", { "data-count": name }, count(value)));
}

/** What a sync will bin: the account's live customers the file no longer holds. */
function sweepSection(sweep: Sweep): HTMLElement {
  const percent = `${sweep.percent.toLocaleString("en-GB", { maximumFractionDigits: 1 })} %`;
  return h(
    "section",
    { "aria-labelledby": "sweep-heading", class: `sweep${sweep.needs_confirmation ? " over-threshold" : ""}` },
    h("h4", { id: "sweep-heading" }, "Customers the sync will bin"),
    h(
      "dl",
      { class: "counts", "aria-label": "What the sync will bin" },
      countItem("to_bin", "To bin", sweep.to_bin),
      countItem("live", `Live customers of account ${sweep.account}`, sweep.live),
      h("div", { class: "count" }, h("dt", null, "Share of the account"), h("dd", { "data-count": "percent" }, percent)),
    ),
    h(
      "p",
      null,
      sweep.to_bin
        ? `The file no longer holds ${count(sweep.to_bin)} of the ${count(sweep.live)} live customers of account ${sweep.account}: after the import writes the file's customers, the sync moves those into the account's recycle bin, from where they can be restored until they are purged.`
        : `Every live customer of account ${sweep.account} is in the file: the sync bins nobody.`,
    ),
    sweep.needs_confirmation && sweep.confirmation ? h("p", { class: "warning-box" }, h("strong", null, "Waiting for your confirmation: "), sweep.confirmation) : null,
    sweep.customers?.length ? binnedTable(sweep) : null,
  );
}

function binnedTable(sweep: Sweep): HTMLElement {
  const customers = sweep.customers ?? [];
  const caption =
    customers.length < sweep.to_bin
      ? `The first ${count(customers.length)} of the ${count(sweep.to_bin)} customers the sync will bin, by number`
      : `The ${count(customers.length)} customers the sync will bin, by number`;
  return h(
    "div",
    { class: "table-scroll", tabindex: "0", role: "region", "aria-labelledby": "binned-caption" },
    h(
      "table",
      { class: "binned-table" },
      h("caption", { id: "binned-caption" }, caption),
      h("thead", null, h("tr", null, ["Number", "Name", "Email", "Phone"].map((label) => h("th", { scope: "col" }, label)))),
      h(
        "tbody",
        null,
        customers.map((c) =>
          h("tr", null, h("th", { scope: "row" }, c.external_customer_number ?? ""), h("td", null, c.name ?? ""), h("td", null, c.email ?? ""), h("td", null, c.phone ?? "")),
        ),
      ),
    ),
  );
}

/** The customers a transfer brings from the organisation's other accounts. */
function transfersSection(transfers: TransferLine[]): HTMLElement {
  const section = h("section", { "aria-labelledby": "transfers-heading", class: "transfers" }, h("h4", { id: "transfers-heading" }, "Transfers from other accounts"));
  if (!transfers.length) {
    section.append(h("p", null, "No customer of the file that this account lacks is in another account: nothing will be transferred."));
    return section;
  }
  section.append(
    h(
      "table",
      { class: "transfers-table" },
      h("caption", null, "Customers the import will copy or move into the account, by the account they come from"),
      h(
        "thead",
        null,
        h(
          "tr",
          null,
          ["From account", "From its recycle bin", "Customers", "Copied", "Moved"].map((label, index) => h("th", { scope: "col", class: index >= 2 ? "number" : null }, label)),
        ),
      ),
      h(
        "tbody",
        null,
        transfers.map((line) =>
          h(
            "tr",
            { "data-account": line.from_account },
            h("th", { scope: "row" }, line.from_account),
            h("td", null, line.from_recycle_bin ? "yes" : "no"),
            h("td", { class: "number" }, count(line.customers)),
            h("td", { class: "number" }, count(line.copied)),
            h("td", { class: "number" }, count(line.moved)),
          ),
        ),
      ),
    ),
  );
  return section;
}

/** One customer's planned change: the action, where a transfer comes from, each field. */
function plannedCell(planned: Planned | undefined): HTMLTableCellElement {
  if (!planned) return h("td", null, "");
  const from = planned.from_account
    ? ` from account ${planned.from_account}${planned.from_recycle_bin ? " (its recycle bin)" : ""}`
    : "";
  const changes = planned.action === "create" ? [] : (planned.changes ?? []);
  return h(
    "td",
    { class: "planned", "data-action": planned.action },
    h("span", { class: "action" }, `${PLANNED[planned.action] ?? planned.action}${from}`),
    changes.length ? h("ul", { class: "planned-changes" }, changes.map(plannedChange)) : null,
  );
}

function plannedChange(change: PlannedChange): HTMLLIElement {
  return changeLine(change.field, valueText(change.old), valueText(change.new));
}

/** "column: before → after", the arrow said as "becomes" to a screen reader. */
function changeLine(column: string, before: string, after: string): HTMLLIElement {
  return h(
    "li",
    null,
    h("span", { class: "column" }, column),
    ": ",
    h("span", { class: "original" }, before),
    h("span", { "aria-hidden": "true" }, " → "),
    h("span", { class: "sr-only" }, " becomes "),
    h("span", { class: "cleaned" }, after),
  );
}

/** A stored or incoming value as text: an address or vehicle as its parts. */
export function valueText(value: unknown): string {
  if (value === null || value === undefined || value === "") return "(empty)";
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (typeof value === "string" || typeof value === "number") return String(value);
  if (typeof value === "object" && !Array.isArray(value)) {
    const parts = Object.entries(value as Record<string, unknown>)
      .filter(([, part]) => part !== null && part !== undefined && part !== "")
      .map(([name, part]) => `${name} ${typeof part === "object" ? JSON.stringify(part) : String(part)}`);
    return parts.length ? parts.join(", ") : "(empty)";
  }
  return JSON.stringify(value);
}

function customerRow(customer: PreviewCustomer, planning: boolean): HTMLTableRowElement {
  const address = customer.addresses[0];
  const failing = customer.errors.length > 0;
  return h(
    "tr",
    { class: failing ? "failing" : null, "data-number": customer.external_customer_number ?? "" },
    h("td", { class: "number" }, customer.rows.join(", ")),
    h("td", null, customer.external_customer_number ?? ""),
    h(
      "th",
      { scope: "row", class: "name" },
      customer.name ?? "(no name)",
      customer.duplicate
        ? h(
            "span",
            { class: "badge" },
            `possible duplicate of ${customer.duplicate.customer.name ?? "a customer"} (${customer.duplicate.keys.map((key) => KEYS[key] ?? key).join(", ")})`,
          )
        : null,
    ),
    planning ? plannedCell(customer.planned) : null,
    h("td", null, lines([customer.email, customer.phone, customer.landline])),
    h("td", null, address ? lines([address.line1, address.town, address.postcode]) : ""),
    h("td", null, customer.vehicles.map((vehicle) => vehicle.registration).filter(Boolean).join(", ")),
    h("td", null, customer.changes.length ? h("ul", { class: "changes" }, customer.changes.map(changeItem)) : ""),
    h(
      "td",
      null,
      customer.errors.length || customer.warnings.length
        ? h(
            "ul",
            { class: "issues" },
            customer.errors.map((issue) => h("li", { class: "error" }, h("strong", null, "Error: "), issueText(issue))),
            customer.warnings.map((issue) => h("li", { class: "warning" }, h("strong", null, "Warning: "), issueText(issue))),
          )
        : "",
    ),
  );
}

function changeItem(change: Change): HTMLLIElement {
  return changeLine(change.column, change.original, change.cleaned ?? "(empty)");
}

function issueText(issue: RowIssue): string {
  return `row ${issue.row}, ${issue.column}: ${issue.reason}`;
}

function lines(values: (string | null | undefined)[]): (string | HTMLElement)[] {
  const present = values.filter((value): value is string => Boolean(value));
  return present.flatMap((value, index) => (index ? [h("br"), value] : [value]));
}
