// What the import will do, before anything is written: the whole file's counts and its first
// customers as they will be imported, each cleaned value beside the original.

import type { Change, JobDetail, PreviewCustomer, RowIssue } from "./api";
import { count, h } from "./dom";
import { KEYS, PREVIEW_COUNTS } from "./labels";

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
  if (job.warnings.length) {
    section.append(h("h4", { id: "file-warnings" }, "About the file"), h("ul", { "aria-labelledby": "file-warnings", class: "warnings" }, job.warnings.map((warning) => h("li", null, warning))));
  }
  if (preview.unreadable_rows.length) {
    section.append(
      h("h4", { id: "unreadable" }, "Rows that could not be read"),
      h("ul", { "aria-labelledby": "unreadable", class: "issues" }, preview.unreadable_rows.map((issue) => h("li", { class: "error" }, issueText(issue)))),
    );
  }
  const customers = preview.customers;
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
            ["Row", "Number", "Name", "Contact", "Address", "Vehicles", "Cleaned (original → cleaned)", "Warnings and errors"].map((label) => h("th", { scope: "col" }, label)),
          ),
        ),
        h("tbody", null, customers.map(customerRow)),
      ),
    ),
  );
  return section;
}

/** One count of a `<dl class="counts">`: its name, and the figure (data-count names it). */
export function countItem(name: string, label: string, value: number | undefined): HTMLElement {
  return h("div", { class: "count" }, h("dt", null, label), h("dd", { "data-count": name }, count(value)));
}

function customerRow(customer: PreviewCustomer): HTMLTableRowElement {
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
  return h(
    "li",
    null,
    h("span", { class: "column" }, change.column),
    ": ",
    h("span", { class: "original" }, change.original),
    h("span", { "aria-hidden": "true" }, " → "),
    h("span", { class: "sr-only" }, " becomes "),
    h("span", { class: "cleaned" }, change.cleaned ?? "(empty)"),
  );
}

function issueText(issue: RowIssue): string {
  return `row ${issue.row}, ${issue.column}: ${issue.reason}`;
}

function lines(values: (string | null | undefined)[]): (string | HTMLElement)[] {
  const present = values.filter((value): value is string => Boolean(value));
  return present.flatMap((value, index) => (index ? [h("br"), value] : [value]));
}
