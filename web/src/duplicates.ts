// The possible duplicates, each beside the customer it matches, with a choice per customer
// (skip, merge, create) and one for all of them.

import type { Api, Choice, CustomerSummary, PossibleDuplicate } from "./api";
import { count, h, replace, uid } from "./dom";
import { CHOICES, KEYS } from "./labels";

const PAGE = 100;

export class DuplicateReview {
  readonly element: HTMLElement;
  private readonly list = h("ol", { class: "duplicates" });
  private readonly status = h("p", { role: "status" }, "Loading the possible duplicates…");
  private readonly more = h("button", { type: "button", hidden: true }, "Show more possible duplicates");
  private readonly all: HTMLSelectElement;
  /** Each shown duplicate's choice, by its CustomerNumber. */
  private readonly choices = new Map<string, () => Choice>();
  private readonly setters: ((choice: Choice) => void)[] = [];
  private loaded = 0;
  private total = 0;

  constructor(
    private readonly api: Api,
    private readonly jobId: string,
  ) {
    const allId = uid("all");
    this.all = h(
      "select",
      { id: allId },
      CHOICES.map((choice) => h("option", { value: choice.value }, `${choice.label}: ${choice.hint}`)),
    );
    const apply = h("button", { type: "button" }, "Apply to all");
    apply.addEventListener("click", () => {
      const choice = this.all.value as Choice;
      for (const set of this.setters) set(choice);
      replace(this.status, `Every possible duplicate is set to ${choice}.`);
    });
    this.more.addEventListener("click", () => void this.load());
    this.element = h(
      "section",
      { "aria-labelledby": "duplicates-heading", class: "duplicate-review" },
      h("h3", { id: "duplicates-heading", tabindex: "-1" }, "Possible duplicates"),
      h(
        "p",
        null,
        "These customers of the file look like customers you already have (or like an earlier customer of the file). Choose what happens to each one; those you do not see here take the choice for all.",
      ),
      h("div", { class: "apply-all" }, h("label", { for: allId }, "For every possible duplicate"), this.all, apply),
      this.status,
      this.list,
      this.more,
    );
    void this.load();
  }

  /** The decision to send: the choice for all, and each shown customer's own where it differs. */
  decision(): { default: Choice; overrides: Record<string, Choice> } {
    const fallback = this.all.value as Choice;
    const overrides: Record<string, Choice> = {};
    for (const [number, chosen] of this.choices) {
      const choice = chosen();
      if (choice !== fallback) overrides[number] = choice;
    }
    return { default: fallback, overrides };
  }

  private async load(): Promise<void> {
    this.more.disabled = true;
    try {
      const page = await this.api.duplicates(this.jobId, this.loaded, PAGE);
      this.total = page.total;
      for (const item of page.items) this.list.appendChild(this.item(item, this.loaded++));
      replace(this.status, `${count(this.total)} possible duplicate${this.total === 1 ? "" : "s"}${this.loaded < this.total ? `, the first ${count(this.loaded)} shown` : ""}.`);
      this.more.hidden = this.loaded >= this.total;
    } catch (error) {
      replace(this.status, error instanceof Error ? error.message : String(error));
    } finally {
      this.more.disabled = false;
    }
  }

  private item(duplicate: PossibleDuplicate, index: number): HTMLLIElement {
    const match = duplicate.match;
    const name = duplicate.name ?? "(no name)";
    const number = duplicate.external_customer_number;
    const legend = `Row ${duplicate.row}: ${name}${number ? ` (customer ${number})` : ""}`;
    const group = `duplicate-${index}`;
    const radios = CHOICES.map((choice) => {
      const id = uid("choice");
      const input = h("input", { type: "radio", name: group, id, value: choice.value, checked: choice.value === this.all.value });
      return { input, element: h("div", { class: "check" }, input, h("label", { for: id }, choice.label, h("span", { class: "hint" }, ` (${choice.hint})`))) };
    });
    const chosen = (): Choice => (radios.find((radio) => radio.input.checked)?.input.value ?? this.all.value) as Choice;
    this.setters.push((choice) => {
      for (const radio of radios) radio.input.checked = radio.input.value === choice;
    });
    if (number) this.choices.set(number, chosen);
    const against = match.kind === "existing" ? "Already stored" : `Earlier in the file${match.row ? ` (row ${match.row})` : ""}`;
    return h(
      "li",
      { class: "duplicate", "data-number": number ?? "" },
      h(
        "fieldset",
        null,
        h("legend", null, legend),
        h(
          "div",
          { class: "side-by-side" },
          card("In the file", duplicate),
          card(against, match.customer),
        ),
        h(
          "p",
          { class: "match" },
          `Matched on ${match.keys.map((key) => KEYS[key] ?? key).join(", ")} · ${match.confidence === "high" ? "high" : "low"} confidence`,
        ),
        number
          ? h("div", { class: "choices", role: "radiogroup", "aria-label": `What to do with ${name}` }, radios.map((radio) => radio.element))
          : h("p", null, "This customer has no customer number, so it takes the choice for all."),
      ),
    );
  }
}

function card(title: string, customer: CustomerSummary): HTMLElement {
  const rows: [string, string | null][] = [
    ["Number", customer.external_customer_number],
    ["Name", customer.name],
    ["Email", customer.email],
    ["Phone", customer.phone],
    ["Landline", customer.landline],
  ];
  return h(
    "div",
    { class: "card" },
    h("p", { class: "card-title" }, title),
    h(
      "dl",
      null,
      rows.map(([label, value]) => [h("dt", null, label), h("dd", null, value ?? "—")]),
    ),
  );
}
